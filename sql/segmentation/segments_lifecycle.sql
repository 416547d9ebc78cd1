-- parameters as_of, run_id, stages: bound by psycopg in etl.segment.lifecycle.label
-- Lifecycle label per customer of the run, from pg_temp.segwise_lifecycle
-- (lifecycle_stages.sql) at the run's date. Params: run_id, as_of (date), stages (text[]).
INSERT INTO segmentation.memberships (run_id, method, customer_id, segment_id, segment, scores)
SELECT
    %(run_id)s,
    'lifecycle',
    l.customer_id,
    array_position(%(stages)s::text[], l.stage),
    l.stage,
    jsonb_build_object(
        'days_since_last', l.days_since_last,
        'days_since_first', l.days_since_first,
        'gap_before_last', l.gap_before_last
    )
FROM segwise_lifecycle AS l
WHERE l.as_of_date = %(as_of)s::date;
