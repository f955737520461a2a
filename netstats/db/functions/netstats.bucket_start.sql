-- The UTC bucket of a rollup tier that contains ts: 0 = 5 minutes, 1 = 15 minutes, 2 = hour,
-- 3 = day, 4 = month.
-- PL/pgSQL, not SQL: a SQL function with a pinned search_path is never inlined and starts
-- an executor on every call, which costs several times more.
CREATE FUNCTION netstats.bucket_start(tier smallint, ts timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE tier
    WHEN 0 THEN pg_catalog.date_bin('5 minutes', ts, '2000-01-01 00:00:00+00')
    WHEN 1 THEN pg_catalog.date_bin('15 minutes', ts, '2000-01-01 00:00:00+00')
    WHEN 2 THEN pg_catalog.date_bin('1 hour', ts, '2000-01-01 00:00:00+00')
    WHEN 3 THEN pg_catalog.date_bin('1 day', ts, '2000-01-01 00:00:00+00')
    WHEN 4 THEN pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', ts)))
  END;
END
$$;
REVOKE ALL ON FUNCTION netstats.bucket_start(smallint, timestamptz) FROM PUBLIC;
