"""Hold (exception) types and who may act on them.

The hub enforces these; the client uses them to show what the operator may do. The guided
dialogs (playbooks) build on the same type names.
"""

from __future__ import annotations

from core.roles import Role

#: hold type -> (中文, English)
HOLD_TYPES: dict[str, tuple[str, str]] = {
    "rural_no_phone": ("农村地址无电话", "Rural address, no phone"),
    "no_phone": ("收件人无电话", "No phone number"),
    "gift_stock": ("赠品缺货", "Gift stock short"),
    "carrier_area": ("快递不覆盖（待协调）", "Carrier does not cover area"),
    "vip_signoff": ("VIP 定制包装待签字", "VIP custom packaging sign-off"),
    "scan_mismatch": ("扫描不符", "Scan mismatch"),
    "item_missing": ("缺货或破损", "Item missing or damaged"),
    "address_change": ("已打单后改地址", "Address changed after label"),
    "offline_conflict": ("离线冲突", "Offline conflict"),
    "delivery_failed": ("派送失败", "Delivery failed"),
    "cancel_request": ("打单后取消请求", "Cancel requested after label"),
    "ship_writeback_failed": ("平台拒绝发货回传", "Shop refused the shipment write-back"),
    "weight_mismatch": ("重量不符", "Weight does not match"),
    "stock_short": ("库存不足", "Stock short"),
    "refund_review": ("退货已入库，待审核退款", "Return received: refund to decide"),
}

#: The lowest role that may release a hold of each type (anything unlisted: desk).
RELEASE_ROLE: dict[str, Role] = {
    "vip_signoff": Role.SUPERVISOR,
    "scan_mismatch": Role.PACKER,
    "item_missing": Role.PACKER,
    "offline_conflict": Role.PACKER,
    "address_change": Role.PACKER,
    "cancel_request": Role.PACKER,
    "weight_mismatch": Role.PACKER,  # accepting a weight the items do not explain needs desk (playbook)
}

#: The lowest role that may raise a hold by hand (the hub raises any type itself).
RAISE_ROLE: dict[str, Role] = {
    "scan_mismatch": Role.PACKER,
    "item_missing": Role.PACKER,
    "offline_conflict": Role.PACKER,
    "weight_mismatch": Role.PACKER,  # the bench's scale raises it
}


def release_role(hold_type: str) -> Role:
    return RELEASE_ROLE.get(hold_type, Role.DESK)


def raise_role(hold_type: str) -> Role:
    return RAISE_ROLE.get(hold_type, Role.DESK)


def hold_label(hold_type: str, lang: str = "zh_CN") -> str:
    zh, en = HOLD_TYPES.get(hold_type, (hold_type, hold_type))
    return zh if lang.startswith("zh") else en
