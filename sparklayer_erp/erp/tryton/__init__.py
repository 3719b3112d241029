"""The Tryton adapter: ``ErpPort`` over Tryton's JSON-RPC API (the local demo server lives in ``demo/``)."""
