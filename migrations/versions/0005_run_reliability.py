"""Runs that know what they read and who runs them; passwords out of the load ledger.

Revision ID: 0005_run_reliability
Revises: 0004_ingest_reliability
Create Date: 2026-11-30

- ``segmentation.runs.batch_cutoff`` / ``batches_digest``: the warehouse a run reads, recorded
  when it starts (the newest built batch, and a digest of every built batch). Every stage checks
  the warehouse still holds exactly those batches before it records its work, so a load that
  commits during a run can never give a published run whose stages read different data.
- ``segmentation.runs.owner_pid``: the server process of the session that holds the run's
  session-level advisory lock while ``segwise run`` works. When that session ends (the process
  was killed, the machine lost) the lock is gone at once, and the run is shown ``abandoned``
  instead of blocking its date until a heartbeat timeout.
- status ``abandoned``.
- Source URLs already stored in ``staging.load_batches.source_uri`` are masked again with the
  masking that also covers ``?password=`` and keyword forms.
"""

import sqlalchemy as sa
from alembic import op

from etl.db import redact

revision = "0005_run_reliability"
down_revision = "0004_ingest_reliability"
branch_labels = None
depends_on = None

STATUSES = "'running', 'succeeded', 'published', 'superseded', 'failed', 'abandoned'"


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE segmentation.runs
            ADD COLUMN batch_cutoff bigint,
            ADD COLUMN batches_digest text,
            ADD COLUMN owner_pid integer,
            DROP CONSTRAINT IF EXISTS runs_status_check,
            ADD CONSTRAINT runs_status_check CHECK (status IN ({STATUSES}));
        COMMENT ON COLUMN segmentation.runs.batch_cutoff IS
            'Newest load batch built into the warehouse when the run started (what it reads).';
        COMMENT ON COLUMN segmentation.runs.batches_digest IS
            'md5 of the ids of every built batch when the run started; each stage checks it.';
        COMMENT ON COLUMN segmentation.runs.owner_pid IS
            'Server pid of the session holding the run''s advisory lock (segwise run); NULL '
            'for runs driven stage by stage (Airflow), which rely on the heartbeat instead.';
        """
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT batch_id, source_uri FROM staging.load_batches WHERE source_uri <> ''")
    ).fetchall()
    for batch_id, uri in rows:
        masked = redact(uri)
        if masked != uri:
            conn.execute(
                sa.text("UPDATE staging.load_batches SET source_uri = :u WHERE batch_id = :b"),
                {"u": masked, "b": batch_id},
            )


def downgrade() -> None:
    op.execute(
        """
        UPDATE segmentation.runs SET status = 'failed' WHERE status = 'abandoned';
        ALTER TABLE segmentation.runs
            DROP CONSTRAINT IF EXISTS runs_status_check,
            ADD CONSTRAINT runs_status_check CHECK (status IN
                ('running', 'succeeded', 'published', 'superseded', 'failed')),
            DROP COLUMN owner_pid,
            DROP COLUMN batches_digest,
            DROP COLUMN batch_cutoff;
        """
    )
