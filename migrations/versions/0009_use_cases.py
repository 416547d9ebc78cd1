"""Customer-level ("customer personality") clustering results.

Revision ID: 0009_use_cases
Revises: 0003_drop_unused_batch_brin
Create Date: 2026-11-24

Customer-level input (one row per customer, no order lines) is clustered by
``etl.usecases.personality``; its runs are kept apart from ``segmentation.runs`` so that they
never hide the order-line segmentation the other mart views show. The ``mart.personality_*``
views read the latest row of ``personality_runs``.
"""

from alembic import op

revision = "0009_use_cases"
down_revision = "0003_drop_unused_batch_brin"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE segmentation.personality_runs (
    run_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customers    integer NOT NULL,
    params       jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE segmentation.personality_runs IS
    'One row per clustering of customer-level data: settings, k, silhouette and elbow curves, '
    'the Ward dendrogram''s linkage.';
CREATE TABLE segmentation.personality_clusters (
    run_id        bigint NOT NULL
                  REFERENCES segmentation.personality_runs (run_id) ON DELETE CASCADE,
    method        text NOT NULL CHECK (method IN ('kmeans', 'hierarchical')),
    customer_id   text NOT NULL,
    cluster_id    integer NOT NULL,
    cluster_name  text NOT NULL,
    PRIMARY KEY (run_id, method, customer_id)
);
COMMENT ON TABLE segmentation.personality_clusters IS
    'Cluster of each customer-level customer, per personality run and method.';
"""

DOWNGRADE = """
DROP TABLE IF EXISTS segmentation.personality_clusters CASCADE;
DROP TABLE IF EXISTS segmentation.personality_runs CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
