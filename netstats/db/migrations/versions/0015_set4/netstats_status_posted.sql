-- The bot posted (or edited) channel `channel_id`'s status message `message_id` just now.
-- False when that channel has no status message any more.
CREATE FUNCTION public.netstats_status_posted(channel_id bigint, message_id bigint)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  WITH done AS (
    UPDATE netstats.status_messages m
       SET message_id = netstats_status_posted.message_id, edited_at = now()
     WHERE m.channel_id = netstats_status_posted.channel_id
    RETURNING 1)
  SELECT EXISTS (SELECT FROM done)
$$;
REVOKE ALL ON FUNCTION public.netstats_status_posted(bigint, bigint)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status_posted(bigint, bigint) TO service_role;
