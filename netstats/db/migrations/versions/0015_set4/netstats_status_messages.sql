-- Every status message: its channel, zone and pace, the message the bot keeps editing (null
-- until it posted one) and when it last did.
CREATE FUNCTION public.netstats_status_messages()
RETURNS TABLE (channel bigint, zone text, every integer, message bigint, edited timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT m.channel_id, m.tz, m.every_s, m.message_id, m.edited_at
    FROM netstats.status_messages m ORDER BY m.channel_id
$$;
REVOKE ALL ON FUNCTION public.netstats_status_messages()
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status_messages() TO netstats_reader, service_role;
