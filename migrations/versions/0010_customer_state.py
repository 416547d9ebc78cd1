"""Customer-level totals kept current by every warehouse build (the daily run's input).

Revision ID: 0010_customer_state
Revises: 0009_use_cases
Create Date: 2026-11-30

A segmentation run for the latest date used to re-aggregate every order line ever loaded, so a
daily run cost what the whole history cost. These tables hold, per customer, what the features
and the channel profiles need over all of the customer's orders; the warehouse build recomputes
the rows of the customers its batch touched, in the batch's transaction
(``etl.segment.customer_state``). A run whose as-of date is on or after the newest order reads
them; a backfill (an earlier date) still computes from the lines. ``customer_state_status`` says
which built batches the tables reflect: until a build fills them (the first build after this
revision recomputes them whole), runs read the lines.
"""

from alembic import op

revision = "0010_customer_state"
down_revision = "0009_use_cases"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE warehouse.customer_order_totals (
    customer_id        text PRIMARY KEY,
    frequency          bigint NOT NULL,
    first_order_date   date,
    last_order_date    date,
    gross_revenue      numeric NOT NULL,
    returns_value      numeric NOT NULL,
    return_orders      bigint NOT NULL,
    distinct_shops     bigint NOT NULL,
    preferred_weekday  numeric,
    preferred_hour     numeric,
    main_channel       text,
    main_platform      text,
    main_market        text,
    main_region        text,
    main_country       text
);
COMMENT ON TABLE warehouse.customer_order_totals IS
    'One row per customer with an order: order-level totals over all of their orders, kept by '
    'the warehouse build for the customers each batch touched.';
COMMENT ON COLUMN warehouse.customer_order_totals.customer_id IS
    'The customer (fact_order.customer_id).';
COMMENT ON COLUMN warehouse.customer_order_totals.frequency IS
    'Orders with at least one sale line.';
COMMENT ON COLUMN warehouse.customer_order_totals.first_order_date IS
    'Date of the first order with a sale (NULL: returns only).';
COMMENT ON COLUMN warehouse.customer_order_totals.last_order_date IS
    'Date of the latest order with a sale (NULL: returns only).';
COMMENT ON COLUMN warehouse.customer_order_totals.gross_revenue IS
    'Sum of fact_order.sales_amount over all orders.';
COMMENT ON COLUMN warehouse.customer_order_totals.returns_value IS
    'Sum of fact_order.return_amount over all orders (positive).';
COMMENT ON COLUMN warehouse.customer_order_totals.return_orders IS
    'Orders with a returned amount.';
COMMENT ON COLUMN warehouse.customer_order_totals.distinct_shops IS
    'Distinct store ids of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.preferred_weekday IS
    'Most frequent ISO weekday (1 = Monday) of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.preferred_hour IS
    'Most frequent hour of day of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.main_channel IS
    'Most frequent channel of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.main_platform IS
    'Most frequent platform of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.main_market IS
    'Most frequent market of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.main_region IS
    'Most frequent region of orders with a sale.';
COMMENT ON COLUMN warehouse.customer_order_totals.main_country IS
    'Most frequent country of orders with a sale.';

CREATE TABLE warehouse.customer_category_totals (
    customer_id     text NOT NULL,
    category        text NOT NULL,
    revenue         numeric NOT NULL,
    products        bigint NOT NULL,
    quantity        numeric,
    cost_amount     numeric,
    costed_revenue  numeric,
    PRIMARY KEY (customer_id, category)
);
COMMENT ON TABLE warehouse.customer_category_totals IS
    'Sale lines per customer and top-level product category over all of their orders, kept by '
    'the warehouse build for the customers each batch touched.';
COMMENT ON COLUMN warehouse.customer_category_totals.customer_id IS
    'The customer of the lines'' orders (fact_order.customer_id).';
COMMENT ON COLUMN warehouse.customer_category_totals.category IS
    'Top-level product category (dim_product.category_l1; ''unknown'' when missing).';
COMMENT ON COLUMN warehouse.customer_category_totals.revenue IS
    'Sum of the sale lines'' amount.';
COMMENT ON COLUMN warehouse.customer_category_totals.products IS
    'Distinct products bought in the category.';
COMMENT ON COLUMN warehouse.customer_category_totals.quantity IS 'Units bought.';
COMMENT ON COLUMN warehouse.customer_category_totals.cost_amount IS
    'Cost of the sale lines that carry one (NULL: none does).';
COMMENT ON COLUMN warehouse.customer_category_totals.costed_revenue IS
    'Amount of the sale lines that carry a cost.';

CREATE TABLE warehouse.customer_channel_totals (
    customer_id   text NOT NULL,
    dimension     text NOT NULL,
    value         text NOT NULL,
    orders        bigint NOT NULL,
    revenue       numeric NOT NULL,
    sales         numeric NOT NULL,
    list_sales    numeric NOT NULL,
    discounts     numeric NOT NULL,
    costed_sales  numeric,
    gross_margin  numeric,
    PRIMARY KEY (customer_id, dimension, value)
);
COMMENT ON TABLE warehouse.customer_channel_totals IS
    'Per customer and value of channel, platform, market, region and country: their orders with '
    'a sale or a return there, over all of their orders; kept by the warehouse build.';
COMMENT ON COLUMN warehouse.customer_channel_totals.customer_id IS
    'The customer (fact_order.customer_id).';
COMMENT ON COLUMN warehouse.customer_channel_totals.dimension IS
    'channel, platform, market, region or country.';
COMMENT ON COLUMN warehouse.customer_channel_totals.value IS
    'The order''s value of the dimension (''unknown'' when missing).';
COMMENT ON COLUMN warehouse.customer_channel_totals.orders IS 'Orders with a sale.';
COMMENT ON COLUMN warehouse.customer_channel_totals.revenue IS 'Sales minus returns.';
COMMENT ON COLUMN warehouse.customer_channel_totals.sales IS 'Sales (fact_order.sales_amount).';
COMMENT ON COLUMN warehouse.customer_channel_totals.list_sales IS
    'Sale lines at list price (gross_amount).';
COMMENT ON COLUMN warehouse.customer_channel_totals.discounts IS 'Discounts on sale lines.';
COMMENT ON COLUMN warehouse.customer_channel_totals.costed_sales IS
    'Amount of the sale lines that carry a cost.';
COMMENT ON COLUMN warehouse.customer_channel_totals.gross_margin IS
    'Amount minus cost of the sale lines that carry a cost.';

CREATE TABLE warehouse.customer_state_status (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    built_digest    text,
    refreshed_at    timestamptz
);
INSERT INTO warehouse.customer_state_status DEFAULT VALUES;
COMMENT ON TABLE warehouse.customer_state_status IS
    'Which built batches the customer totals reflect: built_digest is the digest of '
    'sql/segmentation/built_batches.sql when they were last refreshed (NULL: never filled).';
COMMENT ON COLUMN warehouse.customer_state_status.only_row IS 'Always true: one row.';
COMMENT ON COLUMN warehouse.customer_state_status.built_digest IS
    'md5 of the built batch ids the totals reflect; NULL until a build fills them.';
COMMENT ON COLUMN warehouse.customer_state_status.refreshed_at IS 'Last refresh.';
"""

DOWNGRADE = """
DROP TABLE warehouse.customer_state_status;
DROP TABLE warehouse.customer_channel_totals;
DROP TABLE warehouse.customer_category_totals;
DROP TABLE warehouse.customer_order_totals;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
