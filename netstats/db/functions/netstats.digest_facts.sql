-- What a digest of one ended period says (issue 31), as the readers compute it for that
-- period in the digest's zone: sent, received and total against the period before, the top
-- days (hours for a day's digest), the top hosts, the 95th percentile, and every plan's state
-- at the period's end. Frozen into the alert when it is raised.
CREATE FUNCTION netstats.digest_facts(
  name text, period text, tz text, period_start timestamptz, period_end timestamptz
)
RETURNS jsonb
LANGUAGE plpgsql STABLE  -- (not sql: the readers it calls are made after it)
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN (
  WITH last AS (SELECT digest_facts.period_end - interval '1 microsecond' AS at),
  p AS (  -- the period names netstats_totals and netstats_top take
    SELECT CASE digest_facts.period WHEN 'day' THEN 'today' ELSE digest_facts.period END AS name
  )
  SELECT pg_catalog.jsonb_build_object(
    'digest', digest_facts.name, 'period', digest_facts.period, 'tz', digest_facts.tz,
    'period_start', digest_facts.period_start, 'period_end', digest_facts.period_end,
    'totals', (SELECT pg_catalog.to_jsonb(t) FROM public.netstats_totals(
                 (SELECT p.name FROM p), digest_facts.tz, at => (SELECT last.at FROM last)) t),
    'previous', (SELECT pg_catalog.to_jsonb(t) FROM public.netstats_totals(
                   (SELECT p.name FROM p), digest_facts.tz,
                   at => digest_facts.period_start - interval '1 microsecond') t),
    'top_by', CASE digest_facts.period WHEN 'day' THEN 'hour' ELSE 'day' END,
    'top', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)), '[]')
              FROM public.netstats_top((SELECT p.name FROM p), digest_facts.tz,
                     CASE digest_facts.period WHEN 'day' THEN 'hour' ELSE 'day' END, 5,
                     at => (SELECT last.at FROM last)) t),
    'top_hosts', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)), '[]')
                    FROM public.netstats_top((SELECT p.name FROM p), digest_facts.tz, 'host', 5,
                           at => (SELECT last.at FROM last)) t),
    'percentile', (SELECT pg_catalog.to_jsonb(t) FROM public.netstats_percentile(
                     (SELECT p.name FROM p), digest_facts.tz, at => (SELECT last.at FROM last)) t),
    'plans', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'name', s.name, 'basis', s.basis, 'used_bytes', s.used_bytes,
                'adjust_bytes', s.adjust_bytes, 'included_bytes', s.included_bytes,
                'used_ratio', s.used_ratio, 'cycle_end', s.cycle_end,
                'projected_bytes', s.projected_bytes, 'projected_cost', s.projected_cost,
                'cost_so_far', s.cost_so_far, 'currency', s.currency, 'budget', s.budget)
                ORDER BY s.name), '[]')
                FROM public.netstats_plans(digest_facts.tz, (SELECT last.at FROM last)) s)
  ));
END
$$;
REVOKE ALL ON FUNCTION netstats.digest_facts(text, text, text, timestamptz, timestamptz) FROM PUBLIC;
