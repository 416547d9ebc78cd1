-- template parts clv_source, demographic_source, joins, rfm_source, run_id, segments: filled by etl.segment.profile_members.ensure
-- One row per customer of a run: the customer-level measures the profiles add up, and the
-- customer's segment in each method of the run as a column of its own (<segments>, named
-- segment_<method>, with its segment_id_<method>, from the rfm, clv and demographic joins
-- below or from <joins>: one LEFT JOIN per other method). Each method's memberships are read
-- where they are stored: under the run that computed them (<rfm_source>, <clv_source>,
-- <demographic_source>, and in <joins>; segmentation.run_methods; NULL when the run shows no
-- such method). The profile models group these rows with GROUPING SETS, one set per method,
-- so each customer row is read once for all methods instead of once per membership. One hash
-- join per method: grouping the memberships by customer instead took longer at 381k customers
-- (a sort of every membership row).
-- Demographic bands ('unknown' where missing) come from the demographic method's scores; the
-- RFM scores r, f, m and the predicted value from the rfm and clv methods' (NULL when the
-- method did not run).
SELECT
    f.customer_id,
    f.recency_days,
    f.frequency,
    f.monetary,
    f.gross_revenue,
    f.gross_margin,
    f.gross_margin + f.cost_amount AS costed_sales,
    {segments},
    (sr.scores ->> 'r')::numeric AS rfm_r,
    (sr.scores ->> 'f')::numeric AS rfm_f,
    (sr.scores ->> 'm')::numeric AS rfm_m,
    (sc.scores ->> 'predicted_clv_12m')::double precision AS clv_12m,
    (sc.scores ->> 'p_alive')::double precision AS clv_p_alive,
    coalesce(nullif(sd.scores ->> 'age_band', ''), 'unknown') AS age_band,
    coalesce(nullif(sd.scores ->> 'income_band', ''), 'unknown') AS income_band,
    coalesce(nullif(sd.scores ->> 'gender', ''), 'unknown') AS gender,
    coalesce(nullif(sd.scores ->> 'family_status', ''), 'unknown') AS family_status,
    coalesce(nullif(sd.scores ->> 'dependants', ''), 'unknown') AS dependants,
    coalesce(nullif(sd.scores ->> 'region', ''), 'unknown') AS region
FROM segmentation.customer_features AS f
LEFT JOIN segmentation.memberships AS sr
    ON sr.run_id = {rfm_source} AND sr.method = 'rfm' AND sr.customer_id = f.customer_id
LEFT JOIN segmentation.memberships AS sc
    ON sc.run_id = {clv_source} AND sc.method = 'clv' AND sc.customer_id = f.customer_id
LEFT JOIN segmentation.memberships AS sd
    ON sd.run_id = {demographic_source} AND sd.method = 'demographic'
    AND sd.customer_id = f.customer_id
{joins}
WHERE f.run_id = {run_id}
