-- Creates or replaces the quota `name`: a limit on one period's bytes (DESIGN.md, "Quotas
-- and alerts"). Its periods follow `tz`, stored with it. A plan of the same name becomes this
-- quota. Returns it as netstats_quotas shows it now.
CREATE FUNCTION public.netstats_quota_set(
  name text,
  limit_bytes bigint,
  period text DEFAULT 'cycle',
  direction text DEFAULT 'total',
  host text DEFAULT NULL,
  iface text DEFAULT NULL,
  thresholds integer[] DEFAULT '{80,90,100}',
  tz text DEFAULT 'UTC'
)
RETURNS netstats.quota_progress
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  a record;
  bad text;
BEGIN
  SELECT netstats_quota_set.name AS name, netstats_quota_set.limit_bytes AS limit_bytes,
         netstats_quota_set.period AS period, netstats_quota_set.direction AS direction,
         netstats_quota_set.host AS host, netstats_quota_set.iface AS iface,
         netstats_quota_set.thresholds AS thresholds, netstats_quota_set.tz AS tz
    INTO a;
  bad := CASE
    WHEN a.name IS NULL OR pg_catalog.length(a.name) NOT BETWEEN 1 AND 100 THEN
      pg_catalog.format('name: expected 1 to 100 characters, got %s',
                        coalesce(pg_catalog.quote_literal(a.name), 'null'))
    WHEN a.limit_bytes IS NULL OR a.limit_bytes <= 0 THEN
      pg_catalog.format('limit_bytes: expected a number of bytes above 0, got %s',
                        coalesce(a.limit_bytes::text, 'null'))
    WHEN a.period IS NULL OR a.period NOT IN ('day', 'week', 'month', 'year', 'cycle') THEN
      pg_catalog.format('period: expected one of day, week, month, year, cycle, got %s',
                        coalesce(pg_catalog.quote_literal(a.period), 'null'))
    WHEN a.direction IS NULL OR a.direction NOT IN ('sent', 'recv', 'total', 'max') THEN
      pg_catalog.format('direction: expected one of sent, recv, total, max, got %s',
                        coalesce(pg_catalog.quote_literal(a.direction), 'null'))
    WHEN pg_catalog.length(a.host) NOT BETWEEN 1 AND 255 THEN
      'host: expected 1 to 255 characters, or null for every host'
    WHEN pg_catalog.length(a.iface) NOT BETWEEN 1 AND 255 THEN
      'iface: expected 1 to 255 characters, or null for every interface'
    WHEN a.thresholds IS NULL OR pg_catalog.cardinality(a.thresholds) NOT BETWEEN 1 AND 20
         OR pg_catalog.array_ndims(a.thresholds) <> 1
         OR EXISTS (SELECT FROM pg_catalog.unnest(a.thresholds) th
                     WHERE th IS NULL OR th NOT BETWEEN 1 AND 1000) THEN
      pg_catalog.format('thresholds: expected 1 to 20 percentages of the limit, each 1 to 1000, got %s',
                        coalesce(a.thresholds::text, 'null'))
  END;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = bad;
  END IF;
  PERFORM netstats.check_zone(a.tz);
  INSERT INTO netstats.quotas AS q
         (name, limit_bytes, period, direction, host, iface, thresholds, tz, updated_at)
  VALUES (a.name, a.limit_bytes, a.period, a.direction, a.host, a.iface,
          ARRAY(SELECT DISTINCT th FROM pg_catalog.unnest(a.thresholds) th ORDER BY th),
          a.tz, now())
  ON CONFLICT ON CONSTRAINT quotas_pkey DO UPDATE SET
    limit_bytes = excluded.limit_bytes, period = excluded.period,
    direction = excluded.direction, host = excluded.host, iface = excluded.iface,
    thresholds = excluded.thresholds, tz = excluded.tz, updated_at = excluded.updated_at,
    -- a plan of this name becomes this quota (revision 0014)
    anchor = NULL, every = NULL, unit = NULL, hosts = NULL, price = NULL, currency = NULL,
    price_unit = NULL, budget = NULL, provider = NULL, patterns = NULL, counted_from = NULL;
  DELETE FROM netstats.plan_usage u WHERE u.plan = a.name;
  RETURN (SELECT s FROM public.netstats_quotas(a.tz) s WHERE s.name = a.name);
END
$$;
REVOKE ALL ON FUNCTION public.netstats_quota_set(text, bigint, text, text, text, text, integer[], text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_quota_set(text, bigint, text, text, text, text, integer[], text)
  TO service_role;
