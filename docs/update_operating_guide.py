"""Regenerate the tables of ``operating-guide.md`` that come from code, so the guide cannot drift from it.

    .venv/bin/python docs/update_operating_guide.py          # rewrite the marked sections in place

Two tables: every exception kind (``domain.exception_kinds.KINDS``) and every reconciliation status
(``domain.reconciliation.RECON_CLASSES``). The test ``sparklayer_erp_tests/monitoring/test_operating_guide.py``
fails when the guide is out of date (a kind added without re-running this).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

GUIDE = Path(__file__).resolve().with_name("operating-guide.md")


def _sections() -> dict[str, Callable[[], str]]:
    from sparklayer_erp.monitoring.watch import kinds_markdown
    from sparklayer_erp.month_end.close import recon_classes_markdown

    return {"exception-kinds": kinds_markdown, "reconciliation-classes": recon_classes_markdown}


def render(text: str) -> str:
    """``text`` with every ``<!-- name:start -->`` … ``<!-- name:end -->`` section regenerated."""
    for name, make in _sections().items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"the guide has no <!-- {name}:start/end --> markers")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + m.group(2), text)
    return text


def main() -> int:
    sys.path.insert(0, str(GUIDE.parent.parent))
    GUIDE.write_text(render(GUIDE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {GUIDE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
