"""docs/keys.md is what the code says now (scripts/gen_keys.py writes it from the real widgets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.hubproc import ROOT
from ui.keys import keys_markdown


def test_docs_keys_md_matches_the_code(home: Path, qapp: Any) -> None:
    written = (ROOT / "docs" / "keys.md").read_text(encoding="utf-8")
    assert written == keys_markdown(), "docs/keys.md is out of date: run `python scripts/gen_keys.py`"
