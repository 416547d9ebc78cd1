"""Fitted customer-value models, one row per run (``segmentation.clv_models``).

Revision ID: 0007_clv
Revises: 0006_comments
Create Date: 2026-11-24

The per-customer numbers (p_alive, expected purchases, predicted CLV) live in the ``clv``
method's ``customer_segments.scores``; this table keeps what produced them: the BG/NBD and
Gamma-Gamma parameters, log-likelihoods, counts and diagnostics, or why the run has no model.
"""

from alembic import op

revision = "0007_clv"
down_revision = "0006_comments"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE segmentation.clv_models (
    run_id                      bigint PRIMARY KEY,
    status                      text NOT NULL CHECK (status IN ('fitted', 'not_modelled')),
    message                     text,
    time_unit                   text NOT NULL CHECK (time_unit IN ('day', 'week')),
    customers                   bigint NOT NULL,
    repeat_customers            bigint NOT NULL,
    r                           double precision,
    alpha                       double precision,
    a                           double precision,
    b                           double precision,
    bgnbd_log_likelihood        double precision,
    p                           double precision,
    q                           double precision,
    v                           double precision,
    gamma_gamma_customers       bigint,
    gamma_gamma_log_likelihood  double precision,
    fit_seconds                 double precision,
    settings                    jsonb NOT NULL DEFAULT '{}'::jsonb,
    diagnostics                 jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK (status = 'not_modelled' OR (r > 0 AND alpha > 0 AND a > 0 AND b > 0
                                        AND p > 0 AND q > 1 AND v > 0))
);
COMMENT ON TABLE segmentation.clv_models IS
    'One row per run with the clv method: BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) '
    'maximum-likelihood fits on the customer summary as of the run''s date, or status '
    'not_modelled with the reason in message (too little history, no convergence).';
COMMENT ON COLUMN segmentation.clv_models.time_unit IS
    'Unit of t_x, T and of the rate parameter alpha: day or week.';
COMMENT ON COLUMN segmentation.clv_models.repeat_customers IS
    'Customers with at least one repeat purchase day (x > 0).';
COMMENT ON COLUMN segmentation.clv_models.gamma_gamma_customers IS
    'Repeat buyers with a positive mean repeat purchase value (the Gamma-Gamma fit''s rows).';
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS segmentation.clv_models")
