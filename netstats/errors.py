"""The exceptions netstats raises; each message says what to do next."""


class NetstatsError(Exception):
    """Base of every error netstats raises on purpose."""


class ConfigError(NetstatsError):
    """A setting is missing or wrong; the message names it and the accepted values."""


class SpoolError(NetstatsError):
    """The agent's spool cannot be used; the message names the path and what to do."""


class AlreadyRunning(NetstatsError):
    """Another `netstats up` runs on the same data: exit status 1, not a usage error."""

    exit_code = 1
