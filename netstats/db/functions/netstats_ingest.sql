-- Stores a batch of samples and folds the new ones into every rollup tier, in one
-- transaction. Re-sent samples are counted as duplicates and change nothing. A batch with
-- any invalid element is refused whole (SQLSTATE 22023, naming the element and field).
CREATE FUNCTION public.netstats_ingest(samples jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  max_batch constant int := 5000;
  n int;
  -- What is left to store: the whole batch, or after a unique violation the samples not
  -- stored yet.
  batch jsonb := netstats_ingest.samples;
  inserted int;
  newest timestamptz;
  series jsonb;
  bad record;
  partitioned boolean := false;  -- the batch's days were given partitions
  replanned boolean := false;  -- a plan the batch counted for was removed meanwhile
BEGIN
  IF batch IS NULL OR pg_catalog.jsonb_typeof(batch) <> 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'samples: expected a JSON array of samples, got %s', coalesce(pg_catalog.jsonb_typeof(batch), 'null'));
  END IF;
  n := pg_catalog.jsonb_array_length(batch);
  IF n > max_batch THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'samples: expected at most %s samples per batch, got %s; send smaller batches', max_batch, n);
  END IF;

  -- An agent login bound to host names (netstats.agent_hosts) writes for those hosts only.
  IF EXISTS (SELECT FROM netstats.agent_hosts a WHERE a.login = SESSION_USER) THEN
    SELECT x.i - 1 AS i, x.v -> 'host' AS val INTO bad
      FROM pg_catalog.jsonb_array_elements(batch) WITH ORDINALITY AS x(v, i)
     WHERE NOT EXISTS (SELECT FROM netstats.agent_hosts a
                        WHERE a.login = SESSION_USER AND a.host = x.v ->> 'host')
     ORDER BY x.i LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'samples[%s].host: the login %s may write samples only for %s, got %s',
        bad.i, SESSION_USER,
        (SELECT pg_catalog.string_agg(a.host, ', ' ORDER BY a.host) FROM netstats.agent_hosts a
          WHERE a.login = SESSION_USER),
        coalesce(bad.val::text, 'no host'));
    END IF;
  END IF;

  -- Every element well-formed (the six fields, of the right JSON types, sampled_at in RFC
  -- 3339), checked with one match over the whole batch as jsonb prints it. A batch that does
  -- not match is explained by netstats.check_samples; one it finds valid all the same (written
  -- in a way the pattern does not expect) is stored like any other.
  IF NOT batch::text ~ netstats.sampled_at_shape(true) THEN
    PERFORM netstats.check_samples(netstats_ingest.samples);
  END IF;

  -- One statement does the work. It inserts without ON CONFLICT, which measured a quarter of
  -- the whole call; a batch that repeats stored samples (an upload whose answer was lost)
  -- takes a second turn with only the samples not stored yet.
  LOOP
    BEGIN
      WITH fresh AS (
        INSERT INTO netstats.samples AS s (host, iface, sampled_at, interval_s, bytes_sent, bytes_recv)
        -- What the types and the table's NOT NULL and CHECK constraints refuse is explained by
        -- netstats.check_samples() below.
        SELECT x.host, x.iface, x.sampled_at, x.interval_s, x.bytes_sent, x.bytes_recv
          FROM pg_catalog.jsonb_to_recordset(batch) AS x(
                 host text, iface text, sampled_at timestamptz, interval_s double precision,
                 bytes_sent bigint, bytes_recv bigint)
         -- In the order sent: sorting here cost ~3% of a call, and the agent sends its
         -- batches sorted by host, interface and time, so two uploads that overlap lock their
         -- samples in one order. (Two batches sent at once with the same samples in opposite
         -- orders may deadlock: PostgreSQL refuses one, 40P01, having stored nothing of it.)
        RETURNING s.*
      ),
      fives AS (
        -- netstats.bucket_start(0, sampled_at), written out: a call per sample would cost more
        -- than the rest of the batch.
        SELECT 0::smallint AS tier, host, iface,
               pg_catalog.date_bin('5 minutes', sampled_at, '2000-01-01 00:00:00+00') AS bucket_start,
               pg_catalog.count(*) AS samples, pg_catalog.sum(bytes_sent) AS bytes_sent,
               pg_catalog.sum(bytes_recv) AS bytes_recv, pg_catalog.sum(interval_s) AS seconds,
               pg_catalog.min(sampled_at) AS first_at, pg_catalog.max(sampled_at) AS last_at,
               pg_catalog.min(sampled_at - interval_s * interval '1 second') AS covers_from,
               pg_catalog.max((bytes_sent + bytes_recv) / interval_s) AS peak_bytes_per_s
          FROM fresh
         GROUP BY host, iface, 4
      ),
      -- The fleet series (host and iface ''): every interface's series added up, so that
      -- totals over all hosts read one series, not each host's. Services' series (iface
      -- 'service:<name>', a part of some interface's traffic) have one of their own, host ''
      -- and iface 'service:'.
      everyone AS (
        SELECT * FROM fives
        UNION ALL
        SELECT 0::smallint, '', CASE WHEN f.iface LIKE 'service:%' THEN 'service:' ELSE '' END,
               f.bucket_start, pg_catalog.sum(f.samples),
               pg_catalog.sum(f.bytes_sent), pg_catalog.sum(f.bytes_recv), pg_catalog.sum(f.seconds),
               pg_catalog.min(f.first_at), pg_catalog.max(f.last_at), pg_catalog.min(f.covers_from),
               pg_catalog.max(f.peak_bytes_per_s)
          FROM fives f
         GROUP BY 3, f.bucket_start
      ),
      -- Coarser tiers are sums of this batch's 5-minute buckets, not of its samples again.
      -- netstats.bucket_start written out again: its calls cost ~4% of a batch of 500.
      coarse AS (
        SELECT t.tier, f.host, f.iface,
               CASE t.tier
                 WHEN 1 THEN pg_catalog.date_bin('15 minutes', f.bucket_start, '2000-01-01 00:00:00+00')
                 WHEN 2 THEN pg_catalog.date_bin('1 hour', f.bucket_start, '2000-01-01 00:00:00+00')
                 WHEN 3 THEN pg_catalog.date_bin('1 day', f.bucket_start, '2000-01-01 00:00:00+00')
                 ELSE pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', f.bucket_start)))
               END AS bucket_start,
               pg_catalog.sum(f.samples) AS samples, pg_catalog.sum(f.bytes_sent) AS bytes_sent,
               pg_catalog.sum(f.bytes_recv) AS bytes_recv, pg_catalog.sum(f.seconds) AS seconds,
               pg_catalog.min(f.first_at) AS first_at, pg_catalog.max(f.last_at) AS last_at,
               pg_catalog.min(f.covers_from) AS covers_from,
               pg_catalog.max(f.peak_bytes_per_s) AS peak_bytes_per_s
          FROM everyone f
         CROSS JOIN (VALUES (1::smallint), (2::smallint), (3::smallint), (4::smallint)) AS t(tier)
         GROUP BY t.tier, f.host, f.iface, 4
      ),
      -- Each tier merges into its partition of netstats.rollups by that partition's key (the
      -- parent has none: a key of its own would be a second index on every 5-minute row).
      merged_fives AS (
        INSERT INTO netstats.rollups_5m AS r
        SELECT tier, host, iface, bucket_start, samples, bytes_sent, bytes_recv, seconds,
               first_at, last_at, covers_from, peak_bytes_per_s
          FROM everyone
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
      ),
      merged AS (
        INSERT INTO netstats.rollups_coarse AS r
        SELECT tier, host, iface, bucket_start, samples, bytes_sent, bytes_recv, seconds,
               first_at, last_at, covers_from, peak_bytes_per_s
          FROM coarse
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
      ),
      -- Each listed-hosts plan's count of its cycles (netstats.plan_usage, read by
      -- netstats_plans): its patterns matched against the batch's few hosts, not each sample,
      -- and its cycles over the batch's span cut once (one, but for late samples or a cycle's
      -- turn). Runs after the rollups (unreferenced, in this order), its rows in key order:
      -- one lock order for concurrent batches.
      hit AS MATERIALIZED (
        SELECT q.name, q.anchor, q.every, q.unit, q.tz, q.iface, h.host
          FROM (SELECT DISTINCT f.host FROM fives f) h
          JOIN netstats.quotas q ON q.counted_from IS NOT NULL AND h.host LIKE ANY (q.patterns)
      ),
      cycles AS MATERIALIZED (
        WITH RECURSIVE span AS (
          SELECT pg_catalog.min(f.first_at) AS lo, pg_catalog.max(f.last_at) AS hi FROM fives f
        ),
        c AS (
          SELECT p.name, p.anchor, p.every, p.unit, p.tz, w.cycle_start, w.cycle_end
            FROM (SELECT DISTINCT ON (hit.name) hit.* FROM hit) p
           CROSS JOIN span
           CROSS JOIN LATERAL netstats.cycle_window(p.anchor, p.every, p.unit, p.tz, span.lo) w
          UNION ALL
          SELECT c.name, c.anchor, c.every, c.unit, c.tz, w.cycle_start, w.cycle_end
            FROM c CROSS JOIN span
           CROSS JOIN LATERAL netstats.cycle_window(c.anchor, c.every, c.unit, c.tz, c.cycle_end) w
           WHERE c.cycle_end <= span.hi
        )
        -- cut: a cycle's edge lies inside one of the batch's 5-minute buckets
        SELECT c.name, c.cycle_start, c.cycle_end,
               c.cycle_start > pg_catalog.date_bin('5 minutes', span.lo, '2000-01-01 00:00:00+00')
               OR c.cycle_end < pg_catalog.date_bin('5 minutes', span.hi, '2000-01-01 00:00:00+00')
                                + interval '5 minutes' AS cut
          FROM c CROSS JOIN span
      ),
      counted AS (
        INSERT INTO netstats.plan_usage AS u (plan, cycle_start, bytes_sent, bytes_recv)
        SELECT x.name, x.cycle_start, pg_catalog.sum(x.sent), pg_catalog.sum(x.recv)
          FROM (
            -- the batch's 5-minute buckets, whole where a cycle holds them whole (nearly always)
            SELECT c.name, c.cycle_start, f.bytes_sent AS sent, f.bytes_recv AS recv
              FROM hit
              JOIN cycles c ON c.name = hit.name
              JOIN fives f ON f.host = hit.host
                          AND (f.iface = hit.iface OR (hit.iface IS NULL AND f.iface NOT LIKE 'service:%'))
                          AND f.bucket_start >= c.cycle_start
                          AND f.bucket_start + interval '5 minutes' <= c.cycle_end
            UNION ALL
            -- and the samples of a bucket a cycle's edge cuts
            SELECT c.name, c.cycle_start, s.bytes_sent, s.bytes_recv
              FROM hit
              JOIN cycles c ON c.name = hit.name AND c.cut
              JOIN fresh s ON s.host = hit.host
                          AND (s.iface = hit.iface OR (hit.iface IS NULL AND s.iface NOT LIKE 'service:%'))
                          AND s.sampled_at >= c.cycle_start AND s.sampled_at < c.cycle_end
             WHERE pg_catalog.date_bin('5 minutes', s.sampled_at, '2000-01-01 00:00:00+00')
                     NOT BETWEEN c.cycle_start AND c.cycle_end - interval '5 minutes'
          ) x
         GROUP BY 1, 2
         ORDER BY 1, 2
        ON CONFLICT (plan, cycle_start) DO UPDATE SET
          bytes_sent = u.bytes_sent + excluded.bytes_sent,
          bytes_recv = u.bytes_recv + excluded.bytes_recv
      )
      SELECT coalesce(pg_catalog.sum(f.samples), 0), pg_catalog.max(f.last_at),
             pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object('host', f.host, 'iface', f.iface))
        INTO inserted, newest, series
        FROM fives f;
      IF newest > pg_catalog.now() + interval '5 minutes' THEN
        RAISE EXCEPTION USING ERRCODE = '22023';  -- explained below
      END IF;
      EXIT;
    EXCEPTION
      WHEN unique_violation THEN
        -- The next turn's batch is read with casts, so every element must be valid first.
        PERFORM netstats.check_samples(netstats_ingest.samples);
        SELECT coalesce(pg_catalog.jsonb_agg(x.v ORDER BY x.i), '[]') INTO batch
          FROM (SELECT DISTINCT ON (v ->> 'host', v ->> 'iface', (v ->> 'sampled_at')::timestamptz) t.v, t.i
                  FROM pg_catalog.jsonb_array_elements(netstats_ingest.samples) WITH ORDINALITY AS t(v, i)
                 ORDER BY v ->> 'host', v ->> 'iface', (v ->> 'sampled_at')::timestamptz, t.i) x
         WHERE NOT EXISTS (SELECT FROM netstats.samples s
                            WHERE s.host = x.v ->> 'host' AND s.iface = x.v ->> 'iface'
                              AND s.sampled_at = (x.v ->> 'sampled_at')::timestamptz);
      WHEN data_exception OR integrity_constraint_violation THEN
        PERFORM netstats.check_samples(netstats_ingest.samples);
        -- Every sample is valid: a check violation is a day with no partition yet (23514
        -- too), made here (or by a concurrent batch) and the batch stored again, once.
        -- Costs nothing while partitions exist.
        IF SQLSTATE = '23503' AND NOT replanned THEN
          -- A plan removed while this batch counted for it (netstats.plan_usage): the next
          -- turn no longer sees it.
          replanned := true;
          CONTINUE;
        END IF;
        IF SQLSTATE = '23514' AND NOT partitioned THEN
          PERFORM netstats.add_partitions(ARRAY(
            SELECT x.sampled_at FROM pg_catalog.jsonb_to_recordset(batch) AS x(sampled_at timestamptz)));
          partitioned := true;
          CONTINUE;
        END IF;
        IF SQLSTATE = '23514' THEN
          -- The day's partition exists (a concurrent batch attached it while this one ran),
          -- yet now and then this transaction keeps failing to route rows to it: measured
          -- under load, turns 10 to 40 ms apart failed alike, a new transaction never did.
          -- So the batch is handed back as a serialization failure, to be sent again.
          RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE =
            'samples: a concurrent batch has just added a day this batch needs; nothing was stored, send the batch again';
        END IF;
        IF SQLSTATE = '22003' THEN
          -- Every sample is valid, yet a rollup's sum would pass 9.2 EB: only samples whose
          -- intervals overlap, thousands of times, get there.
          RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE =
            'samples: storing this batch would make a month''s bytes of one interface exceed 9.2 EB; its samples'' intervals must overlap many times over';
        END IF;
        RAISE;
    END;
  END LOOP;

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
    -- The dashboard listens; NOTIFY payloads are limited to 8000 bytes, and past that
    -- listeners re-read everything.
    IF pg_catalog.length(series::text) > 7800 THEN
      series := 'null';
    END IF;
    PERFORM pg_catalog.pg_notify('netstats_samples', pg_catalog.jsonb_build_object(
      'series', series, 'last_sampled_at', newest)::text);
  END IF;
  RETURN pg_catalog.jsonb_build_object('inserted', inserted, 'duplicates', n - inserted);
END
$$;
REVOKE ALL ON FUNCTION public.netstats_ingest(jsonb) FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_ingest(jsonb) TO service_role, netstats_agent;
