-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.grocery_department_demographics: department x demographic band crosstabs of the latest published run.
CREATE OR REPLACE VIEW mart.grocery_department_demographics AS
WITH latest AS (
    SELECT run_id, a.as_of_date, (params #>> '{use_cases,grocery,min_orders}')::integer AS min_orders
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
bands AS (
    -- the demographic method's bands of each customer kept by the min-orders rule
    SELECT d.customer_id, b.dimension, b.value
    FROM latest AS l
    JOIN segmentation.customer_features AS f
        ON f.run_id = l.run_id AND f.frequency >= l.min_orders
    JOIN segmentation.customer_segments AS d
        ON d.run_id = l.run_id AND d.method = 'demographic' AND d.customer_id = f.customer_id
    CROSS JOIN LATERAL (
        VALUES ('all', 'all'), ('age_band', d.scores ->> 'age_band'),
               ('income_band', d.scores ->> 'income_band'),
               ('dependants', d.scores ->> 'dependants'),
               ('family_status', d.scores ->> 'family_status'),
               ('gender', d.scores ->> 'gender'), ('region', d.scores ->> 'region')
    ) AS b (dimension, value)
),
cells AS (
    SELECT b.dimension, b.value, c.category AS department,
           sum(c.quantity) AS items, sum(c.revenue) AS revenue, count(*) AS customers
    FROM latest AS l
    JOIN bands AS b ON true
    JOIN segmentation.customer_category_revenue AS c
        ON c.run_id = l.run_id AND c.customer_id = b.customer_id
    GROUP BY b.dimension, b.value, c.category
),
shares AS (
    SELECT
        c.*,
        c.items / nullif(sum(c.items) OVER (PARTITION BY c.dimension, c.value), 0) AS item_share
    FROM cells AS c
)
SELECT
    l.as_of_date,
    l.run_id,
    s.dimension,
    s.value,
    s.department,
    s.items,
    round(s.revenue, 2) AS revenue,
    s.customers,
    s.item_share::double precision AS item_share,
    (100 * s.item_share / nullif(a.item_share, 0))::double precision AS index_vs_all
FROM shares AS s
CROSS JOIN latest AS l
JOIN shares AS a ON a.dimension = 'all' AND a.department = s.department;

COMMENT ON VIEW mart.grocery_department_demographics IS
    'Department (top-level category) x demographic band crosstabs of the latest published run '
    '(bands of the demographic method; customers with fewer than use_cases.grocery.min_orders '
    'orders left out).';
COMMENT ON COLUMN mart.grocery_department_demographics.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.grocery_department_demographics.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.grocery_department_demographics.dimension IS
    'age_band, income_band, dependants, family_status, gender, region, or all.';
COMMENT ON COLUMN mart.grocery_department_demographics.value IS 'Band within the dimension.';
COMMENT ON COLUMN mart.grocery_department_demographics.department IS 'Department (category_l1).';
COMMENT ON COLUMN mart.grocery_department_demographics.items IS 'Items bought by the band here.';
COMMENT ON COLUMN mart.grocery_department_demographics.revenue IS 'Gross sales of the band here.';
COMMENT ON COLUMN mart.grocery_department_demographics.customers IS
    'Customers of the band who bought in the department.';
COMMENT ON COLUMN mart.grocery_department_demographics.item_share IS
    'items / all items of the band (the band''s department mix).';
COMMENT ON COLUMN mart.grocery_department_demographics.index_vs_all IS
    '100 * item_share / the department''s share of every kept customer''s items.';
