"""Provision Superset for segwise: the admin user and the segwise dashboard bundle.

Runs in the superset container on every start (start.sh), so the repo's bundle
(docker/superset/dashboard: database, datasets, charts, dashboard in Superset's import format v1)
is the source of truth and edits in the UI are overwritten on restart: export and commit them.
The database connection is the read-only role segwise_bi; its password comes from the environment
(start.sh reads the secrets volume) and is handed to Superset's importer, never printed.
Each dataset's columns and description are read from the view (its COMMENTs) after the import.
A dataset whose mart view does not exist is reported loudly (stderr and
$SUPERSET_HOME/segwise-missing-views); its charts then show an error in the dashboard.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg2
import yaml

BUNDLE = Path(__file__).with_name("dashboard")
DATABASE_FILE = "databases/segwise.yaml"
HOME = Path(os.environ.get("SUPERSET_HOME", "/app/superset_home"))


def log(message: str) -> None:
    print(f"segwise-provision: {message}", flush=True)


def warehouse() -> dict[str, str]:
    return {
        "host": os.environ.get("SEGWISE_WAREHOUSE_HOST", "postgres"),
        "port": os.environ.get("SEGWISE_WAREHOUSE_PORT", "5432"),
        "dbname": os.environ.get("SEGWISE_WAREHOUSE_DB", "segwise"),
        "user": "segwise_bi",
        "password": os.environ["SEGWISE_BI_PASSWORD"],
    }


def bundle_contents(wh: dict[str, str]) -> dict[str, str]:
    """The bundle's files by path, with the warehouse address (not the password) filled in."""
    contents = {
        str(p.relative_to(BUNDLE)): p.read_text(encoding="utf-8")
        for p in sorted(BUNDLE.rglob("*.yaml"))
    }
    db = yaml.safe_load(contents[DATABASE_FILE])
    db["sqlalchemy_uri"] = (
        f"postgresql+psycopg2://{wh['user']}:XXXXXXXXXX@{wh['host']}:{wh['port']}/{wh['dbname']}"
    )
    contents[DATABASE_FILE] = yaml.safe_dump(db, sort_keys=False)
    return contents


def view_comments(wh: dict[str, str], views: list[str]) -> dict[str, str | None]:
    """view -> its COMMENT ('' when it has none); views missing from the warehouse are left out."""
    found: dict[str, str | None] = {}
    with psycopg2.connect(**wh) as conn, conn.cursor() as cur:
        for view in views:
            cur.execute("SELECT to_regclass(%s)", (f"mart.{view}",))
            if cur.fetchone()[0] is None:
                continue
            cur.execute("SELECT obj_description(%s::regclass, 'pg_class')", (f"mart.{view}",))
            found[view] = cur.fetchone()[0] or ""
    return found


def ensure_admin(security_manager, password: str) -> None:
    user = security_manager.find_user(username="admin")
    if user is None:
        role = security_manager.find_role("Admin")
        security_manager.add_user("admin", "segwise", "admin", "admin@localhost", role, password)
        log("created user admin")
    else:
        security_manager.reset_password(user.id, password)


def main() -> int:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from flask import g
        from superset import db, security_manager
        from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
        from superset.connectors.sqla.models import SqlaTable

        ensure_admin(security_manager, os.environ["SEGWISE_ADMIN_PASSWORD"])
        db.session.commit()
        g.user = security_manager.find_user(username="admin")

        wh = warehouse()
        contents = bundle_contents(wh)
        datasets = {
            path: yaml.safe_load(text)
            for path, text in contents.items()
            if path.startswith("datasets/")
        }
        views = [d["table_name"] for d in datasets.values()]
        comments = view_comments(wh, views)
        missing = sorted(set(views) - set(comments))
        ImportDashboardsCommand(
            contents, passwords={DATABASE_FILE: wh["password"]}, overwrite=True
        ).run()

        for config in datasets.values():
            table = db.session.query(SqlaTable).filter_by(uuid=config["uuid"]).one()
            if table.table_name in comments:
                table.fetch_metadata()
                table.description = comments[table.table_name]
            # Snapshot views have no time column: as_of_date is one date, not a time axis.
            table.main_dttm_col = config.get("main_dttm_col")
        db.session.commit()

        marker = HOME / "segwise-missing-views"
        if missing:
            broken = sorted(
                yaml.safe_load(text)["slice_name"]
                for path, text in contents.items()
                if path.startswith("charts/")
                and yaml.safe_load(text)["dataset_uuid"]
                in {d["uuid"] for d in datasets.values() if d["table_name"] in missing}
            )
            marker.write_text("\n".join(missing) + "\n", encoding="utf-8")
            print(
                f"segwise-provision: ERROR: mart views missing in the warehouse: "
                f"{', '.join(missing)}; these charts will show an error: {'; '.join(broken)}. "
                "Run `segwise db upgrade` with a segwise version that has them.",
                file=sys.stderr,
                flush=True,
            )
        else:
            marker.unlink(missing_ok=True)
        charts = sum(p.startswith("charts/") for p in contents)
        log(
            f"dashboard provisioned: {len(datasets)} datasets "
            f"({len(missing)} missing), {charts} charts"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
