-- Traffic per bucket of `step` from start_at (inclusive) to end_at (exclusive), gap-filled.
-- Steps of days, weeks or months follow tz's wall clock; shorter steps are exact durations.
-- A null step picks the finest of a fixed ladder that gives at most 1,000 buckets.
-- The sums come from netstats.bucket_sums' tier walk; `seconds` is each bucket's monitored
-- seconds, as in netstats_totals.
CREATE FUNCTION public.netstats_series(
  start_at timestamptz,
  end_at timestamptz,
  step interval DEFAULT NULL,
  tz text DEFAULT 'UTC',
  host text DEFAULT NULL,
  iface text DEFAULT NULL
)
-- numeric bytes: a bucket over many hosts may pass what a bigint holds
RETURNS TABLE (
  bucket_start timestamptz, bytes_sent numeric, bytes_recv numeric, samples bigint,
  seconds double precision
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
#variable_conflict use_column
DECLARE
  max_buckets constant int := 1000;
  ladder constant interval[] := '{1 minute, 5 minutes, 15 minutes, 1 hour, 3 hours, 6 hours,
                                  12 hours, 1 day, 7 days, 1 month, 3 months, 1 year}';
  width interval := netstats_series.step;
  starts timestamptz[];
  lo constant timestamptz := netstats_series.start_at;
  hi constant timestamptz := netstats_series.end_at;
BEGIN
  PERFORM pg_catalog.set_config('timezone', netstats.check_zone(netstats_series.tz), true);
  IF lo IS NULL OR NOT pg_catalog.isfinite(lo) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'start_at: expected a finite timestamp, got %s', coalesce(lo::text, 'null'));
  END IF;
  IF hi IS NULL OR NOT pg_catalog.isfinite(hi) OR hi <= lo THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'end_at: expected a finite timestamp after start_at (%s), got %s', lo, coalesce(hi::text, 'null'));
  END IF;
  -- Every part of the step counts forward: '1 mon -29 days' would put traffic in the wrong
  -- buckets.
  IF width IS NOT NULL AND (width < interval '1 second'
     OR least(extract(year FROM width), extract(month FROM width), extract(day FROM width),
              extract(hour FROM width), extract(minute FROM width), extract(second FROM width)) < 0) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'step: expected a positive interval of at least 1 second with no negative part, got %s', width);
  END IF;
  IF width IS NULL THEN
    SELECT l INTO width FROM pg_catalog.unnest(ladder) l
     WHERE lo + l * max_buckets >= hi
     ORDER BY l LIMIT 1;
    IF width IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'end_at: %s to %s is too long for 1000 yearly buckets', lo, hi);
    END IF;
  END IF;
  -- start + k * step, not repeated addition: 31 Jan + 2 months is 31 Mar, not 28 Mar.
  BEGIN
    starts := ARRAY(SELECT lo + k * width
                      FROM pg_catalog.generate_series(0, max_buckets) k
                     WHERE lo + k * width < hi
                     ORDER BY k);
  EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'step: %s from %s passes the last date PostgreSQL can hold; choose a shorter step', width, lo);
  END;
  IF pg_catalog.cardinality(starts) > max_buckets THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'step: %s makes more than %s buckets from %s to %s; choose a longer step or leave it null',
      width, max_buckets, lo, hi);
  END IF;

  RETURN QUERY
  SELECT b.b, coalesce(s.bytes_sent, 0), coalesce(s.bytes_recv, 0), coalesce(s.samples, 0),
         coalesce(s.seconds, 0)
    FROM pg_catalog.unnest(starts) WITH ORDINALITY AS b(b, k)
    LEFT JOIN netstats.bucket_sums(lo, hi, starts, netstats_series.host, netstats_series.iface) s
      ON s.k = b.k
   ORDER BY b.k;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_series(timestamptz, timestamptz, interval, text, text, text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_series(timestamptz, timestamptz, interval, text, text, text)
  TO netstats_reader, service_role;
