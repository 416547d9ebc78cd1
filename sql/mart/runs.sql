-- fixed SQL: run as is by etl.segment.bi.apply_bi_layer
-- mart.runs: the segmentation run ledger, for "how fresh is this?" questions in BI tools.
CREATE OR REPLACE VIEW mart.runs AS
SELECT
    r.run_id,
    r.as_of_date,
    r.trigger,
    r.methods,
    r.status,
    r.row_counts,
    r.timings,
    r.metrics,
    r.message,
    r.created_at,
    r.finished_at,
    r.published_at,
    r.run_id = (SELECT a.run_id FROM mart.as_of AS a) AS is_latest
FROM segmentation.runs AS r;

COMMENT ON VIEW mart.runs IS
    'Every segmentation run; the one with is_latest feeds the other mart views.';
COMMENT ON COLUMN mart.runs.run_id IS 'Run id.';
COMMENT ON COLUMN mart.runs.as_of_date IS 'Date the run describes (inclusive).';
COMMENT ON COLUMN mart.runs.trigger IS 'Who started it: cli, airflow, api, test.';
COMMENT ON COLUMN mart.runs.methods IS 'Methods computed.';
COMMENT ON COLUMN mart.runs.status IS
    'running, succeeded (not yet visible), published (visible), superseded, failed.';
COMMENT ON COLUMN mart.runs.row_counts IS 'Rows written per stage.';
COMMENT ON COLUMN mart.runs.timings IS 'Seconds per stage.';
COMMENT ON COLUMN mart.runs.metrics IS 'Clustering quality: k, silhouette, stability (ARI).';
COMMENT ON COLUMN mart.runs.message IS 'Error message of a failed run.';
COMMENT ON COLUMN mart.runs.created_at IS 'When the run started.';
COMMENT ON COLUMN mart.runs.finished_at IS 'When it succeeded or failed.';
COMMENT ON COLUMN mart.runs.published_at IS 'When it became visible.';
COMMENT ON COLUMN mart.runs.is_latest IS 'True for the run the other mart views show.';
