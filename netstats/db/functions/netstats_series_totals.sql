-- Sums of a period per series or per host (issue 32: what a Prometheus scrape of /metrics
-- reads), one row per series (or host) with samples there, in one call whatever the number
-- of hosts:
-- - 'all': everything ever moved, exact, from the monthly rollups (which hold every
--   sample), with the last sample; by series, services too (iface 'service:…');
-- - any other period netstats_totals takes ('today', 'month', …, in zone `tz`), by
--   netstats.series_sums; last_at null.
-- By host, interfaces only (a service's traffic is also its interfaces'), iface null.
CREATE FUNCTION public.netstats_series_totals(
  period text DEFAULT 'all',
  tz text DEFAULT 'UTC',
  by text DEFAULT 'series'
)
RETURNS TABLE (host text, iface text, bytes_sent numeric, bytes_recv numeric,
               last_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  w record;
  by_host constant boolean := netstats_series_totals.by = 'host';
BEGIN
  IF netstats_series_totals.by IS NULL OR netstats_series_totals.by NOT IN ('series', 'host') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'by: expected series or host, got %s',
      coalesce(pg_catalog.quote_literal(netstats_series_totals.by), 'null'));
  END IF;
  IF netstats_series_totals.period = 'all' THEN
    PERFORM netstats.check_zone(netstats_series_totals.tz);
    RETURN QUERY
    SELECT r.host, CASE WHEN NOT by_host THEN r.iface END, pg_catalog.sum(r.bytes_sent),
           pg_catalog.sum(r.bytes_recv), pg_catalog.max(r.last_at)
      FROM netstats.rollups r
     WHERE r.tier = 4 AND r.host <> '' AND NOT (by_host AND r.iface LIKE 'service:%')
     GROUP BY 1, 2
     ORDER BY 1, 2;
    RETURN;
  END IF;
  w := netstats.period_window(netstats_series_totals.period, netstats_series_totals.tz, now());
  RETURN QUERY
  SELECT s.host, CASE WHEN NOT by_host THEN s.iface END, pg_catalog.sum(s.bytes_sent),
         pg_catalog.sum(s.bytes_recv), NULL::timestamptz
    FROM netstats.series_sums(w.lo, w.hi, NULL) s
   GROUP BY 1, 2
   ORDER BY 1, 2;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_series_totals(text, text, text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_series_totals(text, text, text) TO netstats_reader, service_role;
