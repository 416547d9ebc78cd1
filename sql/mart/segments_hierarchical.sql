-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.segments_hierarchical: the hierarchical segments of the latest published run, one row each (no method filter).
CREATE OR REPLACE VIEW mart.segments_hierarchical AS
SELECT
    as_of_date,
    segment,
    segment_rank,
    segment_id,
    customers,
    customer_share,
    revenue,
    revenue_share,
    avg_recency_days,
    avg_frequency,
    avg_monetary,
    avg_order_value,
    median_monetary,
    recommended_action
FROM mart.segment_profiles
WHERE method = 'hierarchical';

COMMENT ON VIEW mart.segments_hierarchical IS
    'The hierarchical segments of the latest published run: mart.segment_profiles for method hierarchical only, so '
    'sums over the rows are sums over customers.';
-- Column comments are mart.segment_profiles' own (one definition).
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT v.attname, col_description(p.attrelid, p.attnum) AS comment
        FROM pg_attribute AS v
        JOIN pg_attribute AS p
            ON p.attrelid = 'mart.segment_profiles'::regclass AND p.attname = v.attname
        WHERE v.attrelid = 'mart.segments_hierarchical'::regclass AND v.attnum > 0
    LOOP
        EXECUTE format('COMMENT ON COLUMN mart.segments_hierarchical.%I IS %L', c.attname, c.comment);
    END LOOP;
END $$;
