-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.grocery_reorder_ratio: share of items that are reorders, by department and age band, latest published run.
CREATE OR REPLACE VIEW mart.grocery_reorder_ratio AS
WITH latest AS (
    SELECT run_id, a.as_of_date, (params #>> '{use_cases,grocery,min_orders}')::integer AS min_orders
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
items AS (
    -- a reorder: the customer bought the product in an earlier order
    SELECT
        x.customer_id,
        coalesce(p.category_l1, 'unknown') AS department,
        x.order_ts > min(x.order_ts) OVER (PARTITION BY x.customer_id, x.product_id)
            AS reordered
    FROM latest AS l
    JOIN warehouse.fact_order_line AS x
        ON x.customer_id IS NOT NULL AND x.order_date <= l.as_of_date
       AND x.is_sale
    LEFT JOIN warehouse.dim_product AS p ON p.product_id = x.product_id
)
SELECT
    l.as_of_date,
    l.run_id,
    coalesce(i.department, 'all') AS department,
    coalesce(d.scores ->> 'age_band', 'all') AS age_band,
    count(*) AS items,
    count(*) FILTER (WHERE i.reordered) AS reordered_items,
    (count(*) FILTER (WHERE i.reordered))::double precision / count(*) AS reorder_ratio
FROM items AS i
CROSS JOIN latest AS l
JOIN segmentation.customer_features AS f
    ON f.run_id = l.run_id AND f.customer_id = i.customer_id AND f.frequency >= l.min_orders
-- the latest run's demographic labels found by the run's key first (see mart/customer_segments.sql)
LEFT JOIN (
    SELECT s.customer_id, s.scores
    FROM latest AS r
    JOIN segmentation.customer_segments AS s ON s.run_id = r.run_id AND s.method = 'demographic'
) AS d ON d.customer_id = i.customer_id
GROUP BY l.as_of_date, l.run_id,
    GROUPING SETS ((i.department, d.scores ->> 'age_band'), (i.department),
                   (d.scores ->> 'age_band'), ());

COMMENT ON VIEW mart.grocery_reorder_ratio IS
    'Reorder ratio (items the customer had bought in an earlier order / items) by department and '
    'age band, for the customers of the latest published run with at least '
    'use_cases.grocery.min_orders orders; ''all'' rows total over the other dimension.';
COMMENT ON COLUMN mart.grocery_reorder_ratio.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.grocery_reorder_ratio.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.grocery_reorder_ratio.department IS 'Department; ''all'' = every department.';
COMMENT ON COLUMN mart.grocery_reorder_ratio.age_band IS
    'Age band (demographic method); ''all'' = every age.';
COMMENT ON COLUMN mart.grocery_reorder_ratio.items IS 'Items (sale lines) bought.';
COMMENT ON COLUMN mart.grocery_reorder_ratio.reordered_items IS
    'Items whose product the customer had bought in an earlier order.';
COMMENT ON COLUMN mart.grocery_reorder_ratio.reorder_ratio IS 'reordered_items / items.';
