"""A run keeps another run's memberships by reference: segmentation.memberships and run_methods.

Revision ID: 0014_memberships_by_reference
Revises: 0013_parallel_typing
Create Date: 2026-12-01

A run of fewer methods than its date's published run keeps the other methods' results
(``pipeline._carry_forward``). Their memberships (one row per customer and method) were moved
to the new run by an UPDATE: at 381k customers five methods' 1.9M rows, 10-12 s of a 30 s
``--methods rfm`` run, and as many dead rows. A published run's memberships never change, so
the new run can point at them instead. ``segmentation.memberships`` (the former table) holds
the rows under the run that computed them; ``segmentation.run_methods`` says, per run and
method, which run's rows it shows; the view ``segmentation.customer_segments`` joins the two
and keeps the old table's columns, so every reader reads it as before.
"""

from alembic import op

revision = "0014_memberships_by_reference"
down_revision = "0013_parallel_typing"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE segmentation.customer_segments RENAME TO memberships;
ALTER INDEX segmentation.customer_segments_pkey RENAME TO memberships_pkey;
COMMENT ON TABLE segmentation.memberships IS
    'One row per computing run, method and customer: the labels as the run that computed them '
    'wrote them. Read them through the view segmentation.customer_segments, which shows every '
    'run the memberships it computed or kept (segmentation.run_methods). scores: rfm '
    '{"r","f","m","rfm"}, tiers {"orders_tier","revenue_tier"}, kmeans/hierarchical '
    '{"distance"}, demographic and channel the bands behind the label.';
COMMENT ON COLUMN segmentation.memberships.run_id IS
    'The run that computed the labels (segmentation.runs).';

CREATE TABLE segmentation.run_methods (
    run_id        bigint NOT NULL,
    method        text NOT NULL,
    source_run_id bigint NOT NULL,
    PRIMARY KEY (run_id, method)
);
CREATE INDEX run_methods_source ON segmentation.run_methods (source_run_id, method);
COMMENT ON TABLE segmentation.run_methods IS
    'Which run''s memberships (segmentation.memberships) a run shows for each of its methods: '
    'itself for a method it computed, the computing run for one it kept from its date''s '
    'previously published run. A published run''s memberships never change, so keeping them '
    'is a row here, not a copy.';
COMMENT ON COLUMN segmentation.run_methods.run_id IS 'The run (segmentation.runs).';
COMMENT ON COLUMN segmentation.run_methods.method IS 'One of the run''s methods.';
COMMENT ON COLUMN segmentation.run_methods.source_run_id IS
    'The run that computed this method''s memberships (run_id itself when the run computed '
    'them).';
INSERT INTO segmentation.run_methods (run_id, method, source_run_id)
SELECT DISTINCT run_id, method, run_id FROM segmentation.memberships;

CREATE VIEW segmentation.customer_segments AS
SELECT rm.run_id, rm.method, m.customer_id, m.segment_id, m.segment, m.scores
FROM segmentation.run_methods AS rm
JOIN segmentation.memberships AS m ON m.run_id = rm.source_run_id AND m.method = rm.method;
COMMENT ON VIEW segmentation.customer_segments IS
    'One row per run, method and customer: the memberships each run shows, computed by itself '
    'or kept from the run that computed them (segmentation.run_methods). scores: rfm '
    '{"r","f","m","rfm"}, tiers {"orders_tier","revenue_tier"}, kmeans/hierarchical '
    '{"distance"}, demographic and channel the bands behind the label.';
COMMENT ON COLUMN segmentation.customer_segments.run_id IS
    'Segmentation run (segmentation.runs).';
COMMENT ON COLUMN segmentation.customer_segments.method IS
    'rfm, tiers, kmeans, hierarchical, demographic or channel.';
COMMENT ON COLUMN segmentation.customer_segments.customer_id IS 'Customer key.';
COMMENT ON COLUMN segmentation.customer_segments.segment_id IS
    'Numeric id where the method has one (cluster number).';
COMMENT ON COLUMN segmentation.customer_segments.segment IS
    'The customer''s segment label within the method.';
COMMENT ON COLUMN segmentation.customer_segments.scores IS
    'What the label was made from (see the view comment).';
"""

# Back to one table holding every run's rows: a kept method's rows are copied to each run that
# shows them, and rows no run shows any more (a superseded run's, kept by a later one) go.
DOWNGRADE = """
DROP VIEW segmentation.customer_segments;
INSERT INTO segmentation.memberships (run_id, method, customer_id, segment_id, segment, scores)
SELECT rm.run_id, m.method, m.customer_id, m.segment_id, m.segment, m.scores
FROM segmentation.run_methods AS rm
JOIN segmentation.memberships AS m ON m.run_id = rm.source_run_id AND m.method = rm.method
WHERE rm.run_id <> rm.source_run_id;
DELETE FROM segmentation.memberships AS m
WHERE NOT EXISTS (
    SELECT 1 FROM segmentation.run_methods AS rm
    WHERE rm.run_id = m.run_id AND rm.method = m.method
);
DROP TABLE segmentation.run_methods;
ALTER INDEX segmentation.memberships_pkey RENAME TO customer_segments_pkey;
ALTER TABLE segmentation.memberships RENAME TO customer_segments;
COMMENT ON TABLE segmentation.customer_segments IS
    'One row per run, method and customer. scores: rfm {"r","f","m","rfm"}, tiers '
    '{"orders_tier","revenue_tier"}, kmeans/hierarchical {"distance"}, demographic and channel '
    'the bands behind the label.';
COMMENT ON COLUMN segmentation.customer_segments.run_id IS
    'Segmentation run (segmentation.runs).';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
