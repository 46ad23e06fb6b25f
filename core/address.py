"""Address and phone rules: is this a village address, can a courier call this number?

Couriers deliver to a village (村, 组, 屯, 嘎查, …) by calling the recipient from the village
entrance: there is no street number to walk to. So an order to a rural address without a phone
that can be dialled is held (hold ``rural_no_phone``) until the desk confirms the address with the
buyer. Routing uses these rules to raise the hold; the exception dialog uses them again to check
the phone the desk types in.

The rural rule works on the address text only (no gazetteer service): it strips the
province / city / county prefix (so 屯溪区, 乡宁县, 石家庄市, 镇江市 never count), then looks for a
village-level unit in what is left, with guards for city names that merely contain the characters
(新村路, 村田路, 万科城三组团, 屯溪路, 曹杨新村, 天山四村…). ``docs/routing.md`` lists the choices;
``tests/fixtures/addresses.csv`` measures them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["is_rural_address", "needs_rural_phone_check", "usable_phone"]

# --- phones ----------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
# Area code 0xx / 0xxx, local number 7-8 digits not starting with 0/1, optional extension.
_LANDLINE_RE = re.compile(
    r"^(?:\+?86-?)?(?:\(0\d{2,3}\)|0\d{2,3})-?[2-9]\d{6,7}(?:(?:-|转|ext\.?|x|#)\d{1,6})?$",
    re.IGNORECASE,
)


def usable_phone(phone: str) -> bool:
    """Whether a courier can call this number.

    A mainland mobile (``1[3-9]`` + 9 digits, ``+86``/``86`` prefix, spaces and dashes allowed) or a
    landline (``0`` + 2-3 digit area code, 7-8 digit number, optional extension like ``-123`` or
    ``转123``). A number masked by the channel (``138****0000``) is not callable, so it is not usable.
    """
    if not phone:
        return False
    text = unicodedata.normalize("NFKC", phone).strip()
    if not text or "*" in text:
        return False
    compact = re.sub(r"\s", "", text)
    if _MOBILE_RE.match(compact.replace("-", "")):
        return True
    return bool(_LANDLINE_RE.match(compact))


# --- rural addresses -------------------------------------------------------------------------

_CJK = "\u4e00-\u9fff"
_NUM = "0-9一二三四五六七八九十百两"

# Administrative prefix. Names may contain 镇/乡/村/屯/庄 (镇江市, 乡宁县, 屯昌县, 石家庄市), which is
# exactly why they are cut off before the village rules look at the text.
_PROVINCE_RE = re.compile(
    r"^(?:(?:北京|天津|上海|重庆)市?"
    r"|(?:内蒙古|广西壮族|广西|西藏|宁夏回族|宁夏|新疆维吾尔|新疆)(?:自治区)?"
    r"|(?:香港|澳门)(?:特别行政区)?"
    r"|[" + _CJK + r"]{2,3}省)"
)
_MUNICIPALITY_RE = re.compile(r"^(?:(?:北京|天津|上海|重庆)市|市辖区)")
_CITY_RE = re.compile(
    r"^(?:[^省市县区旗路街道号\d]{1,10}?(?:自治州|地区|盟|市)"  # 杭州市, 阿勒泰地区, 锡林郭勒盟
    r"|[^省市县区旗路街道号\d]{1,8}州(?![市区县]))"  # short forms: 海西州
)
_DISTRICT_RE = re.compile(r"^[^省市县区旗路街道号\d]{1,12}?(?:区|县|旗|市)")

# A township/town token at the start of the street part: it tells "the countryside" apart from
# a city street. 镇街道 (a Shanghai sub-district), 村镇银行 and roads named after a 乡 do not count.
_TOWN_RE = re.compile(r"^([" + _CJK + r"]{1,10}?)(镇|乡|苏木)")
_TOWN_NOT_PREV = set("家故水老城下同异他")
_TOWN_NOT_NEXT_RE = re.compile(r"^(?:街道|[路街道村土亲情愁音味鸡]|[" + _CJK + r"]{0,3}[路街道巷])")

# Units that only exist in the countryside.
_STRONG_RE = re.compile(
    r"村委会|村民委员会|村民小组|嘎查|苏木"
    r"|[村屯庄寨][东西南北]?[" + _NUM + r"]+(?:组|社|队)"
    r"|(?:农场|林场)[" + _CJK + r"]{0,4}?[" + _NUM + r"]+(?:队|连|分场)"
    r"|团[" + _NUM + r"]+连"
)
# A numbered group ("3组", "五组") only counts once we know we are past a town or village:
# a city has 组团 / 组合 / 项目小组, never "镇…3组".
_GROUP_RE = re.compile(r"[" + _NUM + r"]+(?:村民)?(?:组|社)(?![团合织件装长员])")

_BAD_NAME_CHARS = set("号路街道楼室层座栋幢区弄巷乡")  # a village name never starts right after these
_URBAN_WORDS_BEFORE = ("度假", "亚运", "奥运", "地球", "中关", "城中", "科技", "创意", "影视")
_VILLAGE_NOT_NEXT = set("田上镇级落庄长务")  # 村田路, 村上书店, 村镇银行, 村级, 村落, 村庄
_ROAD_AFTER_RE = re.compile(r"^[东西南北中]?(?:路|街|大街|大道|巷|弄|道)")
_ESTATE_AFTER_RE = re.compile(r"^(?:小区|花园|公寓|苑|广场|大厦|家园|[" + _NUM + r"]+[栋幢])")
# Under a 街道 (a city sub-district), a 村 followed by a house number or a lane is an urban
# village (石牌村东约12号, 岗厦村东二坊12号): a courier walks to it like any city address.
_SUBDISTRICT_RE = re.compile(r"^[" + _CJK + r"]{1,8}?街道")
_URBAN_VILLAGE_AFTER_RE = re.compile(r"^(?:[东西南北中]|[" + _NUM + r"]+号|[" + _CJK + r"]{1,3}[坊约巷里])")
_NUMBERED_VILLAGE_RE = re.compile(r"(?:新|[" + _NUM + r"]+)$")  # 曹杨新村, 天山四村, 田林十二村
# (?<!\d): a digit run is tried from its first digit only; "\d+室" alone was quadratic in a long run
# of digits (a 6,000-digit address took 2.5 s).
_APARTMENT_RE = re.compile(r"(?<!\d)\d+室|单元|(?<!\d)\d+号楼|(?<!\d)\d+[栋幢]|(?<!\d)\d+楼\d|公寓|小区|花园|家园|大厦")
# 屯/庄/寨 count only as the last character of a place name: 前三屯, 李庄, 苗寨 - not 屯溪, 屯门.
_SUFFIX_END_RE = re.compile(r"^(?:$|[" + _NUM + r"]|[东西南北]?(?:组|社|村|号|$))")
_NOT_BEFORE_ZHUANG = set("山农茶酒饭钱布村")  # 山庄, 农庄, 茶庄, 村庄, 山寨 (not 李家庄: a village)


def _normalise(address: str) -> str:
    """NFKC (full-width digits -> ASCII), no spaces or punctuation between parts."""
    text = unicodedata.normalize("NFKC", address)
    return re.sub(r"[\s,，、·/|]+", "", text)


def _street_part(text: str) -> str:
    """The address below the county: province, city and county names are cut off."""
    m = _PROVINCE_RE.match(text)
    if m:
        municipality = m.group(0)[:2] in {"北京", "天津", "上海", "重庆"}
        text = text[m.end() :]
        if municipality:
            m2 = _MUNICIPALITY_RE.match(text)
            if m2:
                text = text[m2.end() :]
    m = _CITY_RE.match(text)
    if m:
        text = text[m.end() :]
    m = _DISTRICT_RE.match(text)
    if m and len(text) > m.end():
        text = text[m.end() :]
    return text


def _name_before(rest: str, i: int) -> bool:
    """Whether a place name ends just before position ``i`` (not a house number, road or room).

    楼 is allowed when it is part of a name (丁楼村, 李楼村 in Henan and Anhui), not a building
    number (3号楼).
    """
    if i == 0:
        return False
    prev = rest[i - 1]
    if not "\u4e00" <= prev <= "\u9fff":
        return False
    if prev == "楼":
        return i >= 2 and "\u4e00" <= rest[i - 2] <= "\u9fff" and rest[i - 2] != "号"
    return prev not in _BAD_NAME_CHARS


def _town_unit(rest: str) -> str | None:
    """The township/town unit (镇, 乡, 苏木) the street part starts with, if any."""
    m = _TOWN_RE.match(rest)
    if not m:
        return None
    name, unit = m.group(1), m.group(2)
    if name[-1] in _TOWN_NOT_PREV or name.endswith("村"):  # 家乡菜馆, 老乡鸡, 村镇银行
        return None
    if unit != "苏木" and _TOWN_NOT_NEXT_RE.match(rest[m.end() :]):
        return None
    return unit


def _village_unit(rest: str, rural_ctx: bool) -> bool:
    """Whether ``rest`` holds a 村 that is a village (not a road, a compound or a shop)."""
    apartment = bool(_APARTMENT_RE.search(rest))
    subdistrict = bool(_SUBDISTRICT_RE.match(rest))
    for m in re.finditer("村", rest):
        i = m.start()
        if not _name_before(rest, i):
            continue
        before, after = rest[:i], rest[i + 1 :]
        if before.endswith(_URBAN_WORDS_BEFORE):
            continue
        if after[:1] in _VILLAGE_NOT_NEXT and not after.startswith("委"):
            continue
        if after.startswith(("委", "民委员会", "民小组")) or _GROUP_RE.match(after):
            return True
        if rural_ctx:
            return True
        # No town before it: city roads (新村路, 梅花村街道), compounds (曹杨新村, 天山四村) and
        # apartment addresses (…村12号楼302室) are the city, everything else is a village.
        if _ROAD_AFTER_RE.match(after) or _ESTATE_AFTER_RE.match(after):
            continue
        if _NUMBERED_VILLAGE_RE.search(before) or apartment:
            continue
        if subdistrict and _URBAN_VILLAGE_AFTER_RE.match(after):
            continue
        return True
    return False


def _suffix_unit(rest: str, char: str, rural_ctx: bool) -> bool:
    """屯 / 庄 / 寨 as the end of a village name (前三屯, 李庄, 千户苗寨)."""
    for m in re.finditer(char, rest):
        i = m.start()
        if not _name_before(rest, i):
            continue
        if char != "屯" and rest[i - 1] in _NOT_BEFORE_ZHUANG:
            continue
        after = rest[i + 1 :]
        if not _SUFFIX_END_RE.match(after):
            continue
        # 屯 names a hamlet in the north-east and Guangxi even without a town before it, when
        # a village or a group number surrounds it; 庄 / 寨 are too common in city names for that.
        if rural_ctx or (char == "屯" and ("村" in rest[:i] or _GROUP_RE.match(after))):
            return True
    return False


@lru_cache(maxsize=65536)
def is_rural_address(address: str) -> bool:
    """Whether the full address (province + city + district + street) is a village address.

    True when the part below the county names a village-level unit: 村 (not a road or a city
    compound named 新村), 村委会, 村民小组, a numbered group after a town or village ("3组"),
    屯 / 庄 / 寨 ending a hamlet name, 嘎查 / 苏木 (Inner Mongolia), a 乡 township, or a state
    farm team / 兵团 company. A town street address ("XX镇人民路12号") is not rural: it has a
    street number a courier can walk to.

    Cached: routing asks about the same addresses again and again (re-routes, demo data).
    """
    if not address:
        return False
    rest = _street_part(_normalise(address))
    if not rest:
        return False
    if _STRONG_RE.search(rest):
        return True
    town_unit = _town_unit(rest)
    town = town_unit is not None
    # A 乡 township (not a 镇 town) is the countryside by itself: no street numbers there.
    if town_unit == "乡":
        return True
    if town and _GROUP_RE.search(rest):
        return True
    if _village_unit(rest, town):
        return True
    if _suffix_unit(rest, "屯", town):
        return True
    return _suffix_unit(rest, "庄", town) or _suffix_unit(rest, "寨", town)


def needs_rural_phone_check(address: str, phone: str) -> bool:
    """A village address whose phone a courier cannot call: the order must be held (``rural_no_phone``)."""
    return is_rural_address(address) and not usable_phone(phone)


def phone_tail(phone: str) -> str:
    """The last four digits: what a buyer reads out on the phone and a clerk searches by."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""
