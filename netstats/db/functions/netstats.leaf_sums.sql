-- Sums of the cut leaves of netstats.window_sums (leaf k: window ns[k] = los[k] .. his[k], the
-- rollup row tiers[k], hosts[k], ifaces[k], starts[k]), a row per leaf and series: the raw
-- samples of the leaf that lie in its window. A leaf of the fleet series (host '') opens into
-- the samples of every series that reported that month.
--
-- A leaf whose raw samples retention has removed counts whole when it starts inside its
-- window: edges on 5-minute boundaries stay exact forever, other edges round.
--
-- Its own function so that window_sums' two queries (windows of one series, windows over
-- every host) share it. Its query costs ~50 us, most of it the plan's start, and runs only
-- when some window cuts a leaf (totals of calendar periods at `at` = now cut none).
CREATE FUNCTION netstats.leaf_sums(
  ns bigint[], los timestamptz[], his timestamptz[], tiers smallint[], hosts text[],
  ifaces text[], starts timestamptz[]
)
RETURNS TABLE (
  -- bigint, as in the rollup rows: a leaf's part of a row fits where the row does, and
  -- window_sums adds these to rollup rows without converting theirs
  n bigint, host text, iface text, samples bigint, bytes_sent bigint, bytes_recv bigint,
  seconds double precision, first_at timestamptz, last_at timestamptz, covers_from timestamptz,
  peak_bytes_per_s double precision
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
  -- Where every leaf's samples lie, known when the query starts: only the daily partitions
  -- of netstats.samples between these are opened (each leaf's own bounds prune later, after
  -- every partition's scan was set up).
  raw_lo timestamptz;
  raw_hi timestamptz;
BEGIN
  IF pg_catalog.cardinality(ns) = 0 THEN
    RETURN;
  END IF;
  SELECT pg_catalog.min(greatest(x.b, x.l)), pg_catalog.max(x.h) INTO raw_lo, raw_hi
    FROM ROWS FROM (pg_catalog.unnest(starts), pg_catalog.unnest(los), pg_catalog.unnest(his))
         AS x(b, l, h);
  RETURN QUERY
  WITH p AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest(ns), pg_catalog.unnest(los), pg_catalog.unnest(his),
                             pg_catalog.unnest(tiers), pg_catalog.unnest(hosts),
                             pg_catalog.unnest(ifaces), pg_catalog.unnest(starts))
                  AS p(n, lo, hi, tier, host, iface, bucket_start)
  ),
  parts AS (
    SELECT p.n, p.tier, p.bucket_start, s.host, s.iface, 1 AS samples, s.bytes_sent,
           s.bytes_recv, s.interval_s AS seconds, s.sampled_at AS first_at, s.sampled_at AS last_at,
           s.sampled_at - s.interval_s * interval '1 second' AS covers_from,
           (s.bytes_sent::double precision + s.bytes_recv) / s.interval_s AS peak_bytes_per_s
      FROM p
     CROSS JOIN LATERAL (
       SELECT m.host, m.iface FROM netstats.rollups m
        WHERE p.host = '' AND m.tier = 4 AND m.host <> ''
          AND (m.iface LIKE 'service:%') = (p.iface = 'service:')
          AND m.bucket_start = netstats.bucket_start(4::smallint, p.bucket_start)
          AND m.last_at >= p.bucket_start AND m.first_at <= p.hi
       UNION ALL
       SELECT p.host, p.iface WHERE p.host <> ''
     ) m
     CROSS JOIN LATERAL (
       SELECT * FROM netstats.samples s
        WHERE s.host = m.host AND s.iface = m.iface
          AND s.sampled_at >= greatest(p.bucket_start, p.lo)
          AND s.sampled_at < netstats.bucket_end(p.tier, p.bucket_start)
          AND s.sampled_at <= p.hi
          AND s.sampled_at >= raw_lo AND s.sampled_at <= raw_hi
       OFFSET 0
     ) s
     -- (a subquery, run once: the leaves retention left alone are picked before any lookup)
     WHERE p.bucket_start >= (SELECT k.raw_purged_before FROM netstats.settings k)
    UNION ALL
    SELECT p.n, p.tier, p.bucket_start, r.host, r.iface, r.samples, r.bytes_sent, r.bytes_recv,
           r.seconds, r.first_at, r.last_at, r.covers_from, r.peak_bytes_per_s
      FROM p
     CROSS JOIN LATERAL (
       SELECT * FROM netstats.rollups r
        WHERE r.tier = p.tier AND r.host = p.host AND r.iface = p.iface
          AND r.bucket_start = p.bucket_start
       OFFSET 0
     ) r
     WHERE p.bucket_start < (SELECT k.raw_purged_before FROM netstats.settings k)
       AND p.bucket_start >= p.lo AND p.bucket_start <= p.hi
  )
  SELECT x.n, x.host, x.iface, sum(x.samples)::bigint, sum(x.bytes_sent)::bigint,
         sum(x.bytes_recv)::bigint, sum(x.seconds), min(x.first_at), max(x.last_at),
         min(x.covers_from), max(x.peak_bytes_per_s)
    FROM parts x
   GROUP BY x.n, x.host, x.iface, x.tier, x.bucket_start;
END
$$;
REVOKE ALL ON FUNCTION netstats.leaf_sums(bigint[], timestamptz[], timestamptz[], smallint[], text[], text[], timestamptz[]) FROM PUBLIC;
