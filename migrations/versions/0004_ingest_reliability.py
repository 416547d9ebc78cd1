"""Ingest reliability: abandoned loads, lines without a unit price, and ``is_sale`` on the lines.

Revision ID: 0004_ingest_reliability
Revises: 0003_drop_unused_batch_brin
Create Date: 2026-11-30

- ``staging.load_batches.status`` may be ``abandoned``: a batch left ``running`` by a loader
  that died (kill -9, lost connection). A running load holds an advisory lock for its batch on
  its own session; a ``running`` row whose lock nobody holds is abandoned (etl.ingest.ledger).
- ``fact_order_line.unit_price`` may be NULL: a layout that gives the line amount needs no unit
  price, and a zero-quantity line has none to compute.
- ``fact_order_line.is_sale``: whether the line is a sale, filled by the loader from the one
  definition in ``etl.ingest.sqlgen.is_sale``; existing lines are backfilled from it here.
"""

from alembic import op

revision = "0004_ingest_reliability"
down_revision = "0003_drop_unused_batch_brin"
branch_labels = None
depends_on = None

STATUSES = "'running', 'staged', 'succeeded', 'failed', 'skipped'"


def upgrade() -> None:
    op.execute("ALTER TABLE staging.load_batches DROP CONSTRAINT load_batches_status_check")
    op.execute(
        "ALTER TABLE staging.load_batches ADD CONSTRAINT load_batches_status_check "
        f"CHECK (status IN ({STATUSES}, 'abandoned'))"
    )
    op.execute("ALTER TABLE warehouse.fact_order_line ALTER COLUMN unit_price DROP NOT NULL")
    op.execute("ALTER TABLE warehouse.fact_order_line ADD COLUMN is_sale boolean")
    op.execute(
        # The default sale rule as it stood at this revision (etl.ingest.sqlgen.is_sale), frozen
        # here so a later change to the rule cannot change what this revision does.
        "UPDATE warehouse.fact_order_line AS l SET is_sale = "
        "coalesce(l.quantity > 0 AND l.unit_price > 0 AND NOT l.is_return, false)"
    )
    op.execute(
        "COMMENT ON COLUMN warehouse.fact_order_line.is_sale IS "
        "'A sale line (etl.ingest.sqlgen.is_sale; by default quantity > 0, unit_price > 0, "
        "not a return). Filled by the loader.'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE warehouse.fact_order_line DROP COLUMN is_sale")
    op.execute("UPDATE warehouse.fact_order_line SET unit_price = 0 WHERE unit_price IS NULL")
    op.execute("ALTER TABLE warehouse.fact_order_line ALTER COLUMN unit_price SET NOT NULL")
    op.execute("UPDATE staging.load_batches SET status = 'failed' WHERE status = 'abandoned'")
    op.execute("ALTER TABLE staging.load_batches DROP CONSTRAINT load_batches_status_check")
    op.execute(
        "ALTER TABLE staging.load_batches ADD CONSTRAINT load_batches_status_check "
        f"CHECK (status IN ({STATUSES}))"
    )
