-- Every digest: its period, zone and channel, when its next one is due (the end of the
-- current period), and its latest: the period it covered, when it was delivered, or the last
-- error of a delivery that failed. For `netstats digest list` and `netstats alerts status`.
CREATE FUNCTION public.netstats_digests()
RETURNS TABLE (digest text, every text, zone text, channel bigint, created_at timestamptz,
               next_at timestamptz, last_period_start timestamptz, delivered_at timestamptz,
               failed text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT d.name, d.period, d.tz, d.channel_id, d.created_at,
         (SELECT w.period_end FROM netstats.period_window(
            CASE d.period WHEN 'day' THEN 'today' ELSE d.period END, d.tz, now(),
            zone_checked => true) w),
         (a.facts ->> 'period_start')::timestamptz, a.delivered_at,
         CASE WHEN a.delivered_at IS NULL THEN a.last_error END
    FROM netstats.digests d
    LEFT JOIN LATERAL (
      SELECT x.facts, x.delivered_at, x.last_error FROM netstats.alerts x
       WHERE x.kind = 'digest' AND x.quota = d.name ORDER BY x.id DESC LIMIT 1) a ON true
   ORDER BY d.name
$$;
REVOKE ALL ON FUNCTION public.netstats_digests()
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_digests() TO netstats_reader, service_role;
