"""Monthly and fiscal-year KPIs and cohort cells, kept up to date by every build.

Revision ID: 0008_time
Revises: 0007_clv
Create Date: 2026-11-30

The time marts (``mart.monthly_kpis``, ``mart.cohort_retention``) read these small aggregates
instead of every order on every query: at 10M order lines the views computed from the facts took
over a minute per query. ``etl.segment.time_marts.refresh`` recomputes only the periods and
cohorts a batch touched (called by the warehouse build for its batch, and by each segmentation
run for anything loaded without it). This revision fills them once from the facts already
loaded.
"""

from alembic import op

from etl.segment import time_marts

revision = "0008_time"
down_revision = "0007_clv"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE segmentation.customer_first_sale (
    customer_id  text PRIMARY KEY,
    first_date   date NOT NULL
);
COMMENT ON TABLE segmentation.customer_first_sale IS
    'Date of each customer''s first sale (their cohort), kept by time_marts.refresh.';
CREATE INDEX customer_first_sale_month
    ON segmentation.customer_first_sale (date_trunc('month', first_date::timestamp));

CREATE TABLE segmentation.customer_months (
    customer_id  text NOT NULL,
    month        date NOT NULL,
    PRIMARY KEY (customer_id, month)
);
COMMENT ON TABLE segmentation.customer_months IS
    'Months in which each customer bought (a sale order): distinct customers per fiscal year.';
CREATE INDEX customer_months_month ON segmentation.customer_months (month);

CREATE TABLE segmentation.kpi_periods (
    grain             text NOT NULL CHECK (grain IN ('month', 'fiscal_year')),
    period_start      date NOT NULL,
    period_next       date NOT NULL,
    dimension         text NOT NULL,
    dimension_value   text NOT NULL,
    gross_revenue     numeric NOT NULL,
    returns_value     numeric NOT NULL,
    cost_amount       numeric,
    orders            bigint NOT NULL,
    placed_orders     bigint NOT NULL,
    cancelled_orders  bigint NOT NULL,
    active_customers  bigint,
    new_customers     bigint NOT NULL,
    PRIMARY KEY (grain, period_start, dimension, dimension_value)
);
COMMENT ON TABLE segmentation.kpi_periods IS
    'Sales, orders and customers per month / fiscal year and breakdown (mart.monthly_kpis).';

CREATE TABLE segmentation.cohort_cells (
    cohort_month      date NOT NULL,
    activity_month    date NOT NULL,
    active_customers  bigint NOT NULL,
    revenue           numeric NOT NULL,
    PRIMARY KEY (cohort_month, activity_month)
);
COMMENT ON TABLE segmentation.cohort_cells IS
    'Customers of an acquisition-month cohort buying in a month, and their net revenue '
    '(mart.cohort_retention).';

CREATE TABLE segmentation.kpi_state (
    one                      boolean PRIMARY KEY DEFAULT true CHECK (one),
    fiscal_year_start_month  integer NOT NULL DEFAULT 1,
    refreshed_batches        bigint[] NOT NULL DEFAULT '{}',
    refreshed_at             timestamptz
);
COMMENT ON TABLE segmentation.kpi_state IS
    'One row: the fiscal year''s first month the fiscal rows were computed with, and the '
    'batches already counted.';
INSERT INTO segmentation.kpi_state DEFAULT VALUES;
"""

DOWNGRADE = """
DROP VIEW IF EXISTS mart.monthly_kpis;
DROP VIEW IF EXISTS mart.cohort_retention;
DROP VIEW IF EXISTS mart.calendar;
DROP TABLE IF EXISTS segmentation.kpi_state;
DROP TABLE IF EXISTS segmentation.cohort_cells;
DROP TABLE IF EXISTS segmentation.kpi_periods;
DROP TABLE IF EXISTS segmentation.customer_first_sale;
DROP TABLE IF EXISTS segmentation.customer_months;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    time_marts.refresh(time_marts.driver_connection(op.get_bind()))


def downgrade() -> None:
    op.execute(DOWNGRADE)
