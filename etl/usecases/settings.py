"""Old name of ``etl.usecases.validation``, kept only for ``etl/segment/config.py`` (being edited
elsewhere): new code imports ``etl.usecases.validation``. Remove once config.py imports it."""

from etl.usecases.validation import check

__all__ = ["check"]
