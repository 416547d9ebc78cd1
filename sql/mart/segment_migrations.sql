-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.segment_migrations: how customers moved between segments since the previous run.
CREATE OR REPLACE VIEW mart.segment_migrations AS
SELECT
    l.as_of_date,
    l.run_id,
    m.previous_run_id,
    prev.as_of_date AS previous_as_of_date,
    m.method,
    m.from_segment,
    m.to_segment,
    m.customers,
    -- Sankey nodes: the run's date in front keeps "before" and "after" apart.
    coalesce(prev.as_of_date::text, 'before') || ' ' || m.from_segment AS from_label,
    l.as_of_date::text || ' ' || m.to_segment AS to_label
FROM mart.as_of AS l
JOIN segmentation.segment_migrations AS m ON m.run_id = l.run_id
LEFT JOIN segmentation.runs AS prev ON prev.run_id = m.previous_run_id;

COMMENT ON VIEW mart.segment_migrations IS
    'From/to matrix of customers per method between the latest published run and the '
    'previously published one with an earlier as-of date.';
COMMENT ON COLUMN mart.segment_migrations.as_of_date IS 'Date of the latest run.';
COMMENT ON COLUMN mart.segment_migrations.run_id IS 'The latest run.';
COMMENT ON COLUMN mart.segment_migrations.previous_run_id IS 'The run compared against.';
COMMENT ON COLUMN mart.segment_migrations.previous_as_of_date IS 'Its as-of date.';
COMMENT ON COLUMN mart.segment_migrations.method IS 'Segmentation method.';
COMMENT ON COLUMN mart.segment_migrations.from_segment IS
    'Segment in the previous run; ''(new)'' = not a customer then.';
COMMENT ON COLUMN mart.segment_migrations.to_segment IS
    'Segment now; ''(gone)'' = no longer in this method''s results.';
COMMENT ON COLUMN mart.segment_migrations.customers IS 'Customers who made this move.';
COMMENT ON COLUMN mart.segment_migrations.from_label IS
    'previous_as_of_date and from_segment as one label (e.g. ''2011-09-30 Champions''): a Sankey '
    'source node, never equal to a to_label.';
COMMENT ON COLUMN mart.segment_migrations.to_label IS
    'as_of_date and to_segment as one label (e.g. ''2011-12-09 At Risk''): a Sankey target node.';
