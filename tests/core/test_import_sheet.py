"""The desk words every code the hub's importer answers with, in the operator's language only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import i18n
from core.import_sheet import FIELDS, ROW_TEXT, missing_fields, refusal_text, row_error_text

ROOT = Path(__file__).resolve().parents[2]
IMPORTER = (ROOT / "hub" / "intake" / "importer.py").read_text(encoding="utf-8")


def test_every_row_code_the_hub_answers_with_has_its_own_words() -> None:
    codes = set(re.findall(r'_RowProblem\(\s*"(\w+)"', IMPORTER)) | set(re.findall(r'"(\w+)",\s*\{"', IMPORTER))
    assert {"bad_qty", "unknown_sku", "status_done", "empty", "order_refused"} <= codes
    assert codes - {"order_refused"} <= set(ROW_TEXT), codes - set(ROW_TEXT)


def test_every_file_problem_the_hub_answers_with_has_its_own_words() -> None:
    problems = set(re.findall(r'"problem": "(\w+)"', IMPORTER))
    generic = refusal_text("a.csv", {"problem": "something new"})
    for problem in problems - {"unreadable", "not_sheet"}:  # those two are the generic sentence on purpose
        assert refusal_text("a.csv", {"problem": problem, "missing": ["sku"]}) != generic, problem


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_reasons_come_in_one_language(lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path))
    i18n.set_language(lang)
    try:
        texts = [row_error_text({"code": code, "details": {"column": "qty", "value": "x", "first": "y"}})
                 for code in ROW_TEXT]
        texts.append(row_error_text({"code": "order_refused", "details": {"order_no": "A1", "rows": [3, 4]}}))
        texts.append(refusal_text("a.csv", {"problem": "missing_columns", "missing": ["order_no", "sku"], "row": 1}))
        for text in texts:
            latin = re.sub(r"[“”].*?[“”]|\{.*?\}|a\.csv|A1|SKU|UTF-8|CSV|\.xlsx|\d", "", text)
            has_en = bool(re.search(r"[A-Za-z]{3,}", latin))
            has_zh = bool(re.search(r"[\u4e00-\u9fff]", re.sub(r"[“”].*?[“”]|\(e\.g\..*?\)|\(是/否\)", "", text)))
            assert (has_zh, has_en) == ((True, False) if lang == "zh_CN" else (False, True)), text
    finally:
        i18n.set_language("en")


def test_the_address_can_come_in_parts_or_whole_and_a_price_in_three_ways() -> None:
    base = {"order_no", "name", "phone", "sku", "qty"}
    assert missing_fields(frozenset(base | {"full_address", "total"})) == []
    assert missing_fields(frozenset(base | {"province", "city", "district", "address", "line_total"})) == []
    assert missing_fields(frozenset(base)) == ["province", "city", "district", "address", "unit_price"]
    assert next(iter(FIELDS)) == "order_no"
