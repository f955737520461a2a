-- Sums of every sample with lo <= sampled_at <= hi, for one host/interface or all (null):
-- one row per window (n: its position in the arrays) and series that has samples there,
-- every window in one call. The quotas read all of theirs at once; a total passes
-- one-element arrays and adds its series up; the top hosts group them.
--
-- A window whose host is '' reads the fleet series (host '' and iface '': every series
-- added up by ingest), so a total over all hosts walks one series instead of each host's.
-- Only a cut 5-minute bucket of it is opened into the raw samples of every series.
--
-- Walks the rollup tiers top-down (month, day, hour, 15 minutes, 5 minutes). A bucket whose
-- samples all lie inside the window (first_at >= lo and last_at <= hi) is used whole; only a
-- bucket cut by an edge is opened into the next tier, and a cut leaf into its raw samples. An
-- interval has two edges, so at most two buckets per tier and series are opened: the cost
-- depends on the number of series, not on the window's length.
--
-- The leaves are the 5-minute buckets, and the 15-minute buckets whose 5-minute rows do not
-- hold all their samples (from before revision 0005 built the tier). Cut leaves are summed
-- by netstats.leaf_sums: their raw samples, or the whole leaf where retention removed them.
--
-- A window over every host (host null: the top hosts and interfaces) is not walked series by
-- series: with a thousand hosts that is thousands of index descents. Every series shares the
-- window's edges, so only the buckets holding an edge can be cut, in every tier: those are
-- looked up once for all series (netstats.rollups_by_time; only where the fleet series' row
-- says some series is cut there), and the children of the cut ones read as one range per
-- edge. The same rule as the walk, row for row: a bucket counts whole when it is inside and
-- its parent is cut; a cut leaf opens into its raw samples.
--
-- Two queries, each run only when a window needs it: starting the every-host query's plan
-- cost a total of one host ~60 us of ~220 when it was one query with the walk.
CREATE FUNCTION netstats.window_sums(
  los timestamptz[], his timestamptz[], only_hosts text[], only_ifaces text[]
)
-- Sums are numeric: across many series and years they may pass what a bigint holds.
RETURNS TABLE (
  n bigint, host text, iface text, samples bigint, bytes_sent numeric, bytes_recv numeric,
  seconds double precision, first_at timestamptz, last_at timestamptz, covers_from timestamptz,
  peak_bytes_per_s double precision
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- These queries read a few hundred rows; on large tables the planner's estimates pass
-- jit_above_cost and compiling them would take longer than running them (measured: 30 ms).
SET jit = off
-- One plan for every call. A custom plan, planned again on each call, costs more than the
-- query (measured: ~80 us of ~100); the plan below needs no argument's value to be good.
SET plan_cache_mode = force_generic_plan
-- Group by hashing. Sized for the few rows a walk finds, the every-host query was planned to
-- sort its ~20,000 rows at 1,000 hosts first (top hosts, month: 15 -> 22 ms).
SET enable_sort = off
AS $$
#variable_conflict use_column
BEGIN
  -- PL/pgSQL, not SQL: PL/pgSQL keeps the plans of these queries across calls, and planning
  -- them again each time costs more than running them.
  -- Windows over every host, if any.
  IF pg_catalog.array_position(only_hosts, NULL) IS NOT NULL THEN
    RETURN QUERY
    WITH w AS (
      SELECT * FROM ROWS FROM (pg_catalog.unnest(los), pg_catalog.unnest(his),
                               pg_catalog.unnest(only_hosts), pg_catalog.unnest(only_ifaces))
                    WITH ORDINALITY AS w(lo, hi, host, iface, n)
    ),
    -- Windows over every host. The buckets holding an edge, per tier, where the fleet series'
    -- row is cut: only there can a series' row be cut (the fleet's first and last samples are
    -- everyone's), so elsewhere nothing needs looking up.
    edges AS (
      SELECT DISTINCT w.n, w.lo, w.hi, w.iface, f.tier, f.bucket_start
        FROM w
       CROSS JOIN (VALUES (1::smallint), (2::smallint), (3::smallint), (4::smallint)) AS t(tier)
       CROSS JOIN LATERAL (VALUES (w.lo), (w.hi)) AS x(edge)
       CROSS JOIN LATERAL (
         SELECT * FROM netstats.rollups f
          WHERE f.tier = t.tier AND f.host = ''
            AND f.iface = CASE WHEN w.iface LIKE 'service:%' THEN 'service:' ELSE '' END
            AND f.bucket_start = netstats.bucket_start(t.tier, x.edge)
         OFFSET 0
       ) f
       WHERE w.host IS NULL AND pg_catalog.isfinite(x.edge)
         AND f.last_at >= w.lo AND f.first_at <= w.hi
         AND NOT (f.first_at >= w.lo AND f.last_at <= w.hi)
    ),
    cuts AS (  -- every series' cut row there
      SELECT e.n, e.lo, e.hi, r.*,
             -- a cut 15-minute bucket is a leaf when its 5-minute rows do not hold all its samples
             r.tier = 1 AND r.samples <> (
               SELECT coalesce(sum(f.samples), 0) FROM netstats.rollups f
                WHERE f.tier = 0 AND f.host = r.host AND f.iface = r.iface
                  AND f.bucket_start >= r.bucket_start
                  AND f.bucket_start < r.bucket_start + interval '15 minutes') AS leaf
        FROM edges e
       CROSS JOIN LATERAL (
         SELECT * FROM netstats.rollups r
          WHERE r.tier = e.tier AND r.tier > 0 AND r.bucket_start = e.bucket_start AND r.host <> ''
         OFFSET 0
       ) r
       WHERE (r.iface = e.iface OR e.iface IS NULL AND r.iface NOT LIKE 'service:%')
         AND r.last_at >= e.lo AND r.first_at <= e.hi
         AND NOT (r.first_at >= e.lo AND r.last_at <= e.hi)
    ),
    -- What the walk would reach: the months in the window, and the rows under each cut bucket
    -- of tiers 4 to 2 (one range per edge bucket for all series, kept where that series' bucket
    -- is cut); only the whole ones count, the cut ones are in cuts.
    reached AS (
      SELECT w.n, w.lo, w.hi, r.*
        FROM w
       CROSS JOIN LATERAL (
         SELECT * FROM netstats.rollups r
          WHERE r.tier = 4 AND r.bucket_start <= w.hi AND r.bucket_start > w.lo - interval '32 days'
            AND r.host <> ''
         OFFSET 0
       ) r
       WHERE w.host IS NULL AND (r.iface = w.iface OR w.iface IS NULL AND r.iface NOT LIKE 'service:%')
      UNION ALL
      SELECT p.n, p.lo, p.hi, c.*
        FROM (SELECT DISTINCT n, lo, hi, tier, bucket_start FROM cuts WHERE tier > 1) p
       CROSS JOIN LATERAL (
         SELECT * FROM netstats.rollups c
          WHERE c.tier = p.tier - 1 AND c.tier > 0 AND c.host <> ''
            AND c.bucket_start >= p.bucket_start
            AND c.bucket_start < netstats.bucket_end(p.tier, p.bucket_start)
            AND c.bucket_start > p.lo - CASE p.tier WHEN 4 THEN interval '1 day'
                                                    WHEN 3 THEN interval '1 hour'
                                                    ELSE interval '15 minutes' END
            AND c.bucket_start <= p.hi
         OFFSET 0
       ) c
       -- NOT ... NOT IN: a hash of the cut buckets, always. IN became a semi-join that the
       -- planner, guessing one cut row, ran as a loop over all of them for every child.
       WHERE NOT (p.n, p.tier, c.host, c.iface, p.bucket_start) NOT IN (
               SELECT k.n, k.tier, k.host, k.iface, k.bucket_start FROM cuts k)
    ),
    fives AS (  -- under a cut 15-minute bucket that is no leaf
      SELECT p.n, p.lo, p.hi, f.*
        FROM cuts p
       CROSS JOIN LATERAL (
         SELECT * FROM netstats.rollups f
          WHERE f.tier = 0 AND f.host = p.host AND f.iface = p.iface
            AND f.bucket_start >= p.bucket_start
            AND f.bucket_start < p.bucket_start + interval '15 minutes'
            AND f.bucket_start > p.lo - interval '5 minutes' AND f.bucket_start <= p.hi
         OFFSET 0
       ) f
       WHERE p.tier = 1 AND NOT p.leaf
    ),
    -- the leaves under cut buckets: 5-minute rows, and 15-minute rows their 5-minute rows
    -- do not fill
    pieces AS (
      SELECT f.n, f.lo, f.hi, f.tier, f.host, f.iface, f.bucket_start, f.samples, f.bytes_sent,
             f.bytes_recv, f.seconds, f.first_at, f.last_at, f.covers_from, f.peak_bytes_per_s,
             f.first_at >= f.lo AND f.last_at <= f.hi AS inside
        FROM fives f
       WHERE f.last_at >= f.lo AND f.first_at <= f.hi
      UNION ALL
      SELECT c.n, c.lo, c.hi, c.tier, c.host, c.iface, c.bucket_start, c.samples, c.bytes_sent,
             c.bytes_recv, c.seconds, c.first_at, c.last_at, c.covers_from, c.peak_bytes_per_s,
             false
        FROM cuts c
       WHERE c.leaf
    ),
    leaves AS (SELECT * FROM pieces p WHERE NOT p.inside),
    parts AS (  -- what the walk would count whole, and the cut leaves' samples
      SELECT p.n, p.host, p.iface, p.samples, p.bytes_sent, p.bytes_recv, p.seconds,
             p.first_at, p.last_at, p.covers_from, p.peak_bytes_per_s
        FROM pieces p
       WHERE p.inside
      UNION ALL
      SELECT r.n, r.host, r.iface, r.samples, r.bytes_sent, r.bytes_recv, r.seconds,
             r.first_at, r.last_at, r.covers_from, r.peak_bytes_per_s
        FROM reached r
       WHERE r.first_at >= r.lo AND r.last_at <= r.hi
      UNION ALL
      SELECT * FROM netstats.leaf_sums(
        ARRAY(SELECT l.n FROM leaves l), ARRAY(SELECT l.lo FROM leaves l),
        ARRAY(SELECT l.hi FROM leaves l), ARRAY(SELECT l.tier FROM leaves l),
        ARRAY(SELECT l.host FROM leaves l), ARRAY(SELECT l.iface FROM leaves l),
        ARRAY(SELECT l.bucket_start FROM leaves l))
    )
    SELECT x.n, x.host, x.iface, sum(x.samples)::bigint, sum(x.bytes_sent), sum(x.bytes_recv),
           sum(x.seconds), min(x.first_at), max(x.last_at), min(x.covers_from),
           max(x.peak_bytes_per_s)
      FROM parts x
     GROUP BY x.n, x.host, x.iface;
  END IF;
  -- Windows of one host, or of the fleet series: the walk.
  IF pg_catalog.cardinality(pg_catalog.array_remove(only_hosts, NULL)) > 0 THEN
    RETURN QUERY
    WITH RECURSIVE w AS (
      SELECT * FROM ROWS FROM (pg_catalog.unnest(los), pg_catalog.unnest(his),
                               pg_catalog.unnest(only_hosts), pg_catalog.unnest(only_ifaces))
                    WITH ORDINALITY AS w(lo, hi, host, iface, n)
    ),
    walked AS (
      SELECT w.n, w.lo, w.hi, r.tier, r.host, r.iface, r.bucket_start, r.samples, r.bytes_sent,
             r.bytes_recv, r.seconds, r.first_at, r.last_at, r.covers_from, r.peak_bytes_per_s,
             r.first_at >= w.lo AND r.last_at <= w.hi AS inside, false AS leaf
        FROM w
       CROSS JOIN LATERAL (
         SELECT * FROM netstats.rollups r
          WHERE r.tier = 4 AND r.host = w.host
            AND r.bucket_start <= w.hi AND r.bucket_start > w.lo - interval '32 days'
         OFFSET 0
       ) r
       WHERE w.host IS NOT NULL AND (r.iface = w.iface OR w.iface IS NULL AND r.iface NOT LIKE 'service:%')
         AND r.last_at >= w.lo AND r.first_at <= w.hi
      UNION ALL
      -- LATERAL ... OFFSET 0: one index range per opened bucket, always. Left to itself the
      -- planner may prefer a hash join that reads every rollup row of a large table.
      SELECT p.n, p.lo, p.hi, c.tier, c.host, c.iface, c.bucket_start, c.samples, c.bytes_sent,
             c.bytes_recv, c.seconds, c.first_at, c.last_at, c.covers_from, c.peak_bytes_per_s,
             c.inside,
             c.tier = 0 OR (c.tier = 1 AND NOT c.inside AND c.samples <> (
               SELECT coalesce(sum(f.samples), 0) FROM netstats.rollups f
                WHERE f.tier = 0 AND f.host = c.host AND f.iface = c.iface
                  AND f.bucket_start >= c.bucket_start
                  AND f.bucket_start < c.bucket_start + interval '15 minutes'))
        FROM walked p
       CROSS JOIN LATERAL (
         SELECT c.*, c.first_at >= p.lo AND c.last_at <= p.hi AS inside
           FROM netstats.rollups c
          WHERE c.tier = p.tier - 1 AND c.host = p.host AND c.iface = p.iface
            AND c.bucket_start >= p.bucket_start
            AND c.bucket_start < netstats.bucket_end(p.tier, p.bucket_start)
            -- skip the children that end before the window starts or start after it ends
            AND c.bucket_start > p.lo - CASE p.tier WHEN 4 THEN interval '1 day'
                                                    WHEN 3 THEN interval '1 hour'
                                                    WHEN 2 THEN interval '15 minutes'
                                                    ELSE interval '5 minutes' END
            AND c.bucket_start <= p.hi
            AND c.last_at >= p.lo AND c.first_at <= p.hi
         OFFSET 0
       ) c
       WHERE NOT p.inside AND NOT p.leaf
    ),
    leaves AS (SELECT * FROM walked p WHERE p.leaf AND NOT p.inside),
    parts AS (
      SELECT p.n, p.host, p.iface, p.samples, p.bytes_sent, p.bytes_recv, p.seconds,
             p.first_at, p.last_at, p.covers_from, p.peak_bytes_per_s
        FROM walked p
       WHERE p.inside
      UNION ALL
      SELECT * FROM netstats.leaf_sums(
        ARRAY(SELECT l.n FROM leaves l), ARRAY(SELECT l.lo FROM leaves l),
        ARRAY(SELECT l.hi FROM leaves l), ARRAY(SELECT l.tier FROM leaves l),
        ARRAY(SELECT l.host FROM leaves l), ARRAY(SELECT l.iface FROM leaves l),
        ARRAY(SELECT l.bucket_start FROM leaves l))
    )
    SELECT x.n, x.host, x.iface, sum(x.samples)::bigint, sum(x.bytes_sent), sum(x.bytes_recv),
           sum(x.seconds), min(x.first_at), max(x.last_at), min(x.covers_from),
           max(x.peak_bytes_per_s)
      FROM parts x
     GROUP BY x.n, x.host, x.iface;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION netstats.window_sums(timestamptz[], timestamptz[], text[], text[]) FROM PUBLIC;
