-- template parts batch_id, scope, totals: filled by etl.ingest.sqlgen.model
-- One row per order the batch touched, recomputed from all of its lines in the warehouse (an
-- order's lines may arrive in several batches). <scope> selects those orders' lines.
-- A sale line: l.is_sale (filled by the loader, etl.ingest.sqlgen.is_sale). return_amount is
-- positive.
-- CREATE TABLE AS, unlike INSERT, may scan and aggregate the lines in parallel workers;
-- fact_order.sql then upserts these (~20x fewer) rows. An order's lines share these text
-- fields (min() picks one when they do not): compared bytewise ("C"), not with the locale.
CREATE TEMP TABLE {totals} ON COMMIT DROP AS
SELECT l.order_id,
       min(l.customer_id COLLATE "C") AS customer_id,
       min(l.order_ts) AS order_ts,
       min(l.order_ts)::date AS order_date,
       count(*) AS n_lines,
       count(*) FILTER (WHERE l.is_sale) AS n_sale_lines,
       sum(l.quantity) AS quantity,
       sum(l.gross_amount) AS gross_amount,
       sum(l.discount_amount) AS discount_amount,
       coalesce(sum(l.amount) FILTER (WHERE l.is_sale), 0) AS sales_amount,
       coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0) AS return_amount,
       coalesce(sum(l.amount) FILTER (WHERE l.is_sale), 0)
           - coalesce(-sum(l.amount) FILTER (WHERE l.is_return), 0) AS net_amount,
       sum(l.cost_amount) AS cost_amount,
       bool_and(l.is_return) AS is_return,
       min(l.channel COLLATE "C") AS channel,
       min(l.platform COLLATE "C") AS platform,
       min(l.market COLLATE "C") AS market,
       min(l.country COLLATE "C") AS country,
       min(l.region COLLATE "C") AS region,
       min(l.store_id COLLATE "C") AS store_id,
       {batch_id} AS batch_id
FROM warehouse.fact_order_line AS l
WHERE {scope}
GROUP BY l.order_id
