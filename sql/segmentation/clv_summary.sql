-- Fixed SQL; params: as_of (date), unit_days (1 = days, 7 = weeks).
-- The CLV customer summary as of a date: one row per customer with a purchase on or before it.
-- A purchase is a customer-day with at least one sale line (fact_order_line.is_sale, which the
-- loader fills from the one sale rule; zero-price lines count where the mapping keeps them),
-- so several orders on one day count once. x = purchase days - 1 (repeat purchases); t_x and T
-- = days from the first purchase to the last one and to the as-of date, in the time unit.
-- monetary = mean sales of a repeat purchase day, scaled by net_ratio = net / gross sales to
-- date (0-1; returns and cancellations by the as-of date, floored at nothing left).
WITH days AS (
    SELECT l.customer_id COLLATE "C" AS customer_id, l.order_date AS day,
           sum(l.amount) AS sales
    FROM warehouse.fact_order_line AS l
    WHERE l.customer_id IS NOT NULL
      AND l.order_date <= %(as_of)s::date
      AND l.is_sale
    GROUP BY 1, 2
),
ranked AS (
    SELECT customer_id, day, sales, min(day) OVER (PARTITION BY customer_id) AS first_day
    FROM days
),
per_customer AS (
    SELECT customer_id,
           count(*) - 1 AS x,
           min(day) AS first_day,
           max(day) AS last_day,
           sum(sales) AS sales,
           coalesce(sum(sales) FILTER (WHERE day > first_day), 0) AS repeat_sales
    FROM ranked
    GROUP BY customer_id
),
returns AS (
    SELECT l.customer_id COLLATE "C" AS customer_id, -sum(l.amount) AS returns
    FROM warehouse.fact_order_line AS l
    WHERE l.customer_id IS NOT NULL
      AND l.order_date <= %(as_of)s::date
      AND l.is_return
    GROUP BY 1
)
SELECT c.customer_id,
       c.x,
       (c.last_day - c.first_day) / %(unit_days)s::double precision AS t_x,
       (%(as_of)s::date - c.first_day) / %(unit_days)s::double precision AS "T",
       CASE WHEN c.sales > 0
           THEN greatest(c.sales - coalesce(r.returns, 0), 0)::double precision / c.sales
           ELSE 1
       END AS net_ratio,
       CASE WHEN c.x > 0 AND c.sales > 0
           THEN (c.repeat_sales / c.x)::double precision
                * greatest(c.sales - coalesce(r.returns, 0), 0)::double precision / c.sales
           ELSE 0
       END AS monetary
FROM per_customer AS c
LEFT JOIN returns AS r ON r.customer_id = c.customer_id
ORDER BY c.customer_id
