-- fixed SQL: run as is by etl.mart.views.apply_view
-- mart.as_of: the date and run the mart shows, i.e. the latest published run.
-- The one definition of "latest published run" (latest as-of date, then the highest run id);
-- the mart views and `segwise report` read it from here. Its file name sorts before the
-- views that use it, so it is created first.
CREATE OR REPLACE VIEW mart.as_of AS
SELECT run_id, as_of_date
FROM segmentation.runs
WHERE status = 'published'
ORDER BY as_of_date DESC, run_id DESC
LIMIT 1;

COMMENT ON VIEW mart.as_of IS
    'The run the other mart views show: the published run with the latest as-of date (no row '
    'before the first run is published).';
COMMENT ON COLUMN mart.as_of.run_id IS 'Segmentation run (mart.runs).';
COMMENT ON COLUMN mart.as_of.as_of_date IS 'Date the run describes (inclusive).';
