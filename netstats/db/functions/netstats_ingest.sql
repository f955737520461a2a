-- Stores a batch of samples and folds the new ones into every rollup tier, in one
-- transaction. Re-sent samples are counted as duplicates and change nothing. A batch with
-- any invalid element is refused whole (SQLSTATE 22023, naming the element and field).
CREATE FUNCTION public.netstats_ingest(samples jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ''
AS $$
#variable_conflict use_column
DECLARE
  max_batch constant int := 5000;
  fields constant text[] := '{host,iface,sampled_at,interval_s,bytes_sent,bytes_recv}';
  -- A date, a time, then Z or ±HH:MM (RFC 3339); the cast to timestamptz checks the rest.
  shape constant text := '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9:.]+([Zz]|[+-][0-9]{2}:[0-9]{2})$';
  n int;
  bad record;
  inserted int;
  notice jsonb;
BEGIN
  IF netstats_ingest.samples IS NULL OR pg_catalog.jsonb_typeof(netstats_ingest.samples) <> 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'samples: expected a JSON array of samples, got %s', coalesce(pg_catalog.jsonb_typeof(netstats_ingest.samples), 'null'));
  END IF;
  n := pg_catalog.jsonb_array_length(netstats_ingest.samples);
  IF n > max_batch THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'samples: expected at most %s samples per batch, got %s; send smaller batches', max_batch, n);
  END IF;
  IF n = 0 THEN
    RETURN '{"inserted": 0, "duplicates": 0}';
  END IF;

  -- One pass does the work; only a refused batch pays for finding out why.
  BEGIN
    WITH input AS (
      SELECT v ->> 'host' AS host, v ->> 'iface' AS iface,
             (v ->> 'sampled_at')::timestamptz AS sampled_at,
             (v ->> 'interval_s')::double precision AS interval_s,
             (v ->> 'bytes_sent')::bigint AS bytes_sent, (v ->> 'bytes_recv')::bigint AS bytes_recv
        FROM pg_catalog.jsonb_array_elements(netstats_ingest.samples) AS v
       -- What neither the casts above nor the table's NOT NULL and CHECK constraints catch;
       -- an element that fails here is explained below.
       WHERE pg_catalog.jsonb_typeof(v -> 'host') = 'string'
         AND pg_catalog.jsonb_typeof(v -> 'iface') = 'string'
         -- a date, a time, then Z or ±HH:MM (RFC 3339), by position: cheaper than the regex
         AND pg_catalog.substr(v ->> 'sampled_at', 11, 1) IN ('T', 't', ' ')
         AND (pg_catalog.right(v ->> 'sampled_at', 1) IN ('Z', 'z')
              OR pg_catalog.left(pg_catalog.right(v ->> 'sampled_at', 6), 1) IN ('+', '-'))
         AND pg_catalog.jsonb_typeof(v -> 'interval_s') = 'number'
         AND pg_catalog.jsonb_typeof(v -> 'bytes_sent') = 'number'
         AND pg_catalog.jsonb_typeof(v -> 'bytes_recv') = 'number'
         AND v - fields = '{}'
    ),
    fresh AS (
      INSERT INTO netstats.samples AS s (host, iface, sampled_at, interval_s, bytes_sent, bytes_recv)
      SELECT * FROM input
      ON CONFLICT (host, iface, sampled_at) DO NOTHING
      RETURNING s.*
    ),
    quarters AS (
      -- netstats.bucket_start(1, sampled_at), written out: a call per sample would cost more
      -- than the rest of the batch.
      SELECT 1::smallint AS tier, host, iface,
             pg_catalog.date_bin('15 minutes', sampled_at, '2000-01-01 00:00:00+00') AS bucket_start,
             pg_catalog.count(*) AS samples, pg_catalog.sum(bytes_sent) AS bytes_sent,
             pg_catalog.sum(bytes_recv) AS bytes_recv, pg_catalog.sum(interval_s) AS seconds,
             pg_catalog.min(sampled_at) AS first_at, pg_catalog.max(sampled_at) AS last_at,
             pg_catalog.min(sampled_at - interval_s * interval '1 second') AS covers_from,
             pg_catalog.max((bytes_sent + bytes_recv) / interval_s) AS peak_bytes_per_s
        FROM fresh
       GROUP BY host, iface, 4
    ),
    -- Coarser tiers are sums of this batch's quarter-hours, not of its samples again.
    buckets AS (
      SELECT * FROM quarters
      UNION ALL
      SELECT t.tier, q.host, q.iface, netstats.bucket_start(t.tier, q.bucket_start),
             pg_catalog.sum(q.samples), pg_catalog.sum(q.bytes_sent), pg_catalog.sum(q.bytes_recv),
             pg_catalog.sum(q.seconds), pg_catalog.min(q.first_at), pg_catalog.max(q.last_at),
             pg_catalog.min(q.covers_from), pg_catalog.max(q.peak_bytes_per_s)
        FROM quarters q
       CROSS JOIN (VALUES (2::smallint), (3::smallint), (4::smallint)) AS t(tier)
       GROUP BY t.tier, q.host, q.iface, 4
    ),
    merged AS (
      INSERT INTO netstats.rollups AS r
      SELECT tier, host, iface, bucket_start, samples, bytes_sent, bytes_recv, seconds,
             first_at, last_at, covers_from, peak_bytes_per_s
        FROM buckets
       ORDER BY tier, host, iface, bucket_start  -- one lock order for concurrent batches
      ON CONFLICT (tier, host, iface, bucket_start) DO UPDATE SET
        samples = r.samples + excluded.samples,
        bytes_sent = r.bytes_sent + excluded.bytes_sent,
        bytes_recv = r.bytes_recv + excluded.bytes_recv,
        seconds = r.seconds + excluded.seconds,
        first_at = least(r.first_at, excluded.first_at),
        last_at = greatest(r.last_at, excluded.last_at),
        covers_from = least(r.covers_from, excluded.covers_from),
        peak_bytes_per_s = greatest(r.peak_bytes_per_s, excluded.peak_bytes_per_s)
    )
    SELECT pg_catalog.count(*),
           pg_catalog.jsonb_build_object(
             'series', (SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object('host', q.host, 'iface', q.iface))
                          FROM quarters q),
             'last_sampled_at', (SELECT pg_catalog.max(q.last_at) FROM quarters q),
             'accepted', (SELECT pg_catalog.count(*) FROM input),
             'newest', (SELECT pg_catalog.max(sampled_at) FROM input))
      INTO inserted, notice
      FROM fresh;
    IF (notice ->> 'accepted')::int < n OR (notice ->> 'newest')::timestamptz > now() + interval '5 minutes' THEN
      RAISE EXCEPTION USING ERRCODE = '22023';  -- explained below
    END IF;
    notice := notice - '{accepted,newest}'::text[];
  EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
    -- Shape and range of every field, in the order a person would fix them.
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
        WHEN NOT v ? 'sampled_at' THEN '.sampled_at: missing; expected an ISO-8601 timestamp with an offset'
        WHEN pg_catalog.jsonb_typeof(v -> 'sampled_at') <> 'string'
          OR (v ->> 'sampled_at') !~ shape
          THEN pg_catalog.format(
          '.sampled_at: expected an RFC 3339 timestamp with an offset such as 2026-11-28T09:30:00+00:00 or …Z, got %s',
          v -> 'sampled_at')
        WHEN NOT v ? 'interval_s' THEN '.interval_s: missing; expected the seconds the sample covers'
        WHEN pg_catalog.jsonb_typeof(v -> 'interval_s') <> 'number'
          OR (v -> 'interval_s')::numeric <= 0 OR (v -> 'interval_s')::numeric > 86400 THEN pg_catalog.format(
          '.interval_s: expected a number of seconds > 0 and <= 86400, got %s', v -> 'interval_s')
        WHEN NOT v ? 'bytes_sent' THEN '.bytes_sent: missing; expected an integer >= 0'
        WHEN pg_catalog.jsonb_typeof(v -> 'bytes_sent') <> 'number'
          OR pg_catalog.scale((v -> 'bytes_sent')::numeric) > 0
          OR (v -> 'bytes_sent')::numeric NOT BETWEEN 0 AND 9223372036854775807 THEN pg_catalog.format(
          '.bytes_sent: expected an integer >= 0, got %s', v -> 'bytes_sent')
        WHEN NOT v ? 'bytes_recv' THEN '.bytes_recv: missing; expected an integer >= 0'
        WHEN pg_catalog.jsonb_typeof(v -> 'bytes_recv') <> 'number'
          OR pg_catalog.scale((v -> 'bytes_recv')::numeric) > 0
          OR (v -> 'bytes_recv')::numeric NOT BETWEEN 0 AND 9223372036854775807 THEN pg_catalog.format(
          '.bytes_recv: expected an integer >= 0, got %s', v -> 'bytes_recv')
        WHEN v - fields <> '{}' THEN pg_catalog.format(
          '.%s: unknown field; a sample has exactly %s',
          (SELECT k FROM pg_catalog.jsonb_object_keys(v) k WHERE k <> ALL (fields) ORDER BY k LIMIT 1),
          pg_catalog.array_to_string(fields, ', '))
      END AS problem
      FROM pg_catalog.jsonb_array_elements(netstats_ingest.samples) WITH ORDINALITY AS t(v, i)
    ) e
    WHERE e.problem IS NOT NULL
    ORDER BY e.i
    LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format('samples[%s]%s', bad.i, bad.problem);
    END IF;
    -- Timestamps that look right can still be impossible (2026-02-30) or in the future.
    FOR bad IN SELECT t.i - 1 AS i, t.v ->> 'sampled_at' AS val
                 FROM pg_catalog.jsonb_array_elements(netstats_ingest.samples) WITH ORDINALITY AS t(v, i)
                ORDER BY t.i
    LOOP
      BEGIN
        IF bad.val::timestamptz > now() + interval '5 minutes' THEN
          RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
            'samples[%s].sampled_at: %s is more than 5 minutes after the database clock (%s); check the agent''s clock',
            bad.i, bad.val, now());
        END IF;
      EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
          'samples[%s].sampled_at: "%s" is not a valid date and time', bad.i, bad.val);
      END;
    END LOOP;
    RAISE;
  END;

  IF inserted < n THEN
    -- A duplicate must be the same sample; the same key with other bytes would lose traffic.
    SELECT x.i - 1 AS i, x.v -> 'sampled_at' AS val INTO bad
      FROM pg_catalog.jsonb_array_elements(netstats_ingest.samples) WITH ORDINALITY AS x(v, i)
      JOIN netstats.samples s
        ON s.host = x.v ->> 'host' AND s.iface = x.v ->> 'iface'
       AND s.sampled_at = (x.v ->> 'sampled_at')::timestamptz
     WHERE (s.interval_s, s.bytes_sent, s.bytes_recv) IS DISTINCT FROM
           ((x.v ->> 'interval_s')::double precision, (x.v ->> 'bytes_sent')::bigint, (x.v ->> 'bytes_recv')::bigint)
     ORDER BY x.i LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'samples[%s].sampled_at: %s repeats the key of a stored sample with different interval_s or bytes; keys must be unique per host and interface',
        bad.i, bad.val);
    END IF;
  END IF;

  IF inserted > 0 THEN
    -- NOTIFY payloads are limited to 8000 bytes; past that, listeners re-read everything.
    IF pg_catalog.length(notice::text) > 7900 THEN
      notice := pg_catalog.jsonb_set(notice, '{series}', 'null');
    END IF;
    PERFORM pg_catalog.pg_notify('netstats_samples', notice::text);
  END IF;
  RETURN pg_catalog.jsonb_build_object('inserted', inserted, 'duplicates', n - inserted);
END
$$;
REVOKE ALL ON FUNCTION public.netstats_ingest(jsonb) FROM PUBLIC, anon, authenticated, service_role, netstats_agent;
GRANT EXECUTE ON FUNCTION public.netstats_ingest(jsonb) TO service_role, netstats_agent;
