"""Segmentation results, run ledger and lock.

Revision ID: 0002_segmentation
Revises: 0001_warehouse
Create Date: 2026-11-23

Every result row carries the ``run_id`` that produced it; a run becomes visible to the ``mart``
views only when ``etl.segment.pipeline.publish`` flips its status to ``published`` (one published
run per as-of date, enforced by a partial unique index). Long tables (one row per run, method,
customer / segment / band) let each method be its own stage (an Airflow task) without updating
another stage's rows.

The ``mart`` views over these tables and the ``segwise_bi`` role are no revision's: they are
applied from today's ``sql/mart`` once an upgrade reaches head (``etl.mart.layer``, hooked in
``migrations/env.py``), and removed before any revision runs.
"""

from alembic import op

revision = "0002_segmentation"
down_revision = "0001_warehouse"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE segmentation.runs (
    run_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    as_of_date    date NOT NULL,
    trigger       text NOT NULL DEFAULT 'cli',
    methods       text[] NOT NULL,
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'published', 'superseded', 'failed')),
    stage         text,
    stages_done   text[] NOT NULL DEFAULT '{}',
    row_counts    jsonb NOT NULL DEFAULT '{}'::jsonb,
    timings       jsonb NOT NULL DEFAULT '{}'::jsonb,
    metrics       jsonb NOT NULL DEFAULT '{}'::jsonb,
    message       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    published_at  timestamptz
);
COMMENT ON TABLE segmentation.runs IS
    'One row per segmentation run. status: running -> succeeded (all stages done) -> published '
    '(visible in mart); superseded (an later run of the same date was published; rows deleted); '
    'failed (rows deleted, previous published run stays visible).';
COMMENT ON COLUMN segmentation.runs.metrics IS
    'Per-method quality figures, e.g. {"kmeans": {"k": 4, "silhouette": .., "stability_ari": ..}}.';
CREATE UNIQUE INDEX runs_one_published_per_date
    ON segmentation.runs (as_of_date) WHERE status = 'published';
CREATE INDEX runs_date ON segmentation.runs (as_of_date, run_id);

CREATE TABLE segmentation.run_locks (
    as_of_date  date PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES segmentation.runs (run_id) ON DELETE CASCADE,
    locked_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE segmentation.run_locks IS
    'At most one unfinished run per as-of date; taken by start_run, released by publish/fail_run. '
    'A lock whose run has not sent a heartbeat within the lock timeout may be taken over.';

CREATE TABLE segmentation.customer_features (
    run_id                    bigint NOT NULL,
    customer_id               text NOT NULL,
    recency_days              integer NOT NULL,
    frequency                 integer NOT NULL,
    monetary                  numeric NOT NULL,
    gross_revenue             numeric NOT NULL,
    returns_value             numeric NOT NULL,
    return_orders             integer NOT NULL,
    return_rate               double precision,
    first_order_date          date NOT NULL,
    last_order_date           date NOT NULL,
    tenure_days               integer NOT NULL,
    avg_order_value           numeric,
    mean_days_between_orders  double precision,
    total_quantity            numeric,
    distinct_products         integer NOT NULL,
    distinct_shops            integer NOT NULL,
    distinct_categories       integer NOT NULL,
    top_categories            text[],
    preferred_weekday         smallint,
    preferred_hour            smallint,
    main_channel              text,
    main_platform             text,
    main_market               text,
    main_region               text,
    main_country              text,
    cost_amount               numeric,
    gross_margin              numeric,
    window_orders             integer NOT NULL,
    window_revenue            numeric NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);
COMMENT ON TABLE segmentation.customer_features IS
    'One row per customer with at least one sale on or before the run''s as-of date.';

CREATE TABLE segmentation.customer_category_revenue (
    run_id       bigint NOT NULL,
    customer_id  text NOT NULL,
    category     text NOT NULL,
    revenue      numeric NOT NULL,
    products     integer NOT NULL,
    quantity     numeric,
    PRIMARY KEY (run_id, customer_id, category)
);
COMMENT ON TABLE segmentation.customer_category_revenue IS
    'Gross sales per customer and top-level category (category_l1, ''unknown'' when missing).';

CREATE TABLE segmentation.customer_segments (
    run_id       bigint NOT NULL,
    method       text NOT NULL,
    customer_id  text NOT NULL,
    segment_id   integer,
    segment      text NOT NULL,
    scores       jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (run_id, method, customer_id)
);
COMMENT ON TABLE segmentation.customer_segments IS
    'One row per run, method and customer. scores: rfm {"r","f","m","rfm"}, tiers '
    '{"orders_tier","revenue_tier"}, kmeans/hierarchical {"distance"}, demographic and channel '
    'the bands behind the label.';

CREATE TABLE segmentation.segment_profiles (
    run_id              bigint NOT NULL,
    method              text NOT NULL,
    segment             text NOT NULL,
    segment_id          integer,
    customers           bigint NOT NULL,
    customer_share      double precision NOT NULL,
    revenue             numeric NOT NULL,
    revenue_share       double precision,
    avg_recency_days    double precision,
    avg_frequency       double precision,
    avg_monetary        double precision,
    avg_order_value     double precision,
    median_monetary     double precision,
    top_categories      text[],
    recommended_action  text,
    extra               jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (run_id, method, segment)
);

CREATE TABLE segmentation.cluster_models (
    run_id         bigint NOT NULL,
    method         text NOT NULL,
    k              integer NOT NULL,
    silhouette     double precision,
    stability_ari  double precision,
    params         jsonb NOT NULL DEFAULT '{}'::jsonb,
    profile        jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (run_id, method)
);
COMMENT ON COLUMN segmentation.cluster_models.profile IS
    'One object per cluster in original units (the clustering ClusterResult.profile).';

CREATE TABLE segmentation.demographic_profiles (
    run_id         bigint NOT NULL,
    method         text NOT NULL,
    segment        text NOT NULL,
    dimension      text NOT NULL,
    value          text NOT NULL,
    customers      bigint NOT NULL,
    share          double precision,
    index_vs_all   double precision,
    orders         bigint,
    revenue        numeric,
    revenue_share  double precision,
    gross_margin   numeric,
    margin_pct     double precision,
    extra          jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (run_id, method, segment, dimension, value)
);
COMMENT ON TABLE segmentation.demographic_profiles IS
    'Segments of each method crossed with demographic bands (age, income, gender, family status, '
    'dependants, region).';

CREATE TABLE segmentation.channel_profiles (LIKE segmentation.demographic_profiles INCLUDING ALL);
COMMENT ON TABLE segmentation.channel_profiles IS
    'Segments of each method crossed with channel, platform, market and region, with revenue '
    'contribution and gross margin where cost data exist.';

CREATE TABLE segmentation.segment_history (
    run_id            bigint NOT NULL,
    method            text NOT NULL,
    customer_id       text NOT NULL,
    segment           text,
    previous_run_id   bigint,
    previous_segment  text,
    PRIMARY KEY (run_id, method, customer_id)
);
COMMENT ON TABLE segmentation.segment_history IS
    'Customers whose segment changed against the previously published run (an earlier as-of '
    'date); previous_segment NULL = new customer, segment NULL = no longer eligible. Written at '
    'publish.';

CREATE TABLE segmentation.segment_migrations (
    run_id            bigint NOT NULL,
    method            text NOT NULL,
    previous_run_id   bigint,
    from_segment      text NOT NULL,
    to_segment        text NOT NULL,
    customers         bigint NOT NULL,
    PRIMARY KEY (run_id, method, from_segment, to_segment)
);
COMMENT ON TABLE segmentation.segment_migrations IS
    'Full from/to matrix of customer counts against the previously published run ('
    '''(new)'' and ''(gone)'' for customers entering or leaving).';
"""

DOWNGRADE_TABLES = """
DROP TABLE IF EXISTS segmentation.segment_migrations;
DROP TABLE IF EXISTS segmentation.segment_history;
DROP TABLE IF EXISTS segmentation.channel_profiles;
DROP TABLE IF EXISTS segmentation.demographic_profiles;
DROP TABLE IF EXISTS segmentation.cluster_models;
DROP TABLE IF EXISTS segmentation.segment_profiles;
DROP TABLE IF EXISTS segmentation.customer_segments;
DROP TABLE IF EXISTS segmentation.customer_category_revenue;
DROP TABLE IF EXISTS segmentation.customer_features;
DROP TABLE IF EXISTS segmentation.run_locks;
DROP TABLE IF EXISTS segmentation.runs;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE_TABLES)
