-- The billing cycle that contains `at`: cycles start at `anchor` (a wall-clock time in tz)
-- and repeat every `every` days, weeks, months or years of tz's calendar, forwards and
-- backwards. Cycle k starts at anchor + k * every units, always counted from the anchor, so a
-- monthly cycle anchored on the 31st starts on the last day of a shorter month and on the
-- 31st again after it (never drifting to the 28th), and a day has its real length across a
-- DST change (23 or 25 hours). A wall-clock time a DST change skips is read as PostgreSQL
-- reads it (the offset before the change: 02:30 on a spring-forward night is 03:30).
--
-- The one place a cycle is cut: the 'cycle' period (netstats.period_window, anchored on
-- settings.cycle_day) and, with their own anchors, plans.
CREATE FUNCTION netstats.cycle_window(
  anchor timestamp, every integer, unit text, tz text, at timestamptz,
  OUT cycle_start timestamptz, OUT cycle_end timestamptz
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  step interval;
  wall timestamp;
  k bigint;
BEGIN
  step := CASE unit WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '7 days'
                   WHEN 'month' THEN interval '1 month' WHEN 'year' THEN interval '1 year' END;
  IF step IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'unit: expected day, week, month or year, got %s', coalesce(pg_catalog.quote_literal(unit), 'null'));
  END IF;
  IF every IS NULL OR every < 1 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'every: expected a whole number of %ss, at least 1, got %s', unit, coalesce(every::text, 'null'));
  END IF;
  step := every * step;
  IF anchor IS NULL OR NOT pg_catalog.isfinite(anchor) OR at IS NULL OR NOT pg_catalog.isfinite(at) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'anchor and at: expected finite timestamps, got %s and %s',
      coalesce(anchor::text, 'null'), coalesce(at::text, 'null'));
  END IF;
  -- A first guess from the wall clock (whole months, or days, since the anchor), then exact:
  -- the cycle whose start is at or before `at` and whose end is after it.
  wall := pg_catalog.timezone(tz, at);
  k := pg_catalog.floor(
         CASE WHEN unit IN ('month', 'year')
              THEN ((pg_catalog.date_part('year', wall) - pg_catalog.date_part('year', anchor)) * 12
                    + pg_catalog.date_part('month', wall) - pg_catalog.date_part('month', anchor))
                   / (every * CASE unit WHEN 'year' THEN 12 ELSE 1 END)
              ELSE pg_catalog.date_part('day', wall - anchor)
                   / (every * CASE unit WHEN 'week' THEN 7 ELSE 1 END)
         END);
  cycle_start := pg_catalog.timezone(tz, anchor + k * step);
  WHILE cycle_start > at LOOP
    k := k - 1;
    cycle_start := pg_catalog.timezone(tz, anchor + k * step);
  END LOOP;
  cycle_end := pg_catalog.timezone(tz, anchor + (k + 1) * step);
  WHILE cycle_end <= at LOOP
    k := k + 1;
    cycle_start := cycle_end;
    cycle_end := pg_catalog.timezone(tz, anchor + (k + 1) * step);
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION netstats.cycle_window(timestamp, integer, text, text, timestamptz) FROM PUBLIC;
