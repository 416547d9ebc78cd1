"""Superset settings for the segwise `bi` profile (read via SUPERSET_CONFIG_PATH).

The metadata database is SQLite in the `superset-home` volume: Superset's own state (users,
charts) is small and rebuilt from docker/superset/dashboard on every start. The secret key is
generated into that volume on the first start by start.sh, never baked into the image.
"""

import os
from pathlib import Path

HOME = Path(os.environ.get("SUPERSET_HOME", "/app/superset_home"))
SECRET_KEY = (HOME / "secret_key").read_text(encoding="utf-8").strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{HOME / 'superset.db'}?check_same_thread=false"
# The dashboard is read-only analytics on segwise's mart: no uploads, no DML, no CSV exports of
# whole tables beyond the row limit.
ROW_LIMIT = 50000
WTF_CSRF_ENABLED = True
TALISMAN_ENABLED = False  # served on 127.0.0.1 behind whatever proxy the user puts in front
FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True}
