-- Where the UTC rollup bucket of `tier` that starts at bucket_start ends (exclusive).
CREATE FUNCTION netstats.bucket_end(tier smallint, bucket_start timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = ''
AS $$
  SELECT CASE tier
    WHEN 1 THEN bucket_start + interval '15 minutes'
    WHEN 2 THEN bucket_start + interval '1 hour'
    WHEN 3 THEN bucket_start + interval '24 hours'
    WHEN 4 THEN pg_catalog.timezone('UTC', pg_catalog.timezone('UTC', bucket_start) + interval '1 month')
  END
$$;
REVOKE ALL ON FUNCTION netstats.bucket_end(smallint, timestamptz) FROM PUBLIC;
