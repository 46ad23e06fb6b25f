"""CSV/XLSX import: encodings, XLSX, multi-row orders, row-level errors, garbage."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest

from core.errors import ValidationFailed
from core.model import ChannelStatus, IntakeOrder, OrderLine, Recipient
from hub.intake import ImportResult, parse_import

HEADER = "订单号,收件人,手机,省,市,区,详细地址,SKU,商品名称,数量,单价,是否赠品,订单金额,下单时间,付款状态,定制包装,买家留言,最晚发货"
ROWS = [
    "A1001,张伟,13800138000,广东省,深圳市,南山区,科技园南区8栋1203室,TEA-GH-250,桂花乌龙茶 250g,2,19.90,否,,2026-02-22 10:15:30,已付款,否,周末送,2026-02-24 10:00",
    "A1001,,,,,,,GIFT-SPOON,品牌茶匙,1,0,是,,,,,,",
    "A1002,李娜,,浙江省,杭州市,西湖区,文三路90号,TEA-ML-100,茉莉花茶 100g,1,29.9,,25.00,2026/2/22 9:05,paid,是,,",
]
CSV_TEXT = HEADER + "\r\n" + "\r\n".join(ROWS) + "\r\n"

T_CREATED = datetime(2026, 2, 22, 2, 15, 30, tzinfo=UTC)


def expected_a1001() -> IntakeOrder:
    return IntakeOrder(
        channel="import",
        channel_order_no="A1001",
        status=ChannelStatus.PAID,
        recipient=Recipient("张伟", "13800138000", "广东省", "深圳市", "南山区", "科技园南区8栋1203室"),
        lines=[
            OrderLine("TEA-GH-250", "桂花乌龙茶 250g", 2, 1990),
            OrderLine("GIFT-SPOON", "品牌茶匙", 1, 0, is_gift=True),
        ],
        total_fen=3980,  # no 订单金额: sum of lines
        created_at=T_CREATED,
        channel_updated_at=T_CREATED,
        paid_at=None,
        ship_by=datetime(2026, 2, 24, 2, 0, tzinfo=UTC),
        custom_packaging=False,
        buyer_note="周末送",
        seller_note="",
        message_id="",
        extra={"source_file": "orders.csv", "rows": [2, 3]},
    )


def check_good(result: ImportResult, filename: str = "orders.csv") -> None:
    assert result.errors == []
    assert [row for row, _ in result.orders] == [2, 4]
    first, second = (order for _, order in result.orders)
    expected = expected_a1001()
    expected.extra["source_file"] = filename
    assert first == expected
    assert second.channel_order_no == "A1002"
    assert second.recipient.phone == ""  # rural order without a phone: kept, the hub raises a hold
    assert second.lines == [OrderLine("TEA-ML-100", "茉莉花茶 100g", 1, 2990)]
    assert second.total_fen == 2500  # given total wins (discounts)
    assert second.created_at == datetime(2026, 2, 22, 1, 5, tzinfo=UTC)
    assert second.custom_packaging is True


def test_csv_utf8() -> None:
    check_good(parse_import("orders.csv", CSV_TEXT.encode("utf-8")))


def test_csv_utf8_bom() -> None:
    check_good(parse_import("orders.csv", CSV_TEXT.encode("utf-8-sig")))


def test_csv_gbk() -> None:
    check_good(parse_import("orders.csv", CSV_TEXT.encode("gbk")))


def test_excel_unicode_text_export_is_utf16_with_tabs() -> None:
    """Excel's "Unicode 文本 (*.txt)": UTF-16 LE with a BOM, tab-separated."""
    text = CSV_TEXT.replace(",", "\t")
    check_good(parse_import("orders.txt", text.encode("utf-16")), "orders.txt")


def test_csv_tab_separated_and_english_headers() -> None:
    header = "order_no\tname\tphone\tprovince\tcity\tdistrict\taddress\tsku\titem_name\tqty\tunit_price"
    row = "B1\tTom\t13900001111\t北京市\t北京市\t朝阳区\t建国路88号\tCUP-1\tCup\t3\t12.5"
    result = parse_import("orders.txt", f"{header}\n{row}\n".encode())
    assert result.errors == []
    [(row_no, order)] = result.orders
    assert row_no == 2 and order.lines == [OrderLine("CUP-1", "Cup", 3, 1250)] and order.total_fen == 3750
    assert order.status is ChannelStatus.PAID  # default


def test_default_channel_and_created_default_now() -> None:
    text = "订单号,收件人,手机,省,市,区,详细地址,商品编码,数量,单价(元)\nC1,王芳,1,四川省,成都市,武侯区,人民南路,S1,1,1\n"
    before = datetime.now(UTC)
    [(_, order)] = parse_import("x.csv", text.encode(), default_channel="excel-shop").orders
    assert order.channel == "excel-shop"
    assert order.created_at >= before and order.created_at.tzinfo is not None
    assert order.lines[0].name == "S1"  # no item-name column: the SKU stands in


def build_xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx() -> None:
    header = HEADER.split(",")
    data = build_xlsx(
        [
            header,
            [
                "A1001",
                "张伟",
                13800138000,
                "广东省",
                "深圳市",
                "南山区",
                "科技园南区8栋1203室",
                "TEA-GH-250",
                "桂花乌龙茶 250g",
                2,
                19.9,
                "否",
                None,
                datetime(2026, 2, 22, 10, 15, 30),
                "已付款",
                "否",
                "周末送",
                "2026-02-24 10:00",
            ],
            ["A1001", None, None, None, None, None, None, "GIFT-SPOON", "品牌茶匙", 1, 0, "是"],
            [
                "A1002",
                "李娜",
                None,
                "浙江省",
                "杭州市",
                "西湖区",
                "文三路90号",
                "TEA-ML-100",
                "茉莉花茶 100g",
                1.0,
                29.9,
                None,
                25,
                "2026/2/22 9:05",
                "paid",
                True,
            ],
        ]
    )
    check_good(parse_import("orders.xlsx", data), "orders.xlsx")


def test_bad_rows_are_reported_good_rows_kept() -> None:
    rows = [
        ROWS[0],
        ROWS[1],
        "A2001,赵敏,186****5678,上海,上海市,徐汇区,漕溪北路1200号,LIP-01,口红,两支,89.00,,,,,,,",  # qty not a number
        "A2002,孙丽,13712345678,江苏省,南京市,鼓楼区,中山北路30号,BAG-1,帆布包,1,69.999,,,,,,,",  # 3 decimals
        ",孙丽,13712345678,江苏省,南京市,鼓楼区,中山北路30号,BAG-1,帆布包,1,69,,,,,,,",  # no order number
        "A2003,周杰,13500000000,福建省,厦门市,思明区,,BAG-1,帆布包,1,69,,,,,,,",  # address empty
        "A2004,吴昊,13500000001,福建省,厦门市,思明区,鹭江道1号,BAG-1,帆布包,1,69,,,明天,,,,",  # bad time
        "A2005,郑爽,13500000002,福建省,厦门市,思明区,鹭江道2号,BAG-1,帆布包,1,69,,,,已发货?,,,",  # bad status
        "A2006,冯伦,13500000003,福建省,厦门市,思明区,鹭江道3号,BAG-1,帆布包,1,69,,,,,,,",  # good line ...
        "A2006,冯伦,13500000003,福建省,厦门市,思明区,鹭江道3号,BAG-2,帆布包,1,69,也许,,,,,,",  # ... bad gift flag
        "A2007,蒋欣,13500000004,福建省,厦门市,思明区,鹭江道4号,BAG-1,帆布包,1,69,,,,,,,",
        "A2007,陈坤,13500000004,福建省,厦门市,思明区,鹭江道4号,BAG-2,帆布包,1,69,,,,,,,",  # different recipient
        ",,,,,,,,,,,,,,,,,",  # blank row: ignored
        "A3000,韩雪,13500000005,湖南省,长沙市,岳麓区,麓山南路,BOOK-1,笔记本,1,15,,,,,,,",
    ]
    result = parse_import("orders.csv", (HEADER + "\n" + "\n".join(rows) + "\n").encode("gbk"))
    assert [(row, order.channel_order_no) for row, order in result.orders] == [(2, "A1001"), (15, "A3000")]
    by_row = {e.row: e.reason for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert "qty" in by_row[4] and "两支" in by_row[4]
    assert "unit_price" in by_row[5]
    assert "order_no" in by_row[6]
    assert "address" in by_row[7]
    assert "created_at" in by_row[8]
    assert "status" in by_row[9]
    assert "not imported" in by_row[10] and "11" in by_row[10]  # good row of a refused order
    assert "is_gift" in by_row[11]
    assert "not imported" in by_row[12]
    assert "name" in by_row[13] and "differs" in by_row[13]
    # Each reason also comes as a code + details, so the desk can say it in the operator's language.
    codes = {e.row: (e.code, e.details.get("column"), e.details.get("value")) for e in result.errors}
    assert codes[4] == ("bad_qty", "qty", "两支") and codes[6] == ("empty", "order_no", "")
    assert codes[9] == ("bad_status", "status", "已发货?") and codes[13][:2] == ("inconsistent", "name")
    assert codes[10] == ("order_refused", None, None)
    assert next(e for e in result.errors if e.row == 10).details == {"order_no": "A2006", "rows": [11]}
    # The API's reason is English (the sheet's own words quoted); no Chinese sentence tacked on.
    assert not any("。" in e.reason or "，" in e.reason for e in result.errors)


def test_missing_required_column_refuses_the_file() -> None:
    text = "订单号,收件人,省,市,区,详细地址,SKU,数量,单价\nA1,张三,广东省,深圳市,南山区,路1号,S1,1,1\n"
    with pytest.raises(ValidationFailed) as info:
        parse_import("orders.csv", text.encode())
    assert "phone" in info.value.message and "row 1" in info.value.message
    assert info.value.details == {
        "file": "orders.csv", "problem": "missing_columns", "row": 1, "missing": ["phone"],
        "headers": ["订单号", "收件人", "省", "市", "区", "详细地址", "SKU", "数量", "单价"],
        "suggested": {"订单号": "order_no", "收件人": "name", "省": "province", "市": "city", "区": "district",
                      "详细地址": "address", "SKU": "sku", "数量": "qty", "单价": "unit_price"},
        "preset": None}


def test_a_file_without_a_header_row_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_import("orders.csv", ROWS[0].encode())
    assert "order_no" in info.value.details["missing"]


def test_an_unknown_column_is_ignored_and_listed_once() -> None:
    """Used to refuse the whole sheet; now the order is read and the column named in the answer."""
    text = HEADER + ",快递公司,商品规格\n" + ROWS[0] + ",顺丰,礼盒装\n" + ROWS[1] + ",顺丰,\n"
    result = parse_import("orders.csv", text.encode())
    assert result.errors == [] and [o.channel_order_no for _, o in result.orders] == ["A1001"]
    assert result.ignored == ["快递公司"] and result.preset is None
    assert result.orders[0][1].lines[0].name == "桂花乌龙茶 250g 礼盒装"  # 商品规格 is the item's variant


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"\xef\xbb\xbf", b"\r\n,,,\r\n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_import("orders.csv", data)
    assert info.value.code == "validation_failed"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("orders.csv", bytes(range(256)) * 4),
        ("orders.csv", b"\x00\x01\x02PNG\x89garbage"),
        ("orders.xlsx", b"PK\x03\x04 this is not a real zip"),
        ("orders.xlsx", b"hello, not an xlsx"),
        ("orders.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ("orders.pdf", b"%PDF-1.7"),
        ("orders", bytes(range(256))),
    ],
)
def test_garbage_is_a_plain_validation_error(filename: str, data: bytes) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_import(filename, data)
    assert info.value.code == "validation_failed"
    assert info.value.message and info.value.details["file"] == filename
    assert info.value.details["problem"] in ("unreadable", "xls", "not_sheet")


def test_xlsx_detected_by_content_without_extension() -> None:
    data = build_xlsx([HEADER.split(","), ROWS[2].split(",")])
    result = parse_import("upload", data)
    assert [o.channel_order_no for _, o in result.orders] == ["A1002"]


def test_multiline_cell_row_numbers_follow_records() -> None:
    text = (
        HEADER
        + '\nA1,张三,1,广东省,深圳市,南山区,"路1号\n2楼",S1,品,1,1,,,,,,,\nA2,李四,1,广东省,深圳市,南山区,路2号,S1,品,x,1,,,,,,,\n'
    )
    result = parse_import("o.csv", text.encode())
    assert [row for row, _ in result.orders] == [2]
    assert [e.row for e in result.errors] == [3]
