-- template parts as_of, lines, orders: filled by etl.segment.customer_state.channel_totals
-- Per customer and value of channel, platform, market, region and country: the customer's
-- orders of <orders> (see customer_order_totals.sql) with a sale or a return there, reduced to
-- one row per customer and value (what the channel profiles add up per segment). Money that
-- fact_order does not carry (list price, discounts, cost) comes from the orders' sale lines
-- (<lines>: warehouse.fact_order_line, or the build's copy of just those orders' lines) dated up
-- to <as_of> ('infinity' for the kept totals).
--   orders       = orders with a sale
--   revenue      = sales minus returns (fact_order), sales = fact_order.sales_amount
--   gross_margin = amount minus cost over sale lines with a cost; costed_sales = their amount
WITH orders AS (
    {orders}
),
line_money AS (
    SELECT
        l.order_id,
        sum(l.gross_amount) AS list_sales,
        sum(l.discount_amount) AS discounts,
        sum(l.amount) FILTER (WHERE l.cost_amount IS NOT NULL) AS costed_sales,
        sum(l.amount - l.cost_amount) AS gross_margin
    FROM orders AS o
    JOIN {lines} AS l ON l.order_id = o.order_id
    WHERE l.is_sale
      AND l.order_date <= {as_of}
    GROUP BY l.order_id
),
order_values AS (
    SELECT
        o.customer_id COLLATE "C" AS customer_id,
        o.n_sale_lines > 0 AS has_sale,
        o.sales_amount - o.return_amount AS revenue,
        o.sales_amount AS sales,
        coalesce(m.list_sales, 0) AS list_sales,
        coalesce(m.discounts, 0) AS discounts,
        m.costed_sales,
        m.gross_margin,
        coalesce(nullif(btrim(o.channel), ''), 'unknown') AS channel,
        coalesce(nullif(btrim(o.platform), ''), 'unknown') AS platform,
        coalesce(nullif(btrim(o.market), ''), 'unknown') AS market,
        coalesce(nullif(btrim(o.region), ''), 'unknown') AS region,
        coalesce(nullif(btrim(o.country), ''), 'unknown') AS country
    FROM orders AS o
    LEFT JOIN line_money AS m ON m.order_id = o.order_id
    WHERE o.n_sale_lines > 0 OR o.return_amount <> 0
)
SELECT
    customer_id,
    CASE
        WHEN GROUPING(channel) = 0 THEN 'channel'
        WHEN GROUPING(platform) = 0 THEN 'platform'
        WHEN GROUPING(market) = 0 THEN 'market'
        WHEN GROUPING(region) = 0 THEN 'region'
        ELSE 'country'
    END AS dimension,
    coalesce(channel, platform, market, region, country) AS value,
    count(*) FILTER (WHERE has_sale) AS orders,
    sum(revenue) AS revenue,
    sum(sales) AS sales,
    sum(list_sales) AS list_sales,
    sum(discounts) AS discounts,
    sum(costed_sales) AS costed_sales,
    sum(gross_margin) AS gross_margin
FROM order_values
GROUP BY GROUPING SETS (
    (customer_id, channel),
    (customer_id, platform),
    (customer_id, market),
    (customer_id, region),
    (customer_id, country)
)
