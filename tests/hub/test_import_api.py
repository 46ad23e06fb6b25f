"""CSV/XLSX import over HTTP: the way off Excel keeps good rows and names each bad one."""

from __future__ import annotations

import io

import requests

from tests.helpers.hubapi import Session
from tests.hubproc import HubProcess

HEADER = "订单号,收件人,手机,省,市,区,详细地址,SKU,商品名称,数量,单价\n"
GOOD = "XL-1001,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-TEA-001,西湖龙井 250g,2,128.00\n"
BAD_QTY = "XL-1002,李娜,13912345678,江苏省,南京市,鼓楼区,中山路1号,SKU-TEA-001,西湖龙井 250g,两个,128.00\n"
GOOD2 = "XL-1003,王芳,13700001111,广东省,广州市,天河区,天河路385号,SKU-TEA-001,西湖龙井 250g,1,99.90\n"


def desk(hub: HubProcess) -> Session:
    return Session(hub.url, operator="D001", pin="2222", station="DESK-1", bench=None).login()


def upload(s: Session, name: str, data: bytes) -> requests.Response:
    return s.http.post(f"{s.url}/api/v1/import", params={"filename": name}, data=data, headers=s.headers, timeout=30)


def test_a_csv_with_a_bad_row_keeps_the_good_rows_and_names_the_bad_one(hub: HubProcess) -> None:
    s = desk(hub)
    r = upload(s, "orders.csv", (HEADER + GOOD + BAD_QTY + GOOD2).encode("utf-8-sig"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["imported"] == 2
    assert [e["row"] for e in body["errors"]] == [3]
    assert "数量" in body["errors"][0]["reason"] or "qty" in body["errors"][0]["reason"]
    o = s.order(body["orders"][0]["order_id"])
    assert o["total_fen"] == 25600 and o["state"] == "allocated"


def test_an_xlsx_file_imports(hub: HubProcess) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for line in (HEADER + GOOD2).strip().split("\n"):
        ws.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(desk(hub), "orders.xlsx", buf.getvalue())
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["errors"] == []


def test_a_broken_file_is_a_clear_error_and_stores_nothing(hub: HubProcess) -> None:
    s = desk(hub)
    r = upload(s, "orders.xlsx", b"PK\x03\x04 this is not a workbook")
    assert r.status_code == 400 and r.json()["error"] == "validation_failed" and r.json()["message"]
    assert s.get("/api/v1/orders").json()["orders"] == []


def test_packers_cannot_import(hub: HubProcess) -> None:
    p = Session(hub.url, station="B1-PC", bench="B1").login()
    r = upload(p, "orders.csv", (HEADER + GOOD).encode())
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_rows_of_one_order_far_apart_still_make_one_whole_order(hub: HubProcess) -> None:
    """Orders are written 500 per transaction as their last row is read: an order whose second line
    comes 600 orders later is held back until then, not written half."""
    others = [f"XL-{2000 + i},王芳,13700001111,广东省,广州市,天河区,天河路385号,SKU-TEA-001,西湖龙井 250g,1,99.90\n"
              for i in range(600)]
    second_line = GOOD.replace("SKU-TEA-001,西湖龙井 250g,2,128.00", "SKU-SNK-001,茶点,1,30.00")
    s = desk(hub)
    r = upload(s, "apart.csv", (HEADER + GOOD + "".join(others) + second_line).encode())
    assert r.status_code == 200, r.text[:500]
    body = r.json()
    assert body["imported"] == 601 and body["errors"] == []
    [first] = [o for o in body["orders"] if o["channel_order_no"] == "XL-1001"]
    order = s.order(first["order_id"])
    assert [line["sku"] for line in order["lines"]] == ["SKU-TEA-001", "SKU-SNK-001"]
    assert order["total_fen"] == 2 * 12800 + 3000


FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "import"


def test_a_platform_export_imports_with_its_extra_columns_named_once(hub: HubProcess) -> None:
    """A 抖店 export used to be refused whole for its extra columns; now they are a notice."""
    s = desk(hub)
    r = upload(s, "抖店订单.csv", (FIXTURES / "douyin.csv").read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["imported"] == 2 and body["preset"] == "douyin" and body["mapping"] is None
    assert "子订单编号" in body["ignored_columns"] and len(body["ignored_columns"]) == len(set(body["ignored_columns"]))
    assert [(e["row"], e["code"], e["details"]["value"]) for e in body["errors"]] == [(5, "status_done", "已发货")]
    [two_lines] = [o for o in body["orders"] if o["channel_order_no"] == "6920001"]
    order = s.order(two_lines["order_id"])
    assert [line["sku"] for line in order["lines"]] == ["SKU-TEA-001", "SKU-TEA-003"]
    assert all(line["bin"] for line in order["lines"])  # catalogue SKUs: every line has its bin


def test_an_unknown_sku_is_refused_at_the_hub_with_the_catalogue(hub: HubProcess) -> None:
    s = desk(hub)
    bad = GOOD2.replace("XL-1003", "XL-1004").replace("SKU-TEA-001", "SKU-GONE-404")
    r = upload(s, "orders.csv", (HEADER + GOOD + bad).encode())
    body = r.json()
    assert body["imported"] == 1
    assert [(e["row"], e["code"], e["details"]) for e in body["errors"]] == [
        (3, "unknown_sku", {"column": "sku", "value": "SKU-GONE-404"})]


def test_a_saved_mapping_is_shared_by_every_desk_and_used_for_the_same_sheet_shape(hub: HubProcess) -> None:
    header = "单号,姓名,电话,地区,城市,区域,街道地址,货品,件数,金额\n"
    row = "M-1,张伟,13812345678,浙江省,杭州市,西湖区,文三路90号,SKU-TEA-001,2,10\n"
    s = desk(hub)
    refused = upload(s, "小程序.csv", (header + row).encode())
    assert refused.status_code == 400
    details = refused.json()["details"]
    assert details["problem"] == "missing_columns" and details["headers"][0] == "单号"
    columns = {"单号": "order_no", "姓名": "name", "电话": "phone", "地区": "province", "城市": "city",
               "区域": "district", "街道地址": "address", "货品": "sku", "件数": "qty", "金额": "unit_price"}
    bad = s.http.put(f"{s.url}/api/v1/import/mappings", json={"name": "x", "headers": details["headers"],
                     "columns": {"单号": "order_no"}}, headers=s.headers, timeout=10)
    assert bad.status_code == 400 and bad.json()["details"]["problem"] == "missing_columns"
    saved = s.http.put(f"{s.url}/api/v1/import/mappings", json={"name": "小程序后台", "headers": details["headers"],
                       "columns": columns}, headers=s.headers, timeout=10)
    assert saved.status_code == 200, saved.text
    # Another desk PC of the site sees it, and its import of the same shape needs no mapping step.
    other = Session(hub.url, operator="D001", pin="2222", station="DESK-2", bench=None).login()
    listed = other.get("/api/v1/import/mappings").json()["mappings"]
    assert [(m["name"], m["columns"]["货品"], m["updated_by"]) for m in listed] == [("小程序后台", "sku", "D001")]
    r = upload(other, "小程序-周二.csv", (header + row.replace("M-1", "M-2")).encode())
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["mapping"] == "小程序后台"
    # A mapping sent with the upload works without saving.
    r = s.http.post(f"{s.url}/api/v1/import", params={"filename": "x.csv", "columns": __import__("json").dumps(columns)},
                    data=(header + row.replace("M-1", "M-3")).encode(), headers=s.headers, timeout=30)
    assert r.status_code == 200 and r.json()["imported"] == 1
    packer = Session(hub.url, station="B1-PC", bench="B1").login()
    assert packer.http.get(f"{hub.url}/api/v1/import/mappings", headers=packer.headers, timeout=10).status_code == 403
