-- Raises every alert due as of `at` (DESIGN.md, "Quotas and alerts"), each once per key:
--   quota_threshold/<plan>/<cycle start>/<threshold>  counted bytes reached the threshold
--   quota_projection/<plan>/<cycle start>             the projection passed the allowance
--   plan_budget/<plan>/<cycle start>                  the projected cost passed the budget
--   host_silent/<host>/<last sample>                  quiet for settings.silent_after
--   host_back/<host>/<last sample before the silence> it reported again
-- (A quota is a plan on a calendar period: its keys are what they were before plans.)
-- A new cycle has new keys: the plan's alerts are armed again. Called by every claim and,
-- where pg_cron exists, every minute; never inside ingest. Returns how many it raised.
-- Keys already raised are skipped before inserting: a conflict costs more than a look-up,
-- and nearly every key a pass finds due was raised by an earlier pass.
CREATE FUNCTION netstats.raise_alerts(at timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  upto constant timestamptz := coalesce(raise_alerts.at, now());
  quiet interval;
  raised integer;
  n integer;
  d record;
  starts timestamptz[];  -- a digest's ended periods not raised yet
  edge timestamptz;
  edge_end timestamptz;  -- the end of the latest of them: the current period's start
  back timestamptz;
BEGIN
  -- One statement for every plan and quota (in key order: concurrent claimers insert the
  -- same keys in the same order). A projection counts only after a tenth of the cycle: a
  -- morning's burst projects any month past its allowance.
  WITH q AS MATERIALIZED (SELECT * FROM public.netstats_plans('UTC', upto)),
  due AS (
    SELECT pg_catalog.format('quota_threshold/%s/%s/%s', q.name, q.cycle_start, th) AS key,
           'quota_threshold' AS kind, q.name, th AS threshold
      FROM q CROSS JOIN LATERAL pg_catalog.unnest(q.thresholds_crossed) th
    UNION ALL
    SELECT pg_catalog.format('quota_projection/%s/%s', q.name, q.cycle_start),
           'quota_projection', q.name, NULL
      FROM q
     WHERE q.projected_bytes > q.included_bytes AND q.included_bytes > 0
       AND upto - q.cycle_start >= (q.cycle_end - q.cycle_start) / 10
    UNION ALL
    SELECT pg_catalog.format('plan_budget/%s/%s', q.name, q.cycle_start), 'plan_budget', q.name, NULL
      FROM q
     WHERE q.projected_cost > q.budget
       AND upto - q.cycle_start >= (q.cycle_end - q.cycle_start) / 10
  )
  -- The facts of new alerts only (to_jsonb of every due row cost more than the rest).
  INSERT INTO netstats.alerts (key, kind, quota, host, iface, threshold, facts, raised_at)
  -- Facts carry the names quota alerts had before plans too, for whoever reads them.
  SELECT due.key, due.kind, q.name, old.host, q.iface, due.threshold,
         pg_catalog.to_jsonb(q) || pg_catalog.jsonb_build_object(
           'host', old.host, 'direction', q.basis, 'limit_bytes', q.included_bytes,
           'period_start', q.cycle_start, 'period_end', q.cycle_end,
           'projected_exceed_at', q.runs_out_at),
         upto
    FROM due
    JOIN q ON q.name = due.name
   CROSS JOIN LATERAL (SELECT CASE WHEN q.period IS NOT NULL THEN q.hosts[1] END) old(host)
   WHERE NOT EXISTS (SELECT FROM netstats.alerts a WHERE a.key = due.key)
   ORDER BY due.key
  ON CONFLICT (key) DO NOTHING;
  GET DIAGNOSTICS raised = ROW_COUNT;

  SELECT s.silent_after INTO quiet FROM netstats.settings s;
  INSERT INTO netstats.alerts (key, kind, host, facts, raised_at)
  SELECT k.key, 'host_silent', h.host,
         pg_catalog.jsonb_build_object('host', h.host, 'last_seen', h.last_at,
                                       'silent_after_s', extract(epoch FROM quiet)),
         upto
    FROM netstats.last_seen() h
   CROSS JOIN LATERAL pg_catalog.format('host_silent/%s/%s', h.host, h.last_at) k(key)
   WHERE h.last_at <= upto - quiet AND h.last_at > upto - interval '1 day'
     AND NOT EXISTS (SELECT FROM netstats.alerts a WHERE a.key = k.key)
   ORDER BY 1
  ON CONFLICT (key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  raised := raised + n;

  INSERT INTO netstats.alerts (key, kind, host, facts, raised_at)
  SELECT k.key, 'host_back', s.host,
         pg_catalog.jsonb_build_object('host', s.host, 'silent_since', s.facts -> 'last_seen',
                                       'back_at', h.last_at),
         upto
    FROM netstats.alerts s
    JOIN netstats.last_seen() h ON h.host = s.host
   CROSS JOIN LATERAL pg_catalog.format('host_back/%s/%s', s.host, s.facts ->> 'last_seen') k(key)
   WHERE s.kind = 'host_silent' AND s.raised_at > upto - interval '30 days'
     AND h.last_at > (s.facts ->> 'last_seen')::timestamptz AND h.last_at <= upto
     AND NOT EXISTS (SELECT FROM netstats.alerts a WHERE a.key = k.key)
   ORDER BY 1
  ON CONFLICT (key) DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  raised := raised + n;

  -- Digests: each period that ended since the digest was set, once, oldest first (a
  -- deliverer that was away posts them late). Walking back from the latest ended period
  -- stops at the first one raised already: those before it were raised with it.
  FOR d IN SELECT * FROM netstats.digests ORDER BY name LOOP
    starts := '{}';
    SELECT w.period_start INTO edge FROM netstats.period_window(
      CASE d.period WHEN 'day' THEN 'today' ELSE d.period END, d.tz, upto, zone_checked => true) w;
    edge_end := edge;
    FOR i IN 1..31 LOOP
      EXIT WHEN edge <= d.created_at;
      SELECT w.period_start INTO back FROM netstats.period_window(
        CASE d.period WHEN 'day' THEN 'today' ELSE d.period END, d.tz,
        edge - interval '1 microsecond', zone_checked => true) w;
      EXIT WHEN EXISTS (SELECT FROM netstats.alerts a
                         WHERE a.key = pg_catalog.format('digest/%s/%s', d.name, back));
      starts := back || starts;
      edge := back;
    END LOOP;
    INSERT INTO netstats.alerts (key, kind, quota, facts, raised_at)
    SELECT pg_catalog.format('digest/%s/%s', d.name, s.lo), 'digest', d.name,
           netstats.digest_facts(d.name, d.period, d.tz, s.lo, s.hi)
             || pg_catalog.jsonb_build_object('channel_id', d.channel_id),
           upto
      FROM (SELECT x.lo, coalesce(pg_catalog.lead(x.lo) OVER (ORDER BY x.lo), edge_end) AS hi
              FROM pg_catalog.unnest(starts) x(lo)) s
     ORDER BY s.lo
    ON CONFLICT (key) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    raised := raised + n;
  END LOOP;
  RETURN raised;
END
$$;
REVOKE ALL ON FUNCTION netstats.raise_alerts(timestamptz) FROM PUBLIC;
