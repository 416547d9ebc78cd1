-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.invoice_amount_distribution: invoice amounts of the latest published run, overall and per RFM segment.
CREATE OR REPLACE VIEW mart.invoice_amount_distribution AS
WITH latest AS (
    SELECT
        run_id,
        a.as_of_date,
        (params #>> '{use_cases,invoice,trim_fraction}')::numeric AS trim_fraction
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
invoices AS (
    SELECT o.order_id, o.sales_amount AS amount, s.segment AS rfm_segment
    FROM latest AS l
    JOIN warehouse.fact_order AS o
        ON o.customer_id IS NOT NULL AND o.n_sale_lines > 0 AND o.order_date <= l.as_of_date
    -- the latest run's rfm labels found by the run's key first (see mart/customer_segments.sql)
    LEFT JOIN (
        SELECT m.customer_id, m.segment
        FROM latest AS r
        JOIN segmentation.customer_segments AS m ON m.run_id = r.run_id AND m.method = 'rfm'
    ) AS s ON s.customer_id = o.customer_id
),
ranked AS (
    SELECT
        g.rfm_segment,
        i.amount,
        row_number() OVER (PARTITION BY g.rfm_segment ORDER BY i.amount) AS pos,
        count(*) OVER (PARTITION BY g.rfm_segment) AS n
    FROM invoices AS i
    CROSS JOIN LATERAL (VALUES ('all'), (i.rfm_segment)) AS g (rfm_segment)
    WHERE g.rfm_segment IS NOT NULL
)
SELECT
    l.as_of_date,
    l.run_id,
    r.rfm_segment,
    count(*) AS invoices,
    min(r.amount) AS min_amount,
    max(r.amount) AS max_amount,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY r.amount) AS median_amount,
    mode() WITHIN GROUP (ORDER BY r.amount) AS mode_amount,
    avg(r.amount) AS mean_amount,
    avg(r.amount) FILTER (
        WHERE r.pos > floor(l.trim_fraction * r.n) AND r.pos <= r.n - floor(l.trim_fraction * r.n)
    ) AS trimmed_mean_amount,
    l.trim_fraction,
    stddev_samp(r.amount) AS stddev_amount,
    percentile_cont(0.25) WITHIN GROUP (ORDER BY r.amount) AS p25_amount,
    percentile_cont(0.75) WITHIN GROUP (ORDER BY r.amount) AS p75_amount
FROM ranked AS r
CROSS JOIN latest AS l
GROUP BY l.as_of_date, l.run_id, l.trim_fraction, r.rfm_segment;

COMMENT ON VIEW mart.invoice_amount_distribution IS
    'Distribution of invoice (order) amounts: sale invoices of customers up to the as-of date of '
    'the latest published run, for every customer (rfm_segment ''all'') and per RFM segment.';
COMMENT ON COLUMN mart.invoice_amount_distribution.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.invoice_amount_distribution.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.invoice_amount_distribution.rfm_segment IS
    'RFM segment of the invoices'' customers; ''all'' = every customer.';
COMMENT ON COLUMN mart.invoice_amount_distribution.invoices IS
    'Invoices with at least one sale line and a customer id.';
COMMENT ON COLUMN mart.invoice_amount_distribution.min_amount IS 'Smallest invoice amount (sales of the invoice).';
COMMENT ON COLUMN mart.invoice_amount_distribution.max_amount IS 'Largest invoice amount.';
COMMENT ON COLUMN mart.invoice_amount_distribution.median_amount IS 'Median invoice amount (interpolated).';
COMMENT ON COLUMN mart.invoice_amount_distribution.mode_amount IS
    'Most frequent invoice amount (ties: the smallest).';
COMMENT ON COLUMN mart.invoice_amount_distribution.mean_amount IS 'Mean invoice amount.';
COMMENT ON COLUMN mart.invoice_amount_distribution.trimmed_mean_amount IS
    'Mean after cutting floor(trim_fraction * invoices) invoices from each end.';
COMMENT ON COLUMN mart.invoice_amount_distribution.trim_fraction IS
    'Share cut from each end for the trimmed mean (use_cases.invoice.trim_fraction).';
COMMENT ON COLUMN mart.invoice_amount_distribution.stddev_amount IS 'Sample standard deviation.';
COMMENT ON COLUMN mart.invoice_amount_distribution.p25_amount IS 'First quartile.';
COMMENT ON COLUMN mart.invoice_amount_distribution.p75_amount IS 'Third quartile.';
