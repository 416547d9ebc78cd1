"""Runtime settings that come from the environment (never from code or committed files)."""

from __future__ import annotations

import os
import re

from etl.errors import ConfigurationError

__all__ = [
    "BUILD_MAINTENANCE_WORK_MEM_ENV",
    "BUILD_WORK_MEM_ENV",
    "ConfigurationError",
    "DATABASE_URL_ENV",
    "database_url",
    "memory_setting",
    "memory_size",
]

DATABASE_URL_ENV = "SEGWISE_DATABASE_URL"
# Postgres memory for a warehouse build's sorts and hash aggregates (per operation and per
# parallel worker) and for its index rebuilds; lower them for a small server.
BUILD_WORK_MEM_ENV = "SEGWISE_BUILD_WORK_MEM"
BUILD_MAINTENANCE_WORK_MEM_ENV = "SEGWISE_BUILD_MAINTENANCE_WORK_MEM"
_MEMORY = re.compile(r"\d+(kB|MB|GB)")


def database_url(explicit: str | None = None) -> str:
    url = explicit or os.environ.get(DATABASE_URL_ENV)
    if not url:
        raise ConfigurationError(
            f"no warehouse database: pass --database-url or set {DATABASE_URL_ENV} "
            "(e.g. postgresql://user:password@127.0.0.1:5432/segwise)"
        )
    return url


def memory_size(value: object, label: str) -> str:
    """``value`` if it is a Postgres memory size (like '256MB'), else a ConfigurationError that
    starts with ``label`` (the setting, as the user wrote it)."""
    if not isinstance(value, str) or not _MEMORY.fullmatch(value):
        raise ConfigurationError(f"{label}{value!r}: a Postgres memory size like '64MB' or '1GB'")
    return value


def memory_setting(env: str, default: str) -> str:
    """A Postgres memory size from the environment, checked before it is used."""
    return memory_size(os.environ.get(env, "").strip() or default, f"{env}=")
