-- Deletes raw samples older than settings.raw_retention, cut on a 15-minute boundary so that
-- every rollup bucket keeps either all of its raw samples or none. Rollups are kept for good.
CREATE FUNCTION netstats.apply_retention()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cutoff timestamptz;
  deleted bigint;
BEGIN
  -- The row lock makes two concurrent runs take turns.
  SELECT pg_catalog.date_bin('15 minutes', now() - raw_retention, '2000-01-01 00:00:00+00')
    INTO cutoff FROM netstats.settings FOR UPDATE;
  -- One index range per series instead of a scan of the whole table.
  DELETE FROM netstats.samples s
   USING (SELECT DISTINCT host, iface FROM netstats.rollups WHERE tier = 4 AND host <> '') series
   WHERE s.host = series.host AND s.iface = series.iface AND s.sampled_at < cutoff;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  UPDATE netstats.settings SET raw_purged_before = greatest(raw_purged_before, cutoff);
  RETURN pg_catalog.jsonb_build_object('deleted_samples', deleted, 'raw_kept_from', cutoff);
END
$$;
REVOKE ALL ON FUNCTION netstats.apply_retention() FROM PUBLIC, anon, authenticated, netstats_agent;
GRANT EXECUTE ON FUNCTION netstats.apply_retention() TO service_role;
