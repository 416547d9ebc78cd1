"""Monthly and fiscal-year KPIs and cohort cells, kept up to date by every build.

Revision ID: 0008_time
Revises: 0007_clv
Create Date: 2026-11-30

The time marts (``mart.monthly_kpis``, ``mart.cohort_retention``) read these small aggregates
instead of every order on every query: at 10M order lines the views computed from the facts took
over a minute per query. ``etl.segment.time_marts.refresh`` recomputes only the periods and
cohorts a batch touched (called by the warehouse build for its batch, and by each segmentation
run for anything loaded without it). Revision 0011_kpi_speed fills them from the facts already
loaded (it adds columns they need).
"""

from alembic import op

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
COMMENT ON COLUMN segmentation.customer_first_sale.customer_id IS
    'The customer (warehouse.dim_customer).';
COMMENT ON COLUMN segmentation.customer_first_sale.first_date IS
    'Date of the customers first sale: the cohort and the month they count as new.';
COMMENT ON COLUMN segmentation.customer_months.customer_id IS
    'The customer (warehouse.dim_customer).';
COMMENT ON COLUMN segmentation.customer_months.month IS
    'First day of a calendar month in which the customer had a sale order.';
COMMENT ON COLUMN segmentation.kpi_periods.grain IS
    'month or fiscal_year.';
COMMENT ON COLUMN segmentation.kpi_periods.period_start IS
    'First day of the month or fiscal year.';
COMMENT ON COLUMN segmentation.kpi_periods.period_next IS
    'First day of the next period (the period is [period_start, period_next)).';
COMMENT ON COLUMN segmentation.kpi_periods.dimension IS
    'Breakdown: all, channel, platform, market, region, country or category.';
COMMENT ON COLUMN segmentation.kpi_periods.dimension_value IS
    'The breakdowns value (all for the total; unknown where the data have none).';
COMMENT ON COLUMN segmentation.kpi_periods.gross_revenue IS
    'Sales (sale lines) in the period, before returns.';
COMMENT ON COLUMN segmentation.kpi_periods.returns_value IS
    'Value of returns and cancellations dated in the period (positive).';
COMMENT ON COLUMN segmentation.kpi_periods.cost_amount IS
    'Cost of the sale lines where the data carry costs; NULL otherwise.';
COMMENT ON COLUMN segmentation.kpi_periods.orders IS
    'Orders with at least one sale line.';
COMMENT ON COLUMN segmentation.kpi_periods.placed_orders IS
    'Orders placed (any order that is not wholly a cancellation).';
COMMENT ON COLUMN segmentation.kpi_periods.cancelled_orders IS
    'Orders that are wholly returns or cancellations.';
COMMENT ON COLUMN segmentation.kpi_periods.active_customers IS
    'Distinct customers with a sale in the period (NULL for fiscal-year breakdowns).';
COMMENT ON COLUMN segmentation.kpi_periods.new_customers IS
    'Customers whose first sale falls in the period.';
COMMENT ON COLUMN segmentation.cohort_cells.cohort_month IS
    'First day of the acquisition month (month of the first sale).';
COMMENT ON COLUMN segmentation.cohort_cells.activity_month IS
    'First day of the month the cohorts customers bought in.';
COMMENT ON COLUMN segmentation.cohort_cells.active_customers IS
    'Customers of the cohort with a sale in activity_month.';
COMMENT ON COLUMN segmentation.cohort_cells.revenue IS
    'Net revenue of the cohorts customers in activity_month.';
COMMENT ON COLUMN segmentation.kpi_state.one IS
    'Always true: the table holds one row.';
COMMENT ON COLUMN segmentation.kpi_state.fiscal_year_start_month IS
    'First month of the fiscal year the fiscal rows were computed with (1-12).';
COMMENT ON COLUMN segmentation.kpi_state.refreshed_batches IS
    'Load batches already counted in the aggregates.';
COMMENT ON COLUMN segmentation.kpi_state.refreshed_at IS
    'When the aggregates were last refreshed.';
"""

DOWNGRADE = """
DROP TABLE IF EXISTS segmentation.kpi_state;
DROP TABLE IF EXISTS segmentation.cohort_cells;
DROP TABLE IF EXISTS segmentation.kpi_periods;
DROP TABLE IF EXISTS segmentation.customer_first_sale;
DROP TABLE IF EXISTS segmentation.customer_months;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
