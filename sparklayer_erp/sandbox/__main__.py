"""``python -m sparklayer_erp.sandbox [--port 8700] [--db PATH]``."""

import sys

from sparklayer_erp.sandbox.server import main

sys.exit(main())
