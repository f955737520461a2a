-- The status messages that are due (never shown, or shown `every` seconds ago or more) and
-- that no other keeper holds, claimed for `lease_s` seconds: a bot edits each, then says so
-- (netstats_status_posted) or says why not (netstats_status_failed). Several bots on one
-- database never post or edit the same message at once; a bot that dies holding one only
-- delays it until the claim runs out.
CREATE FUNCTION public.netstats_status_claim(lease_s integer DEFAULT 120)
RETURNS TABLE (channel bigint, zone text, every integer, message bigint, edited timestamptz,
               failures integer, last_error text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF lease_s IS NULL OR lease_s NOT BETWEEN 1 AND 3600 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'lease_s: expected 1 to 3600 seconds, got %s', coalesce(lease_s::text, 'null'));
  END IF;
  RETURN QUERY
  WITH due AS (
    SELECT m.channel_id FROM netstats.status_messages m
     WHERE (m.edited_at IS NULL OR m.edited_at <= now() - make_interval(secs => m.every_s))
       AND (m.claimed_until IS NULL OR m.claimed_until <= now())
     ORDER BY m.channel_id
       FOR UPDATE SKIP LOCKED)
  UPDATE netstats.status_messages m
     SET claimed_until = now() + make_interval(secs => lease_s)
    FROM due WHERE m.channel_id = due.channel_id
  RETURNING m.channel_id, m.tz, m.every_s, m.message_id, m.edited_at, m.failures, m.last_error;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_status_claim(integer)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status_claim(integer) TO service_role;
