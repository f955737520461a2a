-- Every plan's state in its current cycle, as of `at` (issue 30): the one place a plan's
-- figures are computed; `netstats plan list`, `netstats check`, the bot, the page and the
-- alerts read these. A quota is a plan on a calendar period without a price: it is here too
-- (netstats_quotas shows its rows with the columns quotas had).
--
-- A plan's cycle follows its own anchor and zone (netstats.cycle_window), a quota's its period
-- (netstats.period_window); `tz` is the reader's zone, checked, and changes no figure.
-- Hosts: a plan's list of names and globs (* and ?) covers every host they match, and its
-- hosts' bytes are pooled: the basis is taken of the pool's sums (`max` is the larger of the
-- pool's sent and the pool's received). Ingest counts such a pool's bytes per cycle as it
-- stores them (netstats.plan_usage, whole from the cycle the plan was set in): one row read
-- per plan, whatever the pool's size. The rest (quotas, every-host plans, cycles before,
-- and any reading while a sample stored is later than `at`) is walked: every window of
-- every plan from one netstats.window_sums call. Both give the same bytes (tested).
--
--   counted        = used_bytes (measured on the basis) + adjust_bytes (this cycle's
--                    corrections, never extrapolated)
--   projected      = adjust + used * cycle length / time elapsed, rounded to a byte
--   runs_out_at    = at the cycle's average rate so far, when counted reaches included
--   cost           = bytes over included * price / price_unit's bytes, exact (trim_scale)
-- An allowance of 0 (pay as you go) has no ratio and crosses no threshold: its cost counts.
CREATE FUNCTION public.netstats_plans(
  tz text DEFAULT 'UTC',
  at timestamptz DEFAULT now()
)
RETURNS SETOF netstats.plan_state
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  upto constant timestamptz := coalesce(netstats_plans.at, now());
BEGIN
  PERFORM netstats.check_zone(netstats_plans.tz);
  IF NOT pg_catalog.isfinite(upto) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'at: expected a finite timestamp, got %s', upto);
  END IF;
  RETURN QUERY
  WITH rules AS (
    -- Once per cycle rule and zone, not per plan: most fleets have a few.
    SELECT DISTINCT q.period, q.anchor, q.every, q.unit, q.tz,
           pg_catalog.concat_ws('|', q.period, q.anchor, q.every, q.unit, q.tz) AS rule
      FROM netstats.quotas q
  ),
  bounds AS MATERIALIZED (
    SELECT r.*, b.cycle_start, b.cycle_end
      FROM rules r
     CROSS JOIN LATERAL (
       SELECT w.period_start, w.period_end
         FROM netstats.period_window(CASE r.period WHEN 'day' THEN 'today' ELSE r.period END,
                                     r.tz, upto, zone_checked => true) w
        WHERE r.period IS NOT NULL
       UNION ALL
       SELECT w.cycle_start, w.cycle_end
         FROM netstats.cycle_window(r.anchor, r.every, r.unit, r.tz, upto) w
        WHERE r.period IS NULL
     ) b(cycle_start, cycle_end)
  ),
  -- Samples stored with a time after `upto` (reading the past, or an agent's clock ahead):
  -- ingest's counts hold them, so every plan is walked. The fleet series' 5-minute rows hold
  -- every series' last sample: one index probe.
  late AS (
    SELECT EXISTS (SELECT FROM netstats.rollups r
                    WHERE r.tier = 0 AND r.host = ''
                      AND r.bucket_start >= pg_catalog.date_bin('5 minutes', upto, '2000-01-01 00:00:00+00')
                      AND r.last_at > upto) AS any
  ),
  p AS MATERIALIZED (
    SELECT q.*, b.cycle_start, b.cycle_end,
           -- a listed-hosts plan whose cycle ingest has counted whole (netstats.plan_usage)
           q.counted_from IS NOT NULL AND b.cycle_start >= q.counted_from
             AND NOT (SELECT late.any FROM late) AS from_usage
      FROM netstats.quotas q
      -- (on one key, which hashes: the windows are cut once per rule, not once per plan)
      JOIN bounds b ON b.rule = pg_catalog.concat_ws('|', q.period, q.anchor, q.every, q.unit, q.tz)
  ),
  known AS MATERIALIZED (
    SELECT s.host FROM netstats.last_seen() s
     WHERE EXISTS (SELECT FROM p WHERE p.patterns IS NOT NULL AND NOT p.from_usage)
  ),
  -- The others are walked: one window per quota and every-host plan, one per host a plan's
  -- names and globs match (netstats_plan_set made them LIKE patterns).
  win AS MATERIALIZED (
    SELECT x.name, x.cycle_start, x.host, x.iface,
           pg_catalog.row_number() OVER (ORDER BY x.name, x.host) AS n
      FROM (
        SELECT p.name, p.cycle_start, p.iface,
               -- all hosts and interfaces: the fleet series
               CASE WHEN p.host IS NULL AND p.iface IS NULL THEN '' ELSE p.host END AS host
          FROM p WHERE p.patterns IS NULL
        UNION ALL
        SELECT p.name, p.cycle_start, p.iface, k.host
          FROM p JOIN known k ON k.host LIKE ANY (p.patterns)
         WHERE NOT p.from_usage
      ) x
  ),
  w AS (
    SELECT win.name, sum(s.bytes_sent) AS bytes_sent, sum(s.bytes_recv) AS bytes_recv
      FROM netstats.window_sums(
        ARRAY(SELECT win.cycle_start FROM win ORDER BY win.n),
        ARRAY(SELECT upto FROM win ORDER BY win.n),
        ARRAY(SELECT win.host FROM win ORDER BY win.n),
        ARRAY(SELECT win.iface FROM win ORDER BY win.n)) s
      JOIN win ON win.n = s.n
     GROUP BY win.name
    UNION ALL
    SELECT p.name, u.bytes_sent, u.bytes_recv
      FROM p JOIN netstats.plan_usage u ON u.plan = p.name AND u.cycle_start = p.cycle_start
     WHERE p.from_usage
  ),
  u AS (
    SELECT p.*,
           coalesce(CASE p.direction WHEN 'sent' THEN w.bytes_sent
                                     WHEN 'recv' THEN w.bytes_recv
                                     WHEN 'max' THEN greatest(w.bytes_sent, w.bytes_recv)
                                     ELSE w.bytes_sent + w.bytes_recv END, 0) AS used,
           coalesce(adj.bytes, 0) AS adjust,
           -- what a byte over the allowance costs, exactly: 1/2^30 = 5^30/10^30
           CASE p.price_unit WHEN 'GB' THEN 0.000000001
                             WHEN 'TB' THEN 0.000000000001
                             WHEN 'GiB' THEN 0.000000000931322574615478515625
                             WHEN 'TiB' THEN 0.0000000000009094947017729282379150390625
           END * p.price AS per_byte,
           extract(epoch FROM upto - p.cycle_start)::double precision AS elapsed,
           extract(epoch FROM p.cycle_end - p.cycle_start)::double precision AS span,
           extract(epoch FROM p.cycle_end - upto)::double precision AS left_s
      FROM p
      LEFT JOIN w ON w.name = p.name
      LEFT JOIN (SELECT a.plan, a.cycle_start, sum(a.bytes) AS bytes
                   FROM netstats.plan_adjustments a GROUP BY 1, 2) adj
             ON adj.plan = p.name AND adj.cycle_start = p.cycle_start
  ),
  c AS (
    SELECT u.*, u.used + u.adjust AS counted,
           CASE WHEN u.elapsed > 0
                THEN u.adjust + pg_catalog.round(u.used * u.span::numeric / u.elapsed::numeric)
           END AS projected
      FROM u
  ),
  -- At the cycle's average rate, the allowance is reached (included - counted) / rate from
  -- now; only a time before the cycle ends is one (a far one would not fit in an interval).
  e AS (
    SELECT c.*,
           CASE WHEN c.used > 0 AND c.counted < c.limit_bytes AND c.elapsed > 0
                 AND (c.limit_bytes - c.counted) / c.used * c.elapsed::numeric < c.left_s::numeric THEN
             upto + ((c.limit_bytes - c.counted) / c.used * c.elapsed::numeric) * interval '1 second'
           END AS exceed,
           -- greatest() skips nulls: nothing is over an unlimited allowance, and no amount remains
           CASE WHEN c.limit_bytes IS NOT NULL THEN greatest(c.limit_bytes - c.counted, 0) END
             AS remaining,
           greatest(c.counted - c.limit_bytes, 0) AS over_now,
           greatest(c.projected - c.limit_bytes, 0) AS over_projected
      FROM c
  )
  SELECT
    e.name, e.period, e.anchor, e.every, e.unit,
    coalesce(e.hosts, CASE WHEN e.host IS NOT NULL THEN ARRAY[e.host] END),
    e.iface, e.direction, e.tz, e.cycle_start, e.cycle_end,
    e.used, e.adjust, e.limit_bytes::numeric,
    (e.counted / nullif(e.limit_bytes, 0))::double precision,
    e.remaining,
    e.projected,
    CASE WHEN e.projected IS NOT NULL THEN e.over_projected END,
    CASE WHEN e.exceed < e.cycle_end THEN e.exceed END,
    CASE WHEN e.left_s > 0 THEN pg_catalog.floor(e.remaining * 86400 / e.left_s::numeric) END,
    e.thresholds,
    ARRAY(SELECT th FROM pg_catalog.unnest(e.thresholds) th
           WHERE e.counted * 100 >= nullif(e.limit_bytes, 0)::numeric * th ORDER BY th),
    e.price, e.price_unit, e.currency, e.budget,
    pg_catalog.trim_scale(e.over_now * e.per_byte),
    pg_catalog.trim_scale(CASE WHEN e.projected IS NOT NULL THEN e.over_projected * e.per_byte END),
    e.provider
    FROM e
   ORDER BY e.name;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_plans(text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_plans(text, timestamptz) TO netstats_reader, service_role;
