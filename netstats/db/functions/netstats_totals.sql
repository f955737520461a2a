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
-- Distinct by hashing. The generic plan of the series count below, guessing 17 rows, sorted
-- the 26,000 month rows of 1,000 hosts' year first (totals 10.5 -> ~6 ms).
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  fleet constant boolean := netstats_totals.host IS NULL AND netstats_totals.iface IS NULL;
  bounds record;
  upto timestamptz;
  calendar boolean;
  p_start timestamptz;
  p_end timestamptz;
  lo timestamptz;
  w record;
  total numeric;
  elapsed double precision;
  monitored double precision;
  projected numeric;
BEGIN
  -- An expression, not a query: PL/pgSQL evaluates it without starting an executor.
  bounds := netstats.period_window(netstats_totals.period, netstats_totals.tz, netstats_totals.at);
  p_start := bounds.period_start;
  p_end := bounds.period_end;
  lo := bounds.lo;
  upto := bounds.hi;
  calendar := bounds.calendar;

  SELECT coalesce(sum(x.samples), 0)::bigint AS samples, coalesce(sum(x.bytes_sent), 0) AS bytes_sent,
         coalesce(sum(x.bytes_recv), 0) AS bytes_recv, coalesce(sum(x.seconds), 0) AS seconds,
         min(x.first_at) AS first_at, max(x.last_at) AS last_at,
         min(x.covers_from) AS covers_from, max(x.peak_bytes_per_s) AS peak_bytes_per_s,
         count(*) AS series
    INTO w
    FROM netstats.window_sums(
      ARRAY[lo], ARRAY[upto], ARRAY[CASE WHEN fleet THEN '' ELSE netstats_totals.host END],
      ARRAY[netstats_totals.iface]) x;
  IF fleet THEN
    -- The fleet series holds everyone's seconds; they count once per interface that
    -- reported in the window (its months' rows tell; at `at` = now, exactly those).
    SELECT count(*) INTO w.series FROM (
      SELECT DISTINCT r.host, r.iface FROM netstats.rollups r
       WHERE r.tier = 4 AND r.host <> '' AND r.iface NOT LIKE 'service:%'
         AND r.bucket_start <= upto AND r.bucket_start > lo - interval '32 days'
         AND r.last_at >= lo AND r.first_at <= upto) s;
  END IF;
  IF netstats_totals.period = 'all' THEN  -- netstats.first_covered, from the sums at hand
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
