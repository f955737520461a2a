-- Creates or replaces the plan `name` (issue 30): the hosts it pools (names and globs, null
-- for every host), an interface or all, the basis billed (sent, recv, total, max), the
-- bytes included in a cycle (null: unlimited; 0: pay as you go), the cycle (anchored at the wall-clock time
-- `anchor` in `tz`, every `every` days, weeks, months or years), thresholds, and a price per
-- `price_unit` over the allowance, in `currency`, with a budget per cycle. A quota of the same
-- name becomes this plan; its corrections stay with the name. Returns the plan as
-- netstats_plans shows it now.
CREATE FUNCTION public.netstats_plan_set(
  name text,
  basis text,
  anchor timestamp,
  every integer,
  unit text,
  tz text,
  included_bytes bigint DEFAULT NULL,
  hosts text[] DEFAULT NULL,
  iface text DEFAULT NULL,
  thresholds integer[] DEFAULT '{80,90,100}',
  price numeric DEFAULT NULL,
  currency text DEFAULT NULL,
  price_unit text DEFAULT NULL,
  budget numeric DEFAULT NULL,
  provider text DEFAULT NULL
)
RETURNS netstats.plan_state
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  a record;
  bad text;
  cycle record;
  pool text[];
BEGIN
  SELECT netstats_plan_set.name AS name, netstats_plan_set.basis AS basis,
         netstats_plan_set.anchor AS anchor, netstats_plan_set.every AS every,
         netstats_plan_set.unit AS unit, netstats_plan_set.tz AS tz,
         netstats_plan_set.included_bytes AS included_bytes, netstats_plan_set.hosts AS hosts,
         netstats_plan_set.iface AS iface, netstats_plan_set.thresholds AS thresholds,
         netstats_plan_set.price AS price, pg_catalog.upper(netstats_plan_set.currency) AS currency,
         netstats_plan_set.price_unit AS price_unit, netstats_plan_set.budget AS budget,
         netstats_plan_set.provider AS provider, NULL::text[] AS patterns
    INTO a;
  bad := CASE
    WHEN a.name IS NULL OR pg_catalog.length(a.name) NOT BETWEEN 1 AND 100 THEN
      pg_catalog.format('name: expected 1 to 100 characters, got %s',
                        coalesce(pg_catalog.quote_literal(a.name), 'null'))
    WHEN a.basis IS NULL OR a.basis NOT IN ('sent', 'recv', 'total', 'max') THEN
      pg_catalog.format('basis: expected one of sent, recv, total, max, got %s',
                        coalesce(pg_catalog.quote_literal(a.basis), 'null'))
    WHEN a.anchor IS NULL OR NOT pg_catalog.isfinite(a.anchor) THEN
      pg_catalog.format('cycle_start: expected a wall-clock date and time such as 2026-11-30T14:00, got %s',
                        coalesce(a.anchor::text, 'null'))
    WHEN a.tz IS NULL THEN
      'tz: a cycle start needs the zone its wall clock is in, such as Europe/Berlin or UTC'
    WHEN a.every IS NULL OR a.every NOT BETWEEN 1 AND 1000 THEN
      pg_catalog.format('every: expected 1 to 1000 days, weeks, months or years, got %s',
                        coalesce(a.every::text, 'null'))
    WHEN a.included_bytes < 0 THEN
      pg_catalog.format('included_bytes: expected a number of bytes (0: every byte is paid for), or null for unlimited, got %s',
                        a.included_bytes)
    WHEN pg_catalog.cardinality(a.hosts) NOT BETWEEN 1 AND 1000 OR pg_catalog.array_ndims(a.hosts) <> 1
         OR EXISTS (SELECT FROM pg_catalog.unnest(a.hosts) h
                     WHERE h IS NULL OR pg_catalog.length(h) NOT BETWEEN 1 AND 255) THEN
      'hosts: expected 1 to 1000 host names or globs (such as bot-*) of 1 to 255 characters, or null for every host'
    WHEN pg_catalog.length(a.iface) NOT BETWEEN 1 AND 255 THEN
      'iface: expected 1 to 255 characters, or null for every interface'
    WHEN a.thresholds IS NULL OR pg_catalog.cardinality(a.thresholds) NOT BETWEEN 1 AND 20
         OR pg_catalog.array_ndims(a.thresholds) <> 1
         OR EXISTS (SELECT FROM pg_catalog.unnest(a.thresholds) th
                     WHERE th IS NULL OR th NOT BETWEEN 1 AND 1000) THEN
      pg_catalog.format('thresholds: expected 1 to 20 percentages of the allowance, each 1 to 1000, got %s',
                        coalesce(a.thresholds::text, 'null'))
    WHEN a.price < 0 OR a.price = 'NaN' OR a.price = 'Infinity' THEN
      pg_catalog.format('price: expected an amount of 0 or more, got %s', a.price)
    WHEN (a.price IS NULL) <> (a.currency IS NULL) THEN
      'currency: a price needs its currency (a three-letter code such as EUR or USD), and a currency its price'
    WHEN a.currency !~ '^[A-Z]{3}$' THEN
      pg_catalog.format('currency: expected a three-letter code such as EUR or USD, got %s',
                        pg_catalog.quote_literal(netstats_plan_set.currency))
    WHEN (a.price IS NULL) <> (a.price_unit IS NULL) OR a.price_unit NOT IN ('GB', 'GiB', 'TB', 'TiB') THEN
      pg_catalog.format('price_unit: expected GB, GiB, TB or TiB with a price, got %s',
                        coalesce(pg_catalog.quote_literal(a.price_unit), 'null'))
    WHEN a.budget < 0 OR a.budget = 'NaN' OR a.budget = 'Infinity' THEN
      pg_catalog.format('budget: expected an amount of 0 or more, got %s', a.budget)
    WHEN a.budget IS NOT NULL AND a.price IS NULL THEN
      'budget: a budget is in the price''s currency: set a price too'
  END;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = bad;
  END IF;
  PERFORM netstats.check_zone(a.tz);
  SELECT w.cycle_start, w.cycle_end INTO cycle  -- checks the unit too
    FROM netstats.cycle_window(a.anchor, a.every, a.unit, a.tz, now()) w;
  IF a.hosts IS NOT NULL THEN
    -- Ingest counts a listed-hosts plan's bytes per cycle (netstats.plan_usage) from here on;
    -- the cycles under way start from what is stored. No batch may commit in between: one
    -- that began before this plan was seen would be in neither.
    LOCK TABLE netstats.samples IN SHARE MODE;
    a.patterns := ARRAY(SELECT pg_catalog.translate(pg_catalog.replace(pg_catalog.replace(
                    pg_catalog.replace(h, '\', '\\'), '%', '\%'), '_', '\_'), '*?', '%_')
                    FROM pg_catalog.unnest(a.hosts) h);
  END IF;
  INSERT INTO netstats.quotas AS q
         (name, limit_bytes, period, direction, host, iface, thresholds, tz, anchor, every,
          unit, hosts, price, currency, price_unit, budget, provider, patterns, counted_from,
          updated_at)
  VALUES (a.name, a.included_bytes, NULL, a.basis, NULL, a.iface,
          ARRAY(SELECT DISTINCT th FROM pg_catalog.unnest(a.thresholds) th ORDER BY th),
          a.tz, a.anchor, a.every, a.unit,
          CASE WHEN a.hosts IS NOT NULL
               THEN ARRAY(SELECT DISTINCT h FROM pg_catalog.unnest(a.hosts) h ORDER BY h) END,
          a.price, a.currency, a.price_unit, a.budget, a.provider, a.patterns,
          CASE WHEN a.patterns IS NOT NULL THEN cycle.cycle_start END, now())
  ON CONFLICT ON CONSTRAINT quotas_pkey DO UPDATE SET
    limit_bytes = excluded.limit_bytes, period = NULL, direction = excluded.direction,
    host = NULL, iface = excluded.iface, thresholds = excluded.thresholds, tz = excluded.tz,
    anchor = excluded.anchor, every = excluded.every, unit = excluded.unit,
    hosts = excluded.hosts, price = excluded.price, currency = excluded.currency,
    price_unit = excluded.price_unit, budget = excluded.budget, provider = excluded.provider,
    patterns = excluded.patterns, counted_from = excluded.counted_from,
    updated_at = excluded.updated_at;
  DELETE FROM netstats.plan_usage u WHERE u.plan = a.name;
  IF a.patterns IS NOT NULL THEN
    -- This cycle's and the next one's (a sample may come up to 5 minutes early), as stored.
    pool := ARRAY(SELECT k.host FROM netstats.last_seen() k WHERE k.host LIKE ANY (a.patterns));
    INSERT INTO netstats.plan_usage (plan, cycle_start, bytes_sent, bytes_recv)
    SELECT a.name, c.lo, coalesce(sum(s.bytes_sent), 0), coalesce(sum(s.bytes_recv), 0)
      FROM (VALUES (cycle.cycle_start, cycle.cycle_end),
                   (cycle.cycle_end, (SELECT w.cycle_end FROM netstats.cycle_window(
                      a.anchor, a.every, a.unit, a.tz, cycle.cycle_end) w))) c(lo, hi)
      LEFT JOIN LATERAL netstats.window_sums(
        ARRAY(SELECT c.lo FROM pg_catalog.unnest(pool)),
        ARRAY(SELECT c.hi - interval '1 microsecond' FROM pg_catalog.unnest(pool)),
        pool,
        ARRAY(SELECT a.iface FROM pg_catalog.unnest(pool))) s ON true
     GROUP BY c.lo;
  END IF;
  RETURN (SELECT s FROM public.netstats_plans(a.tz) s WHERE s.name = a.name);
END
$$;
REVOKE ALL ON FUNCTION public.netstats_plan_set(text, text, timestamp, integer, text, text, bigint, text[], text, integer[], numeric, text, text, numeric, text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_plan_set(text, text, timestamp, integer, text, text, bigint, text[], text, integer[], numeric, text, text, numeric, text)
  TO service_role;
