-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.order_timing: orders with a sale by ISO weekday x hour, overall and per segment of the
-- latest published run (fixed SQL over warehouse.fact_order).
CREATE OR REPLACE VIEW mart.order_timing AS
WITH latest AS (
    SELECT run_id, as_of_date FROM mart.as_of  -- the one latest-run rule
),
sale_orders AS (
    SELECT o.customer_id, o.order_ts
    FROM warehouse.fact_order AS o
    WHERE o.n_sale_lines > 0
      AND o.order_date <= coalesce((SELECT as_of_date FROM latest), 'infinity'::date)
),
labelled AS (
    SELECT 'all' AS method, 'all' AS segment, order_ts FROM sale_orders
    UNION ALL
    SELECT s.method, s.segment, o.order_ts
    FROM sale_orders AS o
    JOIN segmentation.customer_segments AS s
        ON s.run_id = (SELECT run_id FROM latest) AND s.customer_id = o.customer_id
)
SELECT
    method,
    segment,
    extract(isodow FROM order_ts)::int AS weekday,
    extract(hour FROM order_ts)::int AS hour,
    count(*) AS orders,
    count(*)::double precision / sum(count(*)) OVER (PARTITION BY method, segment) AS share
FROM labelled
GROUP BY method, segment, 3, 4;

COMMENT ON VIEW mart.order_timing IS
    'When orders are placed: orders with a sale per ISO weekday and hour, up to the latest '
    'published as-of date. method = segment = ''all'' for every order; otherwise the orders of '
    'one segment of the latest run (filter on method).';
COMMENT ON COLUMN mart.order_timing.method IS 'Segmentation method, or all.';
COMMENT ON COLUMN mart.order_timing.segment IS 'Segment of that method, or all.';
COMMENT ON COLUMN mart.order_timing.weekday IS 'ISO weekday, 1 = Monday .. 7 = Sunday.';
COMMENT ON COLUMN mart.order_timing.hour IS 'Hour of the order time stamp, 0-23.';
COMMENT ON COLUMN mart.order_timing.orders IS 'Orders with a sale.';
COMMENT ON COLUMN mart.order_timing.share IS 'Share of the method and segment''s orders.';
