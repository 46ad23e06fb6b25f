"""Hand-made hub snapshots for client tests that do not need a running hub."""

from __future__ import annotations

import copy
from typing import Any


def snapshot(
    order_id: str = "BL20261125-000001",
    *,
    state: str = "allocated",
    version: int = 1,
    bench: str | None = "B1",
    **extra: Any,
) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "order_id": order_id,
        "channel": "generic",
        "channel_order_no": "C" + order_id[-6:],
        "state": state,
        "version": version,
        "created_at": "2026-11-25T01:00:00Z",
        "updated_at": "2026-11-25T01:00:00Z",
        "paid_at": "2026-11-25T01:00:00Z",
        "ship_by": "2026-11-26T01:00:00Z",
        "recipient": {
            "name": "张三",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address": "文三路 1 号",
            "postcode": "",
        },
        "lines": [
            {"sku": "SKU1", "name": "茶杯", "qty": 1, "unit_price_fen": 1000, "is_gift": False, "bin": "A-01"}
        ],
        "total_fen": 1000,
        "custom_packaging": False,
        "buyer_note": "",
        "seller_note": "",
        "warehouse": "WH1",
        "bench": bench,
        "lane": "normal",
        "carrier": "SF",
        "waybill_no": "SF" + order_id[-6:],
        "holds": [],
        "flags": [],
        "steps": {},
        "label_count": 0,
    }
    snap.update(copy.deepcopy(extra))
    return snap
