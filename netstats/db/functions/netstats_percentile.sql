-- Burstable billing (DESIGN.md, "Billing analytics"): the nearest-rank percentile of the
-- 5-minute average rates of a period, sent, received and both, for one host/interface or
-- all of them (their bytes added per bucket), and how many buckets passed a committed rate.
--
-- Buckets are the UTC 5-minute grid (every zone's offset is a multiple of 5 minutes, so a
-- calendar period holds whole buckets). A bucket's rate is its bytes / 300 s; the bucket that
-- holds `at` counts with what it has so far. Only measured buckets (those with samples in
-- the period) are ranked: an agent that was down adds no zeros. The 5-minute rollups serve
-- every whole bucket, so the figures stay exact after raw retention; a bucket cut by the
-- period's edge is summed by netstats.window_sums, as totals cut theirs. All hosts and
-- interfaces read the fleet series (host ''): one row a bucket, however many hosts there are.
CREATE FUNCTION public.netstats_percentile(
  period text DEFAULT 'cycle',
  tz text DEFAULT 'UTC',
  host text DEFAULT NULL,
  iface text DEFAULT NULL,
  at timestamptz DEFAULT now(),
  pct double precision DEFAULT 95,
  commit_bytes_per_s double precision DEFAULT NULL
)
RETURNS TABLE (
  period_start timestamptz, period_end timestamptz, bucket_s integer, buckets bigint,
  measured_buckets bigint, sent_bytes_per_s double precision, recv_bytes_per_s double precision,
  total_bytes_per_s double precision, above_commit bigint
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
  fraction constant double precision := netstats_percentile.pct / 100;
  commit_rate constant double precision := netstats_percentile.commit_bytes_per_s;
  fleet constant boolean := netstats_percentile.host IS NULL AND netstats_percentile.iface IS NULL;
  bounds record;
  upto timestamptz;
  p_start timestamptz;
  p_end timestamptz;
  lo timestamptz;
  n_buckets bigint := 0;
  first_whole timestamptz;
  last_bucket timestamptz;
  edge_los timestamptz[];
  edge_his timestamptz[];
BEGIN
  bounds := netstats.period_window(netstats_percentile.period, netstats_percentile.tz, netstats_percentile.at);
  p_start := bounds.period_start;
  p_end := bounds.period_end;
  lo := bounds.lo;
  upto := bounds.hi;
  IF netstats_percentile.pct IS NULL OR NOT (netstats_percentile.pct > 0 AND netstats_percentile.pct <= 100) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'pct: expected a percentile above 0 and at most 100, got %s',
      coalesce(netstats_percentile.pct::text, 'null'));
  END IF;
  IF commit_rate IS NOT NULL AND NOT (commit_rate >= 0 AND commit_rate < 'Infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'commit_bytes_per_s: expected a rate of at least 0 bytes per second, or null, got %s',
      commit_rate);
  END IF;
  IF netstats_percentile.period = 'all' THEN
    p_start := netstats.first_covered(upto, netstats_percentile.host, netstats_percentile.iface);
  END IF;

  IF p_start IS NOT NULL THEN  -- the 5-minute grid from the period's first bucket to at's
    n_buckets := greatest(0, extract(epoch FROM
      pg_catalog.date_bin('5 minutes', upto, '2000-01-01 00:00:00+00')
      - pg_catalog.date_bin('5 minutes', greatest(lo, p_start), '2000-01-01 00:00:00+00'))::bigint / 300 + 1);
  END IF;

  -- The 5-minute buckets wholly inside [lo, upto] are read as they are; the two the edges
  -- may cut (the one lo falls inside of, when lo is off the grid, and the one holding upto)
  -- are windows of their own for netstats.window_sums, which cuts buckets for every total.
  first_whole := CASE WHEN NOT pg_catalog.isfinite(lo) THEN lo
                      ELSE pg_catalog.date_bin('5 minutes', lo - interval '1 microsecond', '2000-01-01 00:00:00+00')
                           + interval '5 minutes' END;
  last_bucket := pg_catalog.date_bin('5 minutes', upto, '2000-01-01 00:00:00+00');
  edge_los := ARRAY[greatest(lo, last_bucket)];
  edge_his := ARRAY[upto];
  IF first_whole > lo AND first_whole - interval '5 minutes' < last_bucket THEN
    edge_los := edge_los || lo;
    edge_his := edge_his || (first_whole - interval '1 microsecond');
  END IF;

  RETURN QUERY
  WITH series AS (
    -- All hosts and interfaces: the fleet series, everyone's bytes added up by ingest.
    SELECT '' AS host, '' AS iface WHERE fleet
    UNION ALL
    (SELECT DISTINCT r.host, r.iface FROM netstats.rollups r
      WHERE NOT fleet AND r.tier = 4 AND r.host <> ''
        AND (netstats_percentile.host IS NULL OR r.host = netstats_percentile.host)
        AND (r.iface = netstats_percentile.iface
             OR netstats_percentile.iface IS NULL AND r.iface NOT LIKE 'service:%')
        AND r.last_at >= lo AND r.first_at <= upto)
  ),
  parts AS (
    -- One index range per series. Sums in double precision: exact below 2^53 bytes (9 PB)
    -- a bucket, and the rates are doubles anyway.
    SELECT f.bucket_start, f.bytes_sent::double precision AS sent,
           f.bytes_recv::double precision AS recv
      FROM series s
     CROSS JOIN LATERAL (
       SELECT f.bucket_start, f.bytes_sent, f.bytes_recv FROM netstats.rollups f
        WHERE f.tier = 0 AND f.host = s.host AND f.iface = s.iface
          AND f.bucket_start >= first_whole AND f.bucket_start < last_bucket
       OFFSET 0
     ) f
    UNION ALL
    SELECT pg_catalog.date_bin('5 minutes', e.lo, '2000-01-01 00:00:00+00'),
           w.bytes_sent::double precision, w.bytes_recv::double precision
      FROM pg_catalog.unnest(edge_los) WITH ORDINALITY AS e(lo, n)
      JOIN netstats.window_sums(
             edge_los, edge_his,
             pg_catalog.array_fill(CASE WHEN fleet THEN '' ELSE netstats_percentile.host END,
                                   ARRAY[pg_catalog.cardinality(edge_los)]),
             pg_catalog.array_fill(netstats_percentile.iface, ARRAY[pg_catalog.cardinality(edge_los)])
           ) w ON w.n = e.n
  ),
  rates AS (
    SELECT pg_catalog.sum(p.sent) / 300 AS sent, pg_catalog.sum(p.recv) / 300 AS recv,
           (pg_catalog.sum(p.sent) + pg_catalog.sum(p.recv)) / 300 AS total
      FROM parts p
     GROUP BY p.bucket_start
  )
  SELECT p_start, p_end, 300,
         n_buckets,
         pg_catalog.count(*),
         pg_catalog.percentile_disc(fraction) WITHIN GROUP (ORDER BY r.sent),
         pg_catalog.percentile_disc(fraction) WITHIN GROUP (ORDER BY r.recv),
         pg_catalog.percentile_disc(fraction) WITHIN GROUP (ORDER BY r.total),
         CASE WHEN commit_rate IS NOT NULL
              THEN pg_catalog.count(*) FILTER (WHERE greatest(r.sent, r.recv) > commit_rate) END
    FROM rates r;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_percentile(text, text, text, text, timestamptz, double precision, double precision)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_percentile(text, text, text, text, timestamptz, double precision, double precision)
  TO netstats_reader, service_role;
