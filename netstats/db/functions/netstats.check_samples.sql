-- Explains why netstats_ingest() refuses a batch: raises SQLSTATE 22023 naming the first
-- invalid element and its field, in the order a person would fix them. Returns quietly when
-- every element is valid. Only refused (or partly re-sent) batches pay for this.
CREATE FUNCTION netstats.check_samples(samples jsonb)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  fields constant text[] := '{host,iface,sampled_at,interval_s,bytes_sent,bytes_recv}';
  -- 1 Tbit/s: no link a host has moves more (the samples_plausible constraint).
  max_bytes_per_s constant numeric := 125000000000;
  bad record;
  stamp timestamptz;
BEGIN
  SELECT e.i, e.problem INTO bad FROM (
    SELECT t.i - 1 AS i, CASE
      WHEN pg_catalog.jsonb_typeof(v) <> 'object' THEN pg_catalog.format(
        ': expected an object with %s, got %s', pg_catalog.array_to_string(fields, ', '), v)
      WHEN NOT v ? 'host' THEN '.host: missing; expected the host name as a string'
      WHEN pg_catalog.jsonb_typeof(v -> 'host') <> 'string'
        OR pg_catalog.length(v ->> 'host') NOT BETWEEN 1 AND 255 THEN pg_catalog.format(
        '.host: expected a string of 1 to 255 characters, got %s', v -> 'host')
      WHEN NOT v ? 'iface' THEN '.iface: missing; expected the interface name as a string'
      WHEN pg_catalog.jsonb_typeof(v -> 'iface') <> 'string'
        OR pg_catalog.length(v ->> 'iface') NOT BETWEEN 1 AND 255 THEN pg_catalog.format(
        '.iface: expected a string of 1 to 255 characters, got %s', v -> 'iface')
      WHEN NOT v ? 'sampled_at' THEN '.sampled_at: missing; expected an RFC 3339 timestamp with seconds and an offset'
      WHEN pg_catalog.jsonb_typeof(v -> 'sampled_at') <> 'string'
        OR (v ->> 'sampled_at') !~ netstats.sampled_at_shape()
        THEN pg_catalog.format(
        '.sampled_at: expected an RFC 3339 timestamp with seconds and an offset such as 2026-11-28T09:30:00+00:00 or …Z, got %s',
        v -> 'sampled_at')
      WHEN NOT v ? 'interval_s' THEN '.interval_s: missing; expected the seconds the sample covers'
      WHEN pg_catalog.jsonb_typeof(v -> 'interval_s') <> 'number'
        OR (v -> 'interval_s')::numeric < 0.000001 OR (v -> 'interval_s')::numeric > 86400 THEN pg_catalog.format(
        '.interval_s: expected a number of seconds from 0.000001 to 86400, got %s', v -> 'interval_s')
      WHEN NOT v ? 'bytes_sent' THEN '.bytes_sent: missing; expected an integer >= 0'
      WHEN pg_catalog.jsonb_typeof(v -> 'bytes_sent') <> 'number'
        OR pg_catalog.scale((v -> 'bytes_sent')::numeric) > 0
        OR (v -> 'bytes_sent')::numeric < 0 THEN pg_catalog.format(
        '.bytes_sent: expected an integer >= 0, got %s', v -> 'bytes_sent')
      WHEN (v -> 'bytes_sent')::numeric > max_bytes_per_s * greatest((v -> 'interval_s')::numeric, 60) THEN pg_catalog.format(
        '.bytes_sent: %s bytes in %s s is more than a 1 Tbit/s link carries; expected at most %s',
        v -> 'bytes_sent', v -> 'interval_s', (max_bytes_per_s * greatest((v -> 'interval_s')::numeric, 60))::bigint)
      WHEN NOT v ? 'bytes_recv' THEN '.bytes_recv: missing; expected an integer >= 0'
      WHEN pg_catalog.jsonb_typeof(v -> 'bytes_recv') <> 'number'
        OR pg_catalog.scale((v -> 'bytes_recv')::numeric) > 0
        OR (v -> 'bytes_recv')::numeric < 0 THEN pg_catalog.format(
        '.bytes_recv: expected an integer >= 0, got %s', v -> 'bytes_recv')
      WHEN (v -> 'bytes_recv')::numeric > max_bytes_per_s * greatest((v -> 'interval_s')::numeric, 60) THEN pg_catalog.format(
        '.bytes_recv: %s bytes in %s s is more than a 1 Tbit/s link carries; expected at most %s',
        v -> 'bytes_recv', v -> 'interval_s', (max_bytes_per_s * greatest((v -> 'interval_s')::numeric, 60))::bigint)
      WHEN v - fields <> '{}' THEN pg_catalog.format(
        '.%s: unknown field; a sample has exactly %s',
        (SELECT k FROM pg_catalog.jsonb_object_keys(v) k WHERE k <> ALL (fields) ORDER BY k LIMIT 1),
        pg_catalog.array_to_string(fields, ', '))
    END AS problem
    FROM pg_catalog.jsonb_array_elements(check_samples.samples) WITH ORDINALITY AS t(v, i)
  ) e
  WHERE e.problem IS NOT NULL
  ORDER BY e.i
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('samples[%s]%s', bad.i, bad.problem);
  END IF;
  -- Timestamps that look right can still be impossible (2026-02-30, an offset of +20:00),
  -- too old or in the future.
  FOR bad IN SELECT t.i - 1 AS i, t.v ->> 'sampled_at' AS val
               FROM pg_catalog.jsonb_array_elements(check_samples.samples) WITH ORDINALITY AS t(v, i)
              ORDER BY t.i
  LOOP
    BEGIN
      stamp := bad.val::timestamptz;
    EXCEPTION WHEN data_exception THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'samples[%s].sampled_at: "%s" is not a valid date and time', bad.i, bad.val);
    END;
    IF stamp < '1970-01-01 00:00:00+00' THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'samples[%s].sampled_at: %s is before 1970; expected the time the sample was taken',
        bad.i, bad.val);
    END IF;
    IF stamp > pg_catalog.now() + interval '5 minutes' THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'samples[%s].sampled_at: %s is more than 5 minutes after the database clock (%s); check the agent''s clock',
        bad.i, bad.val, pg_catalog.now());
    END IF;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION netstats.check_samples(jsonb) FROM PUBLIC;
