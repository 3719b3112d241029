"""The operating guide cannot fall behind the code: every exception kind and reconciliation status is in it,
exactly as the catalogue defines them, and every picture it shows exists."""

from __future__ import annotations

import importlib.util
import re

from sparklayer_erp.domain.exception_kinds import KINDS
from sparklayer_erp.domain.reconciliation import RECON_CLASSES
from sparklayer_erp.settings import REPO_ROOT

DOCS = REPO_ROOT / "docs"
GUIDE = DOCS / "operating-guide.md"


def _updater():
    spec = importlib.util.spec_from_file_location("update_operating_guide", DOCS / "update_operating_guide.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_generated_tables_are_up_to_date():
    text = GUIDE.read_text(encoding="utf-8")
    assert _updater().render(text) == text, "run: .venv/bin/python docs/update_operating_guide.py"


def _section(name: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    return text[text.index(f"<!-- {name}:start -->"):text.index(f"<!-- {name}:end -->")]


def test_every_exception_kind_has_its_owner_meaning_and_action_in_the_guide():
    table = _section("exception-kinds")
    for code, spec in KINDS.items():
        row = next((line for line in table.splitlines() if f"(`{code}`)" in line), None)
        assert row is not None, f"the guide does not explain {code}"
        assert spec.title in row and spec.owner.value.replace("_", " ").capitalize() in row


def test_every_reconciliation_status_is_in_the_guide():
    table = _section("reconciliation-classes")
    assert all(f"(`{c}`)" in table for c in RECON_CLASSES)


def test_every_picture_the_guide_shows_exists():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", GUIDE.read_text(encoding="utf-8"))
    assert pictures
    assert [p for p in pictures if not (DOCS / p).is_file()] == []


def test_render_refuses_a_guide_without_markers():
    try:
        _updater().render("no markers here")
    except ValueError as exc:
        assert "exception-kinds" in str(exc)
    else:
        raise AssertionError("a guide without markers must be refused")
