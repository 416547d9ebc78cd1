"""Customer-level ("customer personality") clustering results.

Revision ID: 0009_use_cases
Revises: 0008_time
Create Date: 2026-11-24

Customer-level input (one row per customer, no order lines) is clustered by
``etl.usecases.personality``; its runs are kept apart from ``segmentation.runs`` so that they
never hide the order-line segmentation the other mart views show. The ``mart.personality_*``
views read the latest row of ``personality_runs``.
"""

from alembic import op

revision = "0009_use_cases"
down_revision = "0008_time"
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
COMMENT ON COLUMN segmentation.personality_runs.run_id IS 'Personality run id.';
COMMENT ON COLUMN segmentation.personality_runs.customers IS 'Customer-level customers clustered.';
COMMENT ON COLUMN segmentation.personality_runs.params IS
    'The use_cases.personality settings used, with the resolved reference year and date.';
COMMENT ON COLUMN segmentation.personality_runs.metrics IS
    'k (and whether fixed), elbow_inertia and silhouette_by_k per k, per-method silhouette and '
    'stability, the dendrogram (top merges of a Ward fit on a sample).';
COMMENT ON COLUMN segmentation.personality_runs.created_at IS 'When the run was made.';
COMMENT ON COLUMN segmentation.personality_clusters.run_id IS 'Personality run.';
COMMENT ON COLUMN segmentation.personality_clusters.method IS 'kmeans or hierarchical (Ward).';
COMMENT ON COLUMN segmentation.personality_clusters.customer_id IS 'Customer key (dim_customer).';
COMMENT ON COLUMN segmentation.personality_clusters.cluster_id IS
    'Cluster 1..k, 1 = highest mean total spend.';
COMMENT ON COLUMN segmentation.personality_clusters.cluster_name IS 'Readable cluster name.';
"""

# The mart views reading these tables are gone already: migrations/env.py removes the mart
# layer before any revision runs.
DOWNGRADE = """
DROP TABLE IF EXISTS segmentation.personality_clusters CASCADE;
DROP TABLE IF EXISTS segmentation.personality_runs CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
