"""segwise: customer segmentation on a Postgres warehouse (package ``etl``)."""

__version__ = "0.1.0"
