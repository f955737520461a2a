-- A keeper could not show channel `channel_id`'s status message (`error` says why, for
-- `netstats alerts status`): counted, and tried again once its pace has passed, not sooner.
-- False when that channel has no status message any more.
CREATE FUNCTION public.netstats_status_failed(channel_id bigint, error text)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  WITH failed AS (
    UPDATE netstats.status_messages m
       SET failures = m.failures + 1, last_error = left(netstats_status_failed.error, 500),
           claimed_until = now() + make_interval(secs => m.every_s)
     WHERE m.channel_id = netstats_status_failed.channel_id
    RETURNING 1)
  SELECT EXISTS (SELECT FROM failed)
$$;
REVOKE ALL ON FUNCTION public.netstats_status_failed(bigint, text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status_failed(bigint, text) TO service_role;
