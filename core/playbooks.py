"""Exception playbooks as data: what each hold means, what to do, what must be filled in.

Every hold type (``core.holds.HOLD_TYPES``) has one :class:`Playbook`: its title and step-by-step
guidance in Chinese and English, the actions the dialog puts at hand (copy the phone number, pick a
substitute gift, choose another carrier, void and reprint), the fields the resolution needs, who may
resolve it, and what the resolution does at the hub.

Why data and not dialog code: the guided dialog (``ui/exception_dialog.py``) and the hub
(``hub/actions.py``) both call :func:`validate` on the same playbook, so the dialog's locked Submit
and the hub's ``bad_payload`` refusal can never disagree, and a new exception type is one entry
here rather than a new dialog.

Texts are stored as Chinese / English pairs (:class:`Text`) instead of gettext ids: the desk reads
them in both languages side by side (the same "中文 / English" style as the hub's hold reasons), and
the reasons :func:`validate` returns travel to the hub's audit, where they must not depend on the
language a client happened to run in.

A resolution is the payload of a ``hold_released`` action::

    {"hold_id": "...", "reason": "<summary>", "resolution": {field name: value, ...}}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core.address import usable_phone
from core.errors import ValidationFailed
from core.holds import HOLD_TYPES, release_role
from core.money import yuan_to_fen
from core.roles import Role

__all__ = [
    "PLAYBOOKS",
    "Action",
    "Choice",
    "Field",
    "Options",
    "Playbook",
    "Problem",
    "Text",
    "check",
    "escalation",
    "is_required",
    "playbook_for",
    "summary",
    "validate",
]

FieldKind = Literal["choice", "text", "confirm", "sku", "carrier", "phone", "money"]


@dataclass(frozen=True)
class Text:
    """A text in Chinese and English."""

    zh: str
    en: str

    def get(self, lang: str = "zh_CN") -> str:
        return self.zh if lang.startswith("zh") else self.en

    def both(self) -> str:
        """``中文 / English``: how reasons and hold texts are written everywhere in PackDesk."""
        return f"{self.zh} / {self.en}"


@dataclass(frozen=True)
class Choice:
    """One answer of a ``choice`` field.

    ``needs_role``: picking it needs this role or above (e.g. "escalate" hands the decision to a
    supervisor); ``None`` means the playbook's own release role.
    """

    value: str
    label: Text
    needs_role: Role | None = None


@dataclass(frozen=True)
class Field:
    """A field of the resolution form.

    Attributes:
        name: the key in ``resolution``.
        kind: ``choice`` (one of ``choices``), ``text`` (at least ``min_length`` characters after
            trimming), ``confirm`` (must be ``True``), ``sku`` / ``carrier`` (a code from the options
            the caller knows: gift SKUs, carriers covering the area), ``phone`` (a number a courier
            can call, :func:`core.address.usable_phone`), ``money`` (an amount in yuan above zero,
            at most two decimals, :func:`core.money.yuan_to_fen`).
        label: what the form shows.
        required: whether it must be filled; see also ``required_when``.
        required_when: ``(other field, values)``: required only when the other field has one of
            these values (e.g. the substitute SKU only when the decision is "substitute").
        help: a hint under the field.
    """

    name: str
    kind: FieldKind
    label: Text
    choices: tuple[Choice, ...] = ()
    required: bool = True
    required_when: tuple[str, tuple[str, ...]] | None = None
    min_length: int = 0
    help: Text | None = None

    def choice(self, value: Any) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Action:
    """A tool the dialog puts at hand (it does not resolve anything by itself).

    Names the dialog knows: ``copy_phone``, ``call_phone``, ``choose_gift``, ``choose_carrier``,
    ``reprint_label``, ``escalate``, ``return_to_shelf``.
    """

    name: str
    label: Text


@dataclass(frozen=True)
class Playbook:
    """One exception type, declared as data (see the module docstring).

    Attributes:
        type: the hold type (``core.holds.HOLD_TYPES``).
        title: short name.
        detect: which rule raises it, and where.
        guidance: what to do, step by step.
        actions: the tools offered.
        fields: the resolution form.
        effect: what submitting does (at the hub, or locally for an offline conflict).
        local: resolved on this station only (an offline conflict with no hub hold).
    """

    type: str
    title: Text
    detect: Text
    guidance: tuple[Text, ...]
    actions: tuple[Action, ...]
    fields: tuple[Field, ...]
    effect: Text
    local: bool = False

    @property
    def release_role(self) -> Role:
        """The lowest role that may resolve it (``core.holds.release_role``: the hub's rule)."""
        return release_role(self.type)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Options:
    """The values the caller knows are valid for ``sku`` / ``carrier`` fields.

    ``None`` means "not known here": any non-empty code passes this check (the hub, which knows
    the rules, checks again). The hub fills these from its routing rules; the dialog from the same
    rules file and catalogue.

    Attributes:
        gift_skus: gift SKUs that can be sent now (in stock).
        skus: every SKU of the catalogue.
        carriers: every carrier code the rules know.
        covering_carriers: the carriers that deliver to this order's area.
    """

    gift_skus: Collection[str] | None = None
    skus: Collection[str] | None = None
    carriers: Collection[str] | None = None
    covering_carriers: Collection[str] | None = None
    #: how people read a code (SKU name, carrier name); a code without a name shows as itself
    names: Mapping[str, str] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON shape the hub sends (``GET /orders/{id}/options``, a hold's ``details.options``).

        A set that is not known is left out, so the receiver reads it back as ``None``.
        """
        out: dict[str, Any] = {}
        for key in ("gift_skus", "skus", "carriers", "covering_carriers"):
            value = getattr(self, key)
            if value is not None:
                out[key] = sorted(value)
        if self.names is not None:
            out["names"] = dict(sorted(self.names.items()))
        return out

    @classmethod
    def from_wire(cls, data: Any) -> Options:
        """Read :meth:`to_wire`'s shape; anything malformed counts as not known (the hub checks again)."""
        if not isinstance(data, dict):
            return cls()

        def codes(key: str) -> frozenset[str] | None:
            value = data.get(key)
            if not isinstance(value, list):
                return None
            return frozenset(v for v in value if isinstance(v, str))

        raw = data.get("names")
        names = ({k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
                 if isinstance(raw, dict) else None)
        return cls(gift_skus=codes("gift_skus"), skus=codes("skus"), carriers=codes("carriers"),
                   covering_carriers=codes("covering_carriers"), names=names)

    def merged(self, other: Options) -> Options:
        """These options with what ``other`` knows filled in where these do not know."""
        names = {**(other.names or {}), **(self.names or {})} if (self.names or other.names) else None
        return Options(
            gift_skus=self.gift_skus if self.gift_skus is not None else other.gift_skus,
            skus=self.skus if self.skus is not None else other.skus,
            carriers=self.carriers if self.carriers is not None else other.carriers,
            covering_carriers=self.covering_carriers if self.covering_carriers is not None else other.covering_carriers,
            names=names,
        )


@dataclass(frozen=True)
class Problem:
    """Why a resolution cannot be submitted: the field (or ``""`` for the role) and plain words.

    ``message`` is ``中文 / English`` (the hub's refusal and audit); ``text`` is the same in each
    language, for a screen that shows one (the operator's).
    """

    field: str
    message: str
    forbidden: bool = False  # the operator's role is too low (the hub answers ``forbidden``)
    text: Text | None = None

    def shown(self, lang: str) -> str:
        """The reason in ``lang`` (``message`` when no per-language text is known)."""
        return self.text.get(lang) if self.text is not None else self.message


def _problem(field_name: str, text: Text, *, forbidden: bool = False) -> Problem:
    return Problem(field_name, text.both(), forbidden, text)


def _t(zh: str, en: str) -> Text:
    return Text(zh, en)


def _note(min_length: int = 4, *, required: bool = True,
          label: Text = Text("说明（做了什么、为什么）", "Note (what was done and why)")) -> Field:
    return Field("note", "text", label, required=required, min_length=min_length)


COPY_PHONE = Action("copy_phone", _t("复制电话", "Copy phone"))
CALL_PHONE = Action("call_phone", _t("拨打电话（用座机或手机拨打）", "Call (dial from the desk phone)"))
ESCALATE = Action("escalate", _t("升级给主管", "Escalate to a supervisor"))

PLAYBOOKS: dict[str, Playbook] = {
    pb.type: pb
    for pb in (
        Playbook(
            type="rural_no_phone",
            title=_t("农村地址无电话", "Rural address without a usable phone"),
            detect=_t("分仓时：地址含村、组、屯等村级单位，且没有可拨打的手机或座机。",
                      "At allocation: the address names a village-level unit (村, 组, 屯…) and has no "
                      "mobile or landline a courier can call."),
            guidance=(
                _t("快递员进村要打电话找人，没有电话包裹会被退回。",
                   "Couriers phone the buyer from the village entrance; without a number the parcel comes back."),
                _t("通过平台聊天或短信联系买家，确认详细地址和可拨打的电话。",
                   "Reach the buyer through the shop chat, SMS or any number you have; confirm the full "
                   "address and a number that can be called."),
                _t("把确认后的地址填在下面（地址有变化时系统会更新收件地址）。",
                   "Type the confirmed address below (if it differs, the order's address is updated)."),
                _t("联系不上买家：选择“联系不上”，写明尝试过的方式，交给主管决定。",
                   "Buyer not reachable: choose \"not reachable\", say what you tried; a supervisor decides."),
            ),
            actions=(COPY_PHONE, CALL_PHONE, ESCALATE),
            fields=(
                Field("confirmed_via", "choice", _t("买家如何确认", "How the buyer confirmed"), choices=(
                    Choice("phone_call", _t("电话", "Phone call")),
                    Choice("chat", _t("平台聊天", "Shop chat")),
                    Choice("sms", _t("短信", "SMS")),
                    Choice("unreachable", _t("联系不上 → 升级主管", "Not reachable → escalate"),
                           needs_role=Role.SUPERVISOR),
                )),
                Field("confirmed_address", "text", _t("确认后的详细地址", "Confirmed address"), min_length=6,
                      help=_t("街道以下部分，如：某某镇某某村3组12号", "The part below the district, "
                              "e.g. 某某镇某某村3组12号")),
                Field("phone", "phone", _t("可拨打的电话（可选）", "Phone a courier can call (optional)"),
                      required=False),
                _note(4, required=False),
            ),
            effect=_t("放行订单；地址有变化时更新收件地址，填了电话时更新电话。",
                      "Releases the order; updates the recipient's address if it changed, and the phone "
                      "if one was given."),
        ),
        Playbook(
            type="no_phone",
            title=_t("收件人没有电话", "No phone number for the recipient"),
            detect=_t("分仓时：订单上没有任何收件电话（城市地址也一样）。",
                      "At allocation: the order has no phone number at all (in a city too)."),
            guidance=(
                _t("快递员派送前要打电话，面单上也必须有电话，没有电话的包裹会被退回。",
                   "Couriers call before delivering and the label must carry a number; a parcel without "
                   "one comes back."),
                _t("通过平台聊天或短信联系买家，要一个可以拨打的手机或座机号码。",
                   "Ask the buyer for a mobile or landline number through the shop chat or SMS."),
                _t("把号码填在下面，系统会更新收件电话并放行订单。",
                   "Type the number below: the recipient's phone is updated and the order released."),
                _t("联系不上买家：升级给主管，由主管决定取消还是等待。",
                   "Buyer not reachable: escalate; a supervisor decides to cancel or wait."),
            ),
            actions=(ESCALATE,),
            fields=(
                Field("confirmed_via", "choice", _t("买家如何给的号码", "How the buyer gave the number"), choices=(
                    Choice("chat", _t("平台聊天", "Shop chat")),
                    Choice("sms", _t("短信", "SMS")),
                    Choice("order_info", _t("订单备注或平台订单详情", "Order note or the platform's order page")),
                )),
                Field("phone", "phone", _t("可拨打的电话", "Phone a courier can call")),
                _note(4, required=False),
            ),
            effect=_t("放行订单并更新收件电话。", "Releases the order and updates the recipient's phone."),
        ),
        Playbook(
            type="gift_stock",
            title=_t("赠品缺货", "Gift stock short"),
            detect=_t("分仓时：订单的赠品库存少于所需数量。",
                      "At allocation: a gift on the order has fewer units in stock than the order needs."),
            guidance=(
                _t("联系买家说明赠品缺货。", "Tell the buyer the gift has run out."),
                _t("征得同意后选择：换一个有货的赠品、不带赠品发货，或拆单（赠品补发）。",
                   "With the buyer's consent choose: a substitute gift in stock, ship without the gift, "
                   "or split the order (the gift follows later)."),
                _t("写下是谁同意的（买家昵称或客服工号）。",
                   "Write down who consented (the buyer's name or shop ID, or the agent)."),
            ),
            actions=(COPY_PHONE, Action("choose_gift", _t("选择替换赠品", "Choose a substitute gift"))),
            fields=(
                Field("decision", "choice", _t("处理方式", "Decision"), choices=(
                    Choice("substitute", _t("换其他赠品", "Substitute gift")),
                    Choice("without_gift", _t("经买家同意不带赠品", "Ship without gift (buyer agreed)")),
                    Choice("split_backorder", _t("拆单，赠品补发", "Split, gift back-ordered")),
                )),
                Field("substitute_sku", "sku", _t("替换赠品", "Substitute gift"),
                      required_when=("decision", ("substitute",))),
                Field("consent_by", "text", _t("谁同意的", "Who consented"), min_length=2,
                      help=_t("买家昵称 / 聊天记录中的名字", "Buyer's name or shop ID from the chat")),
                _note(0, required=False),
            ),
            effect=_t("放行订单；换赠品时订单上的赠品行换成新赠品；不带赠品或拆单时缺货赠品行移出本次发货并记录。",
                      "Releases the order; a substitute replaces the short gift's line; without gift or "
                      "split removes the short gift lines from this shipment and records them."),
        ),
        Playbook(
            type="carrier_area",
            title=_t("快递不覆盖（待协调）", "Carrier does not cover the area"),
            detect=_t("分仓时：本仓所有快递都不派送收件地区。",
                      "At allocation: none of the warehouse's carriers delivers to the recipient's area."),
            guidance=(
                _t("查看下方可派送该地区的快递。", "See below which carriers deliver to this area."),
                _t("有可用快递：选择它并写明原因，系统会换快递并分配新面单号。",
                   "If one does: choose it and give the reason; the order gets that carrier and a new waybill number."),
                _t("都不覆盖：升级给区域经理（主管），由其安排快递（如邮政）。",
                   "If none does: escalate to the regional manager (supervisor), who arranges a carrier "
                   "(e.g. China Post)."),
            ),
            actions=(Action("choose_carrier", _t("选择其他快递", "Choose another carrier")), ESCALATE),
            fields=(
                Field("decision", "choice", _t("处理方式", "Decision"), choices=(
                    Choice("other_carrier", _t("改用覆盖该地区的快递", "Use a carrier that covers it")),
                    Choice("escalate", _t("升级区域经理，指定快递", "Escalated: manager assigns a carrier"),
                           needs_role=Role.SUPERVISOR),
                )),
                Field("carrier", "carrier", _t("快递公司", "Carrier")),
                Field("reason", "text", _t("原因", "Reason"), min_length=4),
            ),
            effect=_t("放行订单，改为所选快递并分配新面单号。",
                      "Releases the order with the chosen carrier and a new waybill number."),
        ),
        Playbook(
            type="vip_signoff",
            title=_t("VIP 定制包装待签字", "VIP custom packaging sign-off"),
            detect=_t("分仓时：金额超过 VIP 门槛且需要定制包装。",
                      "At allocation: the total is above the VIP threshold and custom packaging was asked for."),
            guidance=(
                _t("核对买家留言里的包装要求和商品清单。", "Read the buyer's packaging request and the lines."),
                _t("确认包装材料已备好、要求可以做到。", "Make sure the materials are ready and the request can be met."),
                _t("主管签字后工作台才能打包。", "The bench may pack only after a supervisor signs off."),
            ),
            actions=(),
            fields=(
                Field("packaging_checked", "confirm",
                      _t("已核对定制包装要求，可以打包", "Packaging request checked; the bench may pack")),
                _note(0, required=False, label=_t("给工作台的包装说明（可选）", "Packing notes for the bench (optional)")),
            ),
            effect=_t("主管签字放行，VIP 订单可以打包。", "Supervisor sign-off: the VIP order may be packed."),
        ),
        Playbook(
            type="scan_mismatch",
            title=_t("扫描不符", "Scan mismatch"),
            detect=_t("打包台：连续三次扫到不属于订单的商品或数量不对。",
                      "At the bench: three wrong scans in a row (wrong item or quantity)."),
            guidance=(
                _t("把篮子里的商品全部拿出，对照清单逐件清点。", "Take everything out and recount against the lines."),
                _t("拿错的放回库位，缺的从库位补齐。", "Return wrong items to their bins; fetch what is missing."),
                _t("真的缺货或破损：关闭本窗口，按 F9 报缺货。",
                   "If an item is really missing or damaged: close this and report it (F9)."),
            ),
            actions=(Action("return_to_shelf", _t("放回库位", "Return to shelf")),),
            fields=(
                Field("recount", "choice", _t("复核结果", "Recount result"), choices=(
                    Choice("matches", _t("复核一致（扫描失误）", "Recount matches (scan error)")),
                    Choice("corrected", _t("已更正商品 / 数量", "Items or quantity corrected")),
                )),
                Field("reason", "text", _t("原因", "Reason"), min_length=2),
            ),
            effect=_t("放行订单，继续扫描打包。", "Releases the order; packing continues."),
        ),
        Playbook(
            type="item_missing",
            title=_t("缺货或破损", "Item missing or damaged"),
            detect=_t("打包台：拣货时发现商品缺少或破损（F9 报问题）。",
                      "At the bench: an item was missing or damaged at pick (F9, report problem)."),
            guidance=(
                _t("确认库位和附近货架确实没有完好的商品。", "Check the bin and nearby shelves for a good unit."),
                _t("与客服确认：部分发货、换同类商品，或等补货。",
                   "With the desk decide: ship the rest, substitute a similar item, or wait for stock."),
                _t("破损商品放到破损区。", "Put damaged goods in the damaged area."),
            ),
            actions=(Action("choose_gift", _t("选择替换商品", "Choose a substitute item")),),
            fields=(
                Field("decision", "choice", _t("处理方式", "Decision"), choices=(
                    Choice("partial_ship", _t("部分发货（缺的补发）", "Partial ship (rest follows)")),
                    Choice("substitute", _t("换同类商品", "Substitute item")),
                    Choice("backorder", _t("整单等补货", "Back-order the whole order")),
                )),
                Field("substitute_sku", "sku", _t("替换商品", "Substitute item"),
                      required_when=("decision", ("substitute",))),
                _note(2, label=_t("说明", "Note")),
            ),
            effect=_t("放行订单并记录处理方式；换商品时订单行换成新商品。",
                      "Releases the order and records the decision; a substitute replaces the missing line."),
        ),
        Playbook(
            type="address_change",
            title=_t("已打单后改地址", "Address changed after label"),
            detect=_t("打单后买家或客服改了地址：旧面单已作废，换了新面单号。",
                      "The address changed after the label was printed: the old waybill is void and a new "
                      "number was reserved."),
            guidance=(
                _t("找到贴着旧面单的包裹，撕下旧面单并销毁（不能留在包裹上）。",
                   "Find the parcel, peel off the old label and destroy it (never leave it on)."),
                _t("确认后放行并重新打印面单（新地址、新面单号）。",
                   "Confirm, then release and reprint the label (new address, new waybill)."),
            ),
            actions=(Action("reprint_label", _t("放行后重新打印面单", "Reprint the label after release")),),
            fields=(
                Field("old_label_destroyed", "confirm",
                      _t("旧面单已撕下并销毁", "The old label was removed and destroyed")),
                _note(0, required=False),
            ),
            effect=_t("放行订单；重新打印面单后订单回到已打单。",
                      "Releases the order; reprinting the label moves it to label printed again."),
        ),
        Playbook(
            type="offline_conflict",
            title=_t("离线冲突", "Offline conflict"),
            detect=_t("同步时：离线做的操作被总部拒绝（例如订单已被取消）。",
                      "At sync: the hub refused something done offline (e.g. the order was cancelled meanwhile)."),
            guidance=(
                _t("看下方：离线做了什么，总部为什么拒绝，订单现在的状态。",
                   "See below what was done offline, why the hub refused it, and the order's state now."),
                _t("订单已取消：商品放回库位；已打的面单撕下作废。",
                   "If the order was cancelled: put the goods back on the shelf and void any printed label."),
                _t("确认处理完后提交。", "Confirm what you did, then submit."),
            ),
            actions=(Action("return_to_shelf", _t("放回库位", "Return to shelf")),),
            fields=(
                Field("handled", "choice", _t("已做的处理", "What you did"), choices=(
                    Choice("returned_to_shelf", _t("商品已放回库位", "Goods returned to the shelf")),
                    Choice("label_voided", _t("面单已撕下作废", "Label removed and voided")),
                    Choice("both", _t("已放回并作废面单", "Both: returned and voided")),
                    Choice("nothing_needed", _t("无需处理", "Nothing to do")),
                )),
                Field("understood", "confirm",
                      _t("我已了解发生了什么，订单按总部状态处理", "I understand; the hub's state stands")),
            ),
            effect=_t("清除本机的冲突标记（记录在本机审计中）。",
                      "Clears this station's conflict flag (recorded in the local audit)."),
            local=True,
        ),
        Playbook(
            type="delivery_failed",
            title=_t("派送失败", "Delivery failed"),
            detect=_t("快递回报派送失败：拒签、疑难件或退回中（快递100 推送自动登记，或客服录入）。",
                      "The carrier reported a failed delivery: refused, a problem parcel or on its way back "
                      "(raised by the carrier's tracking push, or entered by the desk)."),
            guidance=(
                _t("先看订单详情里的物流轨迹：快递怎么说的、在哪里。",
                   "First read the tracking (物流轨迹) in the order detail: what the carrier said, and where."),
                _t("联系买家，了解原因（不在家、地址错、拒收）。",
                   "Contact the buyer: why did it fail (not home, wrong address, refused)?"),
                _t("买家要：重新派送；拒收或联系不上：退回。", "Buyer wants it: re-ship. Refused or unreachable: return."),
            ),
            actions=(COPY_PHONE, CALL_PHONE),
            fields=(
                Field("contacted", "choice", _t("是否联系上买家", "Buyer contacted"), choices=(
                    Choice("reached", _t("已联系上", "Reached")),
                    Choice("not_reached", _t("联系不上", "Not reached")),
                )),
                Field("outcome", "choice", _t("处理结果", "Outcome"), choices=(
                    Choice("reship", _t("重新派送", "Re-ship")),
                    Choice("return", _t("退回发件人", "Return to sender")),
                )),
                _note(4),
            ),
            effect=_t("放行订单并记录重新派送或退回。", "Releases the order and records re-ship or return."),
        ),
        Playbook(
            type="cancel_request",
            title=_t("打单后取消请求", "Cancel requested after label"),
            detect=_t("打单后买家在平台取消：需要拦截包裹。",
                      "The buyer cancelled after the label was printed: the parcel must be pulled."),
            guidance=(
                _t("找到包裹，从待发区拿出。", "Find the parcel and take it out of the outgoing area."),
                _t("撕下面单作废，商品放回库位；然后由客服办理退款。",
                   "Void the label, return the goods to the shelf; the desk then approves the refund."),
                _t("买家撤销取消：选择“继续发货”。", "Buyer withdrew the cancellation: choose \"ship anyway\"."),
            ),
            actions=(Action("return_to_shelf", _t("放回库位", "Return to shelf")),),
            fields=(
                Field("decision", "choice", _t("处理方式", "Decision"), choices=(
                    Choice("pulled", _t("已拦截，等待退款", "Parcel pulled, refund to follow")),
                    Choice("ship_anyway", _t("买家撤销取消，继续发货", "Buyer withdrew: ship anyway")),
                )),
                _note(2),
            ),
            effect=_t("放行订单并清除取消请求。", "Releases the order and clears the cancel request."),
        ),
    )
}


def escalation(payload: Mapping[str, Any], operator: str, at: str) -> dict[str, Any]:
    """What a ``hold_escalated`` action records on the hold (bench overlay and hub alike).

    ``{"to": "supervisor", "by": operator, "at": when, "why": the operator's words}``: the hold
    stays open, and whoever opens it next (a supervisor, from the Exceptions queue, where the
    hold reads "escalated") sees who handed it on and why.
    """
    return {"to": str(payload.get("to") or "supervisor"), "by": operator, "at": at, "why": str(payload.get("reason") or "")}


def playbook_for(hold_type: str) -> Playbook | None:
    """The playbook of a hold type (``None`` for a type this version does not know)."""
    return PLAYBOOKS.get(hold_type)


def is_required(f: Field, values: Mapping[str, Any]) -> bool:
    """Whether ``f`` must be filled, given the other values (``required_when``)."""
    if f.required_when is not None:
        other, wanted = f.required_when
        return values.get(other) in wanted
    return f.required


def _filled(value: Any) -> bool:
    if value is None or value is False:
        return False
    return not (isinstance(value, str) and not value.strip())


def _allowed(f: Field, values: Mapping[str, Any], options: Options, playbook: Playbook) -> Collection[str] | None:
    if f.kind == "sku":
        return options.gift_skus if playbook.type == "gift_stock" else options.skus
    if f.kind == "carrier":
        # A manager who takes an escalation may send with any carrier (e.g. a special arrangement);
        # everyone else must pick one that delivers there.
        if values.get("decision") == "escalate":
            return options.carriers
        return options.covering_carriers
    return None


def check(playbook: Playbook, values: Mapping[str, Any], *, role: Role | str | None = None,
          options: Options | None = None) -> list[Problem]:
    """Every reason the resolution cannot be submitted, field by field (empty: it can).

    Args:
        playbook: the hold's playbook.
        values: the resolution (field name -> value).
        role: the resolving operator's role; ``None`` skips the role checks.
        options: valid SKUs and carriers, when the caller knows them.
    """
    opts = options or Options()
    problems: list[Problem] = []
    if role is not None and not Role(role).at_least(playbook.release_role):
        problems.append(_problem("", Text(
            f"需要{_ROLE_ZH[playbook.release_role]}", f"needs {playbook.release_role.value}"), forbidden=True))
    for f in playbook.fields:
        value = values.get(f.name)
        label = f.label
        if not _filled(value):
            if is_required(f, values):
                problems.append(_problem(f.name, _missing(f)))
            continue
        if f.kind == "choice":
            c = f.choice(value)
            if c is None:
                problems.append(_problem(f.name, Text(f"“{label.zh}”的选项无效", f"'{label.en}': not a valid choice")))
            elif role is not None and c.needs_role is not None and not Role(role).at_least(c.needs_role):
                problems.append(_problem(f.name, Text(
                    f"“{c.label.zh}”需要{_ROLE_ZH[c.needs_role]}", f"'{c.label.en}' needs {c.needs_role.value}",
                ), forbidden=True))
        elif f.kind == "text":
            if not isinstance(value, str):
                problems.append(_problem(f.name, Text(f"“{label.zh}”应为文字", f"'{label.en}' must be text")))
            elif len(value.strip()) < f.min_length:
                problems.append(_problem(f.name, Text(
                    f"“{label.zh}”至少 {f.min_length} 个字", f"'{label.en}' needs at least {f.min_length} characters",
                )))
        elif f.kind == "confirm":
            if value is not True:
                problems.append(_problem(f.name, _missing(f)))
        elif f.kind == "phone":
            if not isinstance(value, str) or not usable_phone(value):
                problems.append(_problem(f.name, Text(
                    f"“{label.zh}”不是可拨打的手机或座机号码", f"'{label.en}' is not a mobile or landline a courier can call",
                )))
        elif f.kind == "money":
            if not _money_ok(value):
                problems.append(_problem(f.name, Text(
                    f"“{label.zh}”应为大于 0 的金额（元，最多两位小数）",
                    f"'{label.en}' must be an amount in yuan above 0 (at most two decimals)")))
        elif f.kind in ("sku", "carrier"):
            allowed = _allowed(f, values, opts, playbook)
            if not isinstance(value, str) or (allowed is not None and value not in allowed):
                problems.append(_problem(f.name, Text(
                    f"“{label.zh}”不可用：{value}", f"'{label.en}' is not available: {value}")))
    return problems


def validate(playbook: Playbook, values: Mapping[str, Any], *, role: Role | str | None = None,
             options: Options | None = None) -> list[str]:
    """The plain-words reasons why Submit is locked (empty list: the resolution may be submitted).

    The dialog shows these next to its Submit button; the hub refuses a ``hold_released`` whose
    resolution still has any (``bad_payload``). Each reason is ``中文 / English``.
    """
    return [p.message for p in check(playbook, values, role=role, options=options)]


def summary(playbook: Playbook, values: Mapping[str, Any]) -> str:
    """A one-line ``reason`` for the audit, built from the resolution (Chinese / English)."""
    zh: list[str] = []
    en: list[str] = []
    for f in playbook.fields:
        value = values.get(f.name)
        if not _filled(value):
            continue
        if f.kind == "choice":
            c = f.choice(value)
            zh.append(c.label.zh if c else str(value))
            en.append(c.label.en if c else str(value))
        elif f.kind == "confirm":
            zh.append(f.label.zh)
            en.append(f.label.en)
        else:
            zh.append(f"{f.label.zh}：{value}")
            en.append(f"{f.label.en}: {value}")
    text = Text("；".join(zh) or playbook.title.zh, "; ".join(en) or playbook.title.en)
    return text.both()


def _money_ok(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return yuan_to_fen(value) > 0
    except ValidationFailed:
        return False


_ROLE_ZH = {Role.PACKER: "打包员", Role.DESK: "客服", Role.SUPERVISOR: "主管", Role.ADMIN: "管理员"}


def _missing(f: Field) -> Text:
    if f.kind == "confirm":
        return Text(f"请勾选“{f.label.zh}”", f"tick '{f.label.en}'")
    if f.kind in ("choice", "sku", "carrier"):
        return Text(f"请选择{f.label.zh}", f"choose: {f.label.en}")
    return Text(f"请填写{f.label.zh}", f"fill in: {f.label.en}")


# Issue 12 (shop connectors): the shop platform refused the shipment write-back.
PLAYBOOKS["ship_writeback_failed"] = Playbook(
    type="ship_writeback_failed",
    title=_t("平台拒绝发货回传", "Shop refused the shipment write-back"),
    detect=_t("订单已发出，但店铺平台拒绝记录发货（例如买家已在平台取消或退款）。",
              "The parcel left, but the shop platform refused to record the shipment (e.g. the buyer "
              "cancelled or was refunded there)."),
    guidance=(
        _t("看原因（平台原话在异常说明里）。", "Read the reason: the platform's own words are in the hold."),
        _t("买家已取消：联系快递拦截包裹；否则在平台后台手动填写发货。",
           "Buyer cancelled: ask the carrier to stop the parcel; otherwise record the shipment by hand "
           "in the shop's back office."),
    ),
    actions=(COPY_PHONE, CALL_PHONE),
    fields=(
        Field("outcome", "choice", _t("处理结果", "Outcome"), choices=(
            Choice("intercepted", _t("已拦截包裹", "Parcel intercepted")),
            Choice("recorded_by_hand", _t("已在平台手动发货", "Recorded by hand on the platform")),
        )),
        _note(4),
    ),
    effect=_t("放行订单并记录处理结果。", "Releases the order and records the outcome."),
)


# Issue 17 (bench scale): the packed parcel is off its expected weight (core/weighing.py).
PLAYBOOKS["weight_mismatch"] = Playbook(
    type="weight_mismatch",
    title=_t("重量不符", "Parcel weight does not match"),
    detect=_t("打包台：称重结果与预计重量（商品目录单重 × 数量 + 包材）相差超过允许误差。",
              "At the bench: the scale's weight is further from the expected weight (catalogue unit "
              "weights × quantities + packaging) than the tolerance allows."),
    guidance=(
        _t("打开包裹，按订单逐件核对商品和数量（少件、多件、拿错规格最常见）。",
           "Open the parcel and check every item and quantity against the order (a missing, extra or "
           "wrong-size item is the usual cause)."),
        _t("有错：更正后重新封箱，放回秤上复称，确认重量在误差内。",
           "Something was wrong: correct it, close the box, put it back on the scale and check the "
           "weight is within the tolerance."),
        _t("商品全部正确但重量仍不符（如目录重量有误、特殊包材）：交给客服确认后放行，并通知维护商品目录。",
           "Every item is right and the weight is still off (a wrong catalogue weight, special "
           "packaging): the desk confirms and releases, and has the catalogue corrected."),
    ),
    actions=(ESCALATE,),
    fields=(
        Field("recheck", "choice", _t("复核结果", "Re-check result"), choices=(
            Choice("corrected", _t("商品有误，已更正并复称", "Items were wrong: corrected and re-weighed")),
            Choice("packaging", _t("商品正确，包材不同（已复称）", "Items right, different packaging (re-weighed)")),
            Choice("accept_weight", _t("商品正确，接受此重量（目录重量需更正）",
                                       "Items right: accept this weight (catalogue weight to fix)"),
                   needs_role=Role.DESK),
        )),
        _note(2, label=_t("说明（发现了什么）", "Note (what was found)")),
    ),
    effect=_t("放行订单；之后打印面单并交接。", "Releases the order; the label is printed and it is handed over next."),
)


# Issue 14 (stock): allocation could not reserve the order's goods at its warehouse (hub/stock.py).
PLAYBOOKS["stock_short"] = Playbook(
    type="stock_short",
    title=_t("库存不足", "Stock short"),
    detect=_t("分仓时：订单商品在本仓的可用库存（在库 − 已占用）少于所需数量；本单未占用任何库存。",
              "At allocation: the warehouse has fewer units available (on hand minus reserved) than the "
              "order needs; nothing is reserved for this order."),
    guidance=(
        _t("查看缺货明细：哪些商品、缺多少。", "Look at what is short: which items, and how many units."),
        _t("确认到货时间；货到后选择“已到货”放行，系统会在放行时占用库存（仍不足则不能放行）。",
           "Find out when stock arrives; once it is in, choose \"stock arrived\": the release reserves the "
           "units (still short: the release is refused)."),
        _t("部分有货：关闭本窗口，在订单上拆单（更多 → 拆单…，Ctrl+Shift+X），有货的先发；缺货的子单等到货后自动放行。",
           "Part of it is in stock: close this window and split the order (More → Split…, Ctrl+Shift+X): "
           "what is there ships now, the back-order part is released by itself when stock arrives."),
        _t("等不及：联系买家，征得同意后换同类商品，或由买家取消订单。",
           "Cannot wait: contact the buyer and, with their consent, substitute a similar item, or the buyer "
           "cancels."),
    ),
    actions=(COPY_PHONE, Action("choose_gift", _t("选择替换商品", "Choose a substitute item"))),
    fields=(
        Field("decision", "choice", _t("处理方式", "Decision"), choices=(
            Choice("stock_arrived", _t("已到货，占用库存", "Stock arrived: reserve it")),
            Choice("substitute", _t("经买家同意换同类商品", "Substitute an item (buyer agreed)")),
        )),
        Field("substitute_sku", "sku", _t("替换商品", "Substitute item"),
              required_when=("decision", ("substitute",))),
        _note(0, required=False),
    ),
    effect=_t("放行订单并占用库存；换商品时缺货的订单行换成新商品。库存仍不足时不能放行。",
              "Releases the order and reserves its items; a substitute replaces the short lines. Refused "
              "while stock is still short."),
)


# Issue 14 (returns at the bench): a return was graded at the bench; the desk decides the refund.
PLAYBOOKS["refund_review"] = Playbook(
    type="refund_review",
    title=_t("退货已入库，待审核退款", "Return received: decide the refund"),
    detect=_t("退货台扫描并验收了退货包裹（良品入库、残次品隔离、缺件已登记）。",
              "The returns bench scanned and graded the return parcel (good units back to stock, damaged "
              "ones quarantined, missing ones noted)."),
    guidance=(
        _t("看退回明细：几件良品、几件残次、缺几件。", "Read what came back: good, damaged and missing units."),
        _t("全部良品：全额退款；有残次或缺件：部分退款，或拒绝（写明原因）。退款在店铺后台完成，这里记录决定。",
           "All good: refund in full. Damaged or missing: a partial refund, or refuse (say why). The money "
           "moves in the shop's back office; this records the decision."),
    ),
    actions=(COPY_PHONE, ESCALATE),
    fields=(
        Field("decision", "choice", _t("退款决定", "Refund decision"), choices=(
            Choice("refund_full", _t("全额退款", "Refund in full")),
            Choice("refund_partial", _t("部分退款", "Partial refund")),
            Choice("refuse", _t("拒绝退款", "Refuse the refund")),
        )),
        Field("amount", "money", _t("退款金额（元）", "Amount refunded (yuan)"),
              required_when=("decision", ("refund_partial",)), help=_t("如：39.90", "e.g. 39.90")),
        _note(4),
    ),
    effect=_t("退款（全额或部分）：订单关闭（已退款）。拒绝：放行订单，订单照常完成。",
              "Refund (full or partial): the order closes as refunded. Refuse: the hold is released and the "
              "order completes as usual."),
)


def _self_check() -> None:
    """Every hold type has a playbook: a new type without guidance is a bug caught at import."""
    missing = set(HOLD_TYPES) - set(PLAYBOOKS)
    if missing:  # pragma: no cover - a programming error
        raise RuntimeError(f"hold types without a playbook: {sorted(missing)}")


_self_check()
