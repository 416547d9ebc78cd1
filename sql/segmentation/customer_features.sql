-- parameters as_of, run_id, window_start: bound by psycopg in etl.segment.pipeline.build_features
-- One row per customer with at least one sale on or before the as-of date (docs/segmentation.md's
-- definitions): order-level measures from fact_order, product/category ones from the
-- segwise_customer_categories temp table (customer_categories.sql).
-- Params: run_id, as_of (date), window_start (date or NULL = all history).
INSERT INTO segmentation.customer_features (
    run_id, customer_id, recency_days, frequency, monetary, gross_revenue, returns_value,
    return_orders, return_rate, first_order_date, last_order_date, tenure_days, avg_order_value,
    mean_days_between_orders, total_quantity, distinct_products, distinct_shops,
    distinct_categories, top_categories, preferred_weekday, preferred_hour, main_channel,
    main_platform, main_market, main_region, main_country, cost_amount, gross_margin,
    window_orders, window_revenue
)
WITH orders AS (
    SELECT
        o.customer_id,
        o.order_id,
        o.order_ts,
        o.order_date,
        o.sales_amount,
        o.return_amount,
        o.n_sale_lines > 0 AS has_sale,
        o.channel,
        o.platform,
        o.market,
        o.region,
        o.country,
        o.store_id,
        %(window_start)s::date IS NULL OR o.order_date >= %(window_start)s::date AS in_window
    FROM warehouse.fact_order AS o
    WHERE o.customer_id IS NOT NULL
      AND o.order_date <= %(as_of)s::date
),
per_customer AS (
    -- grouped in the "C" collation: same groups, byte-wise sort (the modes keep the default)
    SELECT
        customer_id COLLATE "C" AS customer_id,
        count(*) FILTER (WHERE has_sale) AS frequency,
        min(order_date) FILTER (WHERE has_sale) AS first_order_date,
        max(order_date) FILTER (WHERE has_sale) AS last_order_date,
        coalesce(sum(sales_amount), 0) AS gross_revenue,
        coalesce(sum(return_amount), 0) AS returns_value,
        count(*) FILTER (WHERE return_amount > 0) AS return_orders,
        count(DISTINCT store_id) FILTER (WHERE has_sale) AS distinct_shops,
        mode() WITHIN GROUP (ORDER BY extract(isodow FROM order_ts))
            FILTER (WHERE has_sale) AS preferred_weekday,
        mode() WITHIN GROUP (ORDER BY extract(hour FROM order_ts))
            FILTER (WHERE has_sale) AS preferred_hour,
        mode() WITHIN GROUP (ORDER BY channel) FILTER (WHERE has_sale) AS main_channel,
        mode() WITHIN GROUP (ORDER BY platform) FILTER (WHERE has_sale) AS main_platform,
        mode() WITHIN GROUP (ORDER BY market) FILTER (WHERE has_sale) AS main_market,
        mode() WITHIN GROUP (ORDER BY region) FILTER (WHERE has_sale) AS main_region,
        mode() WITHIN GROUP (ORDER BY country) FILTER (WHERE has_sale) AS main_country,
        count(*) FILTER (WHERE has_sale AND in_window) AS window_orders,
        coalesce(sum(sales_amount - return_amount) FILTER (WHERE in_window), 0)
            AS window_revenue
    FROM orders
    GROUP BY 1
),
products AS (
    -- product and category measures, from the run's one pass over order lines
    SELECT
        customer_id,
        sum(products) AS distinct_products,
        sum(quantity) AS total_quantity,
        sum(cost_amount) AS cost_amount,
        sum(costed_revenue) - sum(cost_amount) AS gross_margin,
        count(*) AS distinct_categories,
        (array_agg(category ORDER BY revenue DESC, category))[1:3] AS top_categories
    FROM segwise_customer_categories
    GROUP BY customer_id
)
SELECT
    %(run_id)s,
    c.customer_id,
    %(as_of)s::date - c.last_order_date,
    c.frequency,
    c.gross_revenue - c.returns_value,
    c.gross_revenue,
    c.returns_value,
    c.return_orders,
    c.returns_value / nullif(c.gross_revenue, 0),
    c.first_order_date,
    c.last_order_date,
    %(as_of)s::date - c.first_order_date,
    c.gross_revenue / c.frequency,
    CASE WHEN c.frequency > 1
        THEN (c.last_order_date - c.first_order_date)::double precision / (c.frequency - 1)
    END,
    p.total_quantity,
    coalesce(p.distinct_products, 0),
    c.distinct_shops,
    coalesce(p.distinct_categories, 0),
    p.top_categories,
    c.preferred_weekday,
    c.preferred_hour,
    c.main_channel,
    c.main_platform,
    c.main_market,
    c.main_region,
    c.main_country,
    p.cost_amount,
    p.gross_margin,
    c.window_orders,
    c.window_revenue
FROM per_customer AS c
LEFT JOIN products AS p ON p.customer_id = c.customer_id
WHERE c.frequency > 0;
