-- Stops keeping channel `channel_id`'s status message (the message itself stays in Discord);
-- true when there was one.
CREATE FUNCTION public.netstats_status_delete(channel_id bigint)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  WITH gone AS (DELETE FROM netstats.status_messages m
                 WHERE m.channel_id = netstats_status_delete.channel_id RETURNING 1)
  SELECT EXISTS (SELECT FROM gone)
$$;
REVOKE ALL ON FUNCTION public.netstats_status_delete(bigint)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status_delete(bigint) TO service_role;
