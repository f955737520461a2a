-- Where pg_cron is installed in this database, raises alerts every minute (so that none
-- waits for a deliverer's claim), runs retention daily and keeps 7 days of
-- pg_cron's run log of netstats' own jobs (other applications' history is theirs). Scheduling by name replaces an existing job, so calling it again is a
-- no-op. Without pg_cron, `netstats maintain` runs netstats.apply_retention() instead.
CREATE FUNCTION netstats.schedule_jobs()
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
    RETURN 'pg_cron is not installed here: run `netstats maintain` daily for retention';
  END IF;
  EXECUTE $sql$SELECT cron.schedule('netstats-retention', '17 3 * * *',
                                    'SELECT netstats.apply_retention()')$sql$;
  EXECUTE $sql$SELECT cron.schedule('netstats-purge-cron-log', '27 3 * * *',
                 $job$DELETE FROM cron.job_run_details
                       WHERE end_time < now() - interval '7 days'
                         AND jobid IN (SELECT jobid FROM cron.job WHERE jobname LIKE 'netstats-%')$job$)$sql$;
  EXECUTE $sql$SELECT cron.schedule('netstats-alerts', '* * * * *',
                                    'SELECT netstats.raise_alerts()')$sql$;
  RETURN 'pg_cron jobs netstats-alerts, netstats-retention and netstats-purge-cron-log are scheduled';
END
$$;
REVOKE ALL ON FUNCTION netstats.schedule_jobs() FROM PUBLIC;
