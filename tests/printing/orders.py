"""Realistic order snapshots for printing tests and benchmarks.

Long Chinese addresses (rural villages with 组/号, high-rise 栋/单元/室), many lines, gifts, VIP,
masked and landline phones — the things that break label layouts.
"""

from __future__ import annotations

import random
from typing import Any

from core.model import Snapshot, SnapshotLine

NAMES = ["张伟", "王芳", "李娜", "欧阳建国", "司马长风诸葛亮", "Zhang Wei", "刘洋", "陈静", "艾力·买买提江"]
ADDRESSES = [
    (
        "广东省",
        "深圳市",
        "南山区",
        "粤海街道科技园南区高新南七道数字技术园B2栋5楼501室（前台代收，工作日9点后送达）",
    ),
    (
        "四川省",
        "凉山彝族自治州",
        "木里藏族自治县",
        "水洛乡平翁村三组27号旁边小卖部，到了打电话，没人接就放在隔壁张大姐家",
    ),
    ("上海市", "上海市", "浦东新区", "张江镇祖冲之路2288弄3号楼1203室"),
    (
        "新疆维吾尔自治区",
        "伊犁哈萨克自治州",
        "霍城县",
        "清水河镇江苏大道888号伊犁国际物流园区综合服务中心一层东侧快递驿站",
    ),
    ("北京市", "北京市", "朝阳区", "建国路88号SOHO现代城A座2306"),
    ("浙江省", "杭州市", "余杭区", "五常街道文一西路998号海创园18幢"),
]
PRODUCTS = [
    ("TEA-LJ-250", "西湖龙井明前特级绿茶 250g 礼盒装"),
    ("CUP-GL-01", "双层玻璃茶杯 350ml"),
    ("HONEY-500", "野生百花蜂蜜 500g"),
    ("SOCK-M-BLK", "男士纯棉中筒袜 黑色 5双装"),
    ("MASK-KN95", "KN95 防护口罩 独立包装 50只"),
    ("BOOK-9787", "《三体》全集 典藏版"),
    ("USB-C-2M", "USB-C 快充数据线 2米 编织"),
    ("SNACK-NUT", "每日坚果 混合果仁 30包"),
    ("RICE-5KG", "五常大米 稻花香 5kg"),
    ("OIL-OLIVE", "特级初榨橄榄油 750ml"),
]
GIFTS = [("GIFT-BAG", "品牌帆布袋（赠品）"), ("GIFT-CARD", "手写感谢卡（赠品）")]
CARRIERS = [("SF", "SF"), ("ZTO", "7"), ("YTO", "YT"), ("JD", "JDV"), ("EMS", "11")]
#: ``Snapshot["waybill_routing"]`` as a Cainiao-standard provider answers it (routingInfo.sortation.name
#: 大头笔, routeCode 三段码, consolidation 集包地; docs/labels.md), with a routing barcode.
ROUTING = {
    "provider": "cainiao",
    "sort_code": "830都江堰",
    "route_code": "830-120-00 012",
    "package_centre": "成都转运中心",
    "package_code": "280104",
    "routing_barcode": "83012000012",
}


def bin_of(sku: str) -> str:
    """The SKU's bin, as a catalogue has it: one place per SKU (aisle-shelf-level)."""
    h = sum(ord(ch) * (i + 1) for i, ch in enumerate(sku))
    return f"{'ABCD'[h % 4]}-{h % 29 + 1:02d}-{h % 6 + 1}"


def make_line(sku: str, name: str, qty: int, bin_code: str, gift: bool = False) -> SnapshotLine:
    return {
        "sku": sku,
        "name": name,
        "qty": qty,
        "unit_price_fen": 0 if gift else 4990,
        "is_gift": gift,
        "bin": bin_code,
    }


def make_order(
    seq: int = 1,
    *,
    n_lines: int = 3,
    gift: bool = False,
    vip: bool = False,
    address: int | None = None,
    phone: str | None = None,
    carrier: int | None = None,
    buyer_note: str = "",
    seed: int | None = None,
    **overrides: Any,
) -> Snapshot:
    """One realistic snapshot. ``seq`` drives the order ID and (with ``seed``) the random choices."""
    rnd = random.Random(seed if seed is not None else seq)
    prov, city, dist, street = ADDRESSES[address if address is not None else seq % len(ADDRESSES)]
    lines = []
    for i in range(n_lines):
        sku, name = PRODUCTS[(seq + i) % len(PRODUCTS)]
        if i >= len(PRODUCTS):
            sku = f"{sku}-{i // len(PRODUCTS)}"
        lines.append(make_line(sku, name, rnd.randint(1, 4), bin_of(sku)))
    if gift:
        lines.append(make_line(*GIFTS[seq % len(GIFTS)], qty=1, bin_code="Z-01-1", gift=True))
    code, prefix = CARRIERS[carrier if carrier is not None else seq % len(CARRIERS)]
    waybill = prefix + str(10**11 + seq * 7919 % 10**11).zfill(12)
    flags = [f for f, on in (("vip", vip), ("gift", gift)) if on]
    order: Snapshot = {
        "order_id": f"BL20260222-{seq:06d}",
        "channel": "douyin",
        "channel_order_no": str(6900000000000000000 + seq * 31),
        "state": "allocated",
        "version": 3,
        "created_at": "2026-02-22T01:23:45Z",
        "updated_at": "2026-02-22T02:00:00Z",
        "paid_at": "2026-02-22T01:24:00Z",
        "ship_by": "2026-02-23T10:00:00Z",
        "recipient": {
            "name": NAMES[seq % len(NAMES)],
            "phone": phone
            if phone is not None
            else f"13{rnd.randint(0, 9)}{rnd.randint(10000000, 99999999)}",
            "province": prov,
            "city": city,
            "district": dist,
            "address": street,
            "postcode": "",
        },
        "lines": lines,
        "total_fen": sum(ln["qty"] * ln["unit_price_fen"] for ln in lines),
        "custom_packaging": vip,
        "buyer_note": buyer_note,
        "seller_note": "",
        "warehouse": "HZ-01",
        "bench": "B03",
        "lane": "vip" if vip else "normal",
        "carrier": code,
        "waybill_no": waybill,
        "holds": [],
        "flags": flags,
        "steps": {},
        "label_count": 0,
    }
    order.update(overrides)  # type: ignore[typeddict-item]
    return order


def make_batch(n_orders: int, lines_per_order: int = 3, start: int = 1) -> list[Snapshot]:
    """A wave of orders; every third has a gift and every seventh is VIP."""
    return [
        make_order(start + i, n_lines=lines_per_order, gift=i % 3 == 0, vip=i % 7 == 0)
        for i in range(n_orders)
    ]
