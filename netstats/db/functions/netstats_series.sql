-- Traffic per bucket of `step` from start_at (inclusive) to end_at (exclusive), gap-filled.
-- Steps of days, weeks or months follow tz's wall clock; shorter steps are exact durations.
-- A null step picks the finest of a fixed ladder that gives at most 1,000 buckets.
--
-- The same tier walk as netstats.window_sums, with "inside" meaning "inside one bucket": per
-- series, a rollup row whose samples all fall into one bucket is used whole, one that spans
-- a bucket edge is opened into the next tier, and a cut leaf (a 5-minute row) into its raw
-- samples.
-- Every read is an index range of one series, so the cost follows the number of series and
-- buckets, not the number of raw rows (a generic scan of all hosts read millions).
--
-- `seconds` is the bucket's monitored seconds, as in netstats_totals: the samples' intervals
-- summed, divided by the number of interfaces that reported in the bucket.
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
-- These queries read a few hundred rows; on large tables the planner's estimates pass
-- jit_above_cost and compiling them would take longer than running them (measured: 30 ms).
SET jit = off
-- One plan for every call, as in window_sums: the plan needs no argument's value to be good.
SET plan_cache_mode = force_generic_plan
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
  WITH RECURSIVE pieces AS (
    SELECT r.tier, r.host, r.iface, r.bucket_start, r.samples, r.bytes_sent, r.bytes_recv,
           r.seconds, r.first_at,
           r.first_at >= lo AND r.last_at < hi
             AND pg_catalog.width_bucket(r.first_at, starts) = pg_catalog.width_bucket(r.last_at, starts) AS whole,
           false AS leaf
      FROM (
        -- Two branches, one chosen when it runs: a host's rows are one index range, where
        -- "host is null or host = x" would read every host's (as in window_sums).
        SELECT * FROM netstats.rollups r
         WHERE netstats_series.host IS NOT NULL AND r.tier = 4 AND r.host = netstats_series.host
           AND r.bucket_start < hi AND r.bucket_start > lo - interval '32 days'
        UNION ALL
        SELECT * FROM netstats.rollups r
         WHERE netstats_series.host IS NULL AND r.tier = 4
           AND r.bucket_start < hi AND r.bucket_start > lo - interval '32 days'
      ) r
     WHERE (netstats_series.iface IS NULL OR r.iface = netstats_series.iface)
       AND r.last_at >= lo AND r.first_at < hi
    UNION ALL
    -- LATERAL ... OFFSET 0: one index range per opened row, always (as in window_sums), and
    -- the same leaves: 5-minute rows, and 15-minute rows their 5-minute rows do not fill.
    SELECT c.tier, c.host, c.iface, c.bucket_start, c.samples, c.bytes_sent, c.bytes_recv,
           c.seconds, c.first_at, c.whole,
           c.tier = 0 OR (c.tier = 1 AND NOT c.whole AND c.samples <> (
             SELECT coalesce(sum(f.samples), 0) FROM netstats.rollups f
              WHERE f.tier = 0 AND f.host = c.host AND f.iface = c.iface
                AND f.bucket_start >= c.bucket_start
                AND f.bucket_start < c.bucket_start + interval '15 minutes'))
      FROM pieces p
     CROSS JOIN LATERAL (
       SELECT c.*,
              c.first_at >= lo AND c.last_at < hi
                AND pg_catalog.width_bucket(c.first_at, starts) = pg_catalog.width_bucket(c.last_at, starts) AS whole
         FROM netstats.rollups c
        WHERE c.tier = p.tier - 1 AND c.host = p.host AND c.iface = p.iface
          AND c.bucket_start >= p.bucket_start
          AND c.bucket_start < netstats.bucket_end(p.tier, p.bucket_start)
          AND c.bucket_start < hi
          AND c.last_at >= lo AND c.first_at < hi
       OFFSET 0
     ) c
     WHERE NOT p.whole AND NOT p.leaf
  ),
  kept AS (SELECT s.raw_purged_before FROM netstats.settings s),
  parts AS (
    SELECT p.host, p.iface, p.first_at AS at, p.bytes_sent, p.bytes_recv, p.samples, p.seconds
      FROM pieces p
     WHERE p.whole
    UNION ALL
    SELECT s.host, s.iface, s.sampled_at, s.bytes_sent, s.bytes_recv, 1, s.interval_s
      FROM pieces p
      CROSS JOIN kept
      CROSS JOIN LATERAL (
        SELECT * FROM netstats.samples s
         WHERE s.host = p.host AND s.iface = p.iface
           AND s.sampled_at >= greatest(p.bucket_start, lo)
           AND s.sampled_at < least(netstats.bucket_end(p.tier, p.bucket_start), hi)
        OFFSET 0
      ) s
     WHERE p.leaf AND NOT p.whole AND p.bucket_start >= kept.raw_purged_before
    UNION ALL
    -- A cut leaf whose raw samples retention removed counts whole in the bucket it starts
    -- in (as totals do): edges on 5-minute boundaries stay exact forever.
    SELECT p.host, p.iface, p.bucket_start, p.bytes_sent, p.bytes_recv, p.samples, p.seconds
      FROM pieces p
      CROSS JOIN kept
     WHERE p.leaf AND NOT p.whole AND p.bucket_start < kept.raw_purged_before
       AND p.bucket_start >= lo AND p.bucket_start < hi
  ),
  sums AS (
    SELECT pg_catalog.width_bucket(p.at, starts) AS k, pg_catalog.sum(p.bytes_sent) AS sent,
           pg_catalog.sum(p.bytes_recv) AS recv, pg_catalog.sum(p.samples) AS n,
           pg_catalog.sum(p.seconds) / pg_catalog.count(DISTINCT (p.host, p.iface)) AS monitored
      FROM parts p
     GROUP BY 1
  )
  SELECT b.b, coalesce(s.sent, 0), coalesce(s.recv, 0), coalesce(s.n, 0)::bigint,
         coalesce(s.monitored, 0)
    FROM pg_catalog.unnest(starts) WITH ORDINALITY AS b(b, k)
    LEFT JOIN sums s ON s.k = b.k
   ORDER BY b.k;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_series(timestamptz, timestamptz, interval, text, text, text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_series(timestamptz, timestamptz, interval, text, text, text)
  TO netstats_reader, service_role;
