-- Fixed SQL; params: calibration_end, holdout_end (dates).
-- Actual purchases in the backtest's holdout (calibration_end, holdout_end]: purchase days per
-- customer, with a purchase defined as in clv_summary.sql (a customer-day with a sale line).
SELECT l.customer_id COLLATE "C" AS customer_id, count(DISTINCT l.order_date) AS actual
FROM warehouse.fact_order_line AS l
WHERE l.customer_id IS NOT NULL
  AND l.order_date > %(calibration_end)s::date
  AND l.order_date <= %(holdout_end)s::date
  AND l.is_sale
GROUP BY 1
