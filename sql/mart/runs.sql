-- fixed SQL: run as is by etl.mart.views.apply_view
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
    r.run_id = (SELECT a.run_id FROM mart.as_of AS a) AS is_latest,
    -- Flat columns for BI tools (no arrays or JSON to unpack).
    'run ' || r.run_id AS run_label,
    array_to_string(r.methods, ', ') AS method_list,
    (r.row_counts ->> 'customers')::bigint AS customers,
    round(extract(epoch FROM r.finished_at - r.created_at)::numeric, 1) AS duration_seconds,
    (r.metrics -> 'kmeans' ->> 'k')::integer AS kmeans_k,
    (r.metrics -> 'kmeans' ->> 'silhouette')::double precision AS kmeans_silhouette,
    (r.metrics -> 'kmeans' ->> 'stability_ari')::double precision AS kmeans_stability_ari,
    (r.metrics -> 'hierarchical' ->> 'k')::integer AS hierarchical_k,
    (r.metrics -> 'hierarchical' ->> 'silhouette')::double precision AS hierarchical_silhouette,
    (r.metrics -> 'hierarchical' ->> 'stability_ari')::double precision
        AS hierarchical_stability_ari
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
COMMENT ON COLUMN mart.runs.run_label IS 'The run as a text label (''run 12''), for grouping.';
COMMENT ON COLUMN mart.runs.method_list IS 'methods as one comma-separated text.';
COMMENT ON COLUMN mart.runs.customers IS 'Customers segmented (row_counts.customers).';
COMMENT ON COLUMN mart.runs.duration_seconds IS
    'Seconds from start to success or failure; NULL while running.';
COMMENT ON COLUMN mart.runs.kmeans_k IS 'K-means clusters chosen; NULL when k-means did not run.';
COMMENT ON COLUMN mart.runs.kmeans_silhouette IS
    'Silhouette of the k-means clustering (-1..1, higher = better separated).';
COMMENT ON COLUMN mart.runs.kmeans_stability_ari IS
    'Adjusted Rand index of k-means on resamples (1 = stable).';
COMMENT ON COLUMN mart.runs.hierarchical_k IS 'Ward clusters chosen; NULL when not run.';
COMMENT ON COLUMN mart.runs.hierarchical_silhouette IS
    'Silhouette of the hierarchical clustering (-1..1).';
COMMENT ON COLUMN mart.runs.hierarchical_stability_ari IS
    'Adjusted Rand index of the hierarchical clustering on resamples (1 = stable).';
