-- Where the UTC rollup bucket of `tier` that starts at bucket_start ends (exclusive).
-- PL/pgSQL, not SQL: a SQL function with a pinned search_path is never inlined and starts
-- an executor on every call, which costs several times more.
CREATE FUNCTION netstats.bucket_end(tier smallint, bucket_start timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE tier
    WHEN 0 THEN bucket_start + interval '5 minutes'
    WHEN 1 THEN bucket_start + interval '15 minutes'
    WHEN 2 THEN bucket_start + interval '1 hour'
    WHEN 3 THEN bucket_start + interval '24 hours'
    WHEN 4 THEN pg_catalog.timezone('UTC', pg_catalog.timezone('UTC', bucket_start) + interval '1 month')
  END;
END
$$;
REVOKE ALL ON FUNCTION netstats.bucket_end(smallint, timestamptz) FROM PUBLIC;
