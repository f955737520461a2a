-- netstats_alerts_claim for a deliverer that posts to one kind of destination: `routed`
-- false takes only the alerts for the default channel (a webhook posts there), true only
-- those that name a channel of their own (a digest set for one: the bot posts there, also
-- when it has no default channel), null every alert (what netstats_alerts_claim takes).
-- Raises what is due, then leases up to `max` undelivered alerts for 5 minutes, oldest
-- first, to this caller only: concurrent claimers skip each other's rows. An alert comes
-- back when its lease runs out, or at once after netstats_alerts_done with an error.
CREATE FUNCTION public.netstats_alerts_claim_routed(
  routed boolean,
  max integer DEFAULT 20,
  at timestamptz DEFAULT now()
)
RETURNS TABLE (
  id bigint, kind text, quota text, host text, iface text, threshold integer, facts jsonb,
  raised_at timestamptz, attempts integer, last_error text
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  upto constant timestamptz := coalesce(netstats_alerts_claim_routed.at, now());
BEGIN
  IF netstats_alerts_claim_routed.max IS NULL OR netstats_alerts_claim_routed.max NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'max: expected 1 to 1000 alerts, got %s', coalesce(netstats_alerts_claim_routed.max::text, 'null'));
  END IF;
  IF NOT pg_catalog.isfinite(upto) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'at: expected a finite timestamp, got %s', upto);
  END IF;
  PERFORM netstats.raise_alerts(upto);
  RETURN QUERY
  WITH due AS (
    SELECT a.id FROM netstats.alerts a
     WHERE a.delivered_at IS NULL AND (a.leased_until IS NULL OR a.leased_until <= upto)
       AND (netstats_alerts_claim_routed.routed IS NULL
            OR netstats_alerts_claim_routed.routed = (a.facts ->> 'channel_id' IS NOT NULL))
     ORDER BY a.id
     LIMIT netstats_alerts_claim_routed.max
     FOR UPDATE SKIP LOCKED
  )
  UPDATE netstats.alerts a
     SET leased_until = upto + interval '5 minutes', attempts = a.attempts + 1
    FROM due
   WHERE a.id = due.id
  RETURNING a.id, a.kind, a.quota, a.host, a.iface, a.threshold, a.facts, a.raised_at,
            a.attempts, a.last_error;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_alerts_claim_routed(boolean, integer, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_alerts_claim_routed(boolean, integer, timestamptz) TO service_role;
