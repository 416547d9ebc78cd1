"""Data-quality checks per batch, at build time; a run reads their record.

Revision ID: 0012_quality_per_batch
Revises: 0011_kpi_speed
Create Date: 2026-12-01

Three of a run's data-quality checks (``ledger_vs_facts``, ``lines_vs_orders``,
``facts_vs_features``) scanned every order line on every run (about a minute at 10M lines,
however little the day brought). The first two depend only on what warehouse builds write, so
the build now checks each batch inside its transaction, on what the batch wrote
(``etl.ingest.batch_checks``; the third for the kept customer totals of the customers the batch
touched); a failed check fails the batch. A run reads the record instead of rescanning, as long
as nothing is unverified (``etl.quality_record``):

- ``staging.load_batches.quality``: the passed build-time checks of a succeeded batch (NULL: built
  before this revision, or not checkable; a run then scans, and records a passing scan here);
- ``staging.unchecked_writes``: writes to the order lines, the order fact, the kept customer
  totals or a succeeded ledger row made outside a checked build (a hand-made fix, a script):
  statement-level triggers note them, and while any is noted a run scans every line;
- ``warehouse.customer_state_status.lines_checked``: whether the kept customer totals were
  verified against the order lines since a run last stored them whole (a latest-date run then
  checks its features against the totals instead of the lines).

A build and ``customer_state.fill_from`` say they are checked writers with the transaction-local
setting ``segwise.checked_write``; other writers leave a note.
"""

from alembic import op

revision = "0012_quality_per_batch"
down_revision = "0011_kpi_speed"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE staging.load_batches ADD COLUMN quality jsonb;
COMMENT ON COLUMN staging.load_batches.quality IS
    'Data-quality checks of a succeeded batch: {"checked_by": "build" or "full scan (run N)", '
    '"lines": order lines the warehouse gained with it, "checks": {check: [{subject, expected, '
    'actual}]}} (every one passed: a failed check fails the batch). NULL: not checked (built '
    'before revision 0012_quality_per_batch); a run then scans every order line.';

CREATE TABLE staging.unchecked_writes (
    write_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  text NOT NULL,
    operation   text NOT NULL,
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    written_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (txid, table_name, operation)
);
COMMENT ON TABLE staging.unchecked_writes IS
    'Writes to the order lines, the order fact, the kept customer totals or a succeeded load '
    'batch made outside a checked build (one row per transaction, table and operation). While '
    'any row is here, a run''s data-quality checks scan every order line; a passing scan '
    'deletes the rows it saw.';
COMMENT ON COLUMN staging.unchecked_writes.write_id IS 'Order of the notes.';
COMMENT ON COLUMN staging.unchecked_writes.table_name IS 'The table written (schema.name).';
COMMENT ON COLUMN staging.unchecked_writes.operation IS 'INSERT, UPDATE, DELETE or TRUNCATE.';
COMMENT ON COLUMN staging.unchecked_writes.txid IS 'The writing transaction.';
COMMENT ON COLUMN staging.unchecked_writes.written_at IS 'When that transaction began.';

CREATE FUNCTION staging.note_unchecked_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $f$
BEGIN
    IF coalesce(current_setting('segwise.checked_write', true), '') = '' THEN
        INSERT INTO staging.unchecked_writes (table_name, operation)
        VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$f$;
CREATE TRIGGER quality_unchecked_write
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON warehouse.fact_order_line
    FOR EACH STATEMENT EXECUTE FUNCTION staging.note_unchecked_write();
CREATE TRIGGER quality_unchecked_write
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON warehouse.fact_order
    FOR EACH STATEMENT EXECUTE FUNCTION staging.note_unchecked_write();
CREATE TRIGGER quality_unchecked_write
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON warehouse.customer_order_totals
    FOR EACH STATEMENT EXECUTE FUNCTION staging.note_unchecked_write();
-- the ledger side of ledger_vs_facts: a succeeded batch that changes status or count
CREATE TRIGGER quality_unchecked_write
    AFTER UPDATE OF status, rows_loaded ON staging.load_batches
    FOR EACH ROW
    WHEN (OLD.status = 'succeeded'
          AND (NEW.status, NEW.rows_loaded) IS DISTINCT FROM (OLD.status, OLD.rows_loaded))
    EXECUTE FUNCTION staging.note_unchecked_write();
CREATE TRIGGER quality_unchecked_delete
    AFTER DELETE ON staging.load_batches
    FOR EACH ROW WHEN (OLD.status = 'succeeded')
    EXECUTE FUNCTION staging.note_unchecked_write();

ALTER TABLE warehouse.customer_state_status
    ADD COLUMN lines_checked boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN warehouse.customer_state_status.lines_checked IS
    'The kept totals were verified against the order lines since a run last stored them whole '
    '(by a run''s full facts_vs_features check, then per batch at build time for the customers '
    'it touched); false: a latest-date run checks its features against the lines.';
"""

DOWNGRADE = """
ALTER TABLE warehouse.customer_state_status DROP COLUMN IF EXISTS lines_checked;
DROP TRIGGER IF EXISTS quality_unchecked_delete ON staging.load_batches;
DROP TRIGGER IF EXISTS quality_unchecked_write ON staging.load_batches;
DROP TRIGGER IF EXISTS quality_unchecked_write ON warehouse.customer_order_totals;
DROP TRIGGER IF EXISTS quality_unchecked_write ON warehouse.fact_order;
DROP TRIGGER IF EXISTS quality_unchecked_write ON warehouse.fact_order_line;
DROP FUNCTION IF EXISTS staging.note_unchecked_write();
DROP TABLE IF EXISTS staging.unchecked_writes;
ALTER TABLE staging.load_batches DROP COLUMN IF EXISTS quality;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
