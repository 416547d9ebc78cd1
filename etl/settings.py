"""Old name of ``etl.environment``, kept only for ``etl/segment/config.py`` (being edited
elsewhere): new code imports ``etl.environment``. Remove once config.py imports it."""

from etl.environment import memory_size

__all__ = ["memory_size"]
