"""The order CSV columns and writer (core/order_csv.py): one home for the app's and the hub's exports."""

from __future__ import annotations

import csv
import io
from typing import Any

from core.order_csv import BOM, FIELD_KEYS, bilingual_headers, csv_bytes, csv_chunks, headers, order_cells


def doc(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "order_id": "BL20261206-000001", "channel": "douyin", "channel_order_no": "DY1", "state": "label_printed",
        "warehouse": "WH-SH", "bench": "B1", "waybill_no": "773012345678901", "carrier": "zto",
        "created_at": "2026-12-05T16:01:00Z", "ship_by": "2026-12-06T15:59:00Z",
        "recipient": {"name": "张三", "phone": "13812345678", "province": "浙江省", "city": "杭州市", "district": "",
                      "address": "文三路 1 号"},
        "lines": [{"sku": "SKU-1", "name": "绿茶", "qty": 2}, {"sku": "GIFT", "name": "", "qty": 1}],
        "holds": [{"type": "gift_stock", "reason": "赠品缺货"}, {"type": "no_phone"}],
    }
    base.update(kw)
    return base


def test_cells_are_what_a_desk_reads_in_site_time_with_the_phone_masked() -> None:
    cells = dict(zip(FIELD_KEYS, order_cells(doc()), strict=True))
    assert cells["state"] == "已打单" and cells["phone"] == "138****5678"
    assert cells["address"] == "浙江省 杭州市 文三路 1 号" and cells["items"] == "SKU-1 绿茶 ×2; GIFT ×1"
    assert cells["hold"] == "赠品缺货：赠品缺货; 收件人无电话"
    # 16:01 UTC on the 5th is 00:01 on the 6th in Shanghai: that day's
    assert cells["created"] == "2026-12-06 00:01" and cells["ship_by"] == "2026-12-06 23:59"
    en = dict(zip(FIELD_KEYS, order_cells(doc(), lang="en"), strict=True))
    assert en["state"] == "label printed" and en["hold"].startswith("Gift stock short")
    assert order_cells({"order_id": "X", "ship_by": "not a time"}, keys=["order_id", "ship_by", "buyer"]) == \
        ["X", "not a time", ""]  # a broken field is shown as it is, not a crash


def test_headers_in_each_language_and_both() -> None:
    assert headers("zh_CN")[0] == "订单号" and headers("en")[0] == "Order ID"
    assert bilingual_headers(["waybill"]) == ["运单号 / Waybill"]


def test_the_file_has_a_bom_quotes_what_needs_it_and_neutralises_formulas() -> None:
    rows = [["=HYPERLINK(\"http://x\",\"点我\")", 'a, "b"\nc', -5], ["＋1", "普通", 3]]
    body = csv_bytes(["h1", "h2", "h3"], rows)
    assert body.startswith(BOM.encode("utf-8"))
    back = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert back[1] == ["'=HYPERLINK(\"http://x\",\"点我\")", 'a, "b"\nc', "-5"]  # text, never a formula
    assert back[2][0] == "'＋1"


def test_chunks_hold_at_most_per_chunk_rows_and_lose_none() -> None:
    rows = [[str(i)] for i in range(7)]
    for per in (1, 3, 7, 8):
        chunks = list(csv_chunks(["n"], rows, per_chunk=per))
        back = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
        assert [r[0] for r in back[1:]] == [str(i) for i in range(7)]
        assert all(c.count(b"\r\n") <= per + 1 for c in chunks)
