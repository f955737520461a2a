-- Whole rollup buckets that add up to exactly [a, b), as signed ranges of one tier each:
-- sign * (the rows of `tier` with range_start <= bucket_start < range_end). a and b are
-- 15-minute boundaries (a may be -infinity), a <= b.
--
-- Every sample of such a range's rows lies in [a, b): summing them needs no first_at or
-- last_at and no raw sample, only one index range per term for every series at once
-- (netstats.series_sums).
--
-- [a, b) = the months from a's month to b's, + F(b) - F(a), where F(x) = [x's month, x):
-- the days of that month before x's day, the hours of that day before x's hour, the quarter
-- hours of that hour before x. At each tier the shorter side is read: the children before x,
-- or the parent bucket less its children from x on (a month cut on the 2nd is its first day
-- and the month's row, not 28 days). Children after data_end (the newest sample) cost
-- nothing. A range both added and taken away (two edges in one day) is left out.
CREATE FUNCTION netstats.bucket_ranges(a timestamptz, b timestamptz, data_end timestamptz)
RETURNS TABLE (sign integer, tier smallint, range_start timestamptz, range_end timestamptz)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- the months between the edges' months
  signs integer[] := ARRAY[1];
  tiers smallint[] := ARRAY[4];
  starts timestamptz[] := ARRAY[CASE WHEN pg_catalog.isfinite(a)
                                     THEN netstats.bucket_start(4::smallint, a) ELSE a END];
  ends timestamptz[] := ARRAY[netstats.bucket_start(4::smallint, b)];
  edge timestamptz;
  s integer;
  t smallint;
  parent timestamptz;      -- the bucket of tier t that holds edge
  parent_end timestamptz;
  child timestamptz;       -- where its children before edge end
  child_seconds double precision;
  before double precision; -- rows read either way
  after double precision;
BEGIN
  FOR k IN 1..2 LOOP
    edge := CASE k WHEN 1 THEN b ELSE a END;  -- + F(b) - F(a)
    s := CASE k WHEN 1 THEN 1 ELSE -1 END;
    CONTINUE WHEN NOT pg_catalog.isfinite(edge);
    FOR level IN REVERSE 4..2 LOOP
      t := level;
      parent := netstats.bucket_start(t, edge);
      parent_end := netstats.bucket_end(t, parent);
      child := CASE t WHEN 2 THEN edge ELSE netstats.bucket_start((t - 1)::smallint, edge) END;
      child_seconds := CASE t WHEN 4 THEN 86400 WHEN 3 THEN 3600 ELSE 900 END;
      before := extract(epoch FROM child - parent) / child_seconds;
      after := 1 + greatest(0, pg_catalog.ceil(
                 extract(epoch FROM least(parent_end, data_end) - child) / child_seconds));
      IF before <= after THEN
        signs := signs || s;
        tiers := tiers || (t - 1)::smallint;
        starts := starts || parent;
        ends := ends || child;
      ELSE
        signs := signs || s || -s;
        tiers := tiers || t || (t - 1)::smallint;
        starts := starts || parent || child;
        ends := ends || parent_end || parent_end;
      END IF;
    END LOOP;
  END LOOP;
  RETURN QUERY
  SELECT pg_catalog.sum(x.s)::integer, x.t, x.rs, x.re
    FROM ROWS FROM (pg_catalog.unnest(signs), pg_catalog.unnest(tiers), pg_catalog.unnest(starts),
                    pg_catalog.unnest(ends)) AS x(s, t, rs, re)
   WHERE x.rs < x.re
   GROUP BY x.t, x.rs, x.re
  HAVING pg_catalog.sum(x.s) <> 0;
END
$$;
REVOKE ALL ON FUNCTION netstats.bucket_ranges(timestamptz, timestamptz, timestamptz) FROM PUBLIC;
