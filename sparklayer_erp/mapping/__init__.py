"""Mappers between the SparkLayer client's models and the domain's plain shapes (pure, no I/O)."""
