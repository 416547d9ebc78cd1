"""The mart layer: the ``mart`` views BI tools read and the read-only ``segwise_bi`` role.

Not versioned by the migrations: ``etl.mart.layer`` applies it from today's ``sql/mart/*.sql``
once a ``segwise db upgrade`` has reached the head revision, and removes it before any revision
runs (``migrations/env.py``).
"""
