"""Errors whose message is the whole story for the user (printed without a traceback)."""


class SegwiseError(Exception):
    """Bad input, bad configuration or a refused operation; the message says what to fix."""


class ConfigurationError(SegwiseError):
    """A setting is missing or wrong; the message says what to set."""
