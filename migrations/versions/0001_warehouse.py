"""Schemas, load ledger, rejected rows and the warehouse's canonical model.

Revision ID: 0001_warehouse
Revises:
Create Date: 2026-11-23

The canonical model every layout is mapped onto. Contract for the segmentation layer:
- ``fact_order_line.amount`` is signed: sales positive, returns/cancellations negative; it is the
  line's net value after line discounts. ``is_return`` marks returns and cancellations.
- ``customer_id`` is NULL for lines without a customer: they stay in the facts (revenue
  reconciles) but customer-level work ignores them.
- ``fact_order`` holds one row per order with totals split into sales and returns.
"""

from alembic import op

revision = "0001_warehouse"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS warehouse;
CREATE SCHEMA IF NOT EXISTS segmentation;
CREATE SCHEMA IF NOT EXISTS mart;

CREATE TABLE staging.load_batches (
    batch_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_kind     text NOT NULL CHECK (source_kind IN ('file', 'database', 'demo')),
    layout          text NOT NULL,
    source_uri      text NOT NULL,
    content_sha256  text,
    bytes           bigint,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'staged', 'succeeded', 'failed', 'skipped')),
    rows_read       bigint NOT NULL DEFAULT 0,
    rows_loaded     bigint NOT NULL DEFAULT 0,
    rows_rejected   bigint NOT NULL DEFAULT 0,
    rows_duplicate  bigint NOT NULL DEFAULT 0,
    rule_counts     jsonb NOT NULL DEFAULT '{}'::jsonb,
    files           jsonb NOT NULL DEFAULT '[]'::jsonb,
    watermark_from  text,
    watermark_to    text,
    mapping         jsonb,
    message         text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
COMMENT ON TABLE staging.load_batches IS
    'Load ledger: one row per batch (file set, source-database extract or demo feed).';
CREATE UNIQUE INDEX load_batches_same_content
    ON staging.load_batches (layout, content_sha256) WHERE status IN ('staged', 'succeeded');
CREATE INDEX load_batches_started ON staging.load_batches (started_at);

CREATE TABLE staging.rejected_rows (
    rejected_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id     bigint NOT NULL REFERENCES staging.load_batches (batch_id) ON DELETE CASCADE,
    file_path    text,
    line_number  bigint,
    column_name  text,
    reason       text NOT NULL,
    raw_row      jsonb,
    rejected_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE staging.rejected_rows IS
    'Rows a load refused, with the raw row, its file and line, and why.';
CREATE INDEX rejected_rows_batch ON staging.rejected_rows (batch_id);

COMMENT ON COLUMN staging.load_batches.mapping IS
    'The resolved layout/mapping the batch was staged with, so a later build needs nothing else.';

-- Typing raw text, set-based (PostgreSQL 15 has no pg_input_is_valid). Each parse_* function
-- returns NULL for an empty or unparseable value instead of failing the statement: a regular
-- expression admits only what the cast accepts. They are SQL-language and IMMUTABLE so the
-- planner inlines them. The loader first tries plain casts, and falls back to these when any
-- value of the batch does not parse.
-- Numbers: |n| < 1e15 (anything larger is garbage in order data); integers: no fraction.
CREATE FUNCTION staging.parse_number(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE WHEN v ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?0*\d{1,3})?\s*$'
                 AND abs(v::numeric) < 1e15
                THEN v::numeric END
$fn$;

CREATE FUNCTION staging.parse_integer(v text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE WHEN v ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?0*\d{1,3})?\s*$'
                 AND abs(v::numeric) < 2147483648 AND v::numeric = trunc(v::numeric)
                THEN v::numeric::integer END
$fn$;

CREATE FUNCTION staging.parse_id(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    -- spreadsheet exports turn numeric ids into floats: 17850.0 is customer 17850
    SELECT CASE WHEN v LIKE '%.0%' AND v ~ '^\s*[+-]?\d+\.0+\s*$'
                THEN split_part(btrim(v), '.', 1)
                ELSE nullif(btrim(v), '') END
$fn$;

CREATE FUNCTION staging.parse_boolean(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE WHEN lower(btrim(v)) IN ('true', 't', 'yes', 'y', '1') THEN true
                WHEN lower(btrim(v)) IN ('false', 'f', 'no', 'n', '0') THEN false END
$fn$;

-- Only values that passed a format's regex but might still be out of range (day 29-31) reach
-- this: the exception block (a subtransaction) is too slow for every row.
CREATE FUNCTION staging.try_timestamp(v text, fmt text) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE AS $fn$
BEGIN
    IF fmt = 'iso' THEN
        IF v ~ '(Z|UTC|[+-]\d{2}(:?\d{2})?)\s*$' THEN
            RETURN v::timestamptz AT TIME ZONE 'UTC';
        END IF;
        RETURN v::timestamp;
    END IF;
    RETURN to_timestamp(v, fmt) AT TIME ZONE 'UTC';
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END
$fn$;

CREATE TABLE warehouse.dim_customer (
    customer_id    text PRIMARY KEY,
    gender         text,
    birth_year     integer,
    age            integer,
    income         numeric,
    family_status  text,
    n_dependants   integer,
    country        text,
    state          text,
    region         text,
    city           text,
    signup_date    date,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id       bigint,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE warehouse.dim_product (
    product_id     text PRIMARY KEY,
    product_name   text,
    category_l1    text,
    category_l2    text,
    category_l3    text,
    list_price     numeric,
    unit_cost      numeric,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    batch_id       bigint,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE warehouse.fact_order_line (
    order_id         text NOT NULL,
    line_no          integer NOT NULL,
    customer_id      text,
    order_ts         timestamp NOT NULL,
    order_date       date NOT NULL,
    product_id       text,
    quantity         numeric NOT NULL,
    unit_price       numeric NOT NULL,
    gross_amount     numeric NOT NULL,
    discount_amount  numeric NOT NULL DEFAULT 0,
    amount           numeric NOT NULL,
    cost_amount      numeric,
    is_return        boolean NOT NULL DEFAULT false,
    channel          text,
    platform         text,
    market           text,
    country          text,
    region           text,
    store_id         text,
    batch_id         bigint NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
-- Segmentation and quality read the lines by full scans (hash aggregates); a customer's lines
-- are found through fact_order_customer_date and this primary key's order_id prefix. Dates and
-- batches grow in load order, so BRIN indexes (almost free to maintain) serve range queries.
CREATE INDEX fact_order_line_date ON warehouse.fact_order_line USING brin (order_date);
CREATE INDEX fact_order_line_batch ON warehouse.fact_order_line USING brin (batch_id);

CREATE TABLE warehouse.fact_order (
    order_id         text PRIMARY KEY,
    customer_id      text,
    order_ts         timestamp NOT NULL,
    order_date       date NOT NULL,
    n_lines          integer NOT NULL,
    n_sale_lines     integer NOT NULL,
    quantity         numeric NOT NULL,
    gross_amount     numeric NOT NULL,
    discount_amount  numeric NOT NULL DEFAULT 0,
    sales_amount     numeric NOT NULL,
    return_amount    numeric NOT NULL,
    net_amount       numeric NOT NULL,
    cost_amount      numeric,
    is_return        boolean NOT NULL,
    channel          text,
    platform         text,
    market           text,
    country          text,
    region           text,
    store_id         text,
    batch_id         bigint NOT NULL
);
CREATE INDEX fact_order_customer_date
    ON warehouse.fact_order (customer_id, order_date) WHERE customer_id IS NOT NULL;
CREATE INDEX fact_order_date ON warehouse.fact_order (order_date);

COMMENT ON COLUMN warehouse.fact_order_line.amount IS
    'Net line value after discounts; negative for returns and cancellations.';
COMMENT ON COLUMN warehouse.fact_order_line.gross_amount IS
    'quantity * unit_price before discounts (signed like amount).';
COMMENT ON COLUMN warehouse.fact_order.sales_amount IS
    'Sum of amount over sale lines (quantity > 0, price > 0, not a return).';
COMMENT ON COLUMN warehouse.fact_order.return_amount IS
    'Value of return lines as a positive number; net_amount = sales_amount - return_amount.';
"""

DOWNGRADE = """
DROP SCHEMA IF EXISTS mart CASCADE;
DROP SCHEMA IF EXISTS segmentation CASCADE;
DROP SCHEMA IF EXISTS warehouse CASCADE;
DROP SCHEMA IF EXISTS staging CASCADE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
