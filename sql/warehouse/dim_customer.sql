-- template parts batch_id, rows: filled by etl.ingest.sqlgen.model
-- Upsert customers: one row per customer_id from <rows> (the latest row of the batch wins).
-- A field the batch leaves empty keeps its earlier value; attributes are merged; an unchanged
-- row is not rewritten.
WITH written AS (
    INSERT INTO warehouse.dim_customer AS d (
        customer_id, gender, birth_year, age, income, family_status, n_dependants, country,
        state, region, city, signup_date, attributes, batch_id, updated_at
    )
    SELECT DISTINCT ON (customer_id COLLATE "C")
           customer_id, gender, birth_year, age, income, family_status, n_dependants, country,
           state, region, city, signup_date, attributes, {batch_id}, now()
    FROM ({rows}) AS c
    WHERE customer_id IS NOT NULL
    ORDER BY customer_id COLLATE "C", _order DESC, _file DESC, _line DESC
    ON CONFLICT (customer_id) DO UPDATE SET
        gender = coalesce(EXCLUDED.gender, d.gender),
        birth_year = coalesce(EXCLUDED.birth_year, d.birth_year),
        age = coalesce(EXCLUDED.age, d.age),
        income = coalesce(EXCLUDED.income, d.income),
        family_status = coalesce(EXCLUDED.family_status, d.family_status),
        n_dependants = coalesce(EXCLUDED.n_dependants, d.n_dependants),
        country = coalesce(EXCLUDED.country, d.country),
        state = coalesce(EXCLUDED.state, d.state),
        region = coalesce(EXCLUDED.region, d.region),
        city = coalesce(EXCLUDED.city, d.city),
        signup_date = coalesce(EXCLUDED.signup_date, d.signup_date),
        attributes = d.attributes || EXCLUDED.attributes,
        batch_id = EXCLUDED.batch_id,
        updated_at = now()
    -- a row that would not change is left alone (a daily full export of the customers
    -- rewrites nothing and counts no updates)
    WHERE coalesce(d.batch_id, 0) <= EXCLUDED.batch_id  -- an older batch never overwrites
      AND (d.gender, d.birth_year, d.age, d.income, d.family_status, d.n_dependants, d.country,
           d.state, d.region, d.city, d.signup_date, d.attributes)
          IS DISTINCT FROM
          (coalesce(EXCLUDED.gender, d.gender), coalesce(EXCLUDED.birth_year, d.birth_year),
           coalesce(EXCLUDED.age, d.age), coalesce(EXCLUDED.income, d.income),
           coalesce(EXCLUDED.family_status, d.family_status),
           coalesce(EXCLUDED.n_dependants, d.n_dependants), coalesce(EXCLUDED.country, d.country),
           coalesce(EXCLUDED.state, d.state), coalesce(EXCLUDED.region, d.region),
           coalesce(EXCLUDED.city, d.city), coalesce(EXCLUDED.signup_date, d.signup_date),
           d.attributes || EXCLUDED.attributes)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
