-- Each host's last sample: the coarsest rollup tier has one row per series and year.
CREATE FUNCTION netstats.last_seen()
RETURNS TABLE (host text, last_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT r.host, max(r.last_at) FROM netstats.rollups r WHERE r.tier = 4 AND r.host <> ''
   GROUP BY r.host
$$;
REVOKE ALL ON FUNCTION netstats.last_seen() FROM PUBLIC;
