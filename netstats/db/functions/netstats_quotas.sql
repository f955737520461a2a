-- Every quota's progress in its current period, as of `at`: a quota is a plan on a calendar
-- period without a price, and netstats_plans computes its figures (the bot, the page, the
-- report, `netstats check` and the alerts read them there). This keeps the columns quotas
-- had before plans (DESIGN.md, "Quotas and alerts"); `used_bytes` counts a correction made
-- with `netstats plan adjust`, as the thresholds do. A quota's period follows the zone stored
-- with it, whoever reads it; `tz` is the reader's zone, which every reader passes: it is
-- checked, and changes no figure.
CREATE FUNCTION public.netstats_quotas(
  tz text DEFAULT 'UTC',
  at timestamptz DEFAULT now()
)
RETURNS SETOF netstats.quota_progress
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT p.name, p.hosts[1], p.iface, p.period, p.basis, p.tz, p.included_bytes::bigint,
         p.thresholds, p.cycle_start, p.cycle_end, p.used_bytes + p.adjust_bytes, p.used_ratio,
         p.remaining_bytes, p.projected_bytes, p.runs_out_at, p.daily_allowance_bytes,
         p.thresholds_crossed
    FROM public.netstats_plans(netstats_quotas.tz, netstats_quotas.at) p
   WHERE p.period IS NOT NULL
   ORDER BY p.name
$$;
REVOKE ALL ON FUNCTION public.netstats_quotas(text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_quotas(text, timestamptz) TO netstats_reader, service_role;
