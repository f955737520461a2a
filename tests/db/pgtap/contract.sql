-- The SQL contract of DESIGN.md, checked in the database's own test language (pgTAP).
SELECT plan(36);

SELECT has_schema('netstats');
-- (the daily partitions of samples are tables too: the set is of the tables that are none)
SELECT set_eq($$SELECT relname::text FROM pg_class
                WHERE relnamespace = 'netstats'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition$$,
              ARRAY['samples', 'rollups', 'settings', 'function_files', 'agent_hosts', 'alembic_version', 'quotas', 'alerts',
                    'plan_adjustments', 'plan_usage', 'digests', 'status_messages'],
              'netstats holds these tables, and partitions of samples');
SELECT col_type_is('netstats', 'samples', 'sampled_at', 'timestamp with time zone', 'samples.sampled_at is timestamp with time zone');
SELECT col_type_is('netstats', 'samples', 'interval_s', 'double precision', 'samples.interval_s is double precision');
SELECT col_type_is('netstats', 'samples', 'bytes_sent', 'bigint', 'samples.bytes_sent is bigint');
SELECT col_type_is('netstats', 'samples', 'bytes_recv', 'bigint', 'samples.bytes_recv is bigint');
SELECT col_is_pk('netstats', 'samples', ARRAY['host', 'iface', 'sampled_at'], 'samples are unique on (host, iface, sampled_at)');

SELECT has_function('public', 'netstats_ingest', ARRAY['jsonb']);
SELECT has_function('public', 'netstats_totals', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone']);
SELECT has_function('public', 'netstats_series', ARRAY['timestamp with time zone', 'timestamp with time zone', 'interval', 'text', 'text', 'text']);
SELECT has_function('public', 'netstats_hosts', ARRAY[]::text[]);
SELECT has_function('netstats', 'apply_retention', ARRAY[]::text[]);
SELECT is_definer('public', 'netstats_totals', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone']);
SELECT is_definer('public', 'netstats_ingest', ARRAY['jsonb']);

SELECT function_privs_are('public', 'netstats_ingest', ARRAY['jsonb'], 'anon', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_ingest', ARRAY['jsonb'], 'authenticated', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_ingest', ARRAY['jsonb'], 'netstats_agent', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'netstats_ingest', ARRAY['jsonb'], 'service_role', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'netstats_totals', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone'], 'anon', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_totals', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone'], 'authenticated', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_totals', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone'], 'netstats_reader', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'netstats_totals', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone'], 'netstats_agent', ARRAY[]::text[]);
SELECT table_privs_are('netstats', 'samples', 'anon', ARRAY[]::text[]);
SELECT table_privs_are('netstats', 'samples', 'authenticated', ARRAY[]::text[]);
SELECT table_privs_are('netstats', 'samples', 'netstats_agent', ARRAY[]::text[]);
-- Quotas and alerts: the readers see progress; only service_role sets quotas and delivers.
SELECT has_function('public', 'netstats_quota_set', ARRAY['text', 'bigint', 'text', 'text', 'text', 'text', 'integer[]', 'text']);
SELECT has_function('public', 'netstats_alerts_claim', ARRAY['integer', 'timestamp with time zone']);
SELECT function_privs_are('public', 'netstats_quotas', ARRAY['text', 'timestamp with time zone'], 'netstats_reader', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'netstats_quotas', ARRAY['text', 'timestamp with time zone'], 'anon', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_quota_set', ARRAY['text', 'bigint', 'text', 'text', 'text', 'text', 'integer[]', 'text'], 'netstats_reader', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_quota_set', ARRAY['text', 'bigint', 'text', 'text', 'text', 'text', 'integer[]', 'text'], 'service_role', ARRAY['EXECUTE']);
SELECT function_privs_are('public', 'netstats_alerts_claim', ARRAY['integer', 'timestamp with time zone'], 'netstats_agent', ARRAY[]::text[]);
SELECT function_privs_are('public', 'netstats_alerts_done', ARRAY['bigint[]', 'text'], 'netstats_reader', ARRAY[]::text[]);
SELECT table_privs_are('netstats', 'alerts', 'authenticated', ARRAY[]::text[]);
SELECT is((SELECT rolbypassrls FROM pg_roles WHERE rolname = 'service_role'), true, 'service_role bypasses RLS');

-- SECURITY DEFINER functions run as their owner: a caller's pg_temp must be searched last.
SELECT is_empty($$
  SELECT p.oid::regprocedure FROM pg_proc p
   WHERE (p.pronamespace = 'netstats'::regnamespace
          OR (p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'netstats\_%'))
     AND NOT coalesce(p.proconfig, '{}') @> '{"search_path=pg_catalog, pg_temp"}'
$$, 'every function sets search_path = pg_catalog, pg_temp');

SELECT * FROM finish();
