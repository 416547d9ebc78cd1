-- template parts orders: filled by etl.segment.customer_state.order_totals
-- Order-level totals per customer over <orders>: fact_order rows with a customer id, either all
-- of them up to a run's as-of date (a backfill) or every order of the customers a batch touched
-- (warehouse.customer_order_totals, kept by the build). One row per customer with an order,
-- including customers with returns only (frequency 0). Definitions: docs/segmentation.md.
-- Grouped in the "C" collation: the same groups, byte-wise sort (the modes keep the default).
WITH orders AS (
    {orders}
)
SELECT
    o.customer_id COLLATE "C" AS customer_id,
    count(*) FILTER (WHERE o.n_sale_lines > 0) AS frequency,
    min(o.order_date) FILTER (WHERE o.n_sale_lines > 0) AS first_order_date,
    max(o.order_date) FILTER (WHERE o.n_sale_lines > 0) AS last_order_date,
    coalesce(sum(o.sales_amount), 0) AS gross_revenue,
    coalesce(sum(o.return_amount), 0) AS returns_value,
    count(*) FILTER (WHERE o.return_amount > 0) AS return_orders,
    count(DISTINCT o.store_id) FILTER (WHERE o.n_sale_lines > 0) AS distinct_shops,
    mode() WITHIN GROUP (ORDER BY extract(isodow FROM o.order_ts))
        FILTER (WHERE o.n_sale_lines > 0) AS preferred_weekday,
    mode() WITHIN GROUP (ORDER BY extract(hour FROM o.order_ts))
        FILTER (WHERE o.n_sale_lines > 0) AS preferred_hour,
    mode() WITHIN GROUP (ORDER BY o.channel) FILTER (WHERE o.n_sale_lines > 0) AS main_channel,
    mode() WITHIN GROUP (ORDER BY o.platform) FILTER (WHERE o.n_sale_lines > 0) AS main_platform,
    mode() WITHIN GROUP (ORDER BY o.market) FILTER (WHERE o.n_sale_lines > 0) AS main_market,
    mode() WITHIN GROUP (ORDER BY o.region) FILTER (WHERE o.n_sale_lines > 0) AS main_region,
    mode() WITHIN GROUP (ORDER BY o.country) FILTER (WHERE o.n_sale_lines > 0) AS main_country
FROM orders AS o
GROUP BY 1
