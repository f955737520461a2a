-- Every host and interface that ever reported, with its first and last sample.
CREATE FUNCTION public.netstats_hosts()
RETURNS TABLE (host text, iface text, first_seen timestamptz, last_seen timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT r.host, r.iface, min(r.first_at), max(r.last_at)
    FROM netstats.rollups r
   WHERE r.tier = 4  -- the coarsest tier holds every series, for good
     AND r.host <> ''  -- not the fleet series, everyone's sum
   GROUP BY r.host, r.iface
   ORDER BY r.host, r.iface
$$;
REVOKE ALL ON FUNCTION public.netstats_hosts() FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_hosts() TO netstats_reader, service_role;
