-- The corrections of one plan (or of every plan: null), newest first, with the cycle each
-- belongs to: only those of a plan's current cycle count in netstats_plans.
CREATE FUNCTION public.netstats_plan_adjustments(name text DEFAULT NULL)
RETURNS TABLE (id bigint, plan text, cycle_start timestamptz, bytes bigint, note text,
               made_by text, made_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT a.id, a.plan, a.cycle_start, a.bytes, a.note, a.made_by, a.made_at
    FROM netstats.plan_adjustments a
   WHERE netstats_plan_adjustments.name IS NULL OR a.plan = netstats_plan_adjustments.name
   ORDER BY a.made_at DESC, a.id DESC
$$;
REVOKE ALL ON FUNCTION public.netstats_plan_adjustments(text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_plan_adjustments(text) TO netstats_reader, service_role;
