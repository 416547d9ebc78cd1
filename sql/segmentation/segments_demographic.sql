-- parameters as_of, run_id: bound by psycopg in etl.segment.pipeline.run_method
-- Demographic label per customer of the run: age band and gender, with the other bands
-- (income, family status, dependants, region) in scores. 'unknown' where data are missing.
-- Params: run_id, as_of (date).
INSERT INTO segmentation.memberships (run_id, method, customer_id, segment_id, segment, scores)
WITH banded AS (
    SELECT
        f.customer_id,
        CASE
            WHEN a.age IS NULL OR a.age < 0 OR a.age > 120 THEN 'unknown'
            WHEN a.age < 18 THEN 'under 18'
            WHEN a.age < 25 THEN '18-24'
            WHEN a.age < 35 THEN '25-34'
            WHEN a.age < 45 THEN '35-44'
            WHEN a.age < 55 THEN '45-54'
            WHEN a.age < 65 THEN '55-64'
            ELSE '65+'
        END AS age_band,
        CASE
            WHEN c.income IS NULL OR c.income < 0 THEN 'unknown'
            WHEN c.income < 25000 THEN 'under 25k'
            WHEN c.income < 50000 THEN '25k-50k'
            WHEN c.income < 75000 THEN '50k-75k'
            WHEN c.income < 100000 THEN '75k-100k'
            WHEN c.income < 150000 THEN '100k-150k'
            ELSE '150k+'
        END AS income_band,
        coalesce(nullif(trim(c.gender), ''), 'unknown') AS gender,
        coalesce(nullif(trim(c.family_status), ''), 'unknown') AS family_status,
        CASE
            WHEN c.n_dependants IS NULL OR c.n_dependants < 0 THEN 'unknown'
            WHEN c.n_dependants >= 3 THEN '3+'
            ELSE c.n_dependants::text
        END AS dependants,
        coalesce(nullif(trim(c.region), ''), f.main_region, 'unknown') AS region
    FROM segmentation.customer_features AS f
    LEFT JOIN warehouse.dim_customer AS c ON c.customer_id = f.customer_id
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN c.birth_year IS NOT NULL
                THEN extract(year FROM %(as_of)s::date)::integer - c.birth_year
            ELSE c.age
        END AS age
    ) AS a
    WHERE f.run_id = %(run_id)s
)
SELECT
    %(run_id)s,
    'demographic',
    customer_id,
    NULL,
    age_band || ' / ' || gender,
    jsonb_build_object(
        'age_band', age_band, 'income_band', income_band, 'gender', gender,
        'family_status', family_status, 'dependants', dependants, 'region', region
    )
FROM banded;
