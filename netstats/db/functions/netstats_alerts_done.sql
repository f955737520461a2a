-- Ends the delivery of claimed alerts: without `error` they are delivered for good; with
-- one they are due again at once, the error kept for `netstats alerts status`. Returns how
-- many undelivered alerts it marked.
CREATE FUNCTION public.netstats_alerts_done(ids bigint[], error text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer;
BEGIN
  IF ids IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'ids: expected an array of alert ids, got null';
  END IF;
  UPDATE netstats.alerts a
     SET delivered_at = CASE WHEN error IS NULL THEN now() END,
         leased_until = NULL,
         last_error = pg_catalog.left(error, 1000)
   WHERE a.id = ANY (ids) AND a.delivered_at IS NULL;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION public.netstats_alerts_done(bigint[], text)
  FROM PUBLIC, anon, authenticated, service_role, netstats_agent, netstats_reader;
GRANT EXECUTE ON FUNCTION public.netstats_alerts_done(bigint[], text) TO service_role;
