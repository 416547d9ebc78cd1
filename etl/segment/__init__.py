"""Customer segmentation: features in SQL, methods in pandas/scikit-learn, results by run."""
