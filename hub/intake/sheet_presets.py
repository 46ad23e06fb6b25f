"""Which column of a sheet is which field: our own headers and the platforms' export sheets.

Sellers export orders from 抖店 / 拼多多 / 淘宝 / 微信小店 back ends; each names its columns its own way
and adds dozens we do not need. A *preset* is one platform's headers for our fields (the field
names are ``core.import_sheet.FIELDS``) plus its status words; it is recognised from the header row
by marks only that platform's export has. Where the sources of each preset's names are is written
in docs/import.md. Columns no alias knows are ignored (the import answer lists them once).

A field may have several columns (淘宝's 联系手机 and 联系电话): the first non-empty one, in alias
order, is read on each row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.model import ChannelStatus

#: Our own headers (the template's, Chinese first) and common spellings, per field, best first.
GENERIC: dict[str, tuple[str, ...]] = {
    "order_no": ("订单号", "订单编号", "order_no", "orderno", "order_id", "order_number"),
    "name": ("收件人", "收货人", "收件人姓名", "收货人姓名", "name", "recipient", "receiver"),
    "phone": ("手机", "手机号", "收件人手机", "收件人手机号", "收货人手机", "电话", "联系电话", "收件人电话",
              "phone", "mobile", "tel"),
    "province": ("省", "省份", "province"),
    "city": ("市", "城市", "city"),
    "district": ("区", "区县", "县区", "district", "county"),
    "street": ("街道", "乡镇", "street"),
    "address": ("详细地址", "地址", "address"),
    "full_address": ("收货地址", "完整地址", "收件地址", "full_address"),
    "postcode": ("邮编", "postcode", "zip"),
    "sku": ("sku", "商品编码", "商家编码", "sku编码", "货号", "sku_code"),
    "item_name": ("商品名称", "商品名", "品名", "item_name", "product_name", "item"),
    "item_spec": ("商品规格", "规格", "item_spec", "variant"),
    "barcode": ("商品条码", "条形码", "条码", "69码", "barcode", "ean"),
    "qty": ("数量", "qty", "quantity", "件数", "商品数量"),
    "unit_price": ("单价", "unit_price", "price", "商品单价"),
    "line_total": ("商品总价", "商品金额合计", "line_total"),
    "total": ("订单金额", "实付金额", "total", "order_total", "amount"),
    "is_gift": ("是否赠品", "赠品", "is_gift", "gift"),
    "status": ("订单状态", "付款状态", "支付状态", "status", "payment_status"),
    "created_at": ("下单时间", "创建时间", "created_at", "order_time"),
    "ship_by": ("最晚发货时间", "最晚发货", "ship_by", "ship_before"),
    "custom_packaging": ("定制包装", "custom_packaging"),
    "buyer_note": ("买家留言", "买家备注", "buyer_note", "buyer_message"),
    "seller_note": ("卖家备注", "商家备注", "seller_note"),
}


@dataclass(frozen=True)
class Preset:
    """One platform's export sheet: its headers per field (best first) and the marks that identify it.

    A sheet is this platform's when it has at least ``min_marks`` of ``marks`` (normalised headers).
    """

    name: str
    label: str
    columns: dict[str, tuple[str, ...]]
    marks: tuple[str, ...]
    min_marks: int = 2
    statuses: dict[str, ChannelStatus | None] = field(default_factory=dict)


# Status words: None means "already shipped / finished on the platform" (a row error, not an order).
STATUS_WORDS: dict[str, ChannelStatus | None] = {
    "": ChannelStatus.PAID,
    "已付款": ChannelStatus.PAID,
    "已支付": ChannelStatus.PAID,
    "付款": ChannelStatus.PAID,
    "paid": ChannelStatus.PAID,
    "待发货": ChannelStatus.PAID,
    "未付款": ChannelStatus.UNPAID,
    "待付款": ChannelStatus.UNPAID,
    "待支付": ChannelStatus.UNPAID,
    "unpaid": ChannelStatus.UNPAID,
    "已取消": ChannelStatus.CANCELLED,
    "取消": ChannelStatus.CANCELLED,
    "已关闭": ChannelStatus.CANCELLED,
    "cancelled": ChannelStatus.CANCELLED,
    "canceled": ChannelStatus.CANCELLED,
    "已发货": None,
    "已完成": None,
    "已签收": None,
    "shipped": None,
}

PRESETS: tuple[Preset, ...] = (
    Preset(
        "douyin", "抖店",
        {
            "order_no": ("主订单编号",),
            "name": ("收件人",),
            "phone": ("收件人手机号",),
            "item_name": ("选购商品",),
            "sku": ("商家编码", "货号"),
            "qty": ("商品数量",),
            "unit_price": ("商品金额",),
            "total": ("订单应付金额",),
            "created_at": ("订单提交时间",),
            "seller_note": ("商家备注",),
        },
        marks=("主订单编号", "子订单编号", "选购商品", "订单提交时间", "订单应付金额"),
        statuses={"备货中": ChannelStatus.PAID, "部分发货": ChannelStatus.PAID, "待确认": ChannelStatus.PAID},
    ),
    Preset(
        "pinduoduo", "拼多多",
        {
            "order_no": ("订单号",),
            "name": ("收货人",),
            "phone": ("手机",),
            "item_name": ("商品",),
            "sku": ("商家编码-sku维度", "商家编码-商品维度"),
            "qty": ("商品数量",),
            "line_total": ("商品总价",),
            "total": ("用户实付金额",),
            "created_at": ("成交时间", "订单成交时间", "支付时间"),
            "seller_note": ("商家备注",),
        },
        marks=("用户实付金额", "商家实收金额", "商家编码-sku维度", "商家编码-商品维度", "成交时间", "订单成交时间"),
        statuses={"已发货，待收货": None, "待收货": None, "已签收": None, "待成团": ChannelStatus.UNPAID},
    ),
    Preset(
        "taobao", "淘宝",
        {
            "order_no": ("订单编号",),
            "name": ("收货人姓名",),
            "phone": ("联系手机", "联系电话"),
            "full_address": ("收货地址",),
            "item_name": ("宝贝标题",),
            "sku": ("商家编码", "宝贝商家编码", "商品编码"),
            "qty": ("宝贝总数量", "购买数量"),
            "total": ("买家实际支付金额", "总金额"),
            "created_at": ("订单创建时间", "订单付款时间"),
            "buyer_note": ("买家留言",),
            "seller_note": ("订单备注",),
        },
        marks=("买家会员名", "宝贝标题", "宝贝总数量", "买家实际支付金额", "买家支付宝账号"),
        statuses={
            "买家已付款，等待卖家发货": ChannelStatus.PAID,
            "等待卖家发货": ChannelStatus.PAID,
            "等待买家付款": ChannelStatus.UNPAID,
            "交易关闭": ChannelStatus.CANCELLED,
            "卖家已发货，等待买家确认": None,
            "卖家已发货": None,
            "交易成功": None,
        },
    ),
    Preset(
        "wechat", "微信小店",
        {
            "order_no": ("订单号",),
            "name": ("收件人姓名",),
            "phone": ("收件人手机",),
            "province": ("省份",),
            "city": ("城市",),
            "district": ("区县",),
            "sku": ("商品编码", "sku编码"),
            "item_name": ("商品名称",),
            "qty": ("商品数量", "数量"),
            "total": ("订单实付金额", "实付金额"),
            "created_at": ("下单时间",),
        },
        marks=("收件人姓名", "收件人手机", "省份", "城市", "区县"),
        min_marks=4,
        statuses={"待收货": None},
    ),
)
PRESET_BY_NAME = {p.name: p for p in PRESETS}


def norm_header(value: Any) -> str:
    """A header compared loosely: lower case, no spaces, "*", ":" or a unit in brackets ("单价(元)" → "单价")."""
    text = "" if value is None else str(value)
    text = re.sub(r"[（(][^）)]*[）)]", "", text)
    return re.sub(r"[\s_*:：]", "", text.lower())


def detect(headers: list[str]) -> Preset | None:
    """The platform whose export has these (normalised) headers, or None for our own / another sheet."""
    present = set(headers)
    best: tuple[int, Preset] | None = None
    for preset in PRESETS:
        hits = sum(1 for m in preset.marks if m in present)
        if hits >= preset.min_marks and (best is None or hits > best[0]):
            best = (hits, preset)
    return best[1] if best else None


def aliases(preset: Preset | None) -> dict[str, list[str]]:
    """Field -> headers that name it, best first: the platform's own names, then ours."""
    result = {key: [norm_header(h) for h in names] for key, names in GENERIC.items()}
    if preset is not None:
        for key, names in preset.columns.items():
            own = [norm_header(h) for h in names]
            result[key] = own + [h for h in result[key] if h not in own]
    return result


def status_words(preset: Preset | None) -> dict[str, ChannelStatus | None]:
    """Status text (lower case) -> our status (None: done on the platform already)."""
    words = dict(STATUS_WORDS)
    for p in PRESETS:  # a status word of any platform means the same everywhere
        words.update(p.statuses)
    if preset is not None:
        words.update(preset.statuses)
    return words


_POSTCODE = re.compile(r"[（(]\s*(\d{6})\s*[)）]\s*$|\s(\d{6})\s*$")
_MUNICIPALITY = ("北京", "天津", "上海", "重庆")
_PROVINCE = re.compile(r"^(?:(?:北京|天津|上海|重庆)市?|[^省市区县\s]{2,8}?(?:省|自治区|特别行政区))")
_CITY = re.compile(r"^[^省市区县\s]{1,10}?(?:自治州|地区|盟|市)")
_DISTRICT = re.compile(r"^[^省市区县\s]{1,12}?(?:区|县|旗|市)")


def split_address(text: str) -> tuple[str, str, str, str, str] | None:
    """A whole address in one cell → (province, city, district, rest, postcode), or None if it cannot be split.

    淘宝's 收货地址 is "浙江省 杭州市 西湖区 文三路90号(310000)": parts separated by spaces, the
    postcode in brackets at the end. Without spaces the administrative names are cut by their
    suffixes (省/自治区, 市/州/地区/盟, 区/县/旗/市); a municipality (北京, 上海…) is its own city.
    """
    text = " ".join(text.split())
    postcode = ""
    m = _POSTCODE.search(text)
    if m:
        postcode = m.group(1) or m.group(2) or ""
        text = text[: m.start()].strip()
    parts = text.split(" ")
    if len(parts) >= 4:
        return parts[0], parts[1], parts[2], "".join(parts[3:]), postcode
    rest = text.replace(" ", "")
    m = _PROVINCE.match(rest)
    if not m:
        return None
    province, rest = m.group(0), rest[m.end():]
    if province.rstrip("市") in _MUNICIPALITY:
        city = province if province.endswith("市") else province + "市"
        if rest.startswith(city):
            rest = rest[len(city):]
        elif rest.startswith("市辖区"):
            rest = rest[3:]
    else:
        m = _CITY.match(rest)
        if not m:
            return None
        city, rest = m.group(0), rest[m.end():]
    m = _DISTRICT.match(rest)
    if not m or not rest[m.end():]:
        return None
    return province, city, m.group(0), rest[m.end():], postcode
