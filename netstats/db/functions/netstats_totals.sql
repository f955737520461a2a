-- Traffic of one period (see DESIGN.md "Periods"), for one host/interface or all of them.
-- Calendar periods follow the wall clock of `tz`: a DST day has 23 or 25 hours.
CREATE FUNCTION public.netstats_totals(
  period text DEFAULT 'today',
  tz text DEFAULT 'UTC',
  host text DEFAULT NULL,
  iface text DEFAULT NULL,
  at timestamptz DEFAULT now()
)
RETURNS TABLE (
  period_start timestamptz, period_end timestamptz,
  -- numeric, not bigint: a sum over many hosts and years may pass 9.2 EB
  bytes_sent numeric, bytes_recv numeric, bytes_total numeric, samples bigint,
  first_sample_at timestamptz, last_sample_at timestamptz,
  avg_bytes_per_s double precision, peak_bytes_per_s double precision,
  coverage double precision, projected_bytes_total numeric
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
#variable_conflict use_column
DECLARE
  upto constant timestamptz := coalesce(netstats_totals.at, now());
  calendar constant boolean := netstats_totals.period IN ('today', 'week', 'month', 'year', 'cycle');
  p_start timestamptz;
  p_end timestamptz;
  lo timestamptz;
  w record;
  total numeric;
  elapsed double precision;
  monitored double precision;
  projected numeric;
BEGIN
  IF NOT pg_catalog.isfinite(upto) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'at: expected a finite timestamp, got %s', upto);
  END IF;
  -- date_trunc and interval arithmetic below now follow tz's wall clock.
  PERFORM pg_catalog.set_config('timezone', netstats.check_zone(netstats_totals.tz), true);
  CASE netstats_totals.period
    WHEN 'today' THEN p_start := pg_catalog.date_trunc('day', upto);   p_end := p_start + interval '1 day';
    WHEN 'week'  THEN p_start := pg_catalog.date_trunc('week', upto);  p_end := p_start + interval '7 days';
    WHEN 'month' THEN p_start := pg_catalog.date_trunc('month', upto); p_end := p_start + interval '1 month';
    WHEN 'year'  THEN p_start := pg_catalog.date_trunc('year', upto);  p_end := p_start + interval '1 year';
    WHEN 'cycle' THEN
      SELECT pg_catalog.date_trunc('month', upto) + (s.cycle_day - 1) * interval '1 day'
        INTO p_start FROM netstats.settings s;
      IF p_start > upto THEN
        p_start := p_start - interval '1 month';  -- cycle_day <= 28 exists in every month
      END IF;
      p_end := p_start + interval '1 month';
    WHEN '24h' THEN p_start := upto - interval '24 hours';  p_end := upto;
    WHEN '7d'  THEN p_start := upto - interval '168 hours'; p_end := upto;
    WHEN '30d' THEN p_start := upto - interval '720 hours'; p_end := upto;
    WHEN 'all' THEN p_end := upto;
    ELSE
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'period: unknown period %s; expected one of today, week, month, year, cycle, 24h, 7d, 30d, all',
        coalesce(pg_catalog.quote_literal(netstats_totals.period), 'null'));
  END CASE;
  -- Calendar periods include their start; rolling windows exclude theirs (timestamptz
  -- resolution is one microsecond).
  lo := CASE WHEN calendar THEN p_start
             WHEN p_start IS NULL THEN '-infinity'
             ELSE p_start + interval '1 microsecond' END;

  SELECT * INTO w FROM netstats.window_sums(lo, upto, netstats_totals.host, netstats_totals.iface);
  IF netstats_totals.period = 'all' THEN
    p_start := w.covers_from;
  END IF;
  total := w.bytes_sent + w.bytes_recv;
  elapsed := extract(epoch FROM upto - p_start);
  -- Wall-clock seconds monitored: several interfaces watched at once count once.
  monitored := w.seconds / nullif(w.series, 0);
  projected := pg_catalog.round(total / nullif(elapsed, 0)::numeric * extract(epoch FROM p_end - p_start));

  RETURN QUERY SELECT
    p_start, p_end, w.bytes_sent, w.bytes_recv, total, w.samples, w.first_at, w.last_at,
    (total / nullif(monitored, 0)::numeric)::double precision,
    w.peak_bytes_per_s,
    -- (least() skips nulls: least(1, null) would be 1, full coverage of nothing)
    CASE WHEN monitored > 0 AND elapsed > 0 THEN least(1.0, monitored / elapsed) ELSE 0 END,
    -- Null where it means nothing: outside calendar periods, and in a period's first
    -- instants, where a microsecond's traffic would project past any bigint.
    CASE WHEN calendar AND elapsed > 0 AND projected <= 9223372036854775807 THEN projected END;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_totals(text, text, text, text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_totals(text, text, text, text, timestamptz)
  TO netstats_reader, service_role;
