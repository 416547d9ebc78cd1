-- The SQL the warehouse build runs for mapping 'food_delivery' (batch id 1).
-- Also run, with the same text for every layout:
--   sql/staging/malformed_rows.sql
--   sql/staging/rejected_rows.sql
--   sql/staging/duplicate_lines.sql
--   sql/warehouse/fact_order_line_first.sql
--   sql/warehouse/fact_order_line.sql
--   sql/warehouse/order_totals.sql
--   sql/warehouse/fact_order.sql
--   sql/warehouse/dim_keys.sql

-- order lines from source orders (line numbers: column)
-- template parts base, base_alias, final_columns, joins, pre_reject, table, x_columns, y_columns: filled by etl.ingest.sqlgen.model
-- The batch's order lines in the canonical model, before they reach the warehouse.
--   x: the base source (typed) joined to its lookups; canonical fields computed by the
--      mapping's expressions, one flag per return rule, dimension fields read from the lines.
--   y: returns made negative, gross/discount/amount defaults, the first failed check (code).
--   final: line numbers (the mapping's, the staged position within the order, or counted
--      here) and the rejection code (rejected_rows.sql fetches a rejected line's raw row).
-- staging.layer_fence() keeps each layer (x, y) a subquery of its own, so its fields are computed
-- once, not once per reference, and a large batch may be typed in parallel workers.
CREATE UNLOGGED TABLE "staging"."lines_1" AS
SELECT y._file,
       y._line,
       y._ctid,
       y."order_id",
       y."customer_id",
       y."order_ts",
       y."product_id",
       y."unit_price",
       y."channel",
       y."platform",
       y."market",
       y."country",
       y."region",
       y."store_id",
       y."is_return",
       y."quantity",
       y."gross_amount",
       y."discount_amount",
       y."amount",
       y."cost_amount",
       y."r:negative_quantity",
       y."c:city",
       y."p:product_name",
       y."p:category_l1",
       coalesce("y".quantity > 0 AND "y".unit_price > 0 AND NOT "y".is_return, false) AS is_sale,
       y._line_no AS line_no,
       y._pre_reject AS _reject
FROM (
    SELECT x._file, x._line, x._ctid, x."order_id",
           x."customer_id",
           x."order_ts",
           x."product_id",
           x."unit_price",
           x."channel",
           x."platform",
           x."market",
           x."country",
           x."region",
           x."store_id",
           coalesce(x."r:negative_quantity", false) AS is_return,
           CASE WHEN coalesce(x."r:negative_quantity", false) THEN -abs(x.quantity) ELSE x.quantity END AS quantity,
           CASE WHEN coalesce(x."r:negative_quantity", false) THEN -(abs(x.quantity) * x.unit_price) ELSE (x.quantity * x.unit_price) END AS gross_amount,
           CASE WHEN coalesce(x."r:negative_quantity", false) THEN -abs(x.discount_amount) ELSE x.discount_amount END AS discount_amount,
           CASE WHEN coalesce(x."r:negative_quantity", false) THEN (-(abs(x.quantity) * x.unit_price) + abs(x.discount_amount)) ELSE ((x.quantity * x.unit_price) - x.discount_amount) END AS amount,
           CASE WHEN coalesce(x."r:negative_quantity", false) THEN -abs(x.cost_amount) ELSE x.cost_amount END AS cost_amount,
           x.line_no AS _line_no,
           x."r:negative_quantity",
           x."c:city",
           x."p:product_name",
           x."p:category_l1", CASE WHEN x._source_reject IS NOT NULL THEN x._source_reject WHEN x.order_id IS NULL THEN 6 WHEN x.order_ts IS NULL THEN 7 WHEN x.quantity IS NULL THEN 8 WHEN x.unit_price IS NULL THEN 9 WHEN x.unit_price <= 0 THEN 10 WHEN x.line_no IS NULL THEN 11 END AS _pre_reject,
           staging.layer_fence() AS _layer
    FROM (
        SELECT "orders"._file, "orders"._line, "orders"._ctid,
               "orders"._reject AS _source_reject,
               ("orders"."order_id")::text AS "order_id",
               ('1'::numeric)::integer AS "line_no",
               ("orders"."user_id")::text AS "customer_id",
               ("orders"."order_timestamp")::timestamp AS "order_ts",
               ((CASE WHEN ((("orders"."cuisine_parent") IS NOT NULL)) THEN (concat(('cuisine:'::text)::text, ("orders"."cuisine_parent")::text)) ELSE (NULL) END))::text AS "product_id",
               ('1'::numeric)::numeric AS "quantity",
               ("orders"."basket")::numeric AS "unit_price",
               NULL::numeric AS "gross_amount",
               0::numeric AS "discount_amount",
               NULL::numeric AS "amount",
               NULL::numeric AS "cost_amount",
               NULL::text AS "channel",
               NULL::text AS "platform",
               NULL::text AS "market",
               NULL::text AS "country",
               ("orders"."city")::text AS "region",
               ("orders"."shop_id")::text AS "store_id",
               coalesce(('1'::numeric)::numeric < 0, false) AS "r:negative_quantity",
               ("orders"."city")::text AS "c:city",
               ("orders"."cuisine_parent")::text AS "p:product_name",
               ("orders"."cuisine_parent")::text AS "p:category_l1",
               staging.layer_fence() AS _layer
        FROM (-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."order_id" AS "order_id", t."_p:order_id", t."user_id" AS "user_id", t."_p:user_id", t."order_timestamp" AS "order_timestamp", t."_p:order_timestamp", t."city" AS "city", t."_p:city", t."cuisine_parent" AS "cuisine_parent", t."_p:cuisine_parent", CASE WHEN abs(t."basket") < 1e15 THEN t."basket" END AS "basket", t."_p:basket", t."shop_id" AS "shop_id", t."_p:shop_id", CASE WHEN NOT t."_p:order_id" THEN 1 WHEN NOT t."_p:order_timestamp" THEN 2 WHEN t."_p:order_timestamp" AND t."order_timestamp" IS NULL THEN 3 WHEN NOT t."_p:basket" THEN 4 WHEN t."_p:basket" AND CASE WHEN abs(t."basket") < 1e15 THEN t."basket" END IS NULL THEN 5 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, r."order_id" AS "order_id", (r."order_id" IS NOT NULL) AS "_p:order_id", staging.parse_id(r."user_id") AS "user_id", (r."user_id" IS NOT NULL) AS "_p:user_id", "_d2".p AS "order_timestamp", (r."order_timestamp" IS NOT NULL) AS "_p:order_timestamp", r."city" AS "city", (r."city" IS NOT NULL) AS "_p:city", r."cuisine_parent" AS "cuisine_parent", (r."cuisine_parent" IS NOT NULL) AS "_p:cuisine_parent", staging.parse_number(r."basket") AS "basket", (r."basket" IS NOT NULL) AS "_p:basket", r."shop_id" AS "shop_id", (r."shop_id" IS NOT NULL) AS "_p:shop_id", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_orders" AS r
    LEFT JOIN (SELECT d.v, CASE WHEN d.v ~  E'^\\s*\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,6})?)?)?(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))?\\s*$' THEN CASE WHEN d.v ~  E'(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))\\s*$' THEN (d.v::timestamptz AT TIME ZONE 'UTC') ELSE d.v::timestamp END WHEN d.v ~  E'^\\s*\\d{4}-(?:0[1-9]|1[0-2])-(?:29|30|31)(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,6})?)?)?(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))?\\s*$' THEN staging.try_timestamp(d.v, 'iso') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|1\\d|2[0-8])\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\s*$' THEN (to_timestamp(d.v, 'YYYY-MM-DD HH24:MI:SS') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|[12]\\d|3[01])\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\s*$' THEN staging.try_timestamp(d.v, 'YYYY-MM-DD HH24:MI:SS') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1\\d|2[0-8])/(?:0?[1-9]|1[0-2])/\\d{4}\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d\\s*$' THEN (to_timestamp(d.v, 'DD/MM/YYYY HH24:MI') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*(?:0?[1-9]|[12]\\d|3[01])/(?:0?[1-9]|1[0-2])/\\d{4}\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d\\s*$' THEN staging.try_timestamp(d.v, 'DD/MM/YYYY HH24:MI') END AS p FROM (SELECT DISTINCT "order_timestamp" AS v FROM "staging"."raw_1_orders") AS d) AS "_d2" ON "_d2".v = r."order_timestamp"
) AS t
) AS "orders"
        
    ) AS x
) AS y;

-- customers: rows from the order lines
SELECT "customer_id" AS "customer_id", NULL::text AS "gender", NULL::integer AS "birth_year", NULL::integer AS "age", NULL::numeric AS "income", NULL::text AS "family_status", NULL::integer AS "n_dependants", NULL::text AS "country", NULL::text AS "state", NULL::text AS "region", "c:city" AS "city", NULL::date AS "signup_date", '{}'::jsonb AS attributes, max(order_ts) AS _order, max(_file) AS _file, max(_line) AS _line FROM "staging"."lines_1" WHERE _reject IS NULL GROUP BY "customer_id", "c:city";

-- products: rows from the order lines
SELECT "product_id" AS "product_id", "p:product_name" AS "product_name", "p:category_l1" AS "category_l1", NULL::text AS "category_l2", NULL::text AS "category_l3", NULL::numeric AS "list_price", NULL::numeric AS "unit_cost", '{}'::jsonb AS attributes, max(order_ts) AS _order, max(_file) AS _file, max(_line) AS _line FROM "staging"."lines_1" WHERE _reject IS NULL GROUP BY "product_id", "p:product_name", "p:category_l1";

-- rejection codes (_reject) used above:
--   1: missing_value (order_id): order_id: empty, but required
--   2: missing_value (order_timestamp): order_timestamp: empty, but required
--   3: invalid_timestamp (order_timestamp): order_timestamp: not a date/time in format iso or %Y-%m-%d %H:%M:%S or %d/%m/%Y %H:%M
--   4: missing_value (basket): basket: empty, but required
--   5: invalid_number (basket): basket: not a number
--   6: missing_order_id (order_id): order_id: empty or not computable from 'order_id'
--   7: missing_order_ts (order_timestamp): order_ts: empty or not computable from 'order_timestamp'
--   8: missing_quantity (quantity): quantity: empty or not computable from '1'
--   9: missing_unit_price (basket): unit_price: empty or not computable from 'basket'
--   10: non_positive_price (basket): unit_price: zero or negative price
--   11: missing_line_no (line_no): line_no: empty or not computable from '1'
