-- Creates the daily partition of netstats.samples (a UTC day: netstats.samples_YYYYMMDD,
-- [midnight, next midnight)) of each instant in `instants` that no partition holds yet;
-- returns how many it created. Ingest calls it for a batch that found a day without one,
-- retention for today and the next two days, so that ingest rarely has to.
--
-- Each partition is created on its own and then attached: attaching takes a SHARE UPDATE
-- EXCLUSIVE lock on netstats.samples, which no reader or writer waits for (CREATE TABLE ...
-- PARTITION OF would take an ACCESS EXCLUSIVE one). A transaction-level advisory lock makes
-- concurrent creators take turns; the second finds the day made and skips it.
CREATE FUNCTION netstats.add_partitions(instants timestamptz[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
DECLARE
  day timestamptz;
  name text;
  created integer := 0;
BEGIN
  FOR day IN SELECT DISTINCT pg_catalog.date_bin('1 day', i, '2000-01-01 00:00:00+00')
               FROM pg_catalog.unnest(instants) AS i
              WHERE pg_catalog.isfinite(i)
              ORDER BY 1
  LOOP
    name := 'samples_' || pg_catalog.to_char(day, 'YYYYMMDD');
    CONTINUE WHEN pg_catalog.to_regclass('netstats.' || name) IS NOT NULL;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('netstats.add_partitions'));
    CONTINUE WHEN pg_catalog.to_regclass('netstats.' || name) IS NOT NULL;
    BEGIN
      EXECUTE pg_catalog.format(
        'CREATE TABLE netstats.%I (LIKE netstats.samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
        name);
      EXECUTE pg_catalog.format('ALTER TABLE netstats.%I ENABLE ROW LEVEL SECURITY', name);
      EXECUTE pg_catalog.format(
        'REVOKE ALL ON netstats.%I FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader',
        name);
      EXECUTE pg_catalog.format(
        'ALTER TABLE netstats.samples ATTACH PARTITION netstats.%I FOR VALUES FROM (%L) TO (%L)',
        name, day, day + interval '1 day');
      created := created + 1;
    EXCEPTION
      WHEN invalid_object_definition THEN
        NULL;  -- the day lies in the partition revision 0008 made of the table before it
      WHEN duplicate_table THEN
        NULL;  -- made by a creator that held the lock first (this statement's view of the
               -- catalog can predate its commit)
    END;
  END LOOP;
  RETURN created;
END
$$;
REVOKE ALL ON FUNCTION netstats.add_partitions(timestamptz[]) FROM PUBLIC;
