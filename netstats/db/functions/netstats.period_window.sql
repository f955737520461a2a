-- The window a reader sums (DESIGN.md "Periods"): the one place a period's name is known,
-- its bounds cut, and `at` and the zone checked.
--
-- period_start, period_end: the calendar period in tz's wall clock that contains `at` (a DST
-- day has 23 or 25 hours), or the rolling window that ends at it; 'all' has no start here
-- (null): it starts where its first counted sample's interval began, which the reader
-- knows once it has summed them (netstats_totals), or asks netstats.first_covered for.
-- lo, hi: the first and last instants whose samples count. Calendar periods include their
-- start, rolling windows exclude theirs (timestamptz resolution is one microsecond); every
-- window ends at `at` (default now). calendar: whether the period is one of the calendar's
-- (those are projected). zone_checked: tz passed netstats.check_zone already (a quota's did
-- when it was set; checking it again costs a subtransaction, ~60 us, per call).
CREATE FUNCTION netstats.period_window(
  period text, tz text, at timestamptz, zone_checked boolean DEFAULT false,
  OUT period_start timestamptz, OUT period_end timestamptz,
  OUT lo timestamptz, OUT hi timestamptz, OUT calendar boolean
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET timezone = 'UTC'
AS $$
BEGIN
  hi := coalesce(at, now());
  IF NOT pg_catalog.isfinite(hi) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'at: expected a finite timestamp, got %s', hi);
  END IF;
  -- date_trunc and interval arithmetic below follow tz's wall clock (until this returns).
  IF NOT zone_checked THEN
    PERFORM netstats.check_zone(tz);
  END IF;
  PERFORM pg_catalog.set_config('timezone', tz, true);
  calendar := period IN ('today', 'week', 'month', 'year', 'cycle');
  CASE period
    WHEN 'today' THEN period_start := pg_catalog.date_trunc('day', hi);   period_end := period_start + interval '1 day';
    WHEN 'week'  THEN period_start := pg_catalog.date_trunc('week', hi);  period_end := period_start + interval '7 days';
    WHEN 'month' THEN period_start := pg_catalog.date_trunc('month', hi); period_end := period_start + interval '1 month';
    WHEN 'year'  THEN period_start := pg_catalog.date_trunc('year', hi);  period_end := period_start + interval '1 year';
    WHEN 'cycle' THEN  -- monthly from the settings' cycle day, at local midnight
      SELECT w.cycle_start, w.cycle_end INTO period_start, period_end
        FROM netstats.settings s,
             netstats.cycle_window(timestamp '2000-01-01' + (s.cycle_day - 1) * interval '1 day',
                                   1, 'month', tz, hi) w;
    WHEN '24h' THEN period_start := hi - interval '24 hours';  period_end := hi;
    WHEN '7d'  THEN period_start := hi - interval '168 hours'; period_end := hi;
    WHEN '30d' THEN period_start := hi - interval '720 hours'; period_end := hi;
    WHEN 'all' THEN period_end := hi;
    ELSE
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
        'period: unknown period %s; expected one of today, week, month, year, cycle, 24h, 7d, 30d, all',
        coalesce(pg_catalog.quote_literal(period), 'null'));
  END CASE;
  lo := CASE WHEN calendar THEN period_start
             WHEN period_start IS NULL THEN '-infinity'
             ELSE period_start + interval '1 microsecond' END;
END
$$;
REVOKE ALL ON FUNCTION netstats.period_window(text, text, timestamptz, boolean) FROM PUBLIC;
