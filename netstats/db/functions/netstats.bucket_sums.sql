-- Per bucket of `starts` (k: its position), the bytes, samples and monitored seconds of the
-- samples with lo <= sampled_at < hi, for one host/interface or all (null). Bucket k runs
-- from starts[k] to starts[k + 1] (the last to hi); the first may begin before lo. Only
-- buckets with samples have a row. netstats_series gap-fills them; netstats_top ranks them.
--
-- The same tier walk as netstats.window_sums, with "inside" meaning "inside one bucket": per
-- series, a rollup row whose samples all fall into one bucket is used whole, one that spans
-- a bucket edge is opened into the next tier, and a cut leaf (a 5-minute row) into its raw
-- samples. Every read is an index range of one series, so the cost follows the number of
-- series and buckets, not the number of raw rows (a generic scan of all hosts read millions).
-- Cut leaves are summed here rather than by netstats.leaf_sums (window_sums' leaf code, the
-- same rules): a 10-second chart's leaves span 30 buckets each, and the row per series and
-- bucket leaf_sums would hand back made the fleet's live chart 1.76x slower (BENCHMARKS.md,
-- 2026-12-06).
--
-- `seconds` is the bucket's monitored seconds, as in netstats_totals: the samples' intervals
-- summed, divided by the number of interfaces that reported in the bucket.
--
-- only_host '' reads the fleet series (every series added up by ingest: one walk however
-- many hosts there are; a cut 5-minute bucket of it opens into every series' raw samples),
-- as window_sums does. Its rows cannot tell how many interfaces reported, so `seconds` is
-- null there: netstats_top, which ranks bytes, asks for it; netstats_series does not.
CREATE FUNCTION netstats.bucket_sums(
  lo timestamptz, hi timestamptz, starts timestamptz[], only_host text, only_iface text
)
RETURNS TABLE (
  k integer, bytes_sent numeric, bytes_recv numeric, samples bigint, seconds double precision
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- These queries read a few hundred rows; on large tables the planner's estimates pass
-- jit_above_cost and compiling them would take longer than running them (measured: 30 ms).
SET jit = off
-- One plan for every call, as in window_sums: the plan needs no argument's value to be good.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
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
         WHERE only_host IS NOT NULL AND r.tier = 4 AND r.host = only_host
           AND r.bucket_start < hi AND r.bucket_start > lo - interval '32 days'
        UNION ALL
        SELECT * FROM netstats.rollups r
         WHERE only_host IS NULL AND r.tier = 4 AND r.host <> ''
           AND r.bucket_start < hi AND r.bucket_start > lo - interval '32 days'
      ) r
     WHERE (r.iface = only_iface OR only_iface IS NULL AND r.iface NOT LIKE 'service:%')
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
        -- a cut leaf of the fleet: the samples of every series that reported that month
        SELECT m.host, m.iface FROM netstats.rollups m
         WHERE p.host = '' AND m.tier = 4 AND m.host <> ''
           AND (m.iface LIKE 'service:%') = (p.iface = 'service:')
           AND m.bucket_start = netstats.bucket_start(4::smallint, p.bucket_start)
           AND m.last_at >= p.bucket_start AND m.first_at < hi
        UNION ALL
        SELECT p.host, p.iface WHERE p.host <> ''
      ) m
      CROSS JOIN LATERAL (
        SELECT * FROM netstats.samples s
         WHERE s.host = m.host AND s.iface = m.iface
           AND s.sampled_at >= greatest(p.bucket_start, lo)
           AND s.sampled_at < least(netstats.bucket_end(p.tier, p.bucket_start), hi)
           -- lo and hi alone are known when the query starts: only the daily partitions
           -- between them are opened (the bounds above change per leaf and prune later)
           AND s.sampled_at >= lo AND s.sampled_at < hi
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
           CASE WHEN only_host IS DISTINCT FROM ''
                THEN pg_catalog.sum(p.seconds) / pg_catalog.count(DISTINCT (p.host, p.iface))
           END AS monitored
      FROM parts p
     GROUP BY 1
  )
  SELECT s.k, s.sent, s.recv, s.n::bigint, s.monitored FROM sums s;
END
$$;
REVOKE ALL ON FUNCTION netstats.bucket_sums(timestamptz, timestamptz, timestamptz[], text, text) FROM PUBLIC;
