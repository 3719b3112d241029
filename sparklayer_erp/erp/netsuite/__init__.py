"""The NetSuite adapter for the ERP port: SuiteTalk REST record service for writes, SuiteQL for reads."""
