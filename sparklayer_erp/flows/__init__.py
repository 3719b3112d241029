"""Application services: the order flows as plain Python over the domain, the ERP port, the SparkLayer
client and the ledger. Dagster-free, so they are tested and benchmarked directly; assets and sensors are
thin wiring over them."""
