"""What the Airflow DAG runs: settings from the environment, run parameters, task callables.

Kept importable without heavy dependencies (pandas, scikit-learn, Airflow itself) so the DAG
processor parses ``dags/customer_segmentation.py`` quickly; the stage modules are imported inside
the task callables, in the worker.
"""
