-- Raises what is due, then leases up to `max` undelivered alerts for 5 minutes, oldest
-- first, to this caller only: concurrent claimers skip each other's rows. An alert comes
-- back when its lease runs out, or at once after netstats_alerts_done with an error.
-- Every alert, whatever its destination: netstats_alerts_claim_routed (one piece of code).
CREATE FUNCTION public.netstats_alerts_claim(
  max integer DEFAULT 20,
  at timestamptz DEFAULT now()
)
RETURNS TABLE (
  id bigint, kind text, quota text, host text, iface text, threshold integer, facts jsonb,
  raised_at timestamptz, attempts integer, last_error text
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER  -- (not sql: the routed one is made after it)
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN QUERY SELECT * FROM public.netstats_alerts_claim_routed(
    NULL, netstats_alerts_claim.max, netstats_alerts_claim.at);
END
$$;
REVOKE ALL ON FUNCTION public.netstats_alerts_claim(integer, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_alerts_claim(integer, timestamptz) TO service_role;
