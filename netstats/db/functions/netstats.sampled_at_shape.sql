-- The one shape sampled_at may have: RFC 3339 with seconds, an optional fraction and an
-- offset (Z or ±HH:MM). PostgreSQL alone would also take 24:00:00, a leap second folded onto
-- the next one, BC dates, time zone names and times without seconds or colons.
-- With `lines`, the pattern of several such timestamps, one per line: ingest checks a whole
-- batch with one match, five times cheaper than one match per sample (measured). IMMUTABLE,
-- so the planner folds a call into a constant.
CREATE FUNCTION netstats.sampled_at_shape(lines boolean DEFAULT false)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN lines THEN '^' || one || '(\n' || one || ')*$' ELSE '^' || one || '$' END
    FROM (SELECT '[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])'::text AS one) p
$$;
REVOKE ALL ON FUNCTION netstats.sampled_at_shape(boolean) FROM PUBLIC;
