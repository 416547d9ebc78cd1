-- parameters method, run_id: bound by psycopg in etl.report.data.load
-- Demographic and channel mix of one method's segments: the three biggest values per dimension.
WITH mixes AS (
    SELECT 'demographic' AS source, segment, dimension, value, customers, share, index_vs_all
    FROM segmentation.demographic_profiles
    WHERE run_id = %(run_id)s AND method = %(method)s
    UNION ALL
    SELECT 'channel', segment, dimension, value, customers, share, index_vs_all
    FROM segmentation.channel_profiles
    WHERE run_id = %(run_id)s AND method = %(method)s
),
ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY source, segment, dimension ORDER BY share DESC, value
    ) AS rank_by_share
    FROM mixes
)
SELECT source, segment, dimension, value, customers, share::double precision AS share,
       index_vs_all::double precision AS index_vs_all, rank_by_share
FROM ranked
WHERE rank_by_share <= 3
ORDER BY source, segment, dimension, rank_by_share
