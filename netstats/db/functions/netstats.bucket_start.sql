-- The UTC bucket of a rollup tier that contains ts: 1 = 15 minutes, 2 = hour, 3 = day, 4 = month.
CREATE FUNCTION netstats.bucket_start(tier smallint, ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = ''
AS $$
  SELECT CASE tier
    WHEN 1 THEN pg_catalog.date_bin('15 minutes', ts, '2000-01-01 00:00:00+00')
    WHEN 2 THEN pg_catalog.date_bin('1 hour', ts, '2000-01-01 00:00:00+00')
    WHEN 3 THEN pg_catalog.date_bin('1 day', ts, '2000-01-01 00:00:00+00')
    WHEN 4 THEN pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', ts)))
  END
$$;
REVOKE ALL ON FUNCTION netstats.bucket_start(smallint, timestamptz) FROM PUBLIC;
