"""SparkLayer ⇄ ERP integration on Dagster."""

__version__ = "0.1.0"
