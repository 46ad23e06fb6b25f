"""Realistic demo orders and the SKU catalogue they are drawn from.

``main.py --demo`` fills a fresh install with these so a new user sees the whole flow at once
(queues, flags, every kind of hold); tests and benchmarks use them as a realistic load. So the
mix matters: rural villages with and without a phone, areas no carrier covers, gift bundles,
VIP custom-packaging orders, masked phones, unpaid and cancelled orders, in about the shares a
Chinese seller sees on a normal day.

Generation is deterministic for a seed (one ``random.Random``) and fast (benchmarks generate the
86,000 orders of a peak day): the catalogue is read once and every per-order choice is a table
lookup.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from core.barcodes import BarcodeError, parse_barcodes
from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from core.timeutil import DEFAULT_TZ, to_utc

__all__ = ["CATALOGUE_PATH", "CatalogueItem", "generate_orders", "load_catalogue"]

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "resources" / "rules" / "catalogue.csv"


@dataclass(frozen=True)
class CatalogueItem:
    """One SKU of the catalogue: where it sits (bin, in walking order), its weight and list price.

    ``price_fen`` comes from the optional ``price_yuan`` column (0 when absent); demo orders use it.
    """

    sku: str
    name: str
    bin: str
    weight_g: int
    is_gift: bool
    price_fen: int = 0
    #: product barcode -> units per scan, from the optional ``barcodes`` column
    barcodes: dict[str, int] = field(default_factory=dict)


def load_catalogue(path: Path | None = None) -> list[CatalogueItem]:
    """Read the SKU catalogue CSV (``sku,name,bin,weight_g,is_gift[,price_yuan][,barcodes]``).

    ``barcodes`` lists the SKU's product barcodes separated by ``;``, a case code with its units as
    ``*N`` (``6901234567892;16901234567899*6``); each is checked (digits, GS1 check digit), and one
    barcode on two SKUs is an error: a scan must name one item.

    Args:
        path: the CSV file; ``resources/rules/catalogue.csv`` by default.

    Raises:
        ValidationFailed: missing file or column, a bad number, a duplicate SKU — naming the file
            and the row, so whoever edited the sheet can fix it.
    """
    path = Path(path) if path is not None else CATALOGUE_PATH
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
            columns = set(rows[0].keys()) if rows else set()
    except OSError as e:
        raise ValidationFailed(
            f"商品目录无法读取 / Cannot read the SKU catalogue {path}: {e.strerror or e}.",
            details={"file": str(path)},
        ) from None
    missing = {"sku", "name", "bin", "weight_g", "is_gift"} - columns
    if rows and missing:
        raise ValidationFailed(
            f"商品目录缺少列 / SKU catalogue {path} lacks the column(s): {', '.join(sorted(missing))}.",
            details={"file": str(path), "key": sorted(missing)[0]},
        )
    items: list[CatalogueItem] = []
    seen: set[str] = set()
    owners: dict[str, str] = {}  # barcode -> the SKU that has it
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        sku = (row["sku"] or "").strip()
        where = {"file": str(path), "row": n, "key": "sku"}
        if not sku:
            raise ValidationFailed(f"SKU catalogue {path}, row {n}: the SKU is empty.", details=where)
        if sku in seen:
            raise ValidationFailed(f"SKU catalogue {path}, row {n}: SKU {sku} appears twice.", details=where)
        seen.add(sku)
        try:
            weight = int((row["weight_g"] or "0").strip())
            price = Decimal((row.get("price_yuan") or "0").strip())
        except (ValueError, InvalidOperation):
            raise ValidationFailed(
                f"SKU catalogue {path}, row {n} ({sku}): weight_g must be whole grams and price_yuan an amount.",
                details={**where, "key": "weight_g"},
            ) from None
        gift = (row["is_gift"] or "").strip().lower()
        if gift not in {"0", "1", "true", "false", "yes", "no", ""}:
            raise ValidationFailed(
                f"SKU catalogue {path}, row {n} ({sku}): is_gift must be 0 or 1, not {gift!r}.",
                details={**where, "key": "is_gift"},
            )
        try:
            barcodes = parse_barcodes(row.get("barcodes") or "")
        except BarcodeError as e:
            raise ValidationFailed(f"SKU catalogue {path}, row {n} ({sku}): {e}.",
                                   details={**where, "key": "barcodes"}) from None
        for code in barcodes:
            other = owners.setdefault(code, sku)
            if other != sku:
                raise ValidationFailed(
                    f"SKU catalogue {path}, row {n} ({sku}): barcode {code} is already the barcode of {other}; "
                    "one barcode must name one item.", details={**where, "key": "barcodes"})
        items.append(
            CatalogueItem(
                sku=sku,
                name=(row["name"] or "").strip(),
                bin=(row["bin"] or "").strip(),
                weight_g=weight,
                is_gift=gift in {"1", "true", "yes"},
                price_fen=int(price * 100),
                barcodes=barcodes,
            )
        )
    return items


@lru_cache(maxsize=4)
def _catalogue(path: Path) -> tuple[CatalogueItem, ...]:
    """The catalogue read once per process: generation must never touch the disk per order."""
    return tuple(load_catalogue(path))


# --- people ----------------------------------------------------------------------------------

# Surnames roughly by frequency (王, 李, 张 and 刘 alone are about a fifth of the population).
# fmt: off
_SURNAMES = (
    "王王王王王王王王李李李李李李李李张张张张张张张刘刘刘刘刘刘陈陈陈陈陈杨杨杨黄黄黄赵赵赵吴吴周周"
    "徐孙马朱胡郭何林高罗郑梁谢宋唐韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆"
    "范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康"
    "易乔赖文"
)
_GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "华", "建华", "建国", "志强", "文", "婷", "雪", "琳", "晨",
    "浩", "宇", "欣怡", "子涵", "梓轩", "一诺", "思远", "佳怡", "雨萱", "浩然", "俊杰", "晓明", "海燕",
    "红梅", "玉兰", "淑珍", "国强", "春燕", "丹", "鑫", "斌", "博", "慧", "颖", "晶", "倩", "悦", "萌",
    "凯", "鹏", "飞", "亮", "帅", "琪", "璐", "露", "嘉怡", "宇轩", "子墨", "诗涵", "欣然", "家豪",
    "梦琪", "晓燕", "志明", "秋菊",
)
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "191", "195", "198", "199",
)
# fmt: on

# --- places ----------------------------------------------------------------------------------
# (province, city, district, roads); street addresses get a number, a compound and a room.
_URBAN: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("上海市", "上海市", "浦东新区", ("张杨路", "世纪大道", "东方路", "杨高南路", "锦绣路")),
    ("上海市", "上海市", "徐汇区", ("漕溪北路", "天钥桥路", "宜山路", "虹桥路")),
    ("上海市", "上海市", "闵行区", ("七莘路", "沪闵路", "莘庄地铁北广场路")),
    ("北京市", "北京市", "朝阳区", ("建国路", "朝阳北路", "东三环中路", "望京街")),
    ("北京市", "北京市", "海淀区", ("学院路", "中关村大街", "西三环北路", "知春路")),
    ("北京市", "北京市", "丰台区", ("丰台北路", "南三环西路")),
    ("天津市", "天津市", "南开区", ("卫津路", "鞍山西道", "红旗南路")),
    ("重庆市", "重庆市", "渝北区", ("金开大道", "新牌坊一路", "龙山路")),
    ("重庆市", "重庆市", "九龙坡区", ("杨家坪正街", "谢家湾正街")),
    ("广东省", "广州市", "天河区", ("天河路", "体育西路", "黄埔大道西", "中山大道")),
    ("广东省", "广州市", "海珠区", ("新港中路", "江南大道中", "工业大道")),
    ("广东省", "深圳市", "南山区", ("深南大道", "科技南路", "南海大道", "后海大道")),
    ("广东省", "深圳市", "福田区", ("福华路", "益田路", "彩田路")),
    ("广东省", "东莞市", "南城区", ("鸿福路", "宏图路")),
    ("广东省", "佛山市", "禅城区", ("季华五路", "汾江中路")),
    ("浙江省", "杭州市", "西湖区", ("文三路", "教工路", "古墩路", "天目山路")),
    ("浙江省", "杭州市", "余杭区", ("文一西路", "五常大道", "良睦路")),
    ("浙江省", "宁波市", "鄞州区", ("天童南路", "四明中路", "钱湖北路")),
    ("浙江省", "温州市", "鹿城区", ("车站大道", "人民中路")),
    ("江苏省", "南京市", "鼓楼区", ("中山北路", "汉中路", "湖南路")),
    ("江苏省", "苏州市", "姑苏区", ("人民路", "干将西路", "十全街")),
    ("江苏省", "无锡市", "梁溪区", ("人民中路", "中山路")),
    ("安徽省", "合肥市", "蜀山区", ("长江西路", "潜山路", "黄山路")),
    ("福建省", "厦门市", "思明区", ("鹭江道", "湖滨南路", "厦禾路")),
    ("福建省", "福州市", "鼓楼区", ("五四路", "杨桥中路")),
    ("江西省", "南昌市", "东湖区", ("八一大道", "阳明路")),
    ("山东省", "济南市", "历下区", ("泉城路", "经十路", "解放路")),
    ("山东省", "青岛市", "市南区", ("香港中路", "东海西路", "南京路")),
    ("河南省", "郑州市", "金水区", ("花园路", "经三路", "农业路")),
    ("湖北省", "武汉市", "洪山区", ("珞喻路", "雄楚大道", "光谷大道")),
    ("湖北省", "武汉市", "江汉区", ("解放大道", "建设大道")),
    ("湖南省", "长沙市", "岳麓区", ("麓山南路", "桐梓坡路", "金星中路")),
    ("四川省", "成都市", "武侯区", ("人民南路四段", "科华北路", "武侯祠大街")),
    ("四川省", "成都市", "高新区", ("天府大道中段", "益州大道")),
    ("云南省", "昆明市", "五华区", ("东风西路", "人民中路")),
    ("贵州省", "贵阳市", "云岩区", ("中华北路", "宝山北路")),
    ("广西壮族自治区", "南宁市", "青秀区", ("民族大道", "东葛路")),
    ("海南省", "海口市", "龙华区", ("滨海大道", "国贸路")),
    ("陕西省", "西安市", "雁塔区", ("长安南路", "小寨西路", "高新路")),
    ("甘肃省", "兰州市", "城关区", ("东岗西路", "庆阳路")),
    ("青海省", "西宁市", "城西区", ("五四西路", "胜利路")),
    ("宁夏回族自治区", "银川市", "兴庆区", ("解放西街", "文化东街")),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", ("解放北路", "光明路")),
    ("新疆维吾尔自治区", "阿勒泰地区", "阿勒泰市", ("解放南路", "团结路")),
    ("西藏自治区", "拉萨市", "城关区", ("北京中路", "江苏路")),
    ("内蒙古自治区", "呼和浩特市", "新城区", ("新华大街", "兴安北路")),
    ("黑龙江省", "哈尔滨市", "南岗区", ("西大直街", "学府路")),
    ("吉林省", "长春市", "朝阳区", ("人民大街", "西安大路")),
    ("辽宁省", "沈阳市", "和平区", ("太原北街", "南京北街", "三好街")),
    ("辽宁省", "大连市", "中山区", ("人民路", "解放路")),
    ("河北省", "石家庄市", "长安区", ("中山东路", "建设北大街")),
    ("山西省", "太原市", "小店区", ("长治路", "平阳路")),
)
# Cities weigh by their share of online orders: the big coastal cities come up more often.
_URBAN_WEIGHTS = tuple(3 if u[1] in {"上海市", "北京市", "广州市", "深圳市", "杭州市"} else 1 for u in _URBAN)
_COMPOUNDS = (
    "阳光花园", "金地名京", "万科城市花园", "碧桂园", "保利香槟国际", "华润城", "绿地世纪城",
    "翠苑一区", "龙湖时代天街", "融创壹号院", "世茂滨江", "中海国际社区", "招商雍景湾", "恒大名都",
)  # fmt: skip
_OFFICES = ("大厦", "国际广场", "科技园", "中心", "写字楼")

# (province, city, county, town, villages): villages get a group or a house number.
_RURAL: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("河南省", "周口市", "郸城县", "汲冢镇", ("李楼村", "王寨村", "后刘庄村")),
    ("河南省", "商丘市", "虞城县", "利民镇", ("王庄村", "马庄村")),
    ("安徽省", "阜阳市", "临泉县", "杨桥镇", ("刘寨村", "张营村")),
    ("山东省", "菏泽市", "曹县", "大集镇", ("丁楼村", "张庄村")),
    ("河北省", "保定市", "阜平县", "龙泉关镇", ("骆驼湾村", "顾家台村")),
    ("山西省", "吕梁市", "临县", "城庄镇", ("岔口村", "前青塘村")),
    ("陕西省", "延安市", "延川县", "文安驿镇", ("梁家河村", "白家塬村")),
    ("甘肃省", "定西市", "通渭县", "马营镇", ("华川村", "月河村")),
    ("四川省", "南充市", "仪陇县", "马鞍镇", ("琳琅村", "复兴村")),
    ("重庆市", "重庆市", "巫山县", "竹贤乡", ("下庄村", "石院村")),
    ("贵州省", "毕节市", "威宁彝族回族苗族自治县", "石门乡", ("年丰村", "泉发村")),
    ("云南省", "昭通市", "镇雄县", "以勒镇", ("大火地村", "青杠村")),
    ("广西壮族自治区", "河池市", "都安瑶族自治县", "下坳镇", ("加文村", "拉烈村")),
    ("湖南省", "湘西土家族苗族自治州", "花垣县", "双龙镇", ("十八洞村", "金龙村")),
    ("湖北省", "黄冈市", "红安县", "七里坪镇", ("柳林河村", "长胜街村")),
    ("江西省", "赣州市", "于都县", "梓山镇", ("潭头村", "富坑村")),
    ("江苏省", "徐州市", "睢宁县", "沙集镇", ("东风村", "夏圩村")),
    ("浙江省", "丽水市", "松阳县", "四都乡", ("陈家铺村", "平田村")),
    ("黑龙江省", "绥化市", "望奎县", "灯塔镇", ("胜利村", "前三村")),
    ("吉林省", "长春市", "农安县", "合隆镇", ("陈家店村", "小城子村")),
    ("辽宁省", "铁岭市", "昌图县", "老城镇", ("八家子村", "二道沟村")),
    ("广东省", "梅州市", "大埔县", "百侯镇", ("侯南村", "侯北村")),
    ("福建省", "龙岩市", "永定区", "湖坑镇", ("洪坑村", "南中村")),
    ("内蒙古自治区", "通辽市", "科尔沁左翼后旗", "甘旗卡镇", ("双胜村", "胜利村")),
    ("宁夏回族自治区", "固原市", "西吉县", "将台堡镇", ("明台村", "毛沟村")),
)
_GROUPS = ("1组", "2组", "3组", "4组", "5组", "6组", "一组", "二组", "三组", "五组", "七组")

# Areas no carrier of the default rules covers: these orders get a carrier_area hold.
_UNCOVERED: tuple[tuple[str, str, str, str], ...] = (
    ("西藏自治区", "阿里地区", "改则县", "改则镇文化路"),
    ("西藏自治区", "阿里地区", "噶尔县", "狮泉河镇团结路"),
    ("西藏自治区", "那曲市", "双湖县", "措折罗玛镇"),
    ("新疆维吾尔自治区", "阿勒泰地区", "青河县", "青河镇和谐路"),
    ("青海省", "玉树藏族自治州", "治多县", "加吉博洛镇"),
)

_VIP_TOTAL_FEN = 5000_00  # the default rules' VIP threshold: VIP demo orders go above it

#: the seller's own note (卖家备注) on a custom-packaging order: what the bench must do with the box
_CUSTOM_NOTE = "定制礼盒包装：外加防震气泡袋，附手写贺卡，不放价格单"
_NOTES = ("", "", "", "", "", "", "请尽快发货", "不要放快递柜，放门卫", "送人的，不要放价格单", "周末才在家")


def _phone(rng: random.Random, p_landline: float, p_empty: float, p_masked: float) -> str:
    """A phone as channels send them: mostly mobiles, some landlines, some empty or masked."""
    x = rng.random()
    if x < p_empty:
        return ""
    if x < p_empty + p_masked:
        return f"{rng.choice(_MOBILE_PREFIXES)}****{rng.randrange(10000):04d}"
    if x < p_empty + p_masked + p_landline:
        area = rng.choice(("010", "021", "020", "0755", "0571", "025", "028", "0371", "0531"))
        return f"{area}-{rng.randrange(2, 9)}{rng.randrange(10_000_000):07d}"
    return f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"


def _default_start() -> datetime:
    """Today 08:00 in the site's time zone, in UTC: the demo day starts when the shop opens."""
    tz = ZoneInfo(DEFAULT_TZ)
    today = datetime.now(tz).date()
    return datetime.combine(today, time(8, 0), tzinfo=tz).astimezone(UTC)


def generate_orders(
    n: int, *, seed: int = 1, start: datetime | None = None, channel: str = "generic"
) -> list[IntakeOrder]:
    """Make ``n`` realistic orders, the same ones for the same arguments.

    Shares (approximate): status 90% paid / 8% unpaid / 2% cancelled; phones 82% mobile, 8%
    landline, 5% empty, 5% masked (rural ones more often empty or masked, as in real data); 10%
    village addresses; 2% in areas no carrier covers; 15% with a gift line (price 0); 1% VIP
    (total > 5,000 yuan and custom packaging) plus a few custom-packaging or high-value orders
    that miss one of the two conditions, so the threshold is exercised. Orders are spread over
    14 hours from ``start`` (default: today 08:00 Asia/Shanghai), in order of ``i``.

    ``channel_order_no`` is ``<CHANNEL>-<seed>-<i:08d>``: unique per (channel, seed), and pushing
    the same demo again is idempotent at the hub.
    """
    if n < 0:
        raise ValidationFailed("The number of demo orders must be >= 0.")
    rng = random.Random(seed)
    start_utc = _default_start() if start is None else to_utc(start)  # naive = site local time
    catalogue = _catalogue(CATALOGUE_PATH)
    goods = [c for c in catalogue if not c.is_gift and c.price_fen < 100_000]
    luxury = [c for c in catalogue if not c.is_gift and c.price_fen >= 100_000]
    gifts = [c for c in catalogue if c.is_gift]
    span = timedelta(hours=14).total_seconds() / max(n, 1)
    prefix = f"{channel.upper()}-{seed}-"
    rand, choice, randrange = rng.random, rng.choice, rng.randrange
    orders: list[IntakeOrder] = []
    for i in range(n):
        # -- recipient
        where = rand()
        if where < 0.02:
            province, city, district, street = choice(_UNCOVERED)
            address = f"{street}{randrange(1, 200)}号"
            phone = _phone(rng, 0.08, 0.05, 0.05)
        elif where < 0.12:
            province, city, district, town, villages = choice(_RURAL)
            tail = choice(_GROUPS) if rand() < 0.6 else f"{randrange(1, 300)}号"
            address = f"{town}{choice(villages)}{tail}"
            phone = _phone(rng, 0.05, 0.15, 0.15)
        else:
            province, city, district, roads = rng.choices(_URBAN, _URBAN_WEIGHTS)[0]
            if rand() < 0.7:
                address = (
                    f"{choice(roads)}{randrange(1, 1500)}号{choice(_COMPOUNDS)}"
                    f"{randrange(1, 30)}栋{randrange(1, 5)}单元{randrange(1, 33)}{randrange(1, 5):02d}室"
                )
            else:
                address = f"{choice(roads)}{randrange(1, 1500)}号{choice(roads)[:2]}{choice(_OFFICES)}{randrange(2, 40)}层"
            phone = _phone(rng, 0.085, 0.04, 0.04)
        name = choice(_SURNAMES) + choice(_GIVEN)
        recipient = Recipient(name, phone, province, city, district, address)

        # -- lines
        kind = rand()
        vip = kind < 0.01
        lines: list[OrderLine] = []
        if kind < 0.015:  # VIP, or (0.5%) high value without custom packaging
            value = 0
            for item in rng.sample(luxury, len(luxury)):
                if value > _VIP_TOTAL_FEN or len(lines) >= 4:
                    break
                qty = randrange(1, 3)
                lines.append(OrderLine(item.sku, item.name, qty, item.price_fen, False, item.bin))
                value += qty * item.price_fen
        for item in rng.sample(goods, min(len(goods), 1 + int(rand() ** 2 * 5))):
            if len(lines) >= 6:
                break
            qty = 1 if rand() < 0.75 else randrange(2, 5)
            lines.append(OrderLine(item.sku, item.name, qty, item.price_fen, False, item.bin))
        if rand() < 0.15 and len(lines) < 6:
            g = choice(gifts)
            lines.append(OrderLine(g.sku, g.name, 1, 0, True, g.bin))
        total = sum(line.qty * line.unit_price_fen for line in lines)
        custom = vip or (kind > 0.98)  # ~2% ask for custom packaging on an ordinary order

        # -- times and status
        created = start_utc + timedelta(seconds=(i + rand()) * span)
        s = rand()
        status = (
            ChannelStatus.PAID if s < 0.90 else ChannelStatus.UNPAID if s < 0.98 else ChannelStatus.CANCELLED
        )
        paid = created + timedelta(seconds=30 + randrange(600)) if status is ChannelStatus.PAID else None
        updated = paid or (created + timedelta(minutes=5) if status is ChannelStatus.CANCELLED else created)
        orders.append(
            IntakeOrder(
                channel=channel,
                channel_order_no=f"{prefix}{i:08d}",
                status=status,
                recipient=recipient,
                lines=lines,
                total_fen=total,
                created_at=created,
                channel_updated_at=updated,
                paid_at=paid,
                custom_packaging=custom,
                buyer_note=choice(_NOTES),
                seller_note=_CUSTOM_NOTE if custom else "",
                message_id=f"demo-{seed}-{i}",
            )
        )
    return orders
