-- Removes the correction `id` (netstats_plan_adjustments lists them); true when it existed.
-- Removing one that would leave its cycle's count negative is refused, as adding it would be.
CREATE FUNCTION public.netstats_plan_adjust_delete(id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  gone netstats.plan_adjustments;
  plan netstats.plan_state;
BEGIN
  DELETE FROM netstats.plan_adjustments a WHERE a.id = netstats_plan_adjust_delete.id
  RETURNING a.* INTO gone;
  IF gone.id IS NULL THEN
    RETURN false;
  END IF;
  SELECT s.* INTO plan FROM public.netstats_plans() s WHERE s.name = gone.plan;
  IF plan.cycle_start = gone.cycle_start AND plan.used_bytes + plan.adjust_bytes < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'id: removing correction %s (%s bytes) would make this cycle''s count negative',
      gone.id, gone.bytes);
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_plan_adjust_delete(bigint)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_plan_adjust_delete(bigint) TO service_role;
