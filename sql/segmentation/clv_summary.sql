-- parameters as_of, unit_days: bound by psycopg in etl.segment.clv_run.read_summary
-- The CLV customer summary as of a date: one row per customer with a purchase on or before it.
-- A purchase is a customer-day with at least one sale line (an order with n_sale_lines > 0;
-- fact_order's sales and returns are its lines' totals by the one sale rule, is_sale, so
-- zero-price lines count where the mapping keeps them), so several orders on one day count once.
-- x = purchase days - 1 (repeat purchases); t_x and T = days from the first purchase to the last
-- one and to the as-of date, in the time unit. monetary = mean sales of a repeat purchase day,
-- scaled by net_ratio = net / gross sales to date (0-1; returns and cancellations by the as-of
-- date, floored at nothing left).
-- Read from fact_order (a third of the lines) in two GROUP BYs, customer-day then customer, no
-- window; clv_run.read_summary plans it with sorts (hash tables of millions of customer-days
-- were 2-3x slower at 1M customers). Sums in double precision: the model's inputs, not money
-- to report. The first day's sales come from min(ARRAY[day, sales]) (its smallest day wins).
WITH days AS (
    SELECT o.customer_id COLLATE "C" AS customer_id, o.order_date AS day,
           sum(o.sales_amount::double precision) FILTER (WHERE o.n_sale_lines > 0) AS sales,
           sum(o.return_amount::double precision) AS returns
    FROM warehouse.fact_order AS o
    WHERE o.customer_id IS NOT NULL
      AND o.order_date <= %(as_of)s::date
    GROUP BY 1, 2
),
per_customer AS (
    SELECT customer_id,
           count(sales) - 1 AS x,
           min(day) FILTER (WHERE sales IS NOT NULL) AS first_day,
           max(day) FILTER (WHERE sales IS NOT NULL) AS last_day,
           sum(sales) AS sales,
           (min(ARRAY[(day - date '2000-01-01')::double precision, sales])
               FILTER (WHERE sales IS NOT NULL))[2] AS first_sales,
           sum(returns) AS returns
    FROM days
    GROUP BY customer_id
    HAVING count(sales) > 0
)
SELECT c.customer_id,
       c.x,
       (c.last_day - c.first_day) / %(unit_days)s::double precision AS t_x,
       (%(as_of)s::date - c.first_day) / %(unit_days)s::double precision AS "T",
       CASE WHEN c.sales > 0 THEN greatest(c.sales - c.returns, 0) / c.sales ELSE 1 END
           AS net_ratio,
       CASE WHEN c.x > 0 AND c.sales > 0
           THEN (c.sales - c.first_sales) / c.x * greatest(c.sales - c.returns, 0) / c.sales
           ELSE 0
       END AS monetary
FROM per_customer AS c
