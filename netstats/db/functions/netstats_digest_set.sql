-- Creates or changes the digest `name`: each `period` (day, week, month or the billing
-- cycle) of zone `tz`, once it ends, the database raises one alert of kind 'digest' with the
-- period's figures (netstats.digest_facts), and a deliverer posts it: the bot to
-- `channel_id` (null: its NETSTATS_ALERT_CHANNEL), `netstats alerts` to its webhook. Periods
-- that ended before the digest was set are not posted. Returns it as netstats_digests lists it.
CREATE FUNCTION public.netstats_digest_set(
  name text,
  period text DEFAULT 'week',
  tz text DEFAULT 'UTC',
  channel_id bigint DEFAULT NULL
)
RETURNS TABLE (digest text, every text, zone text, channel bigint, created_at timestamptz,
               next_at timestamptz, last_period_start timestamptz, delivered_at timestamptz,
               failed text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF netstats_digest_set.name IS NULL OR pg_catalog.length(netstats_digest_set.name) NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'name: expected 1 to 100 characters, got %s',
      coalesce(pg_catalog.quote_literal(netstats_digest_set.name), 'null'));
  END IF;
  IF netstats_digest_set.period IS NULL OR netstats_digest_set.period NOT IN ('day', 'week', 'month', 'cycle') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'period: expected one of day, week, month, cycle, got %s',
      coalesce(pg_catalog.quote_literal(netstats_digest_set.period), 'null'));
  END IF;
  IF netstats_digest_set.channel_id <= 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'channel_id: expected a Discord channel id, got %s', netstats_digest_set.channel_id);
  END IF;
  PERFORM netstats.check_zone(netstats_digest_set.tz);
  INSERT INTO netstats.digests AS d (name, period, tz, channel_id)
  VALUES (netstats_digest_set.name, netstats_digest_set.period, netstats_digest_set.tz,
          netstats_digest_set.channel_id)
  ON CONFLICT ON CONSTRAINT digests_pkey DO UPDATE SET
    period = excluded.period, tz = excluded.tz, channel_id = excluded.channel_id,
    created_at = CASE WHEN (d.period, d.tz) = (excluded.period, excluded.tz) THEN d.created_at
                      ELSE now() END;
  RETURN QUERY SELECT * FROM public.netstats_digests() x WHERE x.digest = netstats_digest_set.name;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_digest_set(text, text, text, bigint)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_digest_set(text, text, text, bigint) TO service_role;
