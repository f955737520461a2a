-- Removes the quota `name`; true when it existed. Alerts it raised stay in the history.
CREATE FUNCTION public.netstats_quota_delete(name text)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  WITH gone AS (DELETE FROM netstats.quotas q WHERE q.name = netstats_quota_delete.name RETURNING 1)
  SELECT EXISTS (SELECT FROM gone)
$$;
REVOKE ALL ON FUNCTION public.netstats_quota_delete(text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_quota_delete(text) TO service_role;
