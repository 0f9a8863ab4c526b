//! What the simulated portal sends: JSON bodies and HTML pages.
//!
//! JSON follows portal-api.md: list rows carry exactly the §2 "Row fields"
//! (plus nothing the product could come to rely on), `total` is a string,
//! the detail uses the `ok`/`messageList`/`data.preDecHeadVo` envelope with
//! the nested lists as JSON *strings* and every number as a string. Fields
//! that do not apply (the consignor on an import, an unassigned `entryId`)
//! are `null`, as a Java bean serialised by Jackson would show them.
//!
//! HTML pages carry the element ids the public code reads (`#password`,
//! `#loginbutton`, `div#msg`) and the ones the extension may read
//! (`#userName`, `#etpsName`, `#etpsScc` on the desktop).

use serde_json::{json, Map, Value};

use crate::codec::{encode_uri_component, html_escape};
use crate::model::{Declaration, Enterprise, IeFlag, Receipt};

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, s)
}

/// Import/export-specific domestic party keys: `(name, code, scc)` for the
/// consignee on imports and the consignor on exports; the other set is null.
fn domestic_parties(d: &Declaration, row: &mut Map<String, Value>) {
    // GUESS: keys that do not apply are null, as a Jackson-serialised bean shows them (portal-api.md §2).
    let import = d.cus_i_e_flag == IeFlag::I;
    let pick = |yes: bool, v: &str| if yes { s(v) } else { Value::Null };
    row.insert("consigneeCname".into(), pick(import, &d.domestic_name));
    row.insert("rcvgdTradeScc".into(), pick(import, &d.domestic_scc));
    row.insert("rcvgdTradeCode".into(), pick(import, &d.domestic_code));
    row.insert("consignorCname".into(), pick(!import, &d.domestic_name));
    row.insert("cnsnTradeScc".into(), pick(!import, &d.domestic_scc));
    row.insert("cnsnTradeCode".into(), pick(!import, &d.domestic_code));
}

/// One list row (portal-api.md §2 "Row fields").
pub fn list_row(d: &Declaration) -> Value {
    let mut row = Map::new();
    row.insert("cusCiqNo".into(), s(&d.cus_ciq_no));
    row.insert("entryId".into(), opt(d.entry_id.as_deref()));
    row.insert("cusIEFlag".into(), s(d.cus_i_e_flag.code()));
    row.insert("cusIEFlagName".into(), s(d.cus_i_e_flag.name()));
    row.insert("cusDecStatus".into(), s(d.cus_dec_status.code()));
    row.insert("cusDecStatusName".into(), s(&d.cus_dec_status_name));
    // GUESS: the list shows iEDate as YYYYMMDD like the detail's DICT sample (portal-api.md §3).
    row.insert("iEDate".into(), s(&d.i_e_date));
    row.insert("supvModeCdde".into(), s(&d.supv_mode_cdde));
    row.insert("supvModeCddeName".into(), s(&d.supv_mode_cdde_name));
    row.insert("customMasterName".into(), s(&d.custom_master_name));
    row.insert("ciqEntyPortCodeName".into(), s(&d.ciq_enty_port_code_name));
    domestic_parties(d, &mut row);
    row.insert("agentName".into(), s(&d.agent_name));
    row.insert("agentCode".into(), s(&d.agent_code));
    row.insert("billNo".into(), s(&d.bill_no));
    row.insert("contrNo".into(), s(&d.contr_no));
    // GUESS: numbers as strings in rows too, as in the detail (portal-api.md §3).
    row.insert("goodsNum".into(), s(&d.goods.len().to_string()));
    row.insert("trafName".into(), s(&d.traf_name));
    row.insert(
        "cusTradeNationCodeName".into(),
        s(&d.cus_trade_nation_code_name),
    );
    row.insert("grossWt".into(), s(&d.gross_wt));
    row.insert("packNo".into(), s(&d.pack_no));
    row.insert("contaCount".into(), s(&d.conta_count));
    // GUESS: 是/否 values (portal-api.md §2: the VUE copy only names the column).
    row.insert(
        "chktstFlagName".into(),
        s(if d.chktst_flag == "1" { "是" } else { "否" }),
    );
    row.insert("indbTime".into(), s(&d.indb_time));
    row.insert("updateTime".into(), s(&d.update_time));
    Value::Object(row)
}

/// The list envelope: `{"total":"N","rows":[…]}` (`total` a string \[C\]).
pub fn list_body<'a>(total: usize, rows: impl IntoIterator<Item = &'a Declaration>) -> Value {
    json!({
        "total": total.to_string(),
        "rows": rows.into_iter().map(list_row).collect::<Vec<_>>(),
    })
}

fn json_string<T: serde::Serialize>(v: &T) -> Value {
    Value::String(serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
}

/// `preDecHeadVo` for `d`: head fields as strings, nested lists as JSON strings.
pub fn head(d: &Declaration) -> Value {
    let import = d.cus_i_e_flag == IeFlag::I;
    let mut h = Map::new();
    let mut put = |k: &str, v: Value| {
        h.insert(k.to_string(), v);
    };
    put("cusCiqNo", s(&d.cus_ciq_no));
    put("entryId", opt(d.entry_id.as_deref()));
    put("preEntryId", s(&d.pre_entry_id));
    put("cusIEFlag", s(d.cus_i_e_flag.code()));
    put("ciqIEFlag", s(d.cus_i_e_flag.code()));
    put("cusDecStatus", s(d.cus_dec_status.code()));
    put("cusDecStatusName", s(&d.cus_dec_status_name));
    put("dclTrnRelFlag", s(d.dcl_trn_rel_flag.code()));
    // GUESS: every declaration is 通关无纸化, entryType "M" (portal-api.md §3 names the fields).
    put("entryType", s("M"));
    put("entryTypeName", s("通关无纸化"));
    put("chktstFlag", s(&d.chktst_flag));
    put("iEDate", s(&d.i_e_date));
    put("dDate", s(&d.d_date));
    put("updateTime", s(&d.update_time));
    put("indbTime", s(&d.indb_time));
    put("customMaster", s(&d.custom_master));
    put("customMasterName", s(&d.custom_master_name));
    put("iEPort", s(&d.i_e_port));
    put("iEPortName", s(&d.i_e_port_name));
    put("ciqEntyPortCode", s(&d.ciq_enty_port_code));
    put("ciqEntyPortCodeName", s(&d.ciq_enty_port_code_name));
    put("tradeModeCode", s(&d.supv_mode_cdde));
    put("tradeModeCodeName", s(&d.supv_mode_cdde_name));
    put("cutMode", s(&d.cut_mode));
    put("cutModeName", s(&d.cut_mode_name));
    put("transMode", s(&d.trans_mode));
    put("transModeName", s(&d.trans_mode_name));
    put("cusTradeCountry", s(&d.cus_trade_country));
    put("cusTradeNationCode", s(&d.cus_trade_nation_code));
    put("cusTrafMode", s(&d.cus_traf_mode));
    put("cusTrafModeName", s(&d.cus_traf_mode_name));
    put("trafName", s(&d.traf_name));
    put("billNo", s(&d.bill_no));
    // GUESS: freight and insurance are declared as totals in USD on FOB/EXW
    // imports and left empty otherwise (portal-api.md §3 names the fields).
    let freight = import && (d.trans_mode == "3" || d.trans_mode == "7");
    let gross_kg = d
        .gross_wt
        .split('.')
        .next()
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or(0);
    let fee = if freight {
        (gross_kg * 2).max(100).to_string()
    } else {
        String::new()
    };
    put("feeMark", s(if freight { "3" } else { "" }));
    put("feeRate", s(&fee));
    put("feeCurr", s(if freight { "502" } else { "" }));
    put("insurMark", s(if freight { "1" } else { "" }));
    put("insurRate", s(if freight { "0.3" } else { "" }));
    put("insurCurr", s(""));
    put("otherMark", s(""));
    put("otherRate", s(""));
    put("otherCurr", s(""));
    put("grossWt", s(&d.gross_wt));
    put("netWt", s(&d.net_wt));
    put("packNo", s(&d.pack_no));
    put("wrapType", s("22"));
    put("agentCode", s(&d.agent_code));
    put("agentScc", s(&d.agent_scc));
    put("agentName", s(&d.agent_name));
    put("declRegNo", s(&d.agent_code));
    put("ownerCode", s(&d.owner_code));
    put("ownerScc", s(&d.owner_scc));
    put("ownerName", s(&d.owner_name));
    let mut parties = Map::new();
    domestic_parties(d, &mut parties);
    for (k, v) in parties {
        put(&k, v);
    }
    put(
        "consigneeCode",
        if import {
            s(&d.domestic_code)
        } else {
            Value::Null
        },
    );
    put(
        "consignorEname",
        if import {
            s(&d.overseas_name)
        } else {
            Value::Null
        },
    );
    put(
        "consigneeEname",
        if import {
            Value::Null
        } else {
            s(&d.overseas_name)
        },
    );
    put("contractNo", s(&d.contr_no));
    put("manualNo", s(&d.manual_no));
    put("licenseNo", s(""));
    put("markNo", s("N/M"));
    put("noteS", s(""));
    put("promiseItems", s("000"));
    put("specDeclFlag", s(""));
    put(
        "districtCode",
        s(&d.domestic_code.chars().take(5).collect::<String>()),
    );
    put("goodsNum", s(&d.goods.len().to_string()));
    put("decMergeListVo", json_string(&d.goods));
    put("preDecDocVo", json_string(&d.docs));
    put("cusLicenseListVo", s("[]"));
    put("preDecContainerVo", json_string(&d.containers));
    Value::Object(h)
}

/// A successful detail answer (portal-api.md §3 envelope).
pub fn detail_ok(d: &Declaration) -> Value {
    json!({
        "ok": true,
        "errorCode": null,
        "errors": null,
        "messageList": [],
        "messageType": null,
        "data": { "preDecHeadVo": head(d) },
    })
}

/// A failed detail answer: `ok:false`, `messageList` of strings.
pub fn detail_error(message: &str) -> Value {
    json!({
        "ok": false,
        "errorCode": null,
        "errors": null,
        "messageList": [message],
        "messageType": "error",
        "data": null,
    })
}

/// The direct-PDF answer, `{"data":{"pdf":…}}` inside the detail's envelope.
pub fn pdf_direct_ok(base64_pdf: &str) -> Value {
    // GUESS: the envelope around data.pdf (portal-api.md §3 confirms only `{"data":{"pdf":…}}`).
    json!({
        "ok": true,
        "errorCode": null,
        "errors": null,
        "messageList": [],
        "messageType": null,
        "data": { "pdf": base64_pdf },
    })
}

/// The receipts list: `{"total":"N","rows":[…]}`, sorted by `noticeDate`
/// (descending unless `ascending`).
pub fn receipts_body(receipts: &[Receipt], offset: usize, limit: usize, ascending: bool) -> Value {
    // GUESS: the list envelope with a string total (portal-api.md §3 gives the row fields only).
    let mut rows: Vec<&Receipt> = receipts.iter().collect();
    rows.sort_by(|a, b| {
        let o = a
            .notice_date
            .cmp(&b.notice_date)
            .then_with(|| a.seq.cmp(&b.seq));
        if ascending {
            o
        } else {
            o.reverse()
        }
    });
    let page: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect();
    json!({ "total": receipts.len().to_string(), "rows": page })
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"UTF-8\">\n<title>{}</title>\n</head>\n<body>\n{}\n</body>\n</html>\n",
        html_escape(title),
        body
    )
}

/// The CAS login page. Card tab (`#password`, `#loginbutton`) visible with
/// `_swCardF=1`, the account tab otherwise; `msg` fills `div#msg`.
pub fn login_page(
    prefix: &str,
    service: Option<&str>,
    card_mode: bool,
    msg: Option<&str>,
    lt: &str,
) -> String {
    let mut action = format!("{prefix}/cas/login?");
    if let Some(svc) = service {
        action.push_str(&format!("service={}&", encode_uri_component(svc)));
    }
    action.push_str("_swCardF=1");
    let account_action = action
        .trim_end_matches("_swCardF=1")
        .trim_end_matches(['&', '?'])
        .to_string();
    let msg_html = msg.map_or(String::new(), |m| {
        format!(
            "<div id=\"msg\" class=\"errors\">{}</div>\n",
            html_escape(m)
        )
    });
    let (card_style, account_style) = if card_mode {
        ("", " style=\"display:none\"")
    } else {
        (" style=\"display:none\"", "")
    };
    let body = format!(
        r#"<div class="login-box">
<h2>中国国际贸易单一窗口 · 统一认证登录</h2>
<ul class="tabs"><li id="accountTab">账号登录</li><li id="cardTab">卡介质登录</li></ul>
{msg_html}<form id="cardForm" method="post" action="{action}"{card_style}>
<p>请按照以下步骤进行：1 请确认已下载客户端控件，并安装启动 2 插入中国电子口岸卡介质 3 输入卡口令</p>
<label for="password">卡口令</label>
<input id="password" name="password" type="password" autocomplete="off">
<input type="hidden" name="lt" value="{lt}">
<input type="hidden" name="execution" value="e1s1">
<input type="hidden" name="_eventId" value="submit">
<input type="hidden" name="swLoginFlag" value="swCard">
<input type="hidden" name="lpid" value="P1">
<button id="loginbutton" type="submit">登 录</button>
</form>
<form id="accountForm" method="post" action="{account_action}"{account_style}>
<input id="swy" name="swy" type="text">
<input id="swm2" name="swm2" type="password">
<input id="verifyCode" name="verifyCode" type="text">
<input type="hidden" name="lt" value="{lt}">
<input type="hidden" name="execution" value="e1s1">
<input type="hidden" name="_eventId" value="submit">
<input type="hidden" name="swLoginFlag" value="swUp">
<button id="sub3" type="submit">登 录</button>
</form>
</div>"#,
        action = html_escape(&action),
        account_action = html_escape(&account_action),
        lt = html_escape(lt),
    );
    page("中国国际贸易单一窗口 登录", &body)
}

/// The 货物申报 desktop (`deskIndex?menu_id=dec001`).
pub fn desk_index(prefix: &str, ent: &Enterprise) -> String {
    // GUESS: the markup and the ids userName/etpsName/etpsScc/etpsCode (portal-api.md §1:
    // the desktop's content is not in public code).
    let query_page = format!(
        "{prefix}/decserver/sw/dec/cusQueryZh?ngBasePath={}",
        encode_uri_component(&format!("{prefix}/decserver/"))
    );
    let body = format!(
        r#"<div id="header"><span class="welcome">欢迎您，<span id="userName">{user}</span></span>
<span id="etpsName">{name}</span> <span id="etpsScc">{scc}</span> <span id="etpsCode">{code}</span>
<a id="logout" href="{prefix}/cas/logout">退出</a></div>
<ul id="menu"><li id="dec001" class="active">货物申报</li><li><a id="cusQueryMenu" href="{qp}">报关数据查询</a></li></ul>
<iframe id="mainFrame" name="mainFrame" src="{qp}" width="100%" height="800"></iframe>"#,
        user = html_escape(&ent.user_name),
        name = html_escape(&ent.name),
        scc = html_escape(&ent.scc),
        code = html_escape(&ent.customs_code),
        prefix = html_escape(prefix),
        qp = html_escape(&query_page),
    );
    page("中国国际贸易单一窗口", &body)
}

/// The 报关数据查询 page (`cusQueryZh`): the query form's fields, static.
pub fn query_page() -> String {
    // GUESS: the markup; field ids follow decStatusInfo's keys (portal-api.md §1, §2).
    let body = r#"<form id="cusQueryForm">
<select id="operType" name="operType"><option value="0" selected>报关单查询</option><option value="1">集报清单报关单查询</option><option value="2">其他报关单数据查询</option></select>
<select id="cusIEFlag" name="cusIEFlag"><option value="I">进口</option><option value="E">出口</option></select>
<select id="dclTrnRelFlag" name="dclTrnRelFlag"><option value="0">一般报关单</option><option value="1">转关提前报关单</option><option value="2">备案清单</option><option value="3">转关提前备案清单</option><option value="4">出口二次转关</option></select>
<select id="etpsCategory" name="etpsCategory"><option value="A">报关申报单位</option><option value="B">消费使用/生产销售单位</option><option value="C" selected>报关收发货人</option><option value="D">报关录入单位</option></select>
<select id="cusDecStatus" name="cusDecStatus"><option value="">非结关</option><option value="10">结关</option></select>
<input id="cusCiqNo" name="cusCiqNo" placeholder="统一编号">
<input id="entryId" name="entryId" placeholder="报关单号">
<input id="billNo" name="billNo" placeholder="提运单号">
<input id="updateTime" name="updateTime" placeholder="开始日期">
<input id="updateTimeEnd" name="updateTimeEnd" placeholder="结束日期">
<button id="queryBtn" type="button">查询</button>
</form>
<table id="cusQueryTable"></table>"#;
    page("报关数据查询", body)
}

/// The page `/decserver/error/showError.jsp` (its name is \[C WLX\]).
pub fn show_error_page() -> String {
    // GUESS: its content (portal-api.md §1 knows only the URL).
    page(
        "系统提示",
        "<div class=\"error\"><h3>查询异常</h3><p>系统繁忙，请稍后重试。</p></div>",
    )
}

/// A Tomcat-style 500 page.
pub fn tomcat_500() -> String {
    // GUESS: what a 5xx looks like (portal-api.md §1 documents none).
    page(
        "HTTP Status 500 – Internal Server Error",
        "<h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed</p><hr class=\"line\" /><h3>Apache Tomcat</h3>",
    )
}

/// An nginx-style gateway error page.
pub fn nginx_error(status: u16) -> String {
    let reason = match status {
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Error",
    };
    format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// The WAF block page.
pub fn waf_block_page() -> String {
    // GUESS: its content (portal-api.md §1: a WAF answered 400 to scripted traffic).
    page(
        "400 Bad Request",
        "<div id=\"waf\"><h1>400 Bad Request</h1><p>您的访问请求可能对网站造成安全威胁，已被拦截。</p></div>",
    )
}

/// The answer to a request over the `--rate-limit`.
pub fn too_many_requests_page() -> String {
    page(
        "429 Too Many Requests",
        "<h1>429 Too Many Requests</h1><p>访问过于频繁，请稍后再试。</p>",
    )
}

/// A 404 page.
pub fn not_found_page(path: &str) -> String {
    page(
        "HTTP Status 404 – Not Found",
        &format!(
            "<h1>HTTP Status 404 – Not Found</h1><p>{}</p>",
            html_escape(path)
        ),
    )
}

/// A 400 page for malformed parameters.
pub fn bad_request_page(what: &str) -> String {
    page(
        "HTTP Status 400 – Bad Request",
        &format!(
            "<h1>HTTP Status 400 – Bad Request</h1><p>{}</p>",
            html_escape(what)
        ),
    )
}

/// A 405 page.
pub fn method_not_allowed_page() -> String {
    page(
        "HTTP Status 405 – Method Not Allowed",
        "<h1>HTTP Status 405 – Method Not Allowed</h1>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;

    fn sample() -> crate::model::Dataset {
        let today = Date::parse("2025-06-30").unwrap();
        crate::generate::generate(11, 60, today.add_days(-60), today, today)
    }

    #[test]
    fn detail_nests_lists_as_strings_and_numbers_as_strings() {
        let data = sample();
        let d = &data.declarations[0];
        let v = detail_ok(d);
        assert_eq!(v["ok"], true);
        assert_eq!(v["messageList"], json!([]));
        let h = &v["data"]["preDecHeadVo"];
        let goods_text = h["decMergeListVo"].as_str().unwrap();
        let goods: Vec<Value> = serde_json::from_str(goods_text).unwrap();
        assert_eq!(goods.len(), d.goods.len());
        assert!(goods[0]["declTotal"].is_string());
        assert!(goods[0]["gNo"].is_string());
        for key in ["preDecDocVo", "cusLicenseListVo", "preDecContainerVo"] {
            assert!(h[key].is_string(), "{key}");
            assert!(serde_json::from_str::<Value>(h[key].as_str().unwrap())
                .unwrap()
                .is_array());
        }
        for (k, val) in h.as_object().unwrap() {
            assert!(val.is_string() || val.is_null(), "{k} = {val}");
        }
    }

    #[test]
    fn rows_have_the_list_columns() {
        let data = sample();
        let row = list_row(&data.declarations[0]);
        for key in [
            "cusCiqNo",
            "entryId",
            "cusIEFlag",
            "cusDecStatus",
            "iEDate",
            "supvModeCdde",
            "supvModeCddeName",
            "goodsNum",
            "updateTime",
            "indbTime",
            "billNo",
            "agentName",
        ] {
            assert!(row.get(key).is_some(), "{key}");
        }
        let body = list_body(5, data.declarations.iter().take(2));
        assert_eq!(body["total"], "5");
        assert_eq!(body["rows"].as_array().unwrap().len(), 2);
        let no_entry = data.declarations.iter().find(|d| d.entry_id.is_none());
        if let Some(d) = no_entry {
            assert!(list_row(d)["entryId"].is_null());
        }
    }

    #[test]
    fn login_page_has_the_card_form() {
        let html = login_page(
            "/p",
            Some("http://x/deskserver/j_spring_cas_security_check"),
            true,
            Some("1|卡口令错误"),
            "LT-1",
        );
        assert!(html.contains("id=\"password\" name=\"password\" type=\"password\""));
        assert!(html.contains("id=\"loginbutton\""));
        assert!(html.contains("<div id=\"msg\" class=\"errors\">1|卡口令错误</div>"));
        assert!(html.contains("action=\"/p/cas/login?service=http%3A%2F%2Fx%2Fdeskserver%2Fj_spring_cas_security_check&amp;_swCardF=1\""));
    }

    #[test]
    fn receipts_sorted_desc() {
        let data = sample();
        let d = data
            .declarations
            .iter()
            .max_by_key(|d| d.receipts.len())
            .unwrap();
        let v = receipts_body(&d.receipts, 0, 10, false);
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(v["total"], d.receipts.len().to_string());
        assert!(rows
            .windows(2)
            .all(|w| w[0]["noticeDate"].as_str() >= w[1]["noticeDate"].as_str()));
    }
}
