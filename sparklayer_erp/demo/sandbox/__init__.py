"""A local SparkLayer: the documented REST API (token auth, RFC 7807 errors, full-replace PUTs, pagination,
429/409/5xx on demand) plus a buyer who places orders, for the demo and the tests.

Entry points: ``app.create_app``, ``server.run_sandbox`` / ``server.main``, ``admin.SandboxAdmin``.
"""
