-- Where the traffic went (DESIGN.md, "Billing analytics"): up to `n` days or hours (local,
-- in tz), hosts or interfaces of a period, largest total first; only those with samples.
-- Keys: '2026-03-08' for a day, '2026-03-08T01:00-05:00' for an hour (the offset tells the
-- two 01:00s of a DST change apart), the host name, 'host/iface'. bucket_start is the day's
-- or hour's start, null for hosts and interfaces. Days and hours are summed by one tier walk
-- (netstats.bucket_sums; of the fleet series over all hosts), hosts and interfaces of every
-- host by netstats.series_sums, of one host by netstats.window_sums' walk: exact at any
-- zone's edges.
CREATE FUNCTION public.netstats_top(
  period text DEFAULT 'month',
  tz text DEFAULT 'UTC',
  by text DEFAULT 'day',
  n integer DEFAULT 10,
  host text DEFAULT NULL,
  iface text DEFAULT NULL,
  at timestamptz DEFAULT now()
)
RETURNS TABLE (
  key text, bucket_start timestamptz, bytes_sent numeric, bytes_recv numeric, bytes_total numeric
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
#variable_conflict use_column
DECLARE
  max_buckets constant integer := 10000;
  bounds record;
  upto timestamptz;
  p_start timestamptz;
  lo timestamptz;
  starts timestamptz[];
BEGIN
  bounds := netstats.period_window(netstats_top.period, netstats_top.tz, netstats_top.at);
  p_start := bounds.period_start;
  lo := bounds.lo;
  upto := bounds.hi;
  IF netstats_top.by IS NULL OR netstats_top.by NOT IN ('day', 'hour', 'host', 'iface') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'by: unknown grouping %s; expected one of day, hour, host, iface',
      coalesce(pg_catalog.quote_literal(netstats_top.by), 'null'));
  END IF;
  IF netstats_top.n IS NULL OR netstats_top.n NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'n: expected 1 to 1000 rows, got %s', coalesce(netstats_top.n::text, 'null'));
  END IF;

  IF netstats_top.by IN ('host', 'iface') THEN
    RETURN QUERY
    SELECT CASE netstats_top.by WHEN 'host' THEN w.host ELSE w.host || '/' || w.iface END,
           NULL::timestamptz, pg_catalog.sum(w.bytes_sent), pg_catalog.sum(w.bytes_recv),
           pg_catalog.sum(w.bytes_sent) + pg_catalog.sum(w.bytes_recv)
      FROM (SELECT s.host, s.iface, s.bytes_sent, s.bytes_recv
              FROM netstats.series_sums(lo, upto, netstats_top.iface) s
             WHERE netstats_top.host IS NULL
            UNION ALL
            SELECT s.host, s.iface, s.bytes_sent, s.bytes_recv
              FROM netstats.window_sums(ARRAY[lo], ARRAY[upto], ARRAY[netstats_top.host],
                                        ARRAY[netstats_top.iface]) s
             WHERE netstats_top.host IS NOT NULL) w
     GROUP BY 1
     ORDER BY 5 DESC, 1
     LIMIT netstats_top.n;
    RETURN;
  END IF;

  -- Local days or hours from the first one the period touches: generate_series and
  -- date_trunc follow tz's wall clock from here on (a DST day has 23 or 25 hours).
  PERFORM pg_catalog.set_config('timezone', netstats_top.tz, true);
  IF netstats_top.period = 'all' THEN
    p_start := netstats.first_covered(upto, netstats_top.host, netstats_top.iface);
  END IF;
  starts := ARRAY(SELECT b FROM pg_catalog.generate_series(
                    pg_catalog.date_trunc(netstats_top.by, p_start), upto,
                    CASE netstats_top.by WHEN 'day' THEN interval '1 day' ELSE interval '1 hour' END) b
                  LIMIT max_buckets + 1);
  IF pg_catalog.cardinality(starts) > max_buckets THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'by: %s makes more than %s buckets in period %s; choose a shorter period or by day',
      netstats_top.by, max_buckets, netstats_top.period);
  END IF;
  IF pg_catalog.cardinality(starts) = 0 THEN  -- nothing measured up to at
    RETURN;
  END IF;
  RETURN QUERY
  SELECT pg_catalog.to_char(starts[b.k], CASE netstats_top.by WHEN 'day' THEN 'YYYY-MM-DD'
                                                             ELSE 'YYYY-MM-DD"T"HH24:MITZH:TZM' END),
         starts[b.k], b.bytes_sent, b.bytes_recv, b.bytes_sent + b.bytes_recv
    FROM netstats.bucket_sums(lo, upto + interval '1 microsecond', starts,
                              -- all hosts and interfaces: the fleet series
                              CASE WHEN netstats_top.host IS NULL AND netstats_top.iface IS NULL
                                   THEN '' ELSE netstats_top.host END,
                              netstats_top.iface) b
   ORDER BY 5 DESC, 2
   LIMIT netstats_top.n;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_top(text, text, text, integer, text, text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_top(text, text, text, integer, text, text, timestamptz)
  TO netstats_reader, service_role;
