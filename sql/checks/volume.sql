-- Volume warning: order lines dated the as-of date against the daily range of the previous
-- window (days with any line), widened by a factor. Params: as_of, window_days, factor, min_days.
-- One row: (subject, observed, expected, warn); no warning without min_days of history.
WITH daily AS (
    SELECT order_date, count(*) AS lines
    FROM warehouse.fact_order_line
    WHERE order_date BETWEEN %(as_of)s::date - %(window_days)s AND %(as_of)s::date
    GROUP BY order_date
),
recent AS (
    SELECT min(lines) AS lo, max(lines) AS hi, count(*) AS days
    FROM daily
    WHERE order_date < %(as_of)s::date
),
today AS (
    SELECT coalesce((SELECT lines FROM daily WHERE order_date = %(as_of)s::date), 0) AS lines
)
SELECT
    format('order lines dated %%s', %(as_of)s::date) AS subject,
    t.lines::text AS observed,
    CASE WHEN r.days < %(min_days)s
        THEN format('a comparison needs %%s days with data in the previous %%s; found %%s',
                    %(min_days)s, %(window_days)s, r.days)
        ELSE format('%%s..%%s (daily range %%s..%%s over %%s days, widened x%%s)',
                    floor(r.lo / %(factor)s), ceil(r.hi * %(factor)s), r.lo, r.hi, r.days,
                    %(factor)s)
    END AS expected,
    r.days >= %(min_days)s
        AND (t.lines < r.lo / %(factor)s OR t.lines > r.hi * %(factor)s) AS warn
FROM today AS t
CROSS JOIN recent AS r;
