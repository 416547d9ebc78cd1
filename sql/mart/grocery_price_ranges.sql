-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.grocery_price_ranges: products grouped into low/mid/high price ranges (use_cases.grocery.price_ranges of the latest published run), per department.
CREATE OR REPLACE VIEW mart.grocery_price_ranges AS
WITH latest AS (
    SELECT run_id, a.as_of_date, params #> '{use_cases,grocery,price_ranges}' AS cuts
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
sold AS (
    SELECT x.product_id, count(*) AS items, sum(x.amount) AS revenue,
           count(DISTINCT x.customer_id) AS customers, avg(x.unit_price) AS mean_price
    FROM latest AS l
    JOIN warehouse.fact_order_line AS x
        ON x.order_date <= l.as_of_date AND x.is_sale
    GROUP BY x.product_id
),
products AS (
    SELECT
        s.*,
        coalesce(p.category_l1, 'unknown') AS department,
        coalesce(p.list_price, s.mean_price) AS price,
        CASE WHEN coalesce(p.list_price, s.mean_price) <= (l.cuts ->> 0)::numeric
                 THEN 'Low-range product'
             WHEN coalesce(p.list_price, s.mean_price) <= (l.cuts ->> 1)::numeric
                 THEN 'Mid-range product'
             ELSE 'High-range product' END AS price_range
    FROM sold AS s
    CROSS JOIN latest AS l
    LEFT JOIN warehouse.dim_product AS p ON p.product_id = s.product_id
)
SELECT
    l.as_of_date,
    l.run_id,
    p.price_range,
    coalesce(p.department, 'all') AS department,
    count(*) AS products,
    min(p.price) AS min_price,
    max(p.price) AS max_price,
    sum(p.items) AS items,
    round(sum(p.revenue), 2) AS revenue,
    (sum(p.items) / sum(sum(p.items)) OVER (PARTITION BY p.department))
        ::double precision AS item_share
FROM products AS p
CROSS JOIN latest AS l
GROUP BY l.as_of_date, l.run_id, GROUPING SETS ((p.price_range), (p.price_range, p.department));

COMMENT ON VIEW mart.grocery_price_ranges IS
    'Products sold up to the latest run''s as-of date grouped by price: Low-range (price <= '
    'price_ranges[0]), Mid-range (<= price_ranges[1]), High-range; per department and overall.';
COMMENT ON COLUMN mart.grocery_price_ranges.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.grocery_price_ranges.run_id IS 'Segmentation run whose thresholds apply.';
COMMENT ON COLUMN mart.grocery_price_ranges.price_range IS
    'Low-range, Mid-range or High-range product.';
COMMENT ON COLUMN mart.grocery_price_ranges.department IS 'Department; ''all'' = every department.';
COMMENT ON COLUMN mart.grocery_price_ranges.products IS 'Products sold in the range.';
COMMENT ON COLUMN mart.grocery_price_ranges.min_price IS
    'Lowest price (list price, else mean selling price).';
COMMENT ON COLUMN mart.grocery_price_ranges.max_price IS 'Highest price.';
COMMENT ON COLUMN mart.grocery_price_ranges.items IS 'Items sold.';
COMMENT ON COLUMN mart.grocery_price_ranges.revenue IS 'Sales.';
COMMENT ON COLUMN mart.grocery_price_ranges.item_share IS
    'items / items of the department (of all departments in the ''all'' rows).';
