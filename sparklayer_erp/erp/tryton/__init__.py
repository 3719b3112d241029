"""The Tryton adapter and the local, embedded Tryton ERP used for the demo and the tests."""
