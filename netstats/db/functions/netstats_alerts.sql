-- The latest `max` alerts and how their delivery stands: delivered, leased (a deliverer
-- holds it), failed (its last attempt's error) or pending. For `netstats alerts status`.
CREATE FUNCTION public.netstats_alerts(max integer DEFAULT 50)
RETURNS TABLE (
  id bigint, kind text, quota text, host text, iface text, threshold integer, facts jsonb,
  raised_at timestamptz, state text, attempts integer, last_error text,
  delivered_at timestamptz
)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  IF netstats_alerts.max IS NULL OR netstats_alerts.max NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = pg_catalog.format(
      'max: expected 1 to 1000 alerts, got %s', coalesce(netstats_alerts.max::text, 'null'));
  END IF;
  RETURN QUERY
  SELECT a.id, a.kind, a.quota, a.host, a.iface, a.threshold, a.facts, a.raised_at,
         CASE WHEN a.delivered_at IS NOT NULL THEN 'delivered'
              WHEN a.leased_until > now() THEN 'leased'
              WHEN a.last_error IS NOT NULL THEN 'failed'
              ELSE 'pending' END,
         a.attempts, a.last_error, a.delivered_at
    FROM netstats.alerts a
   ORDER BY a.id DESC
   LIMIT netstats_alerts.max;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_alerts(integer)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_alerts(integer) TO service_role;
