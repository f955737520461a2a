-- Traffic per bucket of `step` from start_at (inclusive) to end_at (exclusive), gap-filled.
-- Steps of days, weeks or months follow tz's wall clock; shorter steps are exact durations.
-- A null step picks the finest of a fixed ladder that gives at most 1,000 buckets.
--
-- Buckets are summed from the coarsest rollup tier whose UTC buckets all edges fall on (daily
-- buckets in UTC read day rollups, in Asia/Tokyo hour rollups, in Asia/Kathmandu 15-minute
-- rollups), and from raw samples only when no tier fits, such as one-minute steps.
CREATE FUNCTION public.netstats_series(
  start_at timestamptz,
  end_at timestamptz,
  step interval DEFAULT NULL,
  tz text DEFAULT 'UTC',
  host text DEFAULT NULL,
  iface text DEFAULT NULL
)
-- numeric bytes: a bucket over many hosts may pass what a bigint holds
RETURNS TABLE (bucket_start timestamptz, bytes_sent numeric, bytes_recv numeric, samples bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
-- These queries read a few hundred rows; on large tables the planner's estimates pass
-- jit_above_cost and compiling them would take longer than running them (measured: 30 ms).
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  max_buckets constant int := 1000;
  ladder constant interval[] := '{1 minute, 5 minutes, 15 minutes, 1 hour, 3 hours, 6 hours,
                                  12 hours, 1 day, 7 days, 1 month, 3 months, 1 year}';
  width interval := netstats_series.step;
  starts timestamptz[];
  fit_tier smallint;
  kept timestamptz;
BEGIN
  PERFORM pg_catalog.set_config('timezone', netstats.check_zone(netstats_series.tz), true);
  IF netstats_series.start_at IS NULL OR NOT pg_catalog.isfinite(netstats_series.start_at) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'start_at: expected a finite timestamp, got %s', coalesce(netstats_series.start_at::text, 'null'));
  END IF;
  IF netstats_series.end_at IS NULL OR NOT pg_catalog.isfinite(netstats_series.end_at)
     OR netstats_series.end_at <= netstats_series.start_at THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'end_at: expected a finite timestamp after start_at (%s), got %s',
      netstats_series.start_at, coalesce(netstats_series.end_at::text, 'null'));
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
     WHERE netstats_series.start_at + l * max_buckets >= netstats_series.end_at
     ORDER BY l LIMIT 1;
    IF width IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'end_at: %s to %s is too long for 1000 yearly buckets', netstats_series.start_at, netstats_series.end_at);
    END IF;
  END IF;
  -- start + k * step, not repeated addition: 31 Jan + 2 months is 31 Mar, not 28 Mar.
  BEGIN
    starts := ARRAY(SELECT netstats_series.start_at + k * width
                      FROM pg_catalog.generate_series(0, max_buckets) k
                     WHERE netstats_series.start_at + k * width < netstats_series.end_at
                     ORDER BY k);
  EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'step: %s from %s passes the last date PostgreSQL can hold; choose a shorter step',
      width, netstats_series.start_at);
  END;
  IF pg_catalog.cardinality(starts) > max_buckets THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'step: %s makes more than %s buckets from %s to %s; choose a longer step or leave it null',
      width, max_buckets, netstats_series.start_at, netstats_series.end_at);
  END IF;

  SELECT t.tier INTO fit_tier
    FROM (VALUES (4::smallint), (3::smallint), (2::smallint), (1::smallint)) AS t(tier)
   WHERE (SELECT pg_catalog.bool_and(netstats.bucket_start(t.tier, e) = e)
            FROM pg_catalog.unnest(starts || netstats_series.end_at) e)
   ORDER BY t.tier DESC LIMIT 1;
  SELECT s.raw_purged_before INTO kept FROM netstats.settings s;

  RETURN QUERY
  WITH parts AS (
    SELECT r.bucket_start AS at, r.bytes_sent, r.bytes_recv, r.samples
      FROM netstats.rollups r
     WHERE r.tier = coalesce(fit_tier, 1)
       AND (netstats_series.host IS NULL OR r.host = netstats_series.host)
       AND (netstats_series.iface IS NULL OR r.iface = netstats_series.iface)
       AND r.bucket_start >= netstats_series.start_at AND r.bucket_start < netstats_series.end_at
       -- without a fitting tier, 15-minute rollups stand in only where raw samples are gone
       AND (fit_tier IS NOT NULL OR r.bucket_start < kept)
    UNION ALL
    SELECT s.sampled_at, s.bytes_sent, s.bytes_recv, 1
      FROM netstats.samples s
     WHERE fit_tier IS NULL
       AND (netstats_series.host IS NULL OR s.host = netstats_series.host)
       AND (netstats_series.iface IS NULL OR s.iface = netstats_series.iface)
       AND s.sampled_at >= greatest(netstats_series.start_at, kept) AND s.sampled_at < netstats_series.end_at
  ),
  sums AS (
    SELECT pg_catalog.width_bucket(p.at, starts) AS k, pg_catalog.sum(p.bytes_sent) AS sent,
           pg_catalog.sum(p.bytes_recv) AS recv, pg_catalog.sum(p.samples) AS n
      FROM parts p
     GROUP BY 1
  )
  SELECT b.b, coalesce(s.sent, 0), coalesce(s.recv, 0), coalesce(s.n, 0)::bigint
    FROM pg_catalog.unnest(starts) WITH ORDINALITY AS b(b, k)
    LEFT JOIN sums s ON s.k = b.k
   ORDER BY b.k;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_series(timestamptz, timestamptz, interval, text, text, text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent;
GRANT EXECUTE ON FUNCTION public.netstats_series(timestamptz, timestamptz, interval, text, text, text)
  TO authenticated, service_role;
