-- Drops every daily partition of raw samples all of whose day is older than
-- settings.raw_retention: no row is deleted, so no dead tuple or vacuum follows. Partition
-- bounds are UTC midnights, so every rollup bucket keeps either all of its raw samples or
-- none. Rollups are kept for good. Then makes sure today and the next two days have their
-- partitions (ingest makes any other day it needs itself).
--
-- raw_purged_before moves to the start of what is kept: the older of the oldest partition
-- left and the midnight before now - raw_retention (no raw sample lies before either).
CREATE FUNCTION netstats.apply_retention()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  cutoff timestamptz;
  part record;
  deleted bigint := 0;
  n bigint;
  dropped text[] := '{}';
  kept_from timestamptz;
BEGIN
  -- The row lock makes two concurrent runs take turns.
  SELECT now() - raw_retention INTO cutoff FROM netstats.settings FOR UPDATE;
  FOR part IN
    SELECT b.rel, b.lo, b.hi FROM (
      SELECT c.oid::regclass AS rel,
             -- FOR VALUES FROM ('…') TO ('…'), printed in this function's zone, UTC;
             -- MINVALUE (the partition revision 0008 made of the table before it) is -infinity
             coalesce((pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                               'FROM \(''([^'']+)''\)'))[1]::timestamptz,
                      '-infinity') AS lo,
             (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                      'TO \(''([^'']+)''\)'))[1]::timestamptz AS hi
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'netstats.samples'::pg_catalog.regclass
    ) b
    ORDER BY b.hi
  LOOP
    IF part.hi <= cutoff THEN
      EXECUTE pg_catalog.format('SELECT count(*) FROM %s', part.rel) INTO n;
      dropped := dropped || part.rel::text;  -- named before it is gone
      EXECUTE pg_catalog.format('DROP TABLE %s', part.rel);
      deleted := deleted + n;
    ELSIF kept_from IS NULL THEN
      kept_from := part.lo;
    END IF;
  END LOOP;
  kept_from := least(kept_from, pg_catalog.date_bin('1 day', cutoff, '2000-01-01 00:00:00+00'));
  UPDATE netstats.settings SET raw_purged_before = greatest(raw_purged_before, kept_from)
  RETURNING raw_purged_before INTO kept_from;
  PERFORM netstats.add_partitions(ARRAY[now(), now() + interval '1 day', now() + interval '2 days']);
  RETURN pg_catalog.jsonb_build_object('deleted_samples', deleted, 'dropped_partitions',
                                       pg_catalog.to_jsonb(dropped), 'raw_kept_from', kept_from);
END
$$;
REVOKE ALL ON FUNCTION netstats.apply_retention() FROM PUBLIC, anon, authenticated, netstats_agent;
GRANT EXECUTE ON FUNCTION netstats.apply_retention() TO service_role;
