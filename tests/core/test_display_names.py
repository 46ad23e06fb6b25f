"""Codes as people read them (issue 11: "generic", "ZTO", "print_ok", "import: paid" on Chinese screens)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import i18n
from core.display_names import (
    WHY_TEMPLATES,
    audit_what,
    audit_why,
    carrier_name,
    channel_name,
    doc_type_name,
    one_language,
    refusal_text,
    why_details,
    why_text,
)


@pytest.fixture
def zh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path))
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_channel_and_carrier_names_in_the_operators_language(zh: None) -> None:
    assert channel_name("generic") == "通用接口" and channel_name("douyin") == "抖店"
    assert channel_name("import") == "表格导入"
    assert carrier_name("ZTO") == "中通快递" and carrier_name("zto") == "中通快递"
    assert carrier_name("EMS") == "中国邮政 EMS"
    assert carrier_name("ZTO", "en") == "ZTO Express" and channel_name("generic", "en") == "Generic API"
    assert carrier_name("ACME") == "ACME" and channel_name("myshop") == "myshop"  # unknown: as recorded
    assert carrier_name(None) == "未指定快递"
    assert doc_type_name("label") == "面单" and doc_type_name("pick_list", "en") == "pick list"


def test_hub_reasons_are_translated_by_code_and_old_rows_by_their_text(zh: None) -> None:
    # a new row: the hub wrote the English text and the code
    assert audit_why(why_text("channel_paid", channel="import"),
                     why_details("channel_paid", channel="import")) == "表格导入：已付款"
    # old rows (no code): the texts the issue saw
    assert audit_why("generic push") == "通用接口推送"
    assert audit_why("routing rules") == "按路由规则分配"
    assert audit_why("import: paid") == "表格导入：已付款"
    assert audit_why("order closed (cancelled_by_buyer)") == "订单已关闭（买家取消）"
    # a bilingual pair: the operator's half; a person's own words: as typed
    assert audit_why("派送失败 / delivery failed") == "派送失败"
    assert audit_why("label damaged, please push") == "label damaged, please push"
    assert all("{" not in audit_why(t.replace("{channel}", "generic").replace("{trigger}", "completed"))
               for t in WHY_TEMPLATES.values())


def test_english_operator_reads_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKDESK_HOME", str(tmp_path))
    i18n.set_language("en")
    assert audit_why("generic push") == "Generic API push"
    assert audit_why("派送失败 / delivery failed") == "delivery failed"
    assert one_language("中通快递 / ZTO Express") == "ZTO Express"
    assert one_language("a / b") == "a / b"  # not a Chinese / English pair


def test_print_lines_name_the_document(zh: None) -> None:
    assert audit_what("print_ok", {"doc_type": "label"}) == "已打印 面单"
    assert audit_what("print_failed", {"doc_type": "pick_list"}) == "打印失败 拣货单"


def test_a_hub_refusal_reads_as_a_sentence_on_a_chinese_screen(zh: None) -> None:
    hub_words = "The order changed at the hub (now closed, version 7) since this was done (version 5): ..."
    assert refusal_text("illegal_transition", hub_words) == "订单在订单中心已有变化（例如已取消）：本机做的操作不再适用。"
    assert refusal_text("weird_code", "派送失败 / delivery failed") == "派送失败"
    i18n.set_language("en")
    assert refusal_text("illegal_transition", hub_words) == hub_words  # an English operator reads the hub's own
