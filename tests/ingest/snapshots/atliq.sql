-- The SQL the warehouse build runs for mapping 'atliq' (batch id 1).
-- Also run, with the same text for every layout:
--   sql/staging/malformed_rows.sql
--   sql/staging/rejected_rows.sql
--   sql/staging/duplicate_lines.sql
--   sql/warehouse/fact_order_line_first.sql
--   sql/warehouse/fact_order_line.sql
--   sql/warehouse/order_totals.sql
--   sql/warehouse/fact_order.sql
--   sql/warehouse/dim_keys.sql

-- source gross_price: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_gross_price" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."product_code" AS "product_code", t."_p:product_code", t."fiscal_year" AS "fiscal_year", t."_p:fiscal_year", CASE WHEN abs(t."gross_price") < 1e15 THEN t."gross_price" END AS "gross_price", t."_p:gross_price", CASE WHEN NOT t."_p:product_code" THEN 1 WHEN NOT t."_p:fiscal_year" THEN 2 WHEN t."_p:fiscal_year" AND t."fiscal_year" IS NULL AND t."_n:fiscal_year" = trunc(t."_n:fiscal_year") THEN 3 WHEN t."_p:fiscal_year" AND t."fiscal_year" IS NULL THEN 4 WHEN NOT t."_p:gross_price" THEN 5 WHEN t."_p:gross_price" AND CASE WHEN abs(t."gross_price") < 1e15 THEN t."gross_price" END IS NULL THEN 6 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."product_code") AS "product_code", (r."product_code" IS NOT NULL) AS "_p:product_code", staging.parse_integer(r."fiscal_year") AS "fiscal_year", (r."fiscal_year" IS NOT NULL) AS "_p:fiscal_year", staging.parse_number(r."fiscal_year") AS "_n:fiscal_year", staging.parse_number(r."gross_price") AS "gross_price", (r."gross_price" IS NOT NULL) AS "_p:gross_price", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_gross_price" AS r
    
) AS t;

-- source pre_discount: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_pre_discount" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."customer_code" AS "customer_code", t."_p:customer_code", t."fiscal_year" AS "fiscal_year", t."_p:fiscal_year", CASE WHEN abs(t."pre_invoice_discount_pct") < 1e15 THEN t."pre_invoice_discount_pct" END AS "pre_invoice_discount_pct", t."_p:pre_invoice_discount_pct", CASE WHEN NOT t."_p:customer_code" THEN 7 WHEN NOT t."_p:fiscal_year" THEN 8 WHEN t."_p:fiscal_year" AND t."fiscal_year" IS NULL AND t."_n:fiscal_year" = trunc(t."_n:fiscal_year") THEN 9 WHEN t."_p:fiscal_year" AND t."fiscal_year" IS NULL THEN 10 WHEN NOT t."_p:pre_invoice_discount_pct" THEN 11 WHEN t."_p:pre_invoice_discount_pct" AND CASE WHEN abs(t."pre_invoice_discount_pct") < 1e15 THEN t."pre_invoice_discount_pct" END IS NULL THEN 12 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."customer_code") AS "customer_code", (r."customer_code" IS NOT NULL) AS "_p:customer_code", staging.parse_integer(r."fiscal_year") AS "fiscal_year", (r."fiscal_year" IS NOT NULL) AS "_p:fiscal_year", staging.parse_number(r."fiscal_year") AS "_n:fiscal_year", staging.parse_number(r."pre_invoice_discount_pct") AS "pre_invoice_discount_pct", (r."pre_invoice_discount_pct" IS NOT NULL) AS "_p:pre_invoice_discount_pct", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_pre_discount" AS r
    
) AS t;

-- source manufacturing_cost: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_manufacturing_cost" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."product_code" AS "product_code", t."_p:product_code", t."cost_year" AS "cost_year", t."_p:cost_year", CASE WHEN abs(t."manufacturing_cost") < 1e15 THEN t."manufacturing_cost" END AS "manufacturing_cost", t."_p:manufacturing_cost", CASE WHEN NOT t."_p:product_code" THEN 13 WHEN NOT t."_p:cost_year" THEN 14 WHEN t."_p:cost_year" AND t."cost_year" IS NULL AND t."_n:cost_year" = trunc(t."_n:cost_year") THEN 15 WHEN t."_p:cost_year" AND t."cost_year" IS NULL THEN 16 WHEN NOT t."_p:manufacturing_cost" THEN 17 WHEN t."_p:manufacturing_cost" AND CASE WHEN abs(t."manufacturing_cost") < 1e15 THEN t."manufacturing_cost" END IS NULL THEN 18 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."product_code") AS "product_code", (r."product_code" IS NOT NULL) AS "_p:product_code", staging.parse_integer(r."cost_year") AS "cost_year", (r."cost_year" IS NOT NULL) AS "_p:cost_year", staging.parse_number(r."cost_year") AS "_n:cost_year", staging.parse_number(r."manufacturing_cost") AS "manufacturing_cost", (r."manufacturing_cost" IS NOT NULL) AS "_p:manufacturing_cost", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_manufacturing_cost" AS r
    
) AS t;

-- source customers: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_customers" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."customer_code" AS "customer_code", t."_p:customer_code", t."customer" AS "customer", t."_p:customer", t."platform" AS "platform", t."_p:platform", t."channel" AS "channel", t."_p:channel", t."market" AS "market", t."_p:market", t."sub_zone" AS "sub_zone", t."_p:sub_zone", t."region" AS "region", t."_p:region", CASE WHEN NOT t."_p:customer_code" THEN 19 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."customer_code") AS "customer_code", (r."customer_code" IS NOT NULL) AS "_p:customer_code", r."customer" AS "customer", (r."customer" IS NOT NULL) AS "_p:customer", r."platform" AS "platform", (r."platform" IS NOT NULL) AS "_p:platform", r."channel" AS "channel", (r."channel" IS NOT NULL) AS "_p:channel", r."market" AS "market", (r."market" IS NOT NULL) AS "_p:market", r."sub_zone" AS "sub_zone", (r."sub_zone" IS NOT NULL) AS "_p:sub_zone", r."region" AS "region", (r."region" IS NOT NULL) AS "_p:region", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_customers" AS r
    
) AS t;

-- source products: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_products" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."product_code" AS "product_code", t."_p:product_code", t."division" AS "division", t."_p:division", t."segment" AS "segment", t."_p:segment", t."category" AS "category", t."_p:category", t."product" AS "product", t."_p:product", t."variant" AS "variant", t."_p:variant", CASE WHEN NOT t."_p:product_code" THEN 20 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."product_code") AS "product_code", (r."product_code" IS NOT NULL) AS "_p:product_code", r."division" AS "division", (r."division" IS NOT NULL) AS "_p:division", r."segment" AS "segment", (r."segment" IS NOT NULL) AS "_p:segment", r."category" AS "category", (r."category" IS NOT NULL) AS "_p:category", r."product" AS "product", (r."product" IS NOT NULL) AS "_p:product", r."variant" AS "variant", (r."variant" IS NOT NULL) AS "_p:variant", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_products" AS r
    
) AS t;

-- customers: from source customers (warehouse/dim_upsert.sql)
-- template parts alias, assignments, batch_id, current, fields, kept, key, rows, table: filled by etl.ingest.warehouse_models.dim_upsert
-- Fields: mapping.CUSTOMER_FIELDS or mapping.PRODUCT_FIELDS.
-- Upsert a dimension (<table>: warehouse.dim_customer or dim_product): one row per <key> from
-- <rows> (the latest row of the batch wins). A field the batch leaves empty keeps its earlier
-- value; attributes are merged; an unchanged row is not rewritten (a daily full export of the
-- customers rewrites nothing and counts no updates). <fields>: the dimension's fields but the
-- key; <kept>: each one's new value, or the old one when the batch has none.
WITH written AS (
    INSERT INTO warehouse.dim_customer AS d (customer_id, gender, birth_year, age, income, family_status, n_dependants, country, state, region, city, signup_date, attributes, batch_id, updated_at)
    SELECT DISTINCT ON (customer_id COLLATE "C")
           customer_id, gender, birth_year, age, income, family_status, n_dependants, country, state, region, city, signup_date, attributes, 1, now()
    FROM (SELECT ("customers"."customer_code")::text AS "customer_id", NULL::text AS "gender", NULL::integer AS "birth_year", NULL::integer AS "age", NULL::numeric AS "income", NULL::text AS "family_status", NULL::integer AS "n_dependants", ("customers"."market")::text AS "country", NULL::text AS "state", ("customers"."region")::text AS "region", NULL::text AS "city", NULL::date AS "signup_date", jsonb_strip_nulls(jsonb_build_object('customer', "customers"."customer", 'platform', "customers"."platform", 'channel', "customers"."channel", 'sub_zone', "customers"."sub_zone")) AS "attributes", 0 AS _order, "customers"._file, "customers"._line FROM "segwise_typed_customers" AS "customers"  WHERE "customers"._reject IS NULL) AS c
    WHERE customer_id IS NOT NULL
    ORDER BY customer_id COLLATE "C", _order DESC, _file DESC, _line DESC
    ON CONFLICT (customer_id) DO UPDATE SET
        gender = coalesce(EXCLUDED.gender, d.gender), birth_year = coalesce(EXCLUDED.birth_year, d.birth_year), age = coalesce(EXCLUDED.age, d.age), income = coalesce(EXCLUDED.income, d.income), family_status = coalesce(EXCLUDED.family_status, d.family_status), n_dependants = coalesce(EXCLUDED.n_dependants, d.n_dependants), country = coalesce(EXCLUDED.country, d.country), state = coalesce(EXCLUDED.state, d.state), region = coalesce(EXCLUDED.region, d.region), city = coalesce(EXCLUDED.city, d.city), signup_date = coalesce(EXCLUDED.signup_date, d.signup_date),
        attributes = d.attributes || EXCLUDED.attributes,
        batch_id = EXCLUDED.batch_id,
        updated_at = now()
    WHERE coalesce(d.batch_id, 0) <= EXCLUDED.batch_id  -- an older batch never overwrites
      AND (d.gender, d.birth_year, d.age, d.income, d.family_status, d.n_dependants, d.country, d.state, d.region, d.city, d.signup_date, d.attributes)
          IS DISTINCT FROM
          (coalesce(EXCLUDED.gender, d.gender), coalesce(EXCLUDED.birth_year, d.birth_year), coalesce(EXCLUDED.age, d.age), coalesce(EXCLUDED.income, d.income), coalesce(EXCLUDED.family_status, d.family_status), coalesce(EXCLUDED.n_dependants, d.n_dependants), coalesce(EXCLUDED.country, d.country), coalesce(EXCLUDED.state, d.state), coalesce(EXCLUDED.region, d.region), coalesce(EXCLUDED.city, d.city), coalesce(EXCLUDED.signup_date, d.signup_date), d.attributes || EXCLUDED.attributes)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

-- products: from source products (warehouse/dim_upsert.sql)
-- template parts alias, assignments, batch_id, current, fields, kept, key, rows, table: filled by etl.ingest.warehouse_models.dim_upsert
-- Fields: mapping.CUSTOMER_FIELDS or mapping.PRODUCT_FIELDS.
-- Upsert a dimension (<table>: warehouse.dim_customer or dim_product): one row per <key> from
-- <rows> (the latest row of the batch wins). A field the batch leaves empty keeps its earlier
-- value; attributes are merged; an unchanged row is not rewritten (a daily full export of the
-- customers rewrites nothing and counts no updates). <fields>: the dimension's fields but the
-- key; <kept>: each one's new value, or the old one when the batch has none.
WITH written AS (
    INSERT INTO warehouse.dim_product AS d (product_id, product_name, category_l1, category_l2, category_l3, list_price, unit_cost, attributes, batch_id, updated_at)
    SELECT DISTINCT ON (product_id COLLATE "C")
           product_id, product_name, category_l1, category_l2, category_l3, list_price, unit_cost, attributes, 1, now()
    FROM (SELECT ("products"."product_code")::text AS "product_id", ("products"."product")::text AS "product_name", ("products"."division")::text AS "category_l1", ("products"."segment")::text AS "category_l2", ("products"."category")::text AS "category_l3", NULL::numeric AS "list_price", NULL::numeric AS "unit_cost", jsonb_strip_nulls(jsonb_build_object('variant', "products"."variant")) AS "attributes", 0 AS _order, "products"._file, "products"._line FROM "segwise_typed_products" AS "products"  WHERE "products"._reject IS NULL) AS p
    WHERE product_id IS NOT NULL
    ORDER BY product_id COLLATE "C", _order DESC, _file DESC, _line DESC
    ON CONFLICT (product_id) DO UPDATE SET
        product_name = coalesce(EXCLUDED.product_name, d.product_name), category_l1 = coalesce(EXCLUDED.category_l1, d.category_l1), category_l2 = coalesce(EXCLUDED.category_l2, d.category_l2), category_l3 = coalesce(EXCLUDED.category_l3, d.category_l3), list_price = coalesce(EXCLUDED.list_price, d.list_price), unit_cost = coalesce(EXCLUDED.unit_cost, d.unit_cost),
        attributes = d.attributes || EXCLUDED.attributes,
        batch_id = EXCLUDED.batch_id,
        updated_at = now()
    WHERE coalesce(d.batch_id, 0) <= EXCLUDED.batch_id  -- an older batch never overwrites
      AND (d.product_name, d.category_l1, d.category_l2, d.category_l3, d.list_price, d.unit_cost, d.attributes)
          IS DISTINCT FROM
          (coalesce(EXCLUDED.product_name, d.product_name), coalesce(EXCLUDED.category_l1, d.category_l1), coalesce(EXCLUDED.category_l2, d.category_l2), coalesce(EXCLUDED.category_l3, d.category_l3), coalesce(EXCLUDED.list_price, d.list_price), coalesce(EXCLUDED.unit_cost, d.unit_cost), d.attributes || EXCLUDED.attributes)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

-- order lines from source sales (line numbers: window)
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
       coalesce("y".quantity > 0 AND "y".unit_price > 0 AND NOT "y".is_return, false) AS is_sale,
       row_number() OVER (PARTITION BY y.order_id COLLATE "C" ORDER BY y._file, y._line)::integer AS line_no,
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
           x."r:negative_quantity", CASE WHEN x._source_reject IS NOT NULL THEN x._source_reject WHEN x.order_id IS NULL THEN 30 WHEN x.order_ts IS NULL THEN 31 WHEN x.quantity IS NULL THEN 32 WHEN x.unit_price IS NULL THEN 33 WHEN x.unit_price <= 0 THEN 34 WHEN x.discount_amount IS NULL THEN 35 END AS _pre_reject,
           staging.layer_fence() AS _layer
    FROM (
        SELECT "sales"._file, "sales"._line, "sales"._ctid,
               "sales"._reject AS _source_reject,
               (concat(("sales"."customer_code")::text, (':'::text)::text, ("sales"."date")::text))::text AS "order_id",
               NULL::integer AS "line_no",
               ("sales"."customer_code")::text AS "customer_id",
               ("sales"."date")::timestamp AS "order_ts",
               ("sales"."product_code")::text AS "product_id",
               ("sales"."sold_quantity")::numeric AS "quantity",
               ("gross_price"."gross_price")::numeric AS "unit_price",
               NULL::numeric AS "gross_amount",
               ((((("sales"."sold_quantity") * ("gross_price"."gross_price"))) * (coalesce("pre_discount"."pre_invoice_discount_pct", '0'::numeric))))::numeric AS "discount_amount",
               NULL::numeric AS "amount",
               ((("sales"."sold_quantity") * ("manufacturing_cost"."manufacturing_cost")))::numeric AS "cost_amount",
               ("customers"."channel")::text AS "channel",
               ("customers"."platform")::text AS "platform",
               ("customers"."market")::text AS "market",
               ("customers"."market")::text AS "country",
               ("customers"."region")::text AS "region",
               NULL::text AS "store_id",
               coalesce(("sales"."sold_quantity")::numeric < 0, false) AS "r:negative_quantity",
               staging.layer_fence() AS _layer
        FROM (-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."date" AS "date", t."_p:date", t."product_code" AS "product_code", t."_p:product_code", t."customer_code" AS "customer_code", t."_p:customer_code", CASE WHEN abs(t."sold_quantity") < 1e15 THEN t."sold_quantity" END AS "sold_quantity", t."_p:sold_quantity", t."fiscal_year" AS "fiscal_year", t."_p:fiscal_year", CASE WHEN NOT t."_p:date" THEN 21 WHEN t."_p:date" AND t."date" IS NULL THEN 22 WHEN NOT t."_p:product_code" THEN 23 WHEN NOT t."_p:customer_code" THEN 24 WHEN NOT t."_p:sold_quantity" THEN 25 WHEN t."_p:sold_quantity" AND CASE WHEN abs(t."sold_quantity") < 1e15 THEN t."sold_quantity" END IS NULL THEN 26 WHEN NOT t."_p:fiscal_year" THEN 27 WHEN t."_p:fiscal_year" AND t."fiscal_year" IS NULL AND t."_n:fiscal_year" = trunc(t."_n:fiscal_year") THEN 28 WHEN t."_p:fiscal_year" AND t."fiscal_year" IS NULL THEN 29 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, "_d0".p AS "date", (r."date" IS NOT NULL) AS "_p:date", staging.parse_id(r."product_code") AS "product_code", (r."product_code" IS NOT NULL) AS "_p:product_code", staging.parse_id(r."customer_code") AS "customer_code", (r."customer_code" IS NOT NULL) AS "_p:customer_code", staging.parse_number(r."sold_quantity") AS "sold_quantity", (r."sold_quantity" IS NOT NULL) AS "_p:sold_quantity", staging.parse_integer(r."fiscal_year") AS "fiscal_year", (r."fiscal_year" IS NOT NULL) AS "_p:fiscal_year", staging.parse_number(r."fiscal_year") AS "_n:fiscal_year", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_sales" AS r
    LEFT JOIN (SELECT d.v, (CASE WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|1\\d|2[0-8])\\s*$' THEN (to_timestamp(d.v, 'YYYY-MM-DD') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|[12]\\d|3[01])\\s*$' THEN staging.try_timestamp(d.v, 'YYYY-MM-DD') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1\\d|2[0-8])\\-(?:0?[1-9]|1[0-2])\\-\\d{4}\\s*$' THEN (to_timestamp(d.v, 'DD-MM-YYYY') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*(?:0?[1-9]|[12]\\d|3[01])\\-(?:0?[1-9]|1[0-2])\\-\\d{4}\\s*$' THEN staging.try_timestamp(d.v, 'DD-MM-YYYY') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|1\\d|2[0-8])/\\d{4}\\s*$' THEN (to_timestamp(d.v, 'MM/DD/YYYY') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\\d|3[01])/\\d{4}\\s*$' THEN staging.try_timestamp(d.v, 'MM/DD/YYYY') END)::date AS p FROM (SELECT DISTINCT "date" AS v FROM "staging"."raw_1_sales") AS d) AS "_d0" ON "_d0".v = r."date"
) AS t
) AS "sales"
        LEFT JOIN (SELECT DISTINCT ON (("product_code")::text, ("fiscal_year")::text) * FROM "segwise_typed_gross_price" WHERE _reject IS NULL ORDER BY ("product_code")::text, ("fiscal_year")::text, _file DESC, _line DESC) AS "gross_price" ON ("sales"."product_code")::text = "gross_price"."product_code"::text AND ("sales"."fiscal_year")::text = "gross_price"."fiscal_year"::text
        LEFT JOIN (SELECT DISTINCT ON (("customer_code")::text, ("fiscal_year")::text) * FROM "segwise_typed_pre_discount" WHERE _reject IS NULL ORDER BY ("customer_code")::text, ("fiscal_year")::text, _file DESC, _line DESC) AS "pre_discount" ON ("sales"."customer_code")::text = "pre_discount"."customer_code"::text AND ("sales"."fiscal_year")::text = "pre_discount"."fiscal_year"::text
        LEFT JOIN (SELECT DISTINCT ON (("product_code")::text, ("cost_year")::text) * FROM "segwise_typed_manufacturing_cost" WHERE _reject IS NULL ORDER BY ("product_code")::text, ("cost_year")::text, _file DESC, _line DESC) AS "manufacturing_cost" ON ("sales"."product_code")::text = "manufacturing_cost"."product_code"::text AND ("sales"."fiscal_year")::text = "manufacturing_cost"."cost_year"::text
        LEFT JOIN (SELECT DISTINCT ON (("customer_code")::text) * FROM "segwise_typed_customers" WHERE _reject IS NULL ORDER BY ("customer_code")::text, _file DESC, _line DESC) AS "customers" ON ("sales"."customer_code")::text = "customers"."customer_code"::text
    ) AS x
) AS y;

-- rejection codes (_reject) used above:
--   1: gross_price.missing_value (product_code): product_code: empty, but required
--   2: gross_price.missing_value (fiscal_year): fiscal_year: empty, but required
--   3: gross_price.integer_out_of_range (fiscal_year): fiscal_year: a whole number outside the integer range -2147483648..2147483647
--   4: gross_price.invalid_integer (fiscal_year): fiscal_year: not an integer
--   5: gross_price.missing_value (gross_price): gross_price: empty, but required
--   6: gross_price.invalid_number (gross_price): gross_price: not a number
--   7: pre_discount.missing_value (customer_code): customer_code: empty, but required
--   8: pre_discount.missing_value (fiscal_year): fiscal_year: empty, but required
--   9: pre_discount.integer_out_of_range (fiscal_year): fiscal_year: a whole number outside the integer range -2147483648..2147483647
--   10: pre_discount.invalid_integer (fiscal_year): fiscal_year: not an integer
--   11: pre_discount.missing_value (pre_invoice_discount_pct): pre_invoice_discount_pct: empty, but required
--   12: pre_discount.invalid_number (pre_invoice_discount_pct): pre_invoice_discount_pct: not a number
--   13: manufacturing_cost.missing_value (product_code): product_code: empty, but required
--   14: manufacturing_cost.missing_value (cost_year): cost_year: empty, but required
--   15: manufacturing_cost.integer_out_of_range (cost_year): cost_year: a whole number outside the integer range -2147483648..2147483647
--   16: manufacturing_cost.invalid_integer (cost_year): cost_year: not an integer
--   17: manufacturing_cost.missing_value (manufacturing_cost): manufacturing_cost: empty, but required
--   18: manufacturing_cost.invalid_number (manufacturing_cost): manufacturing_cost: not a number
--   19: customers.missing_value (customer_code): customer_code: empty, but required
--   20: products.missing_value (product_code): product_code: empty, but required
--   21: missing_value (date): date: empty, but required
--   22: invalid_date (date): date: not a date in format %Y-%m-%d or %d-%m-%Y or %m/%d/%Y
--   23: missing_value (product_code): product_code: empty, but required
--   24: missing_value (customer_code): customer_code: empty, but required
--   25: missing_value (sold_quantity): sold_quantity: empty, but required
--   26: invalid_number (sold_quantity): sold_quantity: not a number
--   27: missing_value (fiscal_year): fiscal_year: empty, but required
--   28: integer_out_of_range (fiscal_year): fiscal_year: a whole number outside the integer range -2147483648..2147483647
--   29: invalid_integer (fiscal_year): fiscal_year: not an integer
--   30: missing_order_id (order_id): order_id: empty or not computable from "concat(customer_code, ':', date)"
--   31: missing_order_ts (date): order_ts: empty or not computable from 'date'
--   32: missing_quantity (sold_quantity): quantity: empty or not computable from 'sold_quantity'
--   33: missing_unit_price (gross_price): unit_price: empty or not computable from 'gross_price' (no matching row in gross_price?)
--   34: non_positive_price (gross_price): unit_price: zero or negative price
--   35: missing_discount_amount (discount_amount): discount_amount: not computable from 'sold_quantity * gross_price * coalesce(pre_invoice_discount_pct, 0)' (no matching row in gross_price, pre_discount?)
