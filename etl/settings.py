"""Runtime settings that come from the environment (never from code or committed files)."""

from __future__ import annotations

import os

from etl.errors import ConfigurationError

__all__ = ["ConfigurationError", "DATABASE_URL_ENV", "database_url"]

DATABASE_URL_ENV = "SEGWISE_DATABASE_URL"


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get(DATABASE_URL_ENV)
    if not url:
        raise ConfigurationError(
            f"no warehouse database: pass --database-url or set {DATABASE_URL_ENV} "
            "(e.g. postgresql://user:password@127.0.0.1:5432/segwise)"
        )
    return url
