-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.rfm_grid: the R x F grid of the latest published run, one row per occupied cell.
CREATE OR REPLACE VIEW mart.rfm_grid AS
WITH cells AS (
    SELECT
        s.scores ->> 'r' AS r,
        s.scores ->> 'f' AS f,
        mode() WITHIN GROUP (ORDER BY s.segment) AS segment,
        count(*) AS customers,
        sum(x.monetary) AS revenue,
        avg(x.monetary) AS avg_monetary
    FROM mart.as_of AS l
    JOIN segmentation.customer_segments AS s ON s.run_id = l.run_id AND s.method = 'rfm'
    JOIN segmentation.customer_features AS x
        ON x.run_id = l.run_id AND x.customer_id = s.customer_id
    GROUP BY 1, 2
)
SELECT
    (SELECT a.as_of_date FROM mart.as_of AS a) AS as_of_date,
    'R' || c.r AS r_score,
    'F' || c.f AS f_score,
    c.segment,
    c.customers,
    c.customers::double precision / sum(c.customers) OVER () AS customer_share,
    round(c.revenue, 2) AS revenue,
    round(c.avg_monetary, 2) AS avg_monetary
FROM cells AS c;

COMMENT ON VIEW mart.rfm_grid IS
    'The R x F grid of the latest published run: customers and net revenue per recency score x '
    'frequency score cell, with the cell''s RFM segment. A heatmap: r_score x f_score.';
COMMENT ON COLUMN mart.rfm_grid.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.rfm_grid.r_score IS 'Recency score as a label, R1 (longest ago) to R5.';
COMMENT ON COLUMN mart.rfm_grid.f_score IS 'Frequency score as a label, F1 (fewest orders) to F5.';
COMMENT ON COLUMN mart.rfm_grid.segment IS 'RFM segment of the cell (from the R x F map).';
COMMENT ON COLUMN mart.rfm_grid.customers IS 'Customers in the cell.';
COMMENT ON COLUMN mart.rfm_grid.customer_share IS 'customers / all RFM customers (0-1).';
COMMENT ON COLUMN mart.rfm_grid.revenue IS 'Net revenue of the cell''s customers.';
COMMENT ON COLUMN mart.rfm_grid.avg_monetary IS 'Mean net revenue per customer in the cell.';
