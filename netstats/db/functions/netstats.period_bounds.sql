-- Where a period (DESIGN.md "Periods") that contains `at` starts and ends in tz's wall clock:
-- a DST day has 23 or 25 hours. Rolling windows end at `at`; 'all' has no start (null).
-- The one place periods are cut: netstats_totals and netstats_quotas both ask here. `tz` must
-- have passed netstats.check_zone (a quota's zone did when it was set).
CREATE FUNCTION netstats.period_bounds(
  period text, tz text, at timestamptz,
  OUT period_start timestamptz, OUT period_end timestamptz
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
BEGIN
  -- date_trunc and interval arithmetic below follow tz's wall clock (until this returns).
  PERFORM pg_catalog.set_config('timezone', tz, true);
  CASE period
    WHEN 'today' THEN period_start := pg_catalog.date_trunc('day', at);   period_end := period_start + interval '1 day';
    WHEN 'week'  THEN period_start := pg_catalog.date_trunc('week', at);  period_end := period_start + interval '7 days';
    WHEN 'month' THEN period_start := pg_catalog.date_trunc('month', at); period_end := period_start + interval '1 month';
    WHEN 'year'  THEN period_start := pg_catalog.date_trunc('year', at);  period_end := period_start + interval '1 year';
    WHEN 'cycle' THEN
      SELECT pg_catalog.date_trunc('month', at) + (s.cycle_day - 1) * interval '1 day'
        INTO period_start FROM netstats.settings s;
      IF period_start > at THEN
        period_start := period_start - interval '1 month';  -- cycle_day <= 28 exists in every month
      END IF;
      period_end := period_start + interval '1 month';
    WHEN '24h' THEN period_start := at - interval '24 hours';  period_end := at;
    WHEN '7d'  THEN period_start := at - interval '168 hours'; period_end := at;
    WHEN '30d' THEN period_start := at - interval '720 hours'; period_end := at;
    WHEN 'all' THEN period_end := at;
    ELSE
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'period: unknown period %s; expected one of today, week, month, year, cycle, 24h, 7d, 30d, all',
        coalesce(pg_catalog.quote_literal(period), 'null'));
  END CASE;
END
$$;
REVOKE ALL ON FUNCTION netstats.period_bounds(text, text, timestamptz) FROM PUBLIC;
