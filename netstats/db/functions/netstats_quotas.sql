-- Every quota's progress in its current period, as of `at`: the one place its figures are
-- computed (the bot, the page, the report, `netstats check` and the alerts all read these).
-- A quota's period follows the zone stored with it, whoever reads it; `tz` is the reader's
-- zone, which every reader passes: it is checked, and changes no figure.
CREATE FUNCTION public.netstats_quotas(
  tz text DEFAULT 'UTC',
  at timestamptz DEFAULT now()
)
RETURNS SETOF netstats.quota_progress
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  upto constant timestamptz := coalesce(netstats_quotas.at, now());
  q record;
  t record;
  used numeric;
  elapsed double precision;
  span double precision;
  left_s double precision;
  exceed timestamptz;
BEGIN
  PERFORM netstats.check_zone(netstats_quotas.tz);
  IF NOT pg_catalog.isfinite(upto) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'at: expected a finite timestamp, got %s', upto);
  END IF;
  FOR q IN SELECT * FROM netstats.quotas ORDER BY name LOOP
    SELECT * INTO t FROM public.netstats_totals(
      CASE q.period WHEN 'day' THEN 'today' ELSE q.period END, q.tz, q.host, q.iface, upto);
    used := CASE q.direction WHEN 'sent' THEN t.bytes_sent
                             WHEN 'recv' THEN t.bytes_recv ELSE t.bytes_total END;
    elapsed := extract(epoch FROM upto - t.period_start);
    span := extract(epoch FROM t.period_end - t.period_start);
    left_s := extract(epoch FROM t.period_end - upto);
    -- At the current average rate, the limit is reached (limit - used) / rate from now.
    exceed := NULL;
    IF used > 0 AND used < q.limit_bytes AND elapsed > 0 THEN
      exceed := upto + ((q.limit_bytes - used) / used * elapsed::numeric) * interval '1 second';
      IF exceed >= t.period_end THEN
        exceed := NULL;
      END IF;
    END IF;
    RETURN QUERY SELECT
      q.name, q.host, q.iface, q.period, q.direction, q.tz, q.limit_bytes, q.thresholds,
      t.period_start, t.period_end, used,
      (used / q.limit_bytes)::double precision,
      greatest(q.limit_bytes - used, 0),
      CASE WHEN elapsed > 0 THEN pg_catalog.round(used * span::numeric / elapsed::numeric) END,
      exceed,
      CASE WHEN left_s > 0
           THEN pg_catalog.floor(greatest(q.limit_bytes - used, 0) * 86400 / left_s::numeric) END,
      ARRAY(SELECT th FROM pg_catalog.unnest(q.thresholds) th
             WHERE used * 100 >= q.limit_bytes::numeric * th ORDER BY th);
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_quotas(text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_quotas(text, timestamptz) TO netstats_reader, service_role;
