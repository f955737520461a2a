-- Every quota's progress in its current period, as of `at`: the one place its figures are
-- computed (the bot, the page, the report, `netstats check` and the alerts all read these).
-- A quota's period follows the zone stored with it, whoever reads it; `tz` is the reader's
-- zone, which every reader passes: it is checked, and changes no figure.
-- Every quota's bytes come from one netstats.window_sums call: one query for all of them.
CREATE FUNCTION public.netstats_quotas(
  tz text DEFAULT 'UTC',
  at timestamptz DEFAULT now()
)
RETURNS SETOF netstats.quota_progress
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  upto constant timestamptz := coalesce(netstats_quotas.at, now());
BEGIN
  PERFORM netstats.check_zone(netstats_quotas.tz);
  IF NOT pg_catalog.isfinite(upto) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'at: expected a finite timestamp, got %s', upto);
  END IF;
  RETURN QUERY
  WITH bounds AS (
    -- Once per period and zone, not per quota: most fleets have one or two zones.
    SELECT p.period, p.tz, b.period_start, b.period_end
      FROM (SELECT DISTINCT q.period, q.tz FROM netstats.quotas q) p
     CROSS JOIN LATERAL netstats.period_window(
       CASE p.period WHEN 'day' THEN 'today' ELSE p.period END, p.tz, upto, zone_checked => true) b
  ),
  q AS MATERIALIZED (
    SELECT q.*, b.period_start, b.period_end,
           pg_catalog.row_number() OVER (ORDER BY q.name) AS n
      FROM netstats.quotas q
      JOIN bounds b ON b.period = q.period AND b.tz = q.tz
  ),
  w AS (
    SELECT x.n, sum(x.bytes_sent) AS bytes_sent, sum(x.bytes_recv) AS bytes_recv
      FROM netstats.window_sums(
      ARRAY(SELECT q.period_start FROM q ORDER BY q.n), ARRAY(SELECT upto FROM q ORDER BY q.n),
      -- all hosts and interfaces: the fleet series
      ARRAY(SELECT CASE WHEN q.host IS NULL AND q.iface IS NULL THEN '' ELSE q.host END
              FROM q ORDER BY q.n),
      ARRAY(SELECT q.iface FROM q ORDER BY q.n)) x
     GROUP BY x.n
  ),
  u AS (
    SELECT q.*,
           coalesce(CASE q.direction WHEN 'sent' THEN w.bytes_sent
                                     WHEN 'recv' THEN w.bytes_recv
                                     -- the larger of the period's two sums (revision 0013)
                                     WHEN 'max' THEN greatest(w.bytes_sent, w.bytes_recv)
                                     ELSE w.bytes_sent + w.bytes_recv END, 0) AS used,
           extract(epoch FROM upto - q.period_start)::double precision AS elapsed,
           extract(epoch FROM q.period_end - q.period_start)::double precision AS span,
           extract(epoch FROM q.period_end - upto)::double precision AS left_s
      FROM q LEFT JOIN w ON w.n = q.n
  ),
  -- At the current average rate, the limit is reached (limit - used) / rate from now; only
  -- a time before the period ends is one (a far one would not fit in an interval).
  e AS (
    SELECT u.*,
           CASE WHEN u.used > 0 AND u.used < u.limit_bytes AND u.elapsed > 0
                 AND (u.limit_bytes - u.used) / u.used * u.elapsed::numeric < u.left_s::numeric THEN
             upto + ((u.limit_bytes - u.used) / u.used * u.elapsed::numeric) * interval '1 second'
           END AS exceed
      FROM u
  )
  SELECT
    e.name, e.host, e.iface, e.period, e.direction, e.tz, e.limit_bytes, e.thresholds,
    e.period_start, e.period_end, e.used,
    (e.used / e.limit_bytes)::double precision,
    greatest(e.limit_bytes - e.used, 0),
    CASE WHEN e.elapsed > 0 THEN pg_catalog.round(e.used * e.span::numeric / e.elapsed::numeric) END,
    CASE WHEN e.exceed < e.period_end THEN e.exceed END,
    CASE WHEN e.left_s > 0
         THEN pg_catalog.floor(greatest(e.limit_bytes - e.used, 0) * 86400 / e.left_s::numeric) END,
    ARRAY(SELECT th FROM pg_catalog.unnest(e.thresholds) th
           WHERE e.used * 100 >= e.limit_bytes::numeric * th ORDER BY th)
    FROM e
   ORDER BY e.name;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_quotas(text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_quotas(text, timestamptz) TO netstats_reader, service_role;
