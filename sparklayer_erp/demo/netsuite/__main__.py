"""``python -m sparklayer_erp.demo.netsuite [--host 127.0.0.1] [--port 8800] [--db PATH]``."""

import sys

from sparklayer_erp.demo.netsuite.server import main

sys.exit(main())
