-- What a status message shows (issue 31), one row per host: its last sample and, when it has
-- been quiet for settings.silent_after, since when; its bytes today and this billing cycle
-- in zone `tz`. One call, whatever the number of hosts (two netstats_top lists).
CREATE FUNCTION public.netstats_status(tz text DEFAULT 'UTC')
RETURNS TABLE (host text, last_at timestamptz, silent_since timestamptz, today_sent numeric,
               today_recv numeric, cycle_sent numeric, cycle_recv numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER  -- (not sql: netstats_top is made after it)
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT h.host, h.last_at,
         CASE WHEN h.last_at <= now() - s.silent_after THEN h.last_at END,
         coalesce(d.bytes_sent, 0), coalesce(d.bytes_recv, 0),
         coalesce(c.bytes_sent, 0), coalesce(c.bytes_recv, 0)
    FROM netstats.last_seen() h
   CROSS JOIN netstats.settings s
    LEFT JOIN public.netstats_top('today', netstats_status.tz, 'host', 1000) d ON d.key = h.host
    LEFT JOIN public.netstats_top('cycle', netstats_status.tz, 'host', 1000) c ON c.key = h.host
   ORDER BY h.host;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_status(text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status(text) TO netstats_reader, service_role;
