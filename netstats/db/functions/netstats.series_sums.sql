-- Sums of every sample with lo <= sampled_at <= hi, per series of every host (the top hosts
-- and interfaces): one row per series with samples there; only_iface null means every
-- interface (no service), else that interface or service.
--
-- netstats.window_sums over every host reads, for each series, the children of every bucket
-- an edge cuts: a month cut on the 2nd opens into its 28 inside days, for each of thousands
-- of series (1,000 hosts: 76,000 rows, 42 ms). Here the window is three parts instead:
-- - [a, b), lo and hi + 1 us moved out to 15-minute boundaries: whole buckets, read the
--   shorter way round at each tier (netstats.bucket_ranges; the same month: its row less its
--   first day and the first day's hours before lo), one index range for all series per term;
-- - + [lo, a) and - (hi, b), under a quarter hour each, by window_sums, exact at any instant.
--   Where nothing was sampled after hi (at = now), the second cuts no bucket and costs ~1 ms.
-- Exact for samples and bytes (sums); first and last instants do not subtract, so they are
-- not returned.
CREATE FUNCTION netstats.series_sums(lo timestamptz, hi timestamptz, only_iface text)
RETURNS TABLE (host text, iface text, samples bigint, bytes_sent numeric, bytes_recv numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- as in window_sums: the estimates pass jit_above_cost, the run takes ms
SET plan_cache_mode = force_generic_plan
SET enable_sort = off  -- group by hashing (as in window_sums)
AS $$
#variable_conflict use_column
DECLARE
  after_hi constant timestamptz := hi + interval '1 microsecond';
  a timestamptz := lo;  -- -infinity stays
  b timestamptz := netstats.bucket_start(1::smallint, after_hi);
  data_end timestamptz;
  los timestamptz[] := '{}';
  his timestamptz[] := '{}';
  signs integer[] := '{}';
BEGIN
  IF pg_catalog.isfinite(lo) THEN
    a := netstats.bucket_start(1::smallint, lo);
    IF a < lo THEN
      a := a + interval '15 minutes';
    END IF;
  END IF;
  IF b < after_hi THEN
    b := b + interval '15 minutes';
  END IF;
  IF a >= b THEN  -- inside one quarter hour
    RETURN QUERY
    SELECT w.host, w.iface, w.samples, w.bytes_sent, w.bytes_recv
      FROM netstats.window_sums(ARRAY[lo], ARRAY[hi], ARRAY[NULL::text], ARRAY[only_iface]) w;
    RETURN;
  END IF;
  IF lo < a THEN
    los := los || lo;
    his := his || (a - interval '1 microsecond');
    signs := signs || 1;
  END IF;
  IF after_hi < b THEN
    los := los || after_hi;
    his := his || (b - interval '1 microsecond');
    signs := signs || -1;
  END IF;
  SELECT max(f.last_at) INTO data_end FROM netstats.rollups f WHERE f.tier = 4 AND f.host = '';
  RETURN QUERY
  WITH parts AS (
    -- Summed apart: bigint sums. Added to window_sums' numerics row by row, they cost twice.
    SELECT r.host, r.iface, sum(x.sign * r.samples) AS samples,
           sum(x.sign * r.bytes_sent) AS bytes_sent, sum(x.sign * r.bytes_recv) AS bytes_recv
      FROM netstats.bucket_ranges(a, b, data_end) x
     CROSS JOIN LATERAL (
       SELECT * FROM netstats.rollups r
        WHERE r.tier = x.tier AND r.tier > 0 AND r.host <> ''
          AND r.bucket_start >= x.range_start AND r.bucket_start < x.range_end
       OFFSET 0
     ) r
     WHERE r.iface = only_iface OR only_iface IS NULL AND r.iface NOT LIKE 'service:%'
     GROUP BY r.host, r.iface
    UNION ALL
    SELECT w.host, w.iface, signs[w.n] * w.samples, signs[w.n] * w.bytes_sent,
           signs[w.n] * w.bytes_recv
      FROM netstats.window_sums(
             los, his, pg_catalog.array_fill(NULL::text, ARRAY[pg_catalog.cardinality(los)]),
             pg_catalog.array_fill(only_iface, ARRAY[pg_catalog.cardinality(los)])) w
  )
  SELECT p.host, p.iface, sum(p.samples)::bigint, sum(p.bytes_sent), sum(p.bytes_recv)
    FROM parts p
   GROUP BY p.host, p.iface
  HAVING sum(p.samples) > 0;
END
$$;
REVOKE ALL ON FUNCTION netstats.series_sums(timestamptz, timestamptz, text) FROM PUBLIC;
