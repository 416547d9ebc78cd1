-- The SQL the warehouse build runs for mapping 'online_retail' (batch id 1).
-- Also run, with the same text for every layout:
--   sql/staging/malformed_rows.sql
--   sql/staging/rejected_rows.sql
--   sql/staging/duplicate_lines.sql
--   sql/warehouse/fact_order_line_first.sql
--   sql/warehouse/fact_order_line.sql
--   sql/warehouse/order_totals.sql
--   sql/warehouse/fact_order.sql
--   sql/warehouse/dim_keys.sql

-- order lines from source lines (line numbers: position)
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
       y."r:cancellation",
       y."r:negative_quantity",
       y."p:product_name",
       coalesce("y".quantity > 0 AND "y".unit_price > 0 AND NOT "y".is_return, false) AS is_sale,
       y._pos AS line_no,
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
           coalesce(x."r:cancellation" OR x."r:negative_quantity", false) AS is_return,
           CASE WHEN coalesce(x."r:cancellation" OR x."r:negative_quantity", false) THEN -abs(x.quantity) ELSE x.quantity END AS quantity,
           CASE WHEN coalesce(x."r:cancellation" OR x."r:negative_quantity", false) THEN -(abs(x.quantity) * x.unit_price) ELSE (x.quantity * x.unit_price) END AS gross_amount,
           CASE WHEN coalesce(x."r:cancellation" OR x."r:negative_quantity", false) THEN -abs(x.discount_amount) ELSE x.discount_amount END AS discount_amount,
           CASE WHEN coalesce(x."r:cancellation" OR x."r:negative_quantity", false) THEN (-(abs(x.quantity) * x.unit_price) + abs(x.discount_amount)) ELSE ((x.quantity * x.unit_price) - x.discount_amount) END AS amount,
           CASE WHEN coalesce(x."r:cancellation" OR x."r:negative_quantity", false) THEN -abs(x.cost_amount) ELSE x.cost_amount END AS cost_amount,
           x.line_no AS _line_no,
           x."_pos",
           x."r:cancellation",
           x."r:negative_quantity",
           x."p:product_name", CASE WHEN x._source_reject IS NOT NULL THEN x._source_reject WHEN x.order_id IS NULL THEN 10 WHEN x.order_ts IS NULL THEN 11 WHEN x.quantity IS NULL THEN 12 WHEN x.unit_price IS NULL THEN 13 WHEN x.unit_price <= 0 THEN 14 END AS _pre_reject,
           staging.layer_fence() AS _layer
    FROM (
        SELECT "lines"._file, "lines"._line, "lines"._ctid,
               "lines"._reject AS _source_reject,
               "lines"."_pos",
               ("lines"."InvoiceNo")::text AS "order_id",
               NULL::integer AS "line_no",
               ("lines"."CustomerID")::text AS "customer_id",
               ("lines"."InvoiceDate")::timestamp AS "order_ts",
               ("lines"."StockCode")::text AS "product_id",
               ("lines"."Quantity")::numeric AS "quantity",
               ("lines"."UnitPrice")::numeric AS "unit_price",
               NULL::numeric AS "gross_amount",
               0::numeric AS "discount_amount",
               NULL::numeric AS "amount",
               NULL::numeric AS "cost_amount",
               NULL::text AS "channel",
               NULL::text AS "platform",
               NULL::text AS "market",
               ("lines"."Country")::text AS "country",
               NULL::text AS "region",
               NULL::text AS "store_id",
               coalesce((starts_with(("lines"."InvoiceNo")::text, ('C'::text)::text))::boolean, false) AS "r:cancellation",
               coalesce(("lines"."Quantity")::numeric < 0, false) AS "r:negative_quantity",
               ("lines"."Description")::text AS "p:product_name",
               staging.layer_fence() AS _layer
        FROM (-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."InvoiceNo" AS "InvoiceNo", t."_p:InvoiceNo", t."StockCode" AS "StockCode", t."_p:StockCode", t."Description" AS "Description", t."_p:Description", t."Quantity" AS "Quantity", t."_p:Quantity", t."InvoiceDate" AS "InvoiceDate", t."_p:InvoiceDate", CASE WHEN abs(t."UnitPrice") < 1e15 THEN t."UnitPrice" END AS "UnitPrice", t."_p:UnitPrice", t."CustomerID" AS "CustomerID", t."_p:CustomerID", t."Country" AS "Country", t."_p:Country", t."_pos", CASE WHEN NOT t."_p:InvoiceNo" THEN 1 WHEN NOT t."_p:StockCode" THEN 2 WHEN NOT t."_p:Quantity" THEN 3 WHEN t."_p:Quantity" AND t."Quantity" IS NULL AND t."_n:Quantity" = trunc(t."_n:Quantity") THEN 4 WHEN t."_p:Quantity" AND t."Quantity" IS NULL THEN 5 WHEN NOT t."_p:InvoiceDate" THEN 6 WHEN t."_p:InvoiceDate" AND t."InvoiceDate" IS NULL THEN 7 WHEN NOT t."_p:UnitPrice" THEN 8 WHEN t."_p:UnitPrice" AND CASE WHEN abs(t."UnitPrice") < 1e15 THEN t."UnitPrice" END IS NULL THEN 9 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, r."InvoiceNo" AS "InvoiceNo", (r."InvoiceNo" IS NOT NULL) AS "_p:InvoiceNo", r."StockCode" AS "StockCode", (r."StockCode" IS NOT NULL) AS "_p:StockCode", r."Description" AS "Description", (r."Description" IS NOT NULL) AS "_p:Description", staging.parse_integer(r."Quantity") AS "Quantity", (r."Quantity" IS NOT NULL) AS "_p:Quantity", staging.parse_number(r."Quantity") AS "_n:Quantity", "_d4".p AS "InvoiceDate", (r."InvoiceDate" IS NOT NULL) AS "_p:InvoiceDate", staging.parse_number(r."UnitPrice") AS "UnitPrice", (r."UnitPrice" IS NOT NULL) AS "_p:UnitPrice", staging.parse_id(r."CustomerID") AS "CustomerID", (r."CustomerID" IS NOT NULL) AS "_p:CustomerID", r."Country" AS "Country", (r."Country" IS NOT NULL) AS "_p:Country", r."_pos", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_lines" AS r
    LEFT JOIN (SELECT d.v, CASE WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|1\\d|2[0-8])/\\d{4}\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d\\s*$' THEN (to_timestamp(d.v, 'MM/DD/YYYY HH24:MI') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\\d|3[01])/\\d{4}\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d\\s*$' THEN staging.try_timestamp(d.v, 'MM/DD/YYYY HH24:MI') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|1\\d|2[0-8])/\\d{4}\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\s*$' THEN (to_timestamp(d.v, 'MM/DD/YYYY HH24:MI:SS') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\\d|3[01])/\\d{4}\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\s*$' THEN staging.try_timestamp(d.v, 'MM/DD/YYYY HH24:MI:SS') WHEN d.v ~  E'^\\s*\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,6})?)?)?(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))?\\s*$' THEN CASE WHEN d.v ~  E'(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))\\s*$' THEN (d.v::timestamptz AT TIME ZONE 'UTC') ELSE d.v::timestamp END WHEN d.v ~  E'^\\s*\\d{4}-(?:0[1-9]|1[0-2])-(?:29|30|31)(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,6})?)?)?(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))?\\s*$' THEN staging.try_timestamp(d.v, 'iso') END AS p FROM (SELECT DISTINCT "InvoiceDate" AS v FROM "staging"."raw_1_lines") AS d) AS "_d4" ON "_d4".v = r."InvoiceDate"
) AS t
) AS "lines"
        
    ) AS x
) AS y;

-- customers: rows from the order lines
SELECT "customer_id" AS "customer_id", NULL::text AS "gender", NULL::integer AS "birth_year", NULL::integer AS "age", NULL::numeric AS "income", NULL::text AS "family_status", NULL::integer AS "n_dependants", "country" AS "country", NULL::text AS "state", NULL::text AS "region", NULL::text AS "city", NULL::date AS "signup_date", '{}'::jsonb AS attributes, max(order_ts) AS _order, max(_file) AS _file, max(_line) AS _line FROM "staging"."lines_1" WHERE _reject IS NULL GROUP BY "customer_id", "country";

-- products: rows from the order lines
SELECT "product_id" AS "product_id", "p:product_name" AS "product_name", NULL::text AS "category_l1", NULL::text AS "category_l2", NULL::text AS "category_l3", NULL::numeric AS "list_price", NULL::numeric AS "unit_cost", '{}'::jsonb AS attributes, max(order_ts) AS _order, max(_file) AS _file, max(_line) AS _line FROM "staging"."lines_1" WHERE _reject IS NULL GROUP BY "product_id", "p:product_name";

-- rejection codes (_reject) used above:
--   1: missing_value (InvoiceNo): InvoiceNo: empty, but required
--   2: missing_value (StockCode): StockCode: empty, but required
--   3: missing_value (Quantity): Quantity: empty, but required
--   4: integer_out_of_range (Quantity): Quantity: a whole number outside the integer range -2147483648..2147483647
--   5: invalid_integer (Quantity): Quantity: not an integer
--   6: missing_value (InvoiceDate): InvoiceDate: empty, but required
--   7: invalid_timestamp (InvoiceDate): InvoiceDate: not a date/time in format %m/%d/%Y %H:%M or %m/%d/%Y %H:%M:%S or iso
--   8: missing_value (UnitPrice): UnitPrice: empty, but required
--   9: invalid_number (UnitPrice): UnitPrice: not a number
--   10: missing_order_id (InvoiceNo): order_id: empty or not computable from 'InvoiceNo'
--   11: missing_order_ts (InvoiceDate): order_ts: empty or not computable from 'InvoiceDate'
--   12: missing_quantity (Quantity): quantity: empty or not computable from 'Quantity'
--   13: missing_unit_price (UnitPrice): unit_price: empty or not computable from 'UnitPrice'
--   14: non_positive_price (UnitPrice): unit_price: zero or negative price
