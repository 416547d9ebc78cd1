"""Comments on every warehouse and segmentation table and column that had none.

Revision ID: 0006_comments
Revises: 0005_run_reliability
Create Date: 2026-11-30

The mart views already describe themselves with ``COMMENT ON``; this gives the tables under them
the same, so psql's ``\\d+``, BI tools and docs/models.md (generated from the comments by
scripts/models-doc) define every column in one place. Comments that already existed are left
as they are; downgrade removes only the ones added here.
"""

from alembic import op

revision = "0006_comments"
down_revision = "0005_run_reliability"
branch_labels = None
depends_on = None

SALE = "a sale line: quantity > 0, unit_price > 0, not a return"

TABLES = {
    "warehouse.dim_customer": "One row per customer: the latest values any batch gave for them "
    "(demographics and location), plus keys created for customers that only appear on order "
    "lines.",
    "warehouse.dim_product": "One row per product: name, category levels and prices, the latest "
    "values any batch gave, plus keys created for products that only appear on order lines.",
    "warehouse.fact_order_line": "One row per order line in the canonical model, whatever the "
    "source layout: signed quantities and amounts (returns negative), lines without a customer "
    "kept. Written only by the loader, one batch per transaction.",
    "warehouse.fact_order": "One row per order, recomputed from all of its lines whenever a batch "
    f"touches it; segmentation reads orders from here. A sale is {SALE}.",
    "segmentation.cluster_models": "One row per run and clustering method (kmeans, "
    "hierarchical): the chosen k, its quality figures and the clusters' profiles.",
    "segmentation.segment_profiles": "One row per run, method and segment: size, revenue "
    "contribution, mean R/F/M and a recommended action.",
}

COLUMNS = {
    "warehouse.dim_customer": {
        "customer_id": "Customer key, as the source spells it (trimmed text).",
        "gender": "Gender as recorded in the source.",
        "birth_year": "Year of birth; the age band uses the age it gives at the as-of date.",
        "age": "Age as the source records it; the age band uses it when birth_year is missing.",
        "income": "Yearly income as recorded (source currency).",
        "family_status": "Family status as recorded (e.g. single, married).",
        "n_dependants": "Number of dependants (children) as recorded.",
        "country": "Country of the customer.",
        "state": "State or county of the customer.",
        "region": "Region of the customer (as the layout maps it).",
        "city": "City of the customer.",
        "signup_date": "Date the customer signed up or was first seen by the source.",
        "attributes": "Further source fields the mapping keeps, by name (the mapping's "
        "customers.attributes).",
        "batch_id": "Load batch that last wrote the row (staging.load_batches).",
        "updated_at": "When the row was last written.",
    },
    "warehouse.dim_product": {
        "product_id": "Product key, as the source spells it (trimmed text).",
        "product_name": "Product name or description.",
        "category_l1": "Top-level category; the category features and profiles use this level.",
        "category_l2": "Second category level.",
        "category_l3": "Third category level.",
        "list_price": "List price per unit.",
        "unit_cost": "Cost per unit; gives the order lines' cost_amount where the layout uses it.",
        "attributes": "Further source fields the mapping keeps, by name (the mapping's "
        "products.attributes).",
        "batch_id": "Load batch that last wrote the row (staging.load_batches).",
        "updated_at": "When the row was last written.",
    },
    "warehouse.fact_order_line": {
        "order_id": "Order (invoice) key.",
        "line_no": "Line number within the order: the source's, else the line's position in the "
        "order as the file lists it.",
        "customer_id": "Customer key (warehouse.dim_customer); NULL when the source has none "
        "(such lines are kept but never count for a customer).",
        "order_ts": "Order date and time, as the source gives it (no time zone).",
        "order_date": "Date part of order_ts.",
        "product_id": "Product key (warehouse.dim_product); NULL when the source has none.",
        "quantity": "Units; negative for returns and cancellations.",
        "unit_price": "Price per unit as the source gives it (positive on a sale line).",
        "discount_amount": "Discount on the line (signed like amount; 0 when none).",
        "cost_amount": "Cost of the line's units where the source or the product gives a cost "
        "(signed like amount), else NULL.",
        "is_return": "True for a return or cancellation line (by the layout's return rules).",
        "channel": "Sales channel (e.g. web, app, store), as the layout maps it.",
        "platform": "Platform within the channel (e.g. ios, android).",
        "market": "Market the order belongs to.",
        "country": "Country of the order.",
        "region": "Region of the order.",
        "store_id": "Store, shop or restaurant key.",
        "batch_id": "Load batch that inserted the line (staging.load_batches).",
    },
    "warehouse.fact_order": {
        "order_id": "Order (invoice) key.",
        "customer_id": "Customer of the order (the lowest of its lines' customer ids); NULL when "
        "no line has one.",
        "order_ts": "Earliest order_ts of its lines.",
        "order_date": "Date of order_ts.",
        "n_lines": "Lines in the order.",
        "n_sale_lines": f"Lines that are sales ({SALE}); 0 = no sale in the order.",
        "quantity": "Sum of the lines' signed quantities.",
        "gross_amount": "Sum of the lines' gross_amount (before discounts, signed).",
        "discount_amount": "Sum of the lines' discounts.",
        "net_amount": "sales_amount - return_amount: what the order is worth after returns.",
        "cost_amount": "Sum of the lines' cost_amount (NULL when no line has a cost).",
        "is_return": "True when every line of the order is a return or cancellation.",
        "channel": "Channel of the order's lines (the lowest, byte-wise, when they differ); so "
        "are platform, market, country, region and store_id.",
        "platform": "Platform of the order's lines.",
        "market": "Market of the order's lines.",
        "country": "Country of the order's lines.",
        "region": "Region of the order's lines.",
        "store_id": "Store of the order's lines.",
        "batch_id": "Load batch that last recomputed the order.",
    },
    "segmentation.runs": {
        "run_id": "Run id; every result row carries the run that wrote it.",
        "as_of_date": "Date the run describes: order lines up to and including this date count.",
        "trigger": "Who started it: cli, airflow, api, test.",
        "methods": "Segmentation methods the run computes.",
        "params": "The run's full configuration (defaults, config file and trigger overrides "
        "merged).",
        "status": "running, succeeded, published, superseded or failed (see the table comment).",
        "stage": "Stage in progress; NULL between stages.",
        "stages_done": "Stages finished, in order.",
        "row_counts": "Rows written per stage.",
        "timings": "Seconds per stage.",
        "message": "Error message of a failed run.",
        "created_at": "When the run started.",
        "heartbeat_at": "Last sign of life; a running run silent for the lock timeout may be "
        "taken over.",
        "finished_at": "When it succeeded or failed.",
        "published_at": "When it became visible in the mart.",
    },
    "segmentation.run_locks": {
        "as_of_date": "The locked as-of date.",
        "run_id": "Run holding the lock.",
        "locked_at": "When it took the lock.",
    },
    "segmentation.customer_features": {
        "run_id": "Segmentation run (segmentation.runs).",
        "customer_id": "Customer key (warehouse.dim_customer).",
        "recency_days": "Days from the last sale to the as-of date (0 = bought on the as-of date).",
        "frequency": f"Distinct orders with at least one sale ({SALE}) by the as-of date.",
        "monetary": "Net revenue: gross_revenue - returns_value.",
        "gross_revenue": "Sales of the customer's orders before returns.",
        "returns_value": "Value of the customer's returns and cancellations (positive).",
        "return_orders": "Orders with a return or cancellation.",
        "return_rate": "returns_value / gross_revenue (NULL without sales value).",
        "first_order_date": "Date of the first sale.",
        "last_order_date": "Date of the last sale.",
        "tenure_days": "Days from the first sale to the as-of date.",
        "avg_order_value": "gross_revenue / frequency.",
        "mean_days_between_orders": "(last_order_date - first_order_date) / (frequency - 1); "
        "NULL with a single order.",
        "total_quantity": "Units bought (returns subtracted).",
        "distinct_products": "Distinct products bought.",
        "distinct_shops": "Distinct stores with a sale.",
        "distinct_categories": "Distinct top-level categories bought ('unknown' counts as one).",
        "top_categories": "Up to three top-level categories by sales, biggest first (ties: "
        "alphabetical).",
        "preferred_weekday": "ISO weekday (1 = Monday .. 7 = Sunday) with most sale orders.",
        "preferred_hour": "Hour of day (0-23) with most sale orders.",
        "main_channel": "Channel of most sale orders (ties: first alphabetically).",
        "main_platform": "Platform of most sale orders.",
        "main_market": "Market of most sale orders.",
        "main_region": "Region of most sale orders.",
        "main_country": "Country of most sale orders.",
        "cost_amount": "Cost of the lines that have cost data (NULL when none has).",
        "gross_margin": "Sales minus cost over the lines that have cost data.",
        "window_orders": "Sale orders within the size-tier window (the tiers' window_days before "
        "the as-of date; all history when unset).",
        "window_revenue": "Net revenue within the size-tier window.",
    },
    "segmentation.customer_category_revenue": {
        "run_id": "Segmentation run (segmentation.runs).",
        "customer_id": "Customer key.",
        "category": "Top-level category (category_l1; 'unknown' when missing).",
        "revenue": "Net revenue of the customer's lines in the category.",
        "products": "Distinct products bought in the category.",
        "quantity": "Units bought in the category (returns subtracted).",
    },
    "segmentation.customer_segments": {
        "run_id": "Segmentation run (segmentation.runs).",
        "method": "rfm, tiers, kmeans, hierarchical, demographic or channel.",
        "customer_id": "Customer key.",
        "segment_id": "Numeric id where the method has one (cluster number).",
        "segment": "The customer's segment label within the method.",
        "scores": "What the label was made from (see the table comment).",
    },
    "segmentation.segment_profiles": {
        "run_id": "Segmentation run (segmentation.runs).",
        "method": "Segmentation method.",
        "segment": "Segment label within the method.",
        "segment_id": "Numeric id where the method has one.",
        "customers": "Customers in the segment.",
        "customer_share": "customers / customers of the method (a method's shares sum to 1).",
        "revenue": "Net revenue (monetary) of the segment.",
        "revenue_share": "revenue / net revenue of the method.",
        "avg_recency_days": "Mean recency_days.",
        "avg_frequency": "Mean frequency.",
        "avg_monetary": "Mean net revenue per customer.",
        "avg_order_value": "Gross sales / orders over the segment.",
        "median_monetary": "Median net revenue per customer.",
        "top_categories": "Up to three top-level categories by net revenue, biggest first.",
        "recommended_action": "Marketing action from the run's configuration; for non-RFM "
        "segments, the action of their most common RFM segment.",
        "extra": "Mean R/F/M scores and the dominant RFM segment with its share.",
    },
    "segmentation.cluster_models": {
        "run_id": "Segmentation run (segmentation.runs).",
        "method": "kmeans or hierarchical.",
        "k": "Number of clusters chosen (configured, or picked by silhouette).",
        "silhouette": "Silhouette score of the clustering (-1..1, higher = better separated).",
        "stability_ari": "Adjusted Rand index between clusterings of resamples (1 = stable).",
        "params": "Settings the clustering used (features, transform, seed, sample size).",
    },
    "segmentation.demographic_profiles": {
        "run_id": "Segmentation run (segmentation.runs).",
        "method": "Method of the segment; 'all' (segment 'all') = every customer.",
        "segment": "Segment label within the method.",
        "dimension": "age_band, income_band, gender, family_status, dependants or region.",
        "value": "Band or value within the dimension ('unknown' where data are missing).",
        "customers": "Customers of the segment in this band.",
        "share": "customers / customers of the segment.",
        "index_vs_all": "100 * share / share of all customers in this band (100 = as common as "
        "overall).",
        "orders": "Sale orders of these customers.",
        "revenue": "Net revenue (monetary) of these customers.",
        "revenue_share": "revenue / revenue of the segment.",
        "gross_margin": "Sales minus cost over lines with cost data, else NULL.",
        "margin_pct": "gross_margin / sales of the lines that have cost data.",
        "extra": "Further figures of the band (JSON).",
    },
    "segmentation.channel_profiles": {
        "run_id": "Segmentation run (segmentation.runs).",
        "method": "Method of the segment; 'all' (segment 'all') = every customer.",
        "segment": "Segment label within the method.",
        "dimension": "channel, platform, market, region or country (of the order lines).",
        "value": "Value within the dimension.",
        "customers": "Customers of the segment with a sale in this value (one customer can "
        "count in several).",
        "share": "customers / customers of the segment.",
        "index_vs_all": "100 * share / share of all customers in this value (100 = as common as "
        "overall).",
        "orders": "Distinct orders with a sale in this value.",
        "revenue": "Net revenue (sales minus returns) of the segment's lines in this value.",
        "revenue_share": "revenue / revenue of the segment.",
        "gross_margin": "Sales minus cost over sale lines with cost data, else NULL.",
        "margin_pct": "gross_margin / sales of the lines that have cost data.",
        "extra": "List-price sales, discounts, discount_pct and the cost coverage of sales.",
    },
    "segmentation.segment_history": {
        "run_id": "The publishing run.",
        "method": "Segmentation method.",
        "customer_id": "Customer key.",
        "segment": "Segment in this run; NULL = no longer in the method's results.",
        "previous_run_id": "The previously published run with an earlier as-of date.",
        "previous_segment": "Segment in that run; NULL = a new customer.",
    },
    "segmentation.segment_migrations": {
        "run_id": "The publishing run.",
        "method": "Segmentation method.",
        "previous_run_id": "The previously published run with an earlier as-of date.",
        "from_segment": "Segment in the previous run; '(new)' = not a customer then.",
        "to_segment": "Segment now; '(gone)' = no longer in the method's results.",
        "customers": "Customers who made this move.",
    },
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def upgrade() -> None:
    for table, comment in TABLES.items():
        op.execute(f"COMMENT ON TABLE {table} IS {_literal(comment)}")
    for table, columns in COLUMNS.items():
        for column, comment in columns.items():
            op.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(comment)}")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"COMMENT ON TABLE {table} IS NULL")
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(f"COMMENT ON COLUMN {table}.{column} IS NULL")
