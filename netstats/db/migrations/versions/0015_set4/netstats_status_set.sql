-- Keeps a status message in channel `channel_id`: the bot posts it, then edits it in place
-- every `every_s` seconds (at least a minute), its figures in zone `tz`. Returns it as
-- netstats_status_messages lists it.
CREATE FUNCTION public.netstats_status_set(
  channel_id bigint,
  tz text DEFAULT 'UTC',
  every_s integer DEFAULT 300
)
RETURNS TABLE (channel bigint, zone text, every integer, message bigint, edited timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF netstats_status_set.channel_id IS NULL OR netstats_status_set.channel_id <= 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'channel_id: expected a Discord channel id, got %s',
      coalesce(netstats_status_set.channel_id::text, 'null'));
  END IF;
  IF netstats_status_set.every_s IS NULL OR netstats_status_set.every_s NOT BETWEEN 60 AND 86400 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'every_s: expected 60 to 86400 seconds between edits (Discord limits how often a message may change), got %s',
      coalesce(netstats_status_set.every_s::text, 'null'));
  END IF;
  PERFORM netstats.check_zone(netstats_status_set.tz);
  INSERT INTO netstats.status_messages AS m (channel_id, tz, every_s)
  VALUES (netstats_status_set.channel_id, netstats_status_set.tz, netstats_status_set.every_s)
  ON CONFLICT ON CONSTRAINT status_messages_pkey DO UPDATE SET
    tz = excluded.tz, every_s = excluded.every_s, edited_at = NULL;  -- shown anew at once
  RETURN QUERY SELECT * FROM public.netstats_status_messages() x
                WHERE x.channel = netstats_status_set.channel_id;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_status_set(bigint, text, integer)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_status_set(bigint, text, integer) TO service_role;
