-- template parts as_of, category_totals, order_totals, run_id, window_start: filled by etl.segment.features.insert_features
-- One row per customer with at least one sale on or before the as-of date (docs/segmentation.md's
-- definitions), from the per-customer totals: <order_totals> (customer_order_totals.sql's
-- columns) and <category_totals> (customer_category_totals.sql's), either the warehouse's kept
-- totals (a run for the latest date) or temporary tables computed up to the as-of date. Only
-- the tier window (orders and net revenue from <window_start> to <as_of>; NULL = all history)
-- reads orders here, through fact_order's date index.
INSERT INTO segmentation.customer_features (
    run_id, customer_id, recency_days, frequency, monetary, gross_revenue, returns_value,
    return_orders, return_rate, first_order_date, last_order_date, tenure_days, avg_order_value,
    mean_days_between_orders, total_quantity, distinct_products, distinct_shops,
    distinct_categories, top_categories, preferred_weekday, preferred_hour, main_channel,
    main_platform, main_market, main_region, main_country, cost_amount, gross_margin,
    window_orders, window_revenue
)
WITH products AS (
    SELECT
        customer_id,
        sum(products) AS distinct_products,
        sum(quantity) AS total_quantity,
        sum(cost_amount) AS cost_amount,
        sum(costed_revenue) - sum(cost_amount) AS gross_margin,
        count(*) AS distinct_categories,
        (array_agg(category ORDER BY revenue DESC, category))[1:3] AS top_categories
    FROM {category_totals}
    GROUP BY customer_id
),
tier_window AS (
    SELECT
        o.customer_id COLLATE "C" AS customer_id,
        count(*) FILTER (WHERE o.n_sale_lines > 0) AS window_orders,
        sum(o.sales_amount - o.return_amount) AS window_revenue
    FROM warehouse.fact_order AS o
    WHERE o.customer_id IS NOT NULL
      AND o.order_date BETWEEN {window_start} AND {as_of}
    GROUP BY 1
)
SELECT
    {run_id},
    c.customer_id,
    {as_of} - c.last_order_date,
    c.frequency,
    c.gross_revenue - c.returns_value,
    c.gross_revenue,
    c.returns_value,
    c.return_orders,
    c.returns_value / nullif(c.gross_revenue, 0),
    c.first_order_date,
    c.last_order_date,
    {as_of} - c.first_order_date,
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
    CASE WHEN {window_start} IS NULL THEN c.frequency ELSE coalesce(w.window_orders, 0) END,
    CASE WHEN {window_start} IS NULL THEN c.gross_revenue - c.returns_value
        ELSE coalesce(w.window_revenue, 0) END
FROM {order_totals} AS c
LEFT JOIN products AS p ON p.customer_id = c.customer_id
LEFT JOIN tier_window AS w ON w.customer_id = c.customer_id
WHERE c.frequency > 0;
