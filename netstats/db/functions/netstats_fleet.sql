-- The fleet overview (issue 32: the dashboard's first view with more than one host), one row
-- per host that ever reported: its last sample and, when it has been quiet for
-- settings.silent_after, since when; its sent and received today and this month in zone
-- `tz` (interfaces: a service's traffic is also its interfaces'); its share of the fleet's
-- bytes this month; and its busiest interface this month with that interface's bytes.
-- One call whatever the number of hosts: two netstats.series_sums.
CREATE FUNCTION public.netstats_fleet(tz text DEFAULT 'UTC')
RETURNS TABLE (host text, last_at timestamptz, silent_since timestamptz,
               today_sent numeric, today_recv numeric, month_sent numeric, month_recv numeric,
               month_share double precision, busiest_iface text, busiest_bytes numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  d record := netstats.period_window('today', netstats_fleet.tz, now());
  m record := netstats.period_window('month', netstats_fleet.tz, now(), zone_checked => true);
BEGIN
  RETURN QUERY
  WITH month AS MATERIALIZED (SELECT * FROM netstats.series_sums(m.lo, m.hi, NULL)),
  today AS (
    SELECT s.host, pg_catalog.sum(s.bytes_sent) AS sent, pg_catalog.sum(s.bytes_recv) AS recv
      FROM netstats.series_sums(d.lo, d.hi, NULL) s GROUP BY s.host),
  hosts AS (
    SELECT x.host, pg_catalog.sum(x.bytes_sent) AS sent, pg_catalog.sum(x.bytes_recv) AS recv
      FROM month x GROUP BY x.host),
  busiest AS (
    SELECT DISTINCT ON (x.host) x.host, x.iface, x.bytes_sent + x.bytes_recv AS bytes
      FROM month x ORDER BY x.host, x.bytes_sent + x.bytes_recv DESC, x.iface),
  fleet AS (SELECT pg_catalog.sum(h.sent + h.recv) AS bytes FROM hosts h)
  SELECT l.host, l.last_at,
         CASE WHEN l.last_at <= now() - s.silent_after THEN l.last_at END,
         coalesce(t.sent, 0), coalesce(t.recv, 0), coalesce(h.sent, 0), coalesce(h.recv, 0),
         CASE WHEN f.bytes > 0
              THEN ((coalesce(h.sent, 0) + coalesce(h.recv, 0)) / f.bytes)::double precision END,
         b.iface, b.bytes
    FROM netstats.last_seen() l
   CROSS JOIN netstats.settings s
   CROSS JOIN fleet f
    LEFT JOIN today t ON t.host = l.host
    LEFT JOIN hosts h ON h.host = l.host
    LEFT JOIN busiest b ON b.host = l.host
   ORDER BY l.host;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_fleet(text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_fleet(text) TO netstats_reader, service_role;
