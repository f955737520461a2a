-- Corrects the count of plan `name`'s current cycle (as of `at`) by `bytes`, more or fewer:
-- "the provider's panel shows 340 GB used this cycle, netstats started counting today". Stored
-- apart with who made it, when and why; never written into samples or rollups, so every other
-- figure stays what was measured. A correction that would make the cycle's count negative is
-- refused. Returns the plan as netstats_plans shows it with the correction.
CREATE FUNCTION public.netstats_plan_adjust(
  name text,
  bytes bigint,
  note text,
  made_by text DEFAULT NULL,
  at timestamptz DEFAULT now()
)
RETURNS netstats.plan_state
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  plan netstats.plan_state;
BEGIN
  IF netstats_plan_adjust.bytes IS NULL OR netstats_plan_adjust.bytes = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'bytes: expected a number of bytes to add (or, below 0, to take away), got %s',
      coalesce(netstats_plan_adjust.bytes::text, 'null'));
  END IF;
  IF netstats_plan_adjust.note IS NULL OR pg_catalog.length(netstats_plan_adjust.note) NOT BETWEEN 1 AND 500 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE =
      'note: expected 1 to 500 characters saying why (such as "provider panel on 12-04")';
  END IF;
  -- One correction at a time per plan: two at once could each pass the check below.
  PERFORM FROM netstats.quotas q WHERE q.name = netstats_plan_adjust.name FOR UPDATE;
  SELECT s.* INTO plan FROM public.netstats_plans('UTC', netstats_plan_adjust.at) s
   WHERE s.name = netstats_plan_adjust.name;
  IF plan.name IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'name: no plan named %s (netstats plan list shows them)',
      coalesce(pg_catalog.quote_literal(netstats_plan_adjust.name), 'null'));
  END IF;
  IF plan.used_bytes + plan.adjust_bytes + netstats_plan_adjust.bytes < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'bytes: taking away %s bytes would make this cycle''s count negative (%s measured, %s corrected)',
      -netstats_plan_adjust.bytes, plan.used_bytes, plan.adjust_bytes);
  END IF;
  INSERT INTO netstats.plan_adjustments (plan, cycle_start, bytes, note, made_by, made_at)
  VALUES (plan.name, plan.cycle_start, netstats_plan_adjust.bytes, netstats_plan_adjust.note,
          coalesce(netstats_plan_adjust.made_by, session_user), now());
  RETURN (SELECT s FROM public.netstats_plans('UTC', netstats_plan_adjust.at) s
           WHERE s.name = plan.name);
END
$$;
REVOKE ALL ON FUNCTION public.netstats_plan_adjust(text, bigint, text, text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_plan_adjust(text, bigint, text, text, timestamptz)
  TO service_role;
