-- Removes the digest `name`; true when it existed. Digests it raised stay in the history.
CREATE FUNCTION public.netstats_digest_delete(name text)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  WITH gone AS (DELETE FROM netstats.digests d WHERE d.name = netstats_digest_delete.name RETURNING 1)
  SELECT EXISTS (SELECT FROM gone)
$$;
REVOKE ALL ON FUNCTION public.netstats_digest_delete(text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_digest_delete(text) TO service_role;
