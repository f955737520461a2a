-- The one shape sampled_at may have: RFC 3339 with seconds, an optional fraction and an
-- offset (Z or ±HH:MM). PostgreSQL alone would also take 24:00:00, a leap second folded onto
-- the next one, BC dates, time zone names and times without seconds or colons.
-- With `batch`, the pattern of a whole well-formed batch as jsonb prints it (keys shortest
-- first, then in byte order; ", " and ": " between): objects with exactly the six fields,
-- strings and numbers where they belong, bytes without a fraction. Ingest checks a batch with
-- one match, not six checks per sample (measured: the checks were a tenth of a batch of 500);
-- ranges are the table's constraints. IMMUTABLE, so the planner folds a call into a constant.
-- A string is "[^"\\]*(\\.[^"\\]*)*": the strings of "([^"\\]|\\.)*", matched in a fifth of the time.
CREATE FUNCTION netstats.sampled_at_shape(batch boolean DEFAULT false)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN batch THEN '^\[(' || sample || '(, ' || sample || ')*)?\]$' ELSE '^' || one || '$' END
    FROM (SELECT '[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])'::text AS one) p
   CROSS JOIN LATERAL (SELECT '"[^"\\]*(\\.[^"\\]*)*"'::text AS string) q
   CROSS JOIN LATERAL (
     SELECT '\{"host": ' || string || ', "iface": ' || string
            || ', "bytes_recv": -?[0-9]+, "bytes_sent": -?[0-9]+, "interval_s": -?[0-9]+(\.[0-9]+)?, "sampled_at": "'
            || one || '"\}' AS sample) r
$$;
REVOKE ALL ON FUNCTION netstats.sampled_at_shape(boolean) FROM PUBLIC;
