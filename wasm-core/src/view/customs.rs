//! 预览: a stored declaration laid out like the customs form (中华人民共和国海关进口货物报关单),
//! as a pure model — boxes of label and value in the form's order, then the goods table. The
//! page only draws it (as text). Labels are the form's own (Chinese in every language: it is the
//! customs document); values are the portal's, shown as they came (`name` fields preferred to
//! codes, `code` added when both exist).

use serde_json::{Map, Value};

use super::fmt;

/// One box of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub label: &'static str,
    pub value: String,
    /// Grid columns the box spans (the form's rows have 5 or 6 boxes in 12 columns).
    pub span: u8,
}

/// The whole form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomsForm {
    /// 中华人民共和国海关进口货物报关单 / 出口 / 进境 (出境) 货物备案清单.
    pub title: &'static str,
    /// The line above the boxes: 预录入编号, 海关编号, 统一编号, 报关状态.
    pub top: Vec<Cell>,
    pub rows: Vec<Vec<Cell>>,
    pub goods_header: &'static [&'static str],
    pub goods: Vec<Vec<String>>,
    /// The boxes under the goods (申报单位 …).
    pub bottom: Vec<Cell>,
}

/// The goods table's columns, as on the form.
pub const GOODS_HEADER: &[&str] = &["项号", "商品编号", "商品名称及规格型号", "数量及单位", "单价/总价/币制", "原产国（地区）", "最终目的国（地区）", "征免"];

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first field of `keys` that has a value.
fn first(map: &Map<String, Value>, keys: &[&str]) -> String {
    keys.iter().find_map(|k| text(map, k)).unwrap_or_default()
}

/// `name` with its code in brackets when both are there (`一般贸易（0110）`), else whichever is.
fn named(map: &Map<String, Value>, name: &str, code: &str) -> String {
    match (text(map, name), text(map, code)) {
        (Some(n), Some(c)) if n != c => format!("{n}（{c}）"),
        (Some(n), _) => n,
        (None, Some(c)) => c,
        (None, None) => String::new(),
    }
}

fn cell(label: &'static str, value: String, span: u8) -> Cell {
    Cell { label, value, span }
}

/// Lays out a declaration: `head` is the detail's `preDecHeadVo` (or, before the detail was
/// fetched, the list row), `goods` its goods lines, `documents` its attached documents.
pub fn layout(head: &Map<String, Value>, goods: &[Map<String, Value>], documents: &[Value]) -> CustomsForm {
    let import = first(head, &["cusIEFlag"]) != "E";
    let filing = first(head, &["dclTrnRelFlag"]) == "2";
    let title = match (import, filing) {
        (true, false) => "中华人民共和国海关进口货物报关单",
        (false, false) => "中华人民共和国海关出口货物报关单",
        (true, true) => "中华人民共和国海关进境货物备案清单",
        (false, true) => "中华人民共和国海关出境货物备案清单",
    };
    let (date_label, port_label, country_label, ciq_port_label) =
        if import { ("进口日期", "进境关别", "启运国（地区）", "入境口岸") } else { ("出口日期", "出境关别", "运抵国（地区）", "离境口岸") };
    let domestic = if import { "境内收货人" } else { "境内发货人" };
    let overseas = if import { "境外发货人" } else { "境外收货人" };
    let owner = if import { "消费使用单位" } else { "生产销售单位" };
    let with_code = |name: &[&str], code: &[&str]| {
        let (n, c) = (first(head, name), first(head, code));
        match (n.is_empty(), c.is_empty()) {
            (false, false) => format!("{n}（{c}）"),
            (false, true) => n,
            (true, _) => c,
        }
    };
    let fee = |mark: &str, rate: &str, curr: &str| {
        [first(head, &[mark]), first(head, &[rate]), first(head, &[curr])].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/")
    };
    let documents_text = documents
        .iter()
        .filter_map(|d| d.as_object())
        .map(|d| {
            let code = first(d, &["attTypeCode", "docuCode"]);
            let no = first(d, &["attEdocNo", "certCode", "attEdocId"]);
            [code, no].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("；");

    let top = vec![
        cell("预录入编号", first(head, &["preEntryId"]), 3),
        cell("海关编号", first(head, &["entryId"]), 3),
        cell("统一编号", first(head, &["cusCiqNo"]), 3),
        cell("申报地海关", named(head, "customMasterName", "customMaster"), 2),
        cell("报关状态", first(head, &["cusDecStatusName", "cusDecStatus"]), 1),
    ];
    let domestic_name = if import { ["consigneeCname", "rcvgdTradeCode"] } else { ["consignorCname", "cnsnTradeCode"] };
    let domestic_code = if import { ["rcvgdTradeScc", "consigneeCode"] } else { ["cnsnTradeScc", "consignorCode"] };
    let overseas_keys: &[&str] = if import { &["consignorEname", "overseasConsignorEname"] } else { &["consigneeEname", "overseasConsigneeEname"] };
    let rows = vec![
        vec![
            cell(domestic, with_code(&domestic_name[..1], &domestic_code), 4),
            cell(port_label, named(head, "iEPortName", "iEPort"), 2),
            cell(date_label, fmt::day(&first(head, &["iEDate"])), 2),
            cell("申报日期", fmt::day(&first(head, &["dDate"])), 2),
            cell("备案号", first(head, &["manualNo"]), 2),
        ],
        vec![
            cell(overseas, first(head, overseas_keys), 4),
            cell("运输方式", named(head, "cusTrafModeName", "cusTrafMode"), 2),
            cell("运输工具名称及航次号", first(head, &["trafName"]), 2),
            cell("提运单号", first(head, &["billNo"]), 2),
            cell("货物存放地点", first(head, &["goodsPlace"]), 2),
        ],
        vec![
            cell(owner, with_code(&["ownerName"], &["ownerScc", "ownerCode"]), 4),
            cell("监管方式", Some(named(head, "tradeModeCodeName", "tradeModeCode")).filter(|s| !s.is_empty()).unwrap_or_else(|| named(head, "supvModeCddeName", "supvModeCdde")), 2),
            cell("征免性质", named(head, "cutModeName", "cutMode"), 2),
            cell("许可证号", first(head, &["licenseNo"]), 2),
            cell(if import { "启运港" } else { "指运港" }, named(head, "despPortCodeName", "despPortCode"), 2),
        ],
        vec![
            cell("合同协议号", first(head, &["contractNo", "contrNo"]), 4),
            cell("贸易国（地区）", named(head, "cusTradeNationCodeName", "cusTradeNationCode"), 2),
            cell(country_label, named(head, "cusTradeCountryName", "cusTradeCountry"), 2),
            cell("经停港", named(head, "distinatePortName", "distinatePort"), 2),
            cell(ciq_port_label, named(head, "ciqEntyPortCodeName", "ciqEntyPortCode"), 2),
        ],
        vec![
            cell("包装种类", named(head, "wrapTypeName", "wrapType"), 2),
            cell("件数", first(head, &["packNo"]), 1),
            cell("毛重（千克）", first(head, &["grossWt"]), 2),
            cell("净重（千克）", first(head, &["netWt"]), 2),
            cell("成交方式", named(head, "transModeName", "transMode"), 1),
            cell("运费", fee("feeMark", "feeRate", "feeCurr"), 1),
            cell("保费", fee("insurMark", "insurRate", "insurCurr"), 1),
            cell("杂费", fee("otherMark", "otherRate", "otherCurr"), 2),
        ],
        vec![cell("随附单证及编号", documents_text, 12)],
        vec![cell("标记唛码及备注", [first(head, &["markNo"]), first(head, &["noteS"])].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "), 12)],
    ];
    let goods_rows = goods
        .iter()
        .map(|g| {
            let qty = [first(g, &["gQty"]), first(g, &["gUnitName", "gUnit"])].join(" ").trim().to_owned();
            // The legal unit by name: its own, or the deal unit's when both are the same code.
            let unit1 = match (text(g, "unit1Name"), text(g, "unit1")) {
                (Some(name), _) => name,
                (None, Some(code)) if text(g, "gUnit").as_deref() == Some(code.as_str()) => first(g, &["gUnitName", "gUnit"]),
                (None, code) => code.unwrap_or_default(),
            };
            let qty1 = [first(g, &["qty1"]), unit1].join(" ").trim().to_owned();
            let quantities = if qty1.is_empty() || qty1 == qty { qty } else { format!("{qty}\n{qty1}") };
            let money = [first(g, &["declPrice"]), first(g, &["declTotal"]), first(g, &["tradeCurrName", "tradeCurr"])].join("/");
            vec![
                first(g, &["gNo"]),
                first(g, &["codeTs"]),
                [first(g, &["gName"]), first(g, &["gModel"])].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n"),
                quantities,
                money,
                named(g, "cusOriginCountryName", "cusOriginCountry"),
                named(g, "destinationCountryName", "destinationCountry"),
                named(g, "dutyModeName", "dutyMode"),
            ]
        })
        .collect();
    let bottom = vec![
        cell("申报单位", with_code(&["agentName"], &["agentScc", "agentCode"]), 6),
        cell("申报单位编码", first(head, &["declRegNo", "agentCode"]), 3),
        cell("入库时间", first(head, &["indbTime"]), 3),
    ];
    CustomsForm { title, top, rows, goods_header: GOODS_HEADER, goods: goods_rows, bottom }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn an_import_declaration_reads_like_the_form() {
        let head = map(json!({"cusCiqNo": "I20260000000000001", "entryId": "610120261000000001", "cusIEFlag": "I", "dclTrnRelFlag": "0",
            "cusDecStatusName": "结关", "iEDate": "20260127", "dDate": "2026-01-20 09:30:00", "iEPort": "9001", "iEPortName": "西安关区",
            "consigneeCname": "西安数据协同贸易有限公司", "rcvgdTradeScc": "91610000MA6TEST01X", "consignorEname": "ACME <b>GmbH</b>",
            "ownerName": "西安数据协同贸易有限公司", "supvModeCdde": "0110", "tradeModeCode": "0110", "tradeModeCodeName": "一般贸易",
            "grossWt": "1200.5", "packNo": "12", "feeMark": "3", "feeRate": "2400", "feeCurr": "502", "agentName": "某报关行", "entryType": "M"}));
        let goods = vec![map(json!({"gNo": "1", "codeTs": "8471300000", "gName": "笔记本电脑", "gModel": "1|0|ACME|AB-123", "gQty": "2",
            "gUnitName": "台", "gUnit": "001", "qty1": "2", "unit1": "001", "declPrice": "3394.66", "declTotal": "6789.32", "tradeCurr": "502", "tradeCurrName": "美元",
            "cusOriginCountry": "DEU", "destinationCountry": "CHN", "dutyModeName": "照章征税"}))];
        let form = layout(&head, &goods, &[json!({"attTypeCode": "00000004", "attEdocNo": "HT-1"})]);
        assert_eq!(form.title, "中华人民共和国海关进口货物报关单");
        let all: Vec<&Cell> = form.top.iter().chain(form.rows.iter().flatten()).chain(&form.bottom).collect();
        let value = |label: &str| all.iter().find(|c| c.label == label).map(|c| c.value.clone()).unwrap();
        assert_eq!(value("海关编号"), "610120261000000001");
        assert_eq!(value("境内收货人"), "西安数据协同贸易有限公司（91610000MA6TEST01X）");
        assert_eq!(value("境外发货人"), "ACME <b>GmbH</b>", "kept as text, never interpreted");
        assert_eq!(value("进口日期"), "2026-01-27");
        assert_eq!(value("申报日期"), "2026-01-20");
        assert_eq!(value("进境关别"), "西安关区（9001）");
        assert_eq!(value("监管方式"), "一般贸易（0110）");
        assert_eq!(value("运费"), "3/2400/502");
        assert_eq!(value("随附单证及编号"), "00000004 HT-1");
        assert_eq!(form.goods[0], ["1", "8471300000", "笔记本电脑\n1|0|ACME|AB-123", "2 台", "3394.66/6789.32/美元", "DEU", "CHN", "照章征税"]);
        for row in &form.rows {
            assert!(row.iter().map(|c| u32::from(c.span)).sum::<u32>() <= 12, "{row:?}");
        }
    }

    #[test]
    fn an_export_filing_list_and_a_bare_list_row() {
        let form = layout(&map(json!({"cusIEFlag": "E", "dclTrnRelFlag": "2", "consignorCname": "某厂"})), &[], &[]);
        assert_eq!(form.title, "中华人民共和国海关出境货物备案清单");
        assert!(form.rows[0].iter().any(|c| c.label == "境内发货人" && c.value == "某厂"));
        assert!(form.rows.iter().flatten().any(|c| c.label == "出口日期"));
        assert!(form.goods.is_empty());
        let empty = layout(&Map::new(), &[], &[]);
        assert_eq!(empty.title, "中华人民共和国海关进口货物报关单");
        assert!(empty.rows.iter().flatten().filter(|c| c.label != "进口日期" && c.label != "申报日期").all(|c| c.value.is_empty()));
    }
}
