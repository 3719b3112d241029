"""``python -m sparklayer_erp.demo.sandbox [--port 8700] [--db PATH]``."""

import sys

from sparklayer_erp.demo.sandbox.server import main

sys.exit(main())
