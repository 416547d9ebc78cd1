-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.grocery_shopper_flags: loyalty, spender and frequency flags per customer of the latest published run, thresholds from use_cases.grocery.
CREATE OR REPLACE VIEW mart.grocery_shopper_flags AS
WITH latest AS (
    SELECT run_id, a.as_of_date, params #> '{use_cases,grocery}' AS g
    FROM mart.as_of AS a
    JOIN segmentation.runs AS r USING (run_id)
),
customers AS (
    SELECT f.customer_id, f.frequency AS orders
    FROM latest AS l
    JOIN segmentation.customer_features AS f ON f.run_id = l.run_id
    WHERE f.frequency >= (l.g ->> 'min_orders')::integer
),
prices AS (
    SELECT x.customer_id, avg(x.unit_price) AS mean_item_price, count(*) AS items
    FROM latest AS l
    JOIN warehouse.fact_order_line AS x
        ON x.customer_id IS NOT NULL AND x.order_date <= l.as_of_date
       AND x.is_sale
    GROUP BY x.customer_id
),
gaps AS (
    SELECT o.customer_id,
           o.order_date - lag(o.order_date) OVER (
               PARTITION BY o.customer_id ORDER BY o.order_ts, o.order_id
           ) AS gap_days
    FROM latest AS l
    JOIN warehouse.fact_order AS o
        ON o.customer_id IS NOT NULL AND o.n_sale_lines > 0 AND o.order_date <= l.as_of_date
),
medians AS (
    SELECT customer_id,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY gap_days) AS median_days_between_orders
    FROM gaps
    WHERE gap_days IS NOT NULL
    GROUP BY customer_id
)
SELECT
    l.as_of_date,
    l.run_id,
    c.customer_id,
    c.orders,
    p.items,
    p.mean_item_price,
    m.median_days_between_orders,
    CASE WHEN c.orders <= (l.g #>> '{loyalty_orders,0}')::numeric THEN 'New customer'
         WHEN c.orders <= (l.g #>> '{loyalty_orders,1}')::numeric THEN 'Regular customer'
         ELSE 'Loyal customer' END AS loyalty_flag,
    CASE WHEN p.mean_item_price < (l.g ->> 'spender_mean_price')::numeric THEN 'Low spender'
         ELSE 'High spender' END AS spender_flag,
    CASE WHEN m.median_days_between_orders IS NULL THEN 'unknown'
         WHEN m.median_days_between_orders <= (l.g #>> '{frequency_median_days,0}')::numeric
             THEN 'Frequent customer'
         WHEN m.median_days_between_orders <= (l.g #>> '{frequency_median_days,1}')::numeric
             THEN 'Regular customer'
         ELSE 'Non-frequent customer' END AS frequency_flag
FROM customers AS c
CROSS JOIN latest AS l
JOIN prices AS p ON p.customer_id = c.customer_id
LEFT JOIN medians AS m ON m.customer_id = c.customer_id;

COMMENT ON VIEW mart.grocery_shopper_flags IS
    'The grocery analysts'' shopper flags per customer of the latest published run with at least '
    'use_cases.grocery.min_orders orders: loyalty by orders, spender by mean item price, '
    'frequency by median days between orders (thresholds: use_cases.grocery).';
COMMENT ON COLUMN mart.grocery_shopper_flags.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.grocery_shopper_flags.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.grocery_shopper_flags.customer_id IS 'Customer key.';
COMMENT ON COLUMN mart.grocery_shopper_flags.orders IS 'Sale orders up to the as-of date.';
COMMENT ON COLUMN mart.grocery_shopper_flags.items IS 'Sale lines (items) bought.';
COMMENT ON COLUMN mart.grocery_shopper_flags.mean_item_price IS 'Mean unit price of the items bought.';
COMMENT ON COLUMN mart.grocery_shopper_flags.median_days_between_orders IS
    'Median gap in days between consecutive orders; NULL with one order.';
COMMENT ON COLUMN mart.grocery_shopper_flags.loyalty_flag IS
    'New (orders <= loyalty_orders[0]), Regular (<= loyalty_orders[1]) or Loyal customer.';
COMMENT ON COLUMN mart.grocery_shopper_flags.spender_flag IS
    'Low spender (mean item price < spender_mean_price) or High spender.';
COMMENT ON COLUMN mart.grocery_shopper_flags.frequency_flag IS
    'Frequent (median gap <= frequency_median_days[0]), Regular (<= [1]), Non-frequent '
    'customer; unknown with a single order.';
