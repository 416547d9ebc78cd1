-- The SQL the warehouse build runs for mapping 'segwise' (batch id 1).
-- Also run, with the same text for every layout:
--   sql/staging/malformed_rows.sql
--   sql/staging/rejected_rows.sql
--   sql/staging/duplicate_lines.sql
--   sql/warehouse/fact_order_line_first.sql
--   sql/warehouse/fact_order_line.sql
--   sql/warehouse/order_totals.sql
--   sql/warehouse/fact_order.sql
--   sql/warehouse/dim_keys.sql

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
SELECT t._file, t._line, t._ctid, t."customer_id" AS "customer_id", t."_p:customer_id", t."gender" AS "gender", t."_p:gender", t."birth_year" AS "birth_year", t."_p:birth_year", CASE WHEN abs(t."income") < 1e15 THEN t."income" END AS "income", t."_p:income", t."family_status" AS "family_status", t."_p:family_status", t."n_dependants" AS "n_dependants", t."_p:n_dependants", t."country" AS "country", t."_p:country", t."state" AS "state", t."_p:state", t."region" AS "region", t."_p:region", t."city" AS "city", t."_p:city", t."signup_date" AS "signup_date", t."_p:signup_date", CASE WHEN NOT t."_p:customer_id" THEN 1 WHEN t."_p:birth_year" AND t."birth_year" IS NULL AND t."_n:birth_year" = trunc(t."_n:birth_year") THEN 2 WHEN t."_p:birth_year" AND t."birth_year" IS NULL THEN 3 WHEN t."_p:income" AND CASE WHEN abs(t."income") < 1e15 THEN t."income" END IS NULL THEN 4 WHEN t."_p:n_dependants" AND t."n_dependants" IS NULL AND t."_n:n_dependants" = trunc(t."_n:n_dependants") THEN 5 WHEN t."_p:n_dependants" AND t."n_dependants" IS NULL THEN 6 WHEN t."_p:signup_date" AND t."signup_date" IS NULL THEN 7 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."customer_id") AS "customer_id", (r."customer_id" IS NOT NULL) AS "_p:customer_id", r."gender" AS "gender", (r."gender" IS NOT NULL) AS "_p:gender", staging.parse_integer(r."birth_year") AS "birth_year", (r."birth_year" IS NOT NULL) AS "_p:birth_year", staging.parse_number(r."birth_year") AS "_n:birth_year", staging.parse_number(r."income") AS "income", (r."income" IS NOT NULL) AS "_p:income", r."family_status" AS "family_status", (r."family_status" IS NOT NULL) AS "_p:family_status", staging.parse_integer(r."n_dependants") AS "n_dependants", (r."n_dependants" IS NOT NULL) AS "_p:n_dependants", staging.parse_number(r."n_dependants") AS "_n:n_dependants", r."country" AS "country", (r."country" IS NOT NULL) AS "_p:country", r."state" AS "state", (r."state" IS NOT NULL) AS "_p:state", r."region" AS "region", (r."region" IS NOT NULL) AS "_p:region", r."city" AS "city", (r."city" IS NOT NULL) AS "_p:city", "_d10".p AS "signup_date", (r."signup_date" IS NOT NULL) AS "_p:signup_date", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_customers" AS r
    LEFT JOIN (SELECT d.v, (CASE WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|1\\d|2[0-8])\\s*$' THEN (to_timestamp(d.v, 'YYYY-MM-DD') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|[12]\\d|3[01])\\s*$' THEN staging.try_timestamp(d.v, 'YYYY-MM-DD') END)::date AS p FROM (SELECT DISTINCT "signup_date" AS v FROM "staging"."raw_1_customers") AS d) AS "_d10" ON "_d10".v = r."signup_date"
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
SELECT t._file, t._line, t._ctid, t."product_id" AS "product_id", t."_p:product_id", t."product_name" AS "product_name", t."_p:product_name", t."category_l1" AS "category_l1", t."_p:category_l1", t."category_l2" AS "category_l2", t."_p:category_l2", t."category_l3" AS "category_l3", t."_p:category_l3", CASE WHEN abs(t."list_price") < 1e15 THEN t."list_price" END AS "list_price", t."_p:list_price", CASE WHEN abs(t."unit_cost") < 1e15 THEN t."unit_cost" END AS "unit_cost", t."_p:unit_cost", CASE WHEN NOT t."_p:product_id" THEN 8 WHEN t."_p:list_price" AND CASE WHEN abs(t."list_price") < 1e15 THEN t."list_price" END IS NULL THEN 9 WHEN t."_p:unit_cost" AND CASE WHEN abs(t."unit_cost") < 1e15 THEN t."unit_cost" END IS NULL THEN 10 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."product_id") AS "product_id", (r."product_id" IS NOT NULL) AS "_p:product_id", r."product_name" AS "product_name", (r."product_name" IS NOT NULL) AS "_p:product_name", r."category_l1" AS "category_l1", (r."category_l1" IS NOT NULL) AS "_p:category_l1", r."category_l2" AS "category_l2", (r."category_l2" IS NOT NULL) AS "_p:category_l2", r."category_l3" AS "category_l3", (r."category_l3" IS NOT NULL) AS "_p:category_l3", staging.parse_number(r."list_price") AS "list_price", (r."list_price" IS NOT NULL) AS "_p:list_price", staging.parse_number(r."unit_cost") AS "unit_cost", (r."unit_cost" IS NOT NULL) AS "_p:unit_cost", staging.layer_fence() AS _layer
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
    FROM (SELECT ("customers"."customer_id")::text AS "customer_id", ("customers"."gender")::text AS "gender", ("customers"."birth_year")::integer AS "birth_year", NULL::integer AS "age", ("customers"."income")::numeric AS "income", ("customers"."family_status")::text AS "family_status", ("customers"."n_dependants")::integer AS "n_dependants", ("customers"."country")::text AS "country", ("customers"."state")::text AS "state", ("customers"."region")::text AS "region", ("customers"."city")::text AS "city", ("customers"."signup_date")::date AS "signup_date", '{}'::jsonb AS "attributes", 0 AS _order, "customers"._file, "customers"._line FROM "segwise_typed_customers" AS "customers"  WHERE "customers"._reject IS NULL) AS c
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
    FROM (SELECT ("products"."product_id")::text AS "product_id", ("products"."product_name")::text AS "product_name", ("products"."category_l1")::text AS "category_l1", ("products"."category_l2")::text AS "category_l2", ("products"."category_l3")::text AS "category_l3", ("products"."list_price")::numeric AS "list_price", ("products"."unit_cost")::numeric AS "unit_cost", '{}'::jsonb AS "attributes", 0 AS _order, "products"._file, "products"._line FROM "segwise_typed_products" AS "products"  WHERE "products"._reject IS NULL) AS p
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

-- order lines from source order_lines (line numbers: column)
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
       y."r:flagged",
       y."r:negative_quantity",
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
           coalesce(x."r:flagged" OR x."r:negative_quantity", false) AS is_return,
           CASE WHEN coalesce(x."r:flagged" OR x."r:negative_quantity", false) THEN -abs(x.quantity) ELSE x.quantity END AS quantity,
           CASE WHEN coalesce(x."r:flagged" OR x."r:negative_quantity", false) THEN -(abs(x.quantity) * x.unit_price) ELSE (x.quantity * x.unit_price) END AS gross_amount,
           CASE WHEN coalesce(x."r:flagged" OR x."r:negative_quantity", false) THEN -abs(x.discount_amount) ELSE x.discount_amount END AS discount_amount,
           CASE WHEN coalesce(x."r:flagged" OR x."r:negative_quantity", false) THEN (-(abs(x.quantity) * x.unit_price) + abs(x.discount_amount)) ELSE ((x.quantity * x.unit_price) - x.discount_amount) END AS amount,
           CASE WHEN coalesce(x."r:flagged" OR x."r:negative_quantity", false) THEN -abs(x.cost_amount) ELSE x.cost_amount END AS cost_amount,
           x.line_no AS _line_no,
           x."r:flagged",
           x."r:negative_quantity", CASE WHEN x._source_reject IS NOT NULL THEN x._source_reject WHEN x.order_id IS NULL THEN 23 WHEN x.order_ts IS NULL THEN 24 WHEN x.quantity IS NULL THEN 25 WHEN x.unit_price IS NULL THEN 26 WHEN x.unit_price <= 0 THEN 27 WHEN x.discount_amount IS NULL THEN 28 WHEN x.line_no IS NULL THEN 29 END AS _pre_reject,
           staging.layer_fence() AS _layer
    FROM (
        SELECT "order_lines"._file, "order_lines"._line, "order_lines"._ctid,
               "order_lines"._reject AS _source_reject,
               ("order_lines"."order_id")::text AS "order_id",
               ("order_lines"."line_no")::integer AS "line_no",
               ("order_lines"."customer_id")::text AS "customer_id",
               ("order_lines"."order_ts")::timestamp AS "order_ts",
               ("order_lines"."product_id")::text AS "product_id",
               ("order_lines"."quantity")::numeric AS "quantity",
               ("order_lines"."unit_price")::numeric AS "unit_price",
               NULL::numeric AS "gross_amount",
               (coalesce("order_lines"."discount_amount", '0'::numeric))::numeric AS "discount_amount",
               NULL::numeric AS "amount",
               (((abs("order_lines"."quantity")) * ("warehouse__dim_product"."unit_cost")))::numeric AS "cost_amount",
               ("order_lines"."channel")::text AS "channel",
               ("order_lines"."platform")::text AS "platform",
               ("order_lines"."market")::text AS "market",
               ("order_lines"."country")::text AS "country",
               ("order_lines"."region")::text AS "region",
               ("order_lines"."store_id")::text AS "store_id",
               coalesce(("order_lines"."is_return")::boolean, false) AS "r:flagged",
               coalesce(("order_lines"."quantity")::numeric < 0, false) AS "r:negative_quantity",
               staging.layer_fence() AS _layer
        FROM (-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."order_id" AS "order_id", t."_p:order_id", t."line_no" AS "line_no", t."_p:line_no", t."customer_id" AS "customer_id", t."_p:customer_id", t."order_ts" AS "order_ts", t."_p:order_ts", t."product_id" AS "product_id", t."_p:product_id", CASE WHEN abs(t."quantity") < 1e15 THEN t."quantity" END AS "quantity", t."_p:quantity", CASE WHEN abs(t."unit_price") < 1e15 THEN t."unit_price" END AS "unit_price", t."_p:unit_price", CASE WHEN abs(t."discount_amount") < 1e15 THEN t."discount_amount" END AS "discount_amount", t."_p:discount_amount", t."is_return" AS "is_return", t."_p:is_return", t."channel" AS "channel", t."_p:channel", t."platform" AS "platform", t."_p:platform", t."market" AS "market", t."_p:market", t."country" AS "country", t."_p:country", t."region" AS "region", t."_p:region", t."store_id" AS "store_id", t."_p:store_id", CASE WHEN NOT t."_p:order_id" THEN 11 WHEN NOT t."_p:line_no" THEN 12 WHEN t."_p:line_no" AND t."line_no" IS NULL AND t."_n:line_no" = trunc(t."_n:line_no") THEN 13 WHEN t."_p:line_no" AND t."line_no" IS NULL THEN 14 WHEN NOT t."_p:order_ts" THEN 15 WHEN t."_p:order_ts" AND t."order_ts" IS NULL THEN 16 WHEN NOT t."_p:quantity" THEN 17 WHEN t."_p:quantity" AND CASE WHEN abs(t."quantity") < 1e15 THEN t."quantity" END IS NULL THEN 18 WHEN NOT t."_p:unit_price" THEN 19 WHEN t."_p:unit_price" AND CASE WHEN abs(t."unit_price") < 1e15 THEN t."unit_price" END IS NULL THEN 20 WHEN t."_p:discount_amount" AND CASE WHEN abs(t."discount_amount") < 1e15 THEN t."discount_amount" END IS NULL THEN 21 WHEN t."_p:is_return" AND t."is_return" IS NULL THEN 22 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, r."order_id" AS "order_id", (r."order_id" IS NOT NULL) AS "_p:order_id", staging.parse_integer(r."line_no") AS "line_no", (r."line_no" IS NOT NULL) AS "_p:line_no", staging.parse_number(r."line_no") AS "_n:line_no", staging.parse_id(r."customer_id") AS "customer_id", (r."customer_id" IS NOT NULL) AS "_p:customer_id", "_d3".p AS "order_ts", (r."order_ts" IS NOT NULL) AS "_p:order_ts", staging.parse_id(r."product_id") AS "product_id", (r."product_id" IS NOT NULL) AS "_p:product_id", staging.parse_number(r."quantity") AS "quantity", (r."quantity" IS NOT NULL) AS "_p:quantity", staging.parse_number(r."unit_price") AS "unit_price", (r."unit_price" IS NOT NULL) AS "_p:unit_price", staging.parse_number(r."discount_amount") AS "discount_amount", (r."discount_amount" IS NOT NULL) AS "_p:discount_amount", staging.parse_boolean(r."is_return") AS "is_return", (r."is_return" IS NOT NULL) AS "_p:is_return", r."channel" AS "channel", (r."channel" IS NOT NULL) AS "_p:channel", r."platform" AS "platform", (r."platform" IS NOT NULL) AS "_p:platform", r."market" AS "market", (r."market" IS NOT NULL) AS "_p:market", r."country" AS "country", (r."country" IS NOT NULL) AS "_p:country", r."region" AS "region", (r."region" IS NOT NULL) AS "_p:region", r."store_id" AS "store_id", (r."store_id" IS NOT NULL) AS "_p:store_id", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_order_lines" AS r
    LEFT JOIN (SELECT d.v, CASE WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|1\\d|2[0-8])\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\s*$' THEN (to_timestamp(d.v, 'YYYY-MM-DD HH24:MI:SS') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|[12]\\d|3[01])\\s+(?:[01]?\\d|2[0-3]):[0-5]\\d:[0-5]\\d\\s*$' THEN staging.try_timestamp(d.v, 'YYYY-MM-DD HH24:MI:SS') WHEN d.v ~  E'^\\s*\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,6})?)?)?(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))?\\s*$' THEN CASE WHEN d.v ~  E'(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))\\s*$' THEN (d.v::timestamptz AT TIME ZONE 'UTC') ELSE d.v::timestamp END WHEN d.v ~  E'^\\s*\\d{4}-(?:0[1-9]|1[0-2])-(?:29|30|31)(?:[T ](?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,6})?)?)?(?:\\s*(?:Z|UTC|[+-](?:[01]\\d|2[0-3])(?::?[0-5]\\d)?))?\\s*$' THEN staging.try_timestamp(d.v, 'iso') END AS p FROM (SELECT DISTINCT "order_ts" AS v FROM "staging"."raw_1_order_lines") AS d) AS "_d3" ON "_d3".v = r."order_ts"
) AS t
) AS "order_lines"
        LEFT JOIN "warehouse"."dim_product" AS "warehouse__dim_product" ON ("order_lines"."product_id")::text = "warehouse__dim_product"."product_id"::text
    ) AS x
) AS y;

-- rejection codes (_reject) used above:
--   1: customers.missing_value (customer_id): customer_id: empty, but required
--   2: customers.integer_out_of_range (birth_year): birth_year: a whole number outside the integer range -2147483648..2147483647
--   3: customers.invalid_integer (birth_year): birth_year: not an integer
--   4: customers.invalid_number (income): income: not a number
--   5: customers.integer_out_of_range (n_dependants): n_dependants: a whole number outside the integer range -2147483648..2147483647
--   6: customers.invalid_integer (n_dependants): n_dependants: not an integer
--   7: customers.invalid_date (signup_date): signup_date: not a date in format %Y-%m-%d
--   8: products.missing_value (product_id): product_id: empty, but required
--   9: products.invalid_number (list_price): list_price: not a number
--   10: products.invalid_number (unit_cost): unit_cost: not a number
--   11: missing_value (order_id): order_id: empty, but required
--   12: missing_value (line_no): line_no: empty, but required
--   13: integer_out_of_range (line_no): line_no: a whole number outside the integer range -2147483648..2147483647
--   14: invalid_integer (line_no): line_no: not an integer
--   15: missing_value (order_ts): order_ts: empty, but required
--   16: invalid_timestamp (order_ts): order_ts: not a date/time in format %Y-%m-%d %H:%M:%S or iso
--   17: missing_value (quantity): quantity: empty, but required
--   18: invalid_number (quantity): quantity: not a number
--   19: missing_value (unit_price): unit_price: empty, but required
--   20: invalid_number (unit_price): unit_price: not a number
--   21: invalid_number (discount_amount): discount_amount: not a number
--   22: invalid_boolean (is_return): is_return: not a boolean (true/false, t/f, yes/no, y/n, 1/0)
--   23: missing_order_id (order_id): order_id: empty or not computable from 'order_id'
--   24: missing_order_ts (order_ts): order_ts: empty or not computable from 'order_ts'
--   25: missing_quantity (quantity): quantity: empty or not computable from 'quantity'
--   26: missing_unit_price (unit_price): unit_price: empty or not computable from 'unit_price'
--   27: non_positive_price (unit_price): unit_price: zero or negative price
--   28: missing_discount_amount (discount_amount): discount_amount: not computable from 'coalesce(discount_amount, 0)'
--   29: missing_line_no (line_no): line_no: empty or not computable from 'line_no'
