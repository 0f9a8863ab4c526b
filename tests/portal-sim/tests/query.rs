//! The list query, detail, receipts and PDFs, driven exactly as public
//! scrapers drive the real portal.

mod common;

use std::collections::BTreeSet;

use common::*;
use portal_sim::client::Client;
use portal_sim::codec::base64_decode;
use portal_sim::model::cents_from_decimal;
use portal_sim::{Date, SimConfig};
use serde_json::{json, Value};

#[tokio::test]
async fn raw_url_is_triple_encoded_and_answer_has_string_total() {
    let sim = sim(config()).await;
    let mut c = session_client(&sim);
    let q = info("E", "0", "10", "C", "2026-01-05", "2026-01-11");
    let target = list_target("", &q, 0, 50);
    assert!(target.contains("decStatusInfo=%25257B%252522"), "{target}");
    assert!(
        target.contains("%252522cusIEFlag%252522%3A%252522E%252522"),
        "{target}"
    );
    let r = c.get_api(&target).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    let v = r.json().unwrap();
    assert!(v["total"].is_string(), "total must be a string: {v}");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len().to_string(), v["total"].as_str().unwrap());
    for row in rows {
        assert_eq!(row["cusIEFlag"], "E");
        assert_eq!(row["cusDecStatus"], "10");
        assert_eq!(row["cusDecStatusName"], "结关");
        assert!(row["goodsNum"].is_string());
        let t = row["updateTime"].as_str().unwrap();
        assert_eq!(t.len(), 19, "YYYY-MM-DD HH:mm:ss: {t}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_by_offset_covers_the_window_once_in_update_time_order() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    // The busiest 7-day window for exports, not closed + closed, role C.
    let days: Vec<Date> = truth
        .declarations
        .iter()
        .map(|t| t.declaration.query_date)
        .collect();
    let start = *days
        .iter()
        .max_by_key(|d| {
            days.iter()
                .filter(|x| **x >= **d && **x <= d.add_days(6))
                .count()
        })
        .unwrap();
    let end = start.add_days(6);
    let mut c = session_client(&sim);
    for status in ["", "10"] {
        let q = info("E", "0", status, "C", &start.to_string(), &end.to_string());
        let want = expected(&truth, "E", "0", status == "10", "C", start, end);
        let (total, rows) = fetch_all(&mut c, "", &q, 2).await;
        assert_eq!(total, want.len());
        let got = ids(&rows);
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(unique.len(), got.len(), "duplicates across pages");
        assert_eq!(unique, want, "missing or extra rows");
        let times: Vec<&str> = rows
            .iter()
            .map(|r| r["updateTime"].as_str().unwrap())
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "not sorted by updateTime desc"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn closed_and_not_closed_partition_a_full_three_year_sync() {
    let sim = sim(SimConfig {
        declarations: 300,
        ..config()
    })
    .await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let mut all = BTreeSet::new();
    let mut closed = BTreeSet::new();
    let mut start = truth.from;
    let mut requests = 0;
    while start <= truth.to {
        let end = start.add_days(6).min(truth.to);
        for ie in ["I", "E"] {
            for kind in ["2", "0"] {
                for status in ["", "10"] {
                    let q = info(ie, kind, status, "C", &start.to_string(), &end.to_string());
                    let (_, rows) = fetch_all(&mut c, "", &q, 50).await;
                    requests += 1;
                    for id in ids(&rows) {
                        assert!(all.insert(id.clone()), "{id} returned twice");
                        if status == "10" {
                            closed.insert(id);
                        }
                    }
                }
            }
        }
        start = end.add_days(1);
    }
    assert!(requests > 1000);
    let want: BTreeSet<String> = truth
        .declarations
        .iter()
        .filter(|t| {
            t.declaration
                .etps_category
                .contains(&portal_sim::model::Role::C)
        })
        .map(|t| t.declaration.cus_ciq_no.clone())
        .collect();
    assert_eq!(
        all, want,
        "the sync must find every declaration with role C exactly once"
    );
    let want_closed: BTreeSet<String> = truth
        .declarations
        .iter()
        .filter(|t| {
            want.contains(&t.declaration.cus_ciq_no) && t.declaration.cus_dec_status.is_closed()
        })
        .map(|t| t.declaration.cus_ciq_no.clone())
        .collect();
    assert_eq!(closed, want_closed);
    assert!(!closed.is_empty() && closed.len() < all.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn span_limit_direction_and_type_rules() {
    let sim = sim(config()).await;
    let mut c = session_client(&sim);
    // 7 calendar days inclusive pass, 8 are refused with the portal's error shape.
    let (_, _) = page(
        &mut c,
        "",
        &info("I", "0", "", "C", "2026-05-01", "2026-05-07"),
        0,
        10,
    )
    .await;
    let r = c
        .get_api(&list_target(
            "",
            &info("I", "0", "", "C", "2026-05-01", "2026-05-08"),
            0,
            10,
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let v = r.json().unwrap();
    assert_eq!(v["total"], "0");
    assert_eq!(v["rows"], json!([]));
    assert_eq!(v["message"], "查询时间跨度不能超过7天");
    // No "all directions" value.
    let v = c
        .get_api(&list_target(
            "",
            &info("", "0", "", "C", "2026-05-01", "2026-05-07"),
            0,
            10,
        ))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert!(v["message"].is_string());
    // 转关提前报关单 (1): none.
    let (total, _) = page(
        &mut c,
        "",
        &info("E", "1", "10", "C", "2026-01-01", "2026-01-07"),
        0,
        10,
    )
    .await;
    assert_eq!(total, 0);
    // A malformed limit is a servlet 400.
    let bad = list_target(
        "",
        &info("E", "0", "", "C", "2026-05-01", "2026-05-07"),
        0,
        10,
    )
    .replace("limit=10", "limit=ten");
    assert_eq!(c.get_api(&bad).await.unwrap().status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn wider_span_when_configured() {
    let sim = sim(SimConfig {
        max_span_days: 90,
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let (total, _) = page(
        &mut c,
        "",
        &info("E", "0", "10", "C", "2025-01-01", "2025-03-31"),
        0,
        10,
    )
    .await;
    let truth = sim.truth();
    let want = expected(
        &truth,
        "E",
        "0",
        true,
        "C",
        Date::parse("2025-01-01").unwrap(),
        Date::parse("2025-03-31").unwrap(),
    );
    assert_eq!(total, want.len());
    let v = c
        .get_api(&list_target(
            "",
            &info("E", "0", "10", "C", "2025-01-01", "2025-04-01"),
            0,
            10,
        ))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["message"], "查询时间跨度不能超过90天");
    sim.shutdown().await;
}

#[tokio::test]
async fn row_cap_limits_rows_not_total() {
    let sim = sim(SimConfig {
        max_rows: 3,
        max_span_days: 0,
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let q = info("E", "0", "10", "C", "2023-05-25", "2026-05-25");
    let (total, rows) = page(&mut c, "", &q, 0, 10000).await;
    assert!(total > 3);
    assert_eq!(rows.len(), 3);
    // A client that advances by the rows it got still collects everything.
    let mut got = BTreeSet::new();
    let mut offset = 0;
    while offset < total {
        let (_, rows) = page(&mut c, "", &q, offset, 10000).await;
        offset += rows.len();
        got.extend(ids(&rows));
    }
    assert_eq!(got.len(), total);
    sim.shutdown().await;
}

#[tokio::test]
async fn role_filter_uses_etps_category() {
    let sim = sim(SimConfig {
        max_span_days: 0,
        ..config()
    })
    .await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let (from, to) = (truth.from.to_string(), truth.to.to_string());
    let mut per_role = Vec::new();
    for role in ["A", "B", "C", "D"] {
        let (_, rows) = fetch_all(&mut c, "", &info("I", "0", "10", role, &from, &to), 500).await;
        let want = expected(&truth, "I", "0", true, role, truth.from, truth.to);
        assert_eq!(
            ids(&rows).into_iter().collect::<BTreeSet<_>>(),
            want,
            "role {role}"
        );
        per_role.push(want.len());
    }
    assert!(per_role.iter().all(|n| *n > 0), "{per_role:?}");
    assert_ne!(per_role[0], per_role[2]);
    sim.shutdown().await;
}

#[tokio::test]
async fn lookups_by_number_ignore_the_date_range() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let d = truth
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .find(|d| {
            d.entry_id.is_some()
                && !d.bill_no.is_empty()
                && d.etps_category.contains(&portal_sim::model::Role::C)
        })
        .unwrap();
    let status = if d.cus_dec_status.is_closed() {
        "10"
    } else {
        ""
    };
    let kind = serde_json::to_value(d.dcl_trn_rel_flag).unwrap();
    let kind = kind.as_str().unwrap();
    let ie = d.cus_i_e_flag.code();
    let mut c = session_client(&sim);
    let base = info(ie, kind, status, "C", "2026-05-19", "2026-05-25");
    for (key, value, exact) in [
        ("cusCiqNo", d.cus_ciq_no.clone(), "0"),
        ("entryId", d.entry_id.clone().unwrap(), "0"),
        ("billNo", d.bill_no.clone(), "1"),
        (
            "billNo",
            d.bill_no[2..d.bill_no.len() - 2].to_lowercase(),
            "0",
        ),
    ] {
        let mut q = base.clone();
        q[key] = Value::String(value.clone());
        q["isBillNoExactQuery"] = Value::String(exact.into());
        let (total, rows) = page(&mut c, "", &q, 0, 10).await;
        assert!(total >= 1, "{key}={value}");
        assert!(ids(&rows).contains(&d.cus_ciq_no), "{key}={value}");
        if key != "billNo" || exact == "1" {
            assert_eq!(total, 1, "{key}={value}");
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn common_variant_and_prefix() {
    let sim = sim(SimConfig {
        prefix: "/swProxy".into(),
        ..config()
    })
    .await;
    assert!(sim.base_url().ends_with("/swProxy"));
    let mut c = session_client(&sim);
    let q = info("E", "0", "10", "C", "2026-01-05", "2026-01-11");
    let (total, _) = page(&mut c, "/swProxy", &q, 0, 10).await;
    let old = list_target("/swProxy", &q, 0, 10)
        .replace("/merge/cusQuery", "/common/cusQuery")
        .replace("stName=", "sortName=")
        .replace("stOrder=", "sortOrder=");
    let v = c.get_api(&old).await.unwrap().json().unwrap();
    assert_eq!(
        v["total"].as_str().unwrap().parse::<usize>().unwrap(),
        total
    );
    // Without the prefix there is no portal.
    assert_eq!(
        c.get_api(&list_target("", &q, 0, 10)).await.unwrap().status,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn detail_envelope_goods_as_json_string_and_exact_totals() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let multi = truth
        .declarations
        .iter()
        .find(|t| t.declaration.goods.len() > 3)
        .unwrap();
    for t in [multi, &truth.declarations[0], &truth.declarations[1]] {
        let d = &t.declaration;
        let body = json!({"cusCiqNo": d.cus_ciq_no, "cusIEFlag": d.cus_i_e_flag.code(), "operationType": "cusEdit"});
        let r = c
            .post_json("/decserver/sw/dec/merge/queryDecData", &body.to_string())
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        let v = r.json().unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["messageList"], json!([]));
        assert!(v["errorCode"].is_null());
        let head = &v["data"]["preDecHeadVo"];
        assert_eq!(head["cusCiqNo"], d.cus_ciq_no.as_str());
        let goods: Vec<Value> =
            serde_json::from_str(head["decMergeListVo"].as_str().expect("a JSON string")).unwrap();
        assert_eq!(goods.len(), d.goods.len());
        let mut sums = std::collections::BTreeMap::<String, i64>::new();
        for g in &goods {
            for k in ["gNo", "gQty", "declPrice", "declTotal"] {
                assert!(g[k].is_string(), "{k} must be a string");
            }
            assert_eq!(g["codeTs"].as_str().unwrap().len(), 10);
            *sums
                .entry(g["tradeCurr"].as_str().unwrap().to_string())
                .or_default() += cents_from_decimal(g["declTotal"].as_str().unwrap()).unwrap();
        }
        let sums: std::collections::BTreeMap<String, String> = sums
            .into_iter()
            .map(|(k, v)| (k, portal_sim::model::decimal_from_cents(v)))
            .collect();
        assert_eq!(sums, t.value_by_curr);
        for key in ["preDecDocVo", "cusLicenseListVo", "preDecContainerVo"] {
            assert!(head[key].is_string(), "{key}");
        }
    }
    // WLX sends only the cusCiqNo.
    let only = json!({"cusCiqNo": truth.declarations[0].declaration.cus_ciq_no});
    let v = c
        .post_json("/decserver/sw/dec/merge/queryDecData", &only.to_string())
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["ok"], true);
    // Unknown: ok false with a message list of strings.
    let v = c
        .post_json(
            "/decserver/sw/dec/merge/queryDecData",
            r#"{"cusCiqNo":"I20990000000000000","cusIEFlag":"I","operationType":"cusEdit"}"#,
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["messageList"][0].is_string());
    // GET is not the detail's method.
    assert_eq!(
        c.get_api("/decserver/sw/dec/merge/queryDecData")
            .await
            .unwrap()
            .status,
        405
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn pdf_print_receipts_and_direct_pdf() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let with = truth
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .find(|d| d.entry_id.is_some())
        .unwrap();
    let r = c
        .get(&format!(
            "/decserver/entries/ftl/1/0/0/{}.pdf",
            with.cus_ciq_no
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/pdf;charset=UTF-8")
    );
    assert!(r.body.starts_with(b"%PDF-1.4"));
    let again = c
        .get(&format!(
            "/decserver/entries/ftl/1/0/0/{}.pdf",
            with.cus_ciq_no
        ))
        .await
        .unwrap();
    assert_eq!(r.body, again.body, "deterministic PDF");

    let direct = c
        .get(&format!(
            "/decserver/entries/direct/ftl/1/0/0/{}.pdf",
            with.cus_ciq_no
        ))
        .await
        .unwrap()
        .json()
        .unwrap();
    let pdf = base64_decode(direct["data"]["pdf"].as_str().unwrap()).unwrap();
    assert_eq!(pdf, r.body);

    let without = truth
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .find(|d| d.entry_id.is_none())
        .unwrap();
    let r = c
        .get(&format!(
            "/decserver/entries/ftl/1/0/0/{}.pdf",
            without.cus_ciq_no
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    assert!(r
        .header("location")
        .unwrap()
        .ends_with("/decserver/error/showError.jsp"));
    let r = c.follow(r, 3).await.unwrap();
    assert!(r.header("content-type").unwrap().starts_with("text/html"));

    let target = format!(
        "/decserver/sw/dec/common/queryCusDecRet?cusCiqNo={}&limit=10&offset=0&stName=noticeDate&stOrder=desc&_=1",
        with.cus_ciq_no
    );
    let v = c.get_api(&target).await.unwrap().json().unwrap();
    assert_eq!(v["total"], with.receipts.len().to_string());
    let rows = v["rows"].as_array().unwrap();
    for k in [
        "seq",
        "cusRetSeqNo",
        "noticeDate",
        "channelName",
        "note",
        "entryId",
    ] {
        assert!(rows[0].get(k).is_some(), "{k}");
    }
    assert_eq!(rows[0]["noticeDate"], with.update_time.as_str());
    assert!(rows
        .windows(2)
        .all(|w| w[0]["noticeDate"].as_str() >= w[1]["noticeDate"].as_str()));
    sim.shutdown().await;
}

#[tokio::test]
async fn pages_for_people_exist() {
    let sim = sim(config()).await;
    let mut c = session_client(&sim);
    let desk = c
        .get("/deskserver/sw/deskIndex?menu_id=dec001")
        .await
        .unwrap();
    assert_eq!(desk.status, 200);
    let html = desk.text();
    let truth = sim.truth();
    assert!(html.contains(&format!(
        "<span id=\"userName\">{}</span>",
        truth.enterprise.user_name
    )));
    assert!(html.contains(&truth.enterprise.scc));
    assert!(html.contains("/decserver/sw/dec/cusQueryZh?ngBasePath="));
    let q = c
        .get("/decserver/sw/dec/cusQueryZh?ngBasePath=%2Fdecserver%2F")
        .await
        .unwrap();
    assert_eq!(q.status, 200);
    assert!(q.text().contains("id=\"cusQueryForm\""));
    let _ = Client::new(sim.addr());
    sim.shutdown().await;
}
