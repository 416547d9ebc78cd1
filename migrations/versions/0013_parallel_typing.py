"""A fence that keeps a query layer without stopping parallel workers: the build's typing.

Revision ID: 0013_parallel_typing
Revises: 0012_quality_per_batch
Create Date: 2026-12-01

The typing statements (sql/staging/typed_source.sql, order_lines.sql) compute each layer's
fields once by keeping the layer as its own subquery. ``OFFSET 0`` did that, but a LIMIT/OFFSET
node must see every row in one process, so the whole typing ran in one server process.
``staging.layer_fence()`` in a layer's select list does the same (PostgreSQL never flattens a
subquery whose select list calls a VOLATILE function) and is PARALLEL SAFE, so a large batch's
typing may run in a parallel worker while the leader writes the rows (1M lines: 2.7 -> 1.4 s).
"""

from alembic import op

revision = "0013_parallel_typing"
down_revision = "0012_quality_per_batch"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE FUNCTION staging.layer_fence() RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL SAFE AS $fn$
    SELECT true
$fn$;
COMMENT ON FUNCTION staging.layer_fence() IS
    'Always true. Called in a subquery''s select list, it keeps the subquery a layer of its own '
    '(the planner never flattens a select list with a VOLATILE call), so each of its fields is '
    'computed once however often the layer above uses it; unlike OFFSET 0 it lets the layer run '
    'in parallel workers.';
"""

DOWNGRADE = """
DROP FUNCTION IF EXISTS staging.layer_fence();
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
