-- Refuses anything but an IANA zone name. PostgreSQL would also take POSIX specs such as
-- 'UTC+9', which mean nine hours *west* of Greenwich: a trap for people who meant Tokyo; and
-- the files of the zone directory that are no zone: localtime (the server's own zone),
-- posixrules, Factory, and the posix/ and right/ copies.
CREATE FUNCTION netstats.check_zone(tz text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF tz IS NOT NULL
     AND tz ~ '^([A-Za-z_-]+|[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)+|[CEMP]ST[5-8][CEMP]DT|GMT[+-]?0)$'
     AND pg_catalog.lower(tz) !~ '^(localtime|posixrules|factory|posix/.*|right/.*)$' THEN
    BEGIN
      PERFORM pg_catalog.set_config('timezone', tz, true);  -- undone when this function returns
      RETURN tz;
    EXCEPTION WHEN invalid_parameter_value THEN
      NULL;
    END;
  END IF;
  RAISE EXCEPTION USING
    ERRCODE = '22023',
    MESSAGE = pg_catalog.format('tz: unknown time zone %s; expected an IANA zone name such as UTC, Europe/Berlin, America/New_York or Asia/Tokyo',
                                coalesce(pg_catalog.quote_literal(tz), 'null')),
    HINT = 'SELECT name FROM pg_timezone_names lists every zone this database knows.';
END
$$;
REVOKE ALL ON FUNCTION netstats.check_zone(text) FROM PUBLIC;
