-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.invoice_monthly_status: placed and cancelled invoices per calendar month, all loaded data.
CREATE OR REPLACE VIEW mart.invoice_monthly_status AS
SELECT
    date_trunc('month', o.order_date)::date AS month,
    count(*) FILTER (WHERE o.n_sale_lines > 0) AS invoices_placed,
    count(*) FILTER (WHERE o.is_return) AS invoices_cancelled,
    count(*) FILTER (WHERE o.n_sale_lines > 0 AND o.customer_id IS NOT NULL)
        AS invoices_placed_with_customer,
    coalesce(sum(o.sales_amount), 0) AS value_placed,
    coalesce(sum(o.return_amount) FILTER (WHERE o.is_return), 0) AS value_cancelled,
    count(DISTINCT o.customer_id) FILTER (WHERE o.n_sale_lines > 0) AS customers_placing,
    count(DISTINCT o.customer_id) FILTER (WHERE o.is_return) AS customers_cancelling,
    (count(*) FILTER (WHERE o.is_return))::double precision
        / nullif(count(*) FILTER (WHERE o.n_sale_lines > 0), 0) AS cancelled_per_placed
FROM warehouse.fact_order AS o
GROUP BY 1;

COMMENT ON VIEW mart.invoice_monthly_status IS
    'Invoices placed and cancelled per calendar month over all loaded orders (with or without a '
    'customer id).';
COMMENT ON COLUMN mart.invoice_monthly_status.month IS 'First day of the calendar month.';
COMMENT ON COLUMN mart.invoice_monthly_status.invoices_placed IS
    'Invoices with at least one sale line (quantity > 0, price > 0, not a return).';
COMMENT ON COLUMN mart.invoice_monthly_status.invoices_cancelled IS
    'Invoices whose every line is a return or cancellation (e.g. Online Retail''s C invoices).';
COMMENT ON COLUMN mart.invoice_monthly_status.invoices_placed_with_customer IS
    'Placed invoices that carry a customer id (the ones segmentation uses).';
COMMENT ON COLUMN mart.invoice_monthly_status.value_placed IS 'Sales of the placed invoices.';
COMMENT ON COLUMN mart.invoice_monthly_status.value_cancelled IS
    'Value of the cancelled invoices, as a positive number.';
COMMENT ON COLUMN mart.invoice_monthly_status.customers_placing IS 'Distinct customers placing.';
COMMENT ON COLUMN mart.invoice_monthly_status.customers_cancelling IS 'Distinct customers cancelling.';
COMMENT ON COLUMN mart.invoice_monthly_status.cancelled_per_placed IS
    'invoices_cancelled / invoices_placed.';
