-- The SQL the warehouse build runs for mapping 'instacart' (batch id 1).
-- Also run, with the same text for every layout:
--   sql/staging/malformed_rows.sql
--   sql/staging/rejected_rows.sql
--   sql/staging/duplicate_lines.sql
--   sql/warehouse/fact_order_line_first.sql
--   sql/warehouse/fact_order_line.sql
--   sql/warehouse/order_totals.sql
--   sql/warehouse/fact_order.sql
--   sql/warehouse/dim_keys.sql

-- source orders: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_orders" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."order_id" AS "order_id", t."_p:order_id", t."user_id" AS "user_id", t."_p:user_id", t."eval_set" AS "eval_set", t."_p:eval_set", t."order_number" AS "order_number", t."_p:order_number", t."order_dow" AS "order_dow", t."_p:order_dow", t."order_hour_of_day" AS "order_hour_of_day", t."_p:order_hour_of_day", CASE WHEN abs(t."days_since_prior_order") < 1e15 THEN t."days_since_prior_order" END AS "days_since_prior_order", t."_p:days_since_prior_order", CASE WHEN NOT t."_p:order_id" THEN 1 WHEN NOT t."_p:user_id" THEN 2 WHEN NOT t."_p:order_number" THEN 3 WHEN t."_p:order_number" AND t."order_number" IS NULL AND t."_n:order_number" = trunc(t."_n:order_number") THEN 4 WHEN t."_p:order_number" AND t."order_number" IS NULL THEN 5 WHEN NOT t."_p:order_dow" THEN 6 WHEN t."_p:order_dow" AND t."order_dow" IS NULL AND t."_n:order_dow" = trunc(t."_n:order_dow") THEN 7 WHEN t."_p:order_dow" AND t."order_dow" IS NULL THEN 8 WHEN NOT t."_p:order_hour_of_day" THEN 9 WHEN t."_p:order_hour_of_day" AND t."order_hour_of_day" IS NULL AND t."_n:order_hour_of_day" = trunc(t."_n:order_hour_of_day") THEN 10 WHEN t."_p:order_hour_of_day" AND t."order_hour_of_day" IS NULL THEN 11 WHEN t."_p:days_since_prior_order" AND CASE WHEN abs(t."days_since_prior_order") < 1e15 THEN t."days_since_prior_order" END IS NULL THEN 12 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."order_id") AS "order_id", (r."order_id" IS NOT NULL) AS "_p:order_id", staging.parse_id(r."user_id") AS "user_id", (r."user_id" IS NOT NULL) AS "_p:user_id", r."eval_set" AS "eval_set", (r."eval_set" IS NOT NULL) AS "_p:eval_set", staging.parse_integer(r."order_number") AS "order_number", (r."order_number" IS NOT NULL) AS "_p:order_number", staging.parse_number(r."order_number") AS "_n:order_number", staging.parse_integer(r."order_dow") AS "order_dow", (r."order_dow" IS NOT NULL) AS "_p:order_dow", staging.parse_number(r."order_dow") AS "_n:order_dow", staging.parse_integer(r."order_hour_of_day") AS "order_hour_of_day", (r."order_hour_of_day" IS NOT NULL) AS "_p:order_hour_of_day", staging.parse_number(r."order_hour_of_day") AS "_n:order_hour_of_day", staging.parse_number(r."days_since_prior_order") AS "days_since_prior_order", (r."days_since_prior_order" IS NOT NULL) AS "_p:days_since_prior_order", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_orders" AS r
    
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
SELECT t._file, t._line, t._ctid, t."product_id" AS "product_id", t."_p:product_id", t."product_name" AS "product_name", t."_p:product_name", t."aisle_id" AS "aisle_id", t."_p:aisle_id", t."department_id" AS "department_id", t."_p:department_id", CASE WHEN abs(t."prices") < 1e15 THEN t."prices" END AS "prices", t."_p:prices", CASE WHEN NOT t."_p:product_id" THEN 13 WHEN t."_p:prices" AND CASE WHEN abs(t."prices") < 1e15 THEN t."prices" END IS NULL THEN 14 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."product_id") AS "product_id", (r."product_id" IS NOT NULL) AS "_p:product_id", r."product_name" AS "product_name", (r."product_name" IS NOT NULL) AS "_p:product_name", staging.parse_id(r."aisle_id") AS "aisle_id", (r."aisle_id" IS NOT NULL) AS "_p:aisle_id", staging.parse_id(r."department_id") AS "department_id", (r."department_id" IS NOT NULL) AS "_p:department_id", staging.parse_number(r."prices") AS "prices", (r."prices" IS NOT NULL) AS "_p:prices", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_products" AS r
    
) AS t;

-- source departments: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_departments" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."department_id" AS "department_id", t."_p:department_id", t."department" AS "department", t."_p:department", CASE WHEN NOT t."_p:department_id" THEN 15 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."department_id") AS "department_id", (r."department_id" IS NOT NULL) AS "_p:department_id", r."department" AS "department", (r."department" IS NOT NULL) AS "_p:department", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_departments" AS r
    
) AS t;

-- source aisles: typed (staging/source_table.sql)
-- template parts table, typed: filled by etl.ingest.sqlgen.model
-- A typed source used as a lookup or as a dimension's input, materialised for this build.
CREATE TEMP TABLE "segwise_typed_aisles" ON COMMIT DROP AS
-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."aisle_id" AS "aisle_id", t."_p:aisle_id", t."aisle" AS "aisle", t."_p:aisle", CASE WHEN NOT t."_p:aisle_id" THEN 16 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."aisle_id") AS "aisle_id", (r."aisle_id" IS NOT NULL) AS "_p:aisle_id", r."aisle" AS "aisle", (r."aisle" IS NOT NULL) AS "_p:aisle", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_aisles" AS r
    
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
SELECT t._file, t._line, t._ctid, t."user_id" AS "user_id", t."_p:user_id", t."gender" AS "gender", t."_p:gender", t."state" AS "state", t."_p:state", t."age" AS "age", t."_p:age", t."date_joined" AS "date_joined", t."_p:date_joined", t."n_dependants" AS "n_dependants", t."_p:n_dependants", t."fam_status" AS "fam_status", t."_p:fam_status", CASE WHEN abs(t."income") < 1e15 THEN t."income" END AS "income", t."_p:income", CASE WHEN NOT t."_p:user_id" THEN 17 WHEN t."_p:age" AND t."age" IS NULL AND t."_n:age" = trunc(t."_n:age") THEN 18 WHEN t."_p:age" AND t."age" IS NULL THEN 19 WHEN t."_p:date_joined" AND t."date_joined" IS NULL THEN 20 WHEN t."_p:n_dependants" AND t."n_dependants" IS NULL AND t."_n:n_dependants" = trunc(t."_n:n_dependants") THEN 21 WHEN t."_p:n_dependants" AND t."n_dependants" IS NULL THEN 22 WHEN t."_p:income" AND CASE WHEN abs(t."income") < 1e15 THEN t."income" END IS NULL THEN 23 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."user_id") AS "user_id", (r."user_id" IS NOT NULL) AS "_p:user_id", r."gender" AS "gender", (r."gender" IS NOT NULL) AS "_p:gender", r."state" AS "state", (r."state" IS NOT NULL) AS "_p:state", staging.parse_integer(r."age") AS "age", (r."age" IS NOT NULL) AS "_p:age", staging.parse_number(r."age") AS "_n:age", "_d4".p AS "date_joined", (r."date_joined" IS NOT NULL) AS "_p:date_joined", staging.parse_integer(r."n_dependants") AS "n_dependants", (r."n_dependants" IS NOT NULL) AS "_p:n_dependants", staging.parse_number(r."n_dependants") AS "_n:n_dependants", r."fam_status" AS "fam_status", (r."fam_status" IS NOT NULL) AS "_p:fam_status", staging.parse_number(r."income") AS "income", (r."income" IS NOT NULL) AS "_p:income", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_customers" AS r
    LEFT JOIN (SELECT d.v, (CASE WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|1\\d|2[0-8])/\\d{4}\\s*$' THEN (to_timestamp(d.v, 'MM/DD/YYYY') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\\d|3[01])/\\d{4}\\s*$' THEN staging.try_timestamp(d.v, 'MM/DD/YYYY') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|1\\d|2[0-8])\\s*$' THEN (to_timestamp(d.v, 'YYYY-MM-DD') AT TIME ZONE 'UTC') WHEN d.v ~  E'^\\s*\\d{4}\\-(?:0?[1-9]|1[0-2])\\-(?:0?[1-9]|[12]\\d|3[01])\\s*$' THEN staging.try_timestamp(d.v, 'YYYY-MM-DD') END)::date AS p FROM (SELECT DISTINCT "date_joined" AS v FROM "staging"."raw_1_customers") AS d) AS "_d4" ON "_d4".v = r."date_joined"
) AS t;

-- source order_timeline: derived (staging/instacart_orders_timeline.sql)
-- template parts anchor_date, input, output: filled by etl.ingest.sqlgen.model
-- Instacart orders carry no dates, only order_number, order_dow, order_hour_of_day and
-- days_since_prior_order. Rebuild each user's timeline: the first order falls in the week that
-- starts on the anchor date, on its own weekday (order_dow 0 = Sunday); each later order comes
-- days_since_prior_order days after the previous one; the hour is order_hour_of_day.
-- Absolute dates are therefore synthetic (recency is relative to the anchor); weekdays, hours
-- and the gaps between a user's orders are the data's own.
-- Input: the typed orders; output: one row per good order (its _file/_line kept for tracing).
CREATE TEMP TABLE "segwise_typed_order_timeline" ON COMMIT DROP AS
SELECT
    o.order_id,
    o.user_id,
    o.order_number,
    (
        '2017-01-01'::date
        + ((7 + first_value(o.order_dow) OVER w - extract(dow FROM '2017-01-01'::date)::int) % 7)
        + round(sum(coalesce(o.days_since_prior_order, 0)) OVER w)::int
    ) + make_interval(hours => o.order_hour_of_day) AS order_ts,
    o._file,
    o._line,
    NULL::integer AS _reject
FROM "segwise_typed_orders" AS o
WHERE o._reject IS NULL
WINDOW w AS (PARTITION BY o.user_id ORDER BY o.order_number ROWS UNBOUNDED PRECEDING);

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
    FROM (SELECT ("customers"."user_id")::text AS "customer_id", ("customers"."gender")::text AS "gender", NULL::integer AS "birth_year", ("customers"."age")::integer AS "age", ("customers"."income")::numeric AS "income", ("customers"."fam_status")::text AS "family_status", ("customers"."n_dependants")::integer AS "n_dependants", NULL::text AS "country", ("customers"."state")::text AS "state", ((CASE WHEN ((((btrim(("customers"."state")::text)) IN ('Maine'::text, 'New Hampshire'::text, 'Vermont'::text, 'Massachusetts'::text, 'Rhode Island'::text, 'Connecticut'::text, 'New York'::text, 'New Jersey'::text, 'Pennsylvania'::text)))) THEN ('Northeast'::text) ELSE ((CASE WHEN ((((btrim(("customers"."state")::text)) IN ('Ohio'::text, 'Indiana'::text, 'Illinois'::text, 'Michigan'::text, 'Wisconsin'::text, 'Minnesota'::text, 'Iowa'::text, 'Missouri'::text, 'North Dakota'::text, 'South Dakota'::text, 'Nebraska'::text, 'Kansas'::text)))) THEN ('Midwest'::text) ELSE ((CASE WHEN ((((btrim(("customers"."state")::text)) IN ('Delaware'::text, 'Maryland'::text, 'District of Columbia'::text, 'Virginia'::text, 'West Virginia'::text, 'North Carolina'::text, 'South Carolina'::text, 'Georgia'::text, 'Florida'::text, 'Kentucky'::text, 'Tennessee'::text, 'Alabama'::text, 'Mississippi'::text, 'Arkansas'::text, 'Louisiana'::text, 'Oklahoma'::text, 'Texas'::text)))) THEN ('South'::text) ELSE ((CASE WHEN ((((btrim(("customers"."state")::text)) IN ('Montana'::text, 'Idaho'::text, 'Wyoming'::text, 'Colorado'::text, 'New Mexico'::text, 'Arizona'::text, 'Utah'::text, 'Nevada'::text, 'Washington'::text, 'Oregon'::text, 'California'::text, 'Alaska'::text, 'Hawaii'::text)))) THEN ('West'::text) ELSE (NULL) END)) END)) END)) END))::text AS "region", NULL::text AS "city", ("customers"."date_joined")::date AS "signup_date", '{}'::jsonb AS "attributes", 0 AS _order, "customers"._file, "customers"._line FROM "segwise_typed_customers" AS "customers"  WHERE "customers"._reject IS NULL) AS c
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
    FROM (SELECT ("products"."product_id")::text AS "product_id", ("products"."product_name")::text AS "product_name", ("departments"."department")::text AS "category_l1", ("aisles"."aisle")::text AS "category_l2", NULL::text AS "category_l3", ("products"."prices")::numeric AS "list_price", NULL::numeric AS "unit_cost", '{}'::jsonb AS "attributes", 0 AS _order, "products"._file, "products"._line FROM "segwise_typed_products" AS "products" LEFT JOIN (SELECT DISTINCT ON (("department_id")::text) * FROM "segwise_typed_departments" WHERE _reject IS NULL ORDER BY ("department_id")::text, _file DESC, _line DESC) AS "departments" ON ("products"."department_id")::text = "departments"."department_id"::text
        LEFT JOIN (SELECT DISTINCT ON (("aisle_id")::text) * FROM "segwise_typed_aisles" WHERE _reject IS NULL ORDER BY ("aisle_id")::text, _file DESC, _line DESC) AS "aisles" ON ("products"."aisle_id")::text = "aisles"."aisle_id"::text WHERE "products"._reject IS NULL) AS p
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

-- order lines from source order_products (line numbers: column)
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
           x."r:negative_quantity", CASE WHEN x._source_reject IS NOT NULL THEN x._source_reject WHEN x.order_id IS NULL THEN 31 WHEN x.order_ts IS NULL THEN 32 WHEN x.quantity IS NULL THEN 33 WHEN x.unit_price IS NULL THEN 34 WHEN x.unit_price <= 0 THEN 35 WHEN x.line_no IS NULL THEN 36 END AS _pre_reject,
           staging.layer_fence() AS _layer
    FROM (
        SELECT "order_products"._file, "order_products"._line, "order_products"._ctid,
               "order_products"._reject AS _source_reject,
               ("order_products"."order_id")::text AS "order_id",
               ("order_products"."add_to_cart_order")::integer AS "line_no",
               ("order_timeline"."user_id")::text AS "customer_id",
               ("order_timeline"."order_ts")::timestamp AS "order_ts",
               ("order_products"."product_id")::text AS "product_id",
               ('1'::numeric)::numeric AS "quantity",
               ("products"."prices")::numeric AS "unit_price",
               NULL::numeric AS "gross_amount",
               0::numeric AS "discount_amount",
               NULL::numeric AS "amount",
               NULL::numeric AS "cost_amount",
               NULL::text AS "channel",
               NULL::text AS "platform",
               NULL::text AS "market",
               NULL::text AS "country",
               NULL::text AS "region",
               NULL::text AS "store_id",
               coalesce(('1'::numeric)::numeric < 0, false) AS "r:negative_quantity",
               staging.layer_fence() AS _layer
        FROM (-- template parts inner, lookups, outer, raw, reject: filled by etl.ingest.sqlgen.model
-- Type one source's raw text rows (set-based, one pass).
-- inner: each column parsed by its declared type (NULL when empty; on the careful path also
--        when unparseable), a presence flag "_p:<column>", date/time columns joined to their
--        distinct values parsed once (<lookups>).
-- outer: range checks on parsed numbers, and _reject = the code of the first failed check
--        (a missing required value, a value that does not parse), NULL for a good row.
SELECT t._file, t._line, t._ctid, t."order_id" AS "order_id", t."_p:order_id", t."product_id" AS "product_id", t."_p:product_id", t."add_to_cart_order" AS "add_to_cart_order", t."_p:add_to_cart_order", t."reordered" AS "reordered", t."_p:reordered", CASE WHEN NOT t."_p:order_id" THEN 24 WHEN NOT t."_p:product_id" THEN 25 WHEN NOT t."_p:add_to_cart_order" THEN 26 WHEN t."_p:add_to_cart_order" AND t."add_to_cart_order" IS NULL AND t."_n:add_to_cart_order" = trunc(t."_n:add_to_cart_order") THEN 27 WHEN t."_p:add_to_cart_order" AND t."add_to_cart_order" IS NULL THEN 28 WHEN t."_p:reordered" AND t."reordered" IS NULL AND t."_n:reordered" = trunc(t."_n:reordered") THEN 29 WHEN t."_p:reordered" AND t."reordered" IS NULL THEN 30 END AS _reject
FROM (
    -- a layer of its own (staging.layer_fence): each value is parsed once, however often it
    -- is used, and a large batch may be parsed in parallel workers
    SELECT r._file, r._line, r.ctid AS _ctid, staging.parse_id(r."order_id") AS "order_id", (r."order_id" IS NOT NULL) AS "_p:order_id", staging.parse_id(r."product_id") AS "product_id", (r."product_id" IS NOT NULL) AS "_p:product_id", staging.parse_integer(r."add_to_cart_order") AS "add_to_cart_order", (r."add_to_cart_order" IS NOT NULL) AS "_p:add_to_cart_order", staging.parse_number(r."add_to_cart_order") AS "_n:add_to_cart_order", staging.parse_integer(r."reordered") AS "reordered", (r."reordered" IS NOT NULL) AS "_p:reordered", staging.parse_number(r."reordered") AS "_n:reordered", staging.layer_fence() AS _layer
    FROM "staging"."raw_1_order_products" AS r
    
) AS t
) AS "order_products"
        LEFT JOIN "segwise_typed_order_timeline" AS "order_timeline" ON ("order_products"."order_id")::text = "order_timeline"."order_id"::text
        LEFT JOIN (SELECT DISTINCT ON (("product_id")::text) * FROM "segwise_typed_products" WHERE _reject IS NULL ORDER BY ("product_id")::text, _file DESC, _line DESC) AS "products" ON ("order_products"."product_id")::text = "products"."product_id"::text
    ) AS x
) AS y;

-- rejection codes (_reject) used above:
--   1: orders.missing_value (order_id): order_id: empty, but required
--   2: orders.missing_value (user_id): user_id: empty, but required
--   3: orders.missing_value (order_number): order_number: empty, but required
--   4: orders.integer_out_of_range (order_number): order_number: a whole number outside the integer range -2147483648..2147483647
--   5: orders.invalid_integer (order_number): order_number: not an integer
--   6: orders.missing_value (order_dow): order_dow: empty, but required
--   7: orders.integer_out_of_range (order_dow): order_dow: a whole number outside the integer range -2147483648..2147483647
--   8: orders.invalid_integer (order_dow): order_dow: not an integer
--   9: orders.missing_value (order_hour_of_day): order_hour_of_day: empty, but required
--   10: orders.integer_out_of_range (order_hour_of_day): order_hour_of_day: a whole number outside the integer range -2147483648..2147483647
--   11: orders.invalid_integer (order_hour_of_day): order_hour_of_day: not an integer
--   12: orders.invalid_number (days_since_prior_order): days_since_prior_order: not a number
--   13: products.missing_value (product_id): product_id: empty, but required
--   14: products.invalid_number (prices): prices: not a number
--   15: departments.missing_value (department_id): department_id: empty, but required
--   16: aisles.missing_value (aisle_id): aisle_id: empty, but required
--   17: customers.missing_value (user_id): user_id: empty, but required
--   18: customers.integer_out_of_range (age): age: a whole number outside the integer range -2147483648..2147483647
--   19: customers.invalid_integer (age): age: not an integer
--   20: customers.invalid_date (date_joined): date_joined: not a date in format %m/%d/%Y or %Y-%m-%d
--   21: customers.integer_out_of_range (n_dependants): n_dependants: a whole number outside the integer range -2147483648..2147483647
--   22: customers.invalid_integer (n_dependants): n_dependants: not an integer
--   23: customers.invalid_number (income): income: not a number
--   24: missing_value (order_id): order_id: empty, but required
--   25: missing_value (product_id): product_id: empty, but required
--   26: missing_value (add_to_cart_order): add_to_cart_order: empty, but required
--   27: integer_out_of_range (add_to_cart_order): add_to_cart_order: a whole number outside the integer range -2147483648..2147483647
--   28: invalid_integer (add_to_cart_order): add_to_cart_order: not an integer
--   29: integer_out_of_range (reordered): reordered: a whole number outside the integer range -2147483648..2147483647
--   30: invalid_integer (reordered): reordered: not an integer
--   31: missing_order_id (order_id): order_id: empty or not computable from 'order_id'
--   32: missing_order_ts (order_ts): order_ts: empty or not computable from 'order_timeline.order_ts' (no matching row in order_timeline?)
--   33: missing_quantity (quantity): quantity: empty or not computable from '1'
--   34: missing_unit_price (prices): unit_price: empty or not computable from 'products.prices' (no matching row in products?)
--   35: non_positive_price (prices): unit_price: zero or negative price
--   36: missing_line_no (line_no): line_no: empty or not computable from 'add_to_cart_order'
