-- Where period 'all' starts for one host/interface or all (null): the earliest instant a
-- sample counted up to `hi` covers (its sampled_at less its interval), as netstats_totals
-- reports it; null when nothing was measured up to hi. One walk of the series (the fleet
-- series over every host), as a total.
CREATE FUNCTION netstats.first_covered(hi timestamptz, only_host text, only_iface text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN (SELECT min(w.covers_from)
            FROM netstats.window_sums(
              ARRAY['-infinity'::timestamptz], ARRAY[hi],
              ARRAY[CASE WHEN only_host IS NULL AND only_iface IS NULL THEN '' ELSE only_host END],
              ARRAY[only_iface]) w);
END
$$;
REVOKE ALL ON FUNCTION netstats.first_covered(timestamptz, text, text) FROM PUBLIC;
