//! The official documents: each declaration's print (PDF, raw and base64), its receipts
//! (回执) and its attached documents (随附单证), equal to the truth; and the faults of the
//! print routes (login page, cut PDF, 5xx), for a fraction or for given declarations.
//!
//! `pdfinfo`/`pdftotext` (poppler-utils, installed by `cargo xtask test`) open the prints.

#![allow(clippy::unwrap_used)] // test helpers too: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use portal_sim::client::{Client, Response};
use portal_sim::codec::base64_decode;
use portal_sim::pdf::sha256_hex;
use portal_sim::{RunningSim, SimConfig, Truth, TruthDeclaration};
use serde_json::Value;

fn pdf_path(id: &str) -> String {
    format!("/decserver/entries/ftl/1/0/0/{id}.pdf")
}

fn direct_path(id: &str) -> String {
    format!("/decserver/entries/direct/ftl/1/0/0/{id}.pdf")
}

fn with_pdf(truth: &Truth) -> Vec<&TruthDeclaration> {
    truth.declarations.iter().filter(|t| t.has_pdf).collect()
}

/// Runs a poppler tool on `bytes`: (exit success, stdout).
fn poppler(tool: &str, bytes: &[u8], name: &str) -> (bool, String) {
    let dir: PathBuf = std::env::temp_dir().join(format!("portal-sim-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, bytes).unwrap();
    let mut cmd = Command::new(tool);
    cmd.arg(&file);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{tool} not runnable ({e}): install poppler-utils"));
    let _ = std::fs::remove_file(&file);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn is_login_page(r: &Response) -> bool {
    r.status == 200
        && r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        && r.text()
            .contains(r#"<input id="password" name="password" type="password""#)
}

#[tokio::test]
async fn every_print_is_a_small_valid_pdf_hash_equal_to_the_truth() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let prints = with_pdf(&truth);
    assert!(prints.len() > 600, "{}", prints.len());
    let mut largest = (0, String::new());
    for t in &prints {
        let d = &t.declaration;
        assert!(d.entry_id.is_some());
        let r = c.get(&pdf_path(&d.cus_ciq_no)).await.unwrap();
        assert_eq!(r.status, 200, "{}", d.cus_ciq_no);
        assert_eq!(
            r.header("content-type"),
            Some("application/pdf;charset=UTF-8")
        );
        assert_eq!(Some(r.body.len() as u64), t.pdf_size, "{}", d.cus_ciq_no);
        assert_eq!(Some(sha256_hex(&r.body)), t.pdf_sha256, "{}", d.cus_ciq_no);
        assert_eq!(t.home_scc, truth.enterprise.scc);
        assert!(r.body.len() < 8 * 1024, "a few KB: {}", r.body.len());
        if r.body.len() > largest.0 {
            largest = (r.body.len(), d.cus_ciq_no.clone());
        }
    }
    // The hash is SHA-256 as any tool computes it.
    let first = prints[0];
    let bytes = sim.pdf(0, &first.declaration.cus_ciq_no).unwrap();
    let dir = std::env::temp_dir().join(format!("portal-sim-sha-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("print.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let out = Command::new("sha256sum").arg(&file).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let hex = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        hex.split_whitespace().next(),
        first.pdf_sha256.as_deref(),
        "sha256sum agrees"
    );

    // Open the smallest, the largest and a few others with poppler; their text carries
    // the 统一编号, the 报关单号 and head fields.
    let mut sample: Vec<&TruthDeclaration> = prints.iter().step_by(150).copied().collect();
    sample.extend(
        prints
            .iter()
            .filter(|t| t.declaration.cus_ciq_no == largest.1),
    );
    for t in sample {
        let d = &t.declaration;
        let bytes = sim.pdf(0, &d.cus_ciq_no).unwrap();
        let (ok, info) = poppler("pdfinfo", &bytes, &d.cus_ciq_no);
        assert!(ok, "pdfinfo refuses {}", d.cus_ciq_no);
        assert!(info.contains("Pages:           1"), "{info}");
        assert!(
            info.contains(&format!("Title:           {}", d.cus_ciq_no)),
            "{info}"
        );
        let (ok, text) = poppler("pdftotext", &bytes, &d.cus_ciq_no);
        assert!(ok);
        for needle in [
            format!("cusCiqNo: {}", d.cus_ciq_no),
            format!("entryId: {}", d.entry_id.as_deref().unwrap_or("")),
            format!("iEDate: {}", d.i_e_date),
            format!("supvModeCdde: {}", d.supv_mode_cdde),
            d.goods[0].code_ts.clone(),
        ] {
            assert!(
                text.contains(&needle),
                "{needle:?} not in the text of {}",
                d.cus_ciq_no
            );
        }
    }

    // The JSON variant carries the same bytes; a second simulator with the same seed
    // prints the same bytes.
    let again = common::sim(config()).await;
    for t in prints.iter().step_by(50) {
        let id = &t.declaration.cus_ciq_no;
        let v = c.get(&direct_path(id)).await.unwrap().json().unwrap();
        assert_eq!(v["ok"], true);
        let b = base64_decode(v["data"]["pdf"].as_str().unwrap()).unwrap();
        assert_eq!(Some(sha256_hex(&b)), t.pdf_sha256);
        assert_eq!(again.pdf(0, id), sim.pdf(0, id));
    }
    let stats = sim.stats().documents;
    assert_eq!(
        stats.pdf_requests,
        prints.len() as u64 + prints.iter().step_by(50).count() as u64
    );
    assert_eq!(stats.pdfs_served, stats.pdf_requests);
    assert_eq!(stats.pdf_faults, 0);
    again.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn no_print_without_an_entry_id() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let without: Vec<&TruthDeclaration> =
        truth.declarations.iter().filter(|t| !t.has_pdf).collect();
    assert!(!without.is_empty());
    for t in &without {
        assert!(t.declaration.entry_id.is_none());
        assert_eq!((t.pdf_sha256.as_deref(), t.pdf_size), (None, None));
        let id = &t.declaration.cus_ciq_no;
        let r = c.get(&pdf_path(id)).await.unwrap();
        assert_eq!(r.status, 302);
        assert!(r
            .header("location")
            .unwrap()
            .ends_with("/decserver/error/showError.jsp"));
        let v = c.get(&direct_path(id)).await.unwrap().json().unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["messageList"][0], "未找到报关单打印文件");
        assert_eq!(sim.pdf(0, id), None);
    }
    // Unknown ids alike.
    let r = c.get(&pdf_path("E20269999999999999")).await.unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(
        sim.stats().documents.pdf_not_found,
        2 * without.len() as u64 + 1
    );
    // Without a session: the login redirect, as on every data route.
    let mut anon = Client::new(sim.addr());
    let id = &with_pdf(&truth)[0].declaration.cus_ciq_no;
    for path in [pdf_path(id), direct_path(id)] {
        let r = anon.get(&path).await.unwrap();
        assert_eq!(r.status, 302);
        assert!(r
            .header("location")
            .unwrap()
            .contains("/cas/login?service="));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn receipts_and_attachments_follow_the_declaration() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let mut c = session_client(&sim);
    let mut statuses = std::collections::BTreeSet::new();
    for t in truth.declarations.iter().step_by(7) {
        let d = &t.declaration;
        statuses.insert(d.cus_dec_status_name.clone());
        // Receipts: oldest first in the truth, newest first on the wire (stOrder=desc).
        let target = format!(
            "/decserver/sw/dec/common/queryCusDecRet?cusCiqNo={}&limit=10&offset=0&stName=noticeDate&stOrder=desc&_=1",
            d.cus_ciq_no
        );
        let v = c.get_api(&target).await.unwrap().json().unwrap();
        assert_eq!(v["total"], d.receipts.len().to_string());
        let rows = v["rows"].as_array().unwrap();
        let wire: Vec<(&str, &str)> = rows
            .iter()
            .rev()
            .map(|r| {
                (
                    r["noticeDate"].as_str().unwrap(),
                    r["channelName"].as_str().unwrap(),
                )
            })
            .collect();
        let truth_rows: Vec<(&str, &str)> = d
            .receipts
            .iter()
            .map(|r| (r.notice_date.as_str(), r.channel_name.as_str()))
            .collect();
        assert_eq!(wire, truth_rows, "{}", d.cus_ciq_no);
        // Consistent with the declaration: declared first, at dDate; the last one is the
        // last change; the channel of the status comes last.
        assert_eq!(d.receipts[0].channel_name, "申报到海关预录入系统成功");
        assert_eq!(d.receipts[0].notice_date, d.d_date);
        assert_eq!(d.receipts.last().unwrap().notice_date, d.update_time);
        assert!(d
            .receipts
            .windows(2)
            .all(|w| w[0].notice_date < w[1].notice_date));
        let last = d.receipts.last().unwrap().channel_name.as_str();
        let expected_last = match d.cus_dec_status_name.as_str() {
            "已申报" => "申报到海关预录入系统成功",
            "审结" => "通关无纸化审结",
            "查验通知" => "查验通知",
            "放行" => "海关已放行",
            "结关" => "海关已结关",
            other => panic!("status {other}"),
        };
        assert_eq!(last, expected_last, "{}", d.cus_ciq_no);
        for r in d.receipts.iter().skip(1) {
            assert_eq!(
                r.entry_id, d.entry_id,
                "receipts after 入库 carry the 报关单号"
            );
        }
        // Attachments: the detail's preDecDocVo is the truth's list.
        let body = format!(r#"{{"cusCiqNo":"{}"}}"#, d.cus_ciq_no);
        let v = c
            .post_json("/decserver/sw/dec/merge/queryDecData", &body)
            .await
            .unwrap()
            .json()
            .unwrap();
        let docs: Vec<Value> =
            serde_json::from_str(v["data"]["preDecHeadVo"]["preDecDocVo"].as_str().unwrap())
                .unwrap();
        assert_eq!(docs.len(), t.attachments.len());
        assert!(!docs.is_empty());
        for (doc, a) in docs.iter().zip(&t.attachments) {
            assert_eq!(doc["attTypeCode"], a.type_code.as_str());
            assert_eq!(doc["attEdocNo"], a.number.as_str());
            assert_eq!(doc["attEdocId"], a.edoc_id.as_str());
            assert!(a.number.starts_with(&a.type_code));
            let name = match a.type_code.as_str() {
                "00000001" => "发票",
                "00000002" => "装箱单",
                "00000004" => "合同",
                other => panic!("type {other}"),
            };
            assert_eq!(a.type_name, name);
            assert_eq!(a.file_name, format!("{name}.pdf"));
        }
    }
    assert!(statuses.len() >= 3, "{statuses:?}");
    assert_eq!(
        sim.stats().documents.receipts_requests,
        truth.declarations.iter().step_by(7).count() as u64
    );
    sim.shutdown().await;
}

/// Fetch `id`'s print once: its outcome as a client that checks would see it.
async fn outcome(c: &mut Client, path: &str, truth_sha: &str) -> &'static str {
    let r = c.get(path).await.unwrap();
    if is_login_page(&r) {
        return "login";
    }
    if r.status >= 500 {
        return "5xx";
    }
    assert_eq!(r.status, 200, "{}", r.text());
    let bytes = if r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/pdf"))
    {
        r.body.clone()
    } else {
        let v = r.json().unwrap();
        base64_decode(v["data"]["pdf"].as_str().unwrap()).unwrap()
    };
    if sha256_hex(&bytes) == truth_sha {
        return "pdf";
    }
    assert!(bytes.starts_with(b"%PDF-1.4"), "a prefix of the print");
    assert!(!bytes.ends_with(b"%%EOF\n"), "no trailer");
    "cut"
}

async fn faulty(spec: &str) -> (RunningSim, Client, Truth) {
    let sim = sim(SimConfig {
        faults: spec.parse().unwrap(),
        ..config()
    })
    .await;
    let c = session_client(&sim);
    let truth = sim.truth();
    (sim, c, truth)
}

#[tokio::test]
async fn each_print_fault_kind_on_every_request() {
    // The login page instead of the PDF, on both routes.
    let (sim, mut c, truth) = faulty("pdf_login=1").await;
    let t = with_pdf(&truth)[3];
    let (id, sha) = (&t.declaration.cus_ciq_no, t.pdf_sha256.as_deref().unwrap());
    for path in [pdf_path(id), direct_path(id)] {
        assert_eq!(outcome(&mut c, &path, sha).await, "login");
    }
    // Other data routes are untouched.
    let body = format!(r#"{{"cusCiqNo":"{id}"}}"#);
    let v = c
        .post_json("/decserver/sw/dec/merge/queryDecData", &body)
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(sim.stats().faults.get("pdf_login"), Some(&2));
    sim.shutdown().await;

    // Cut: 200, a prefix of the PDF without its trailer, which poppler refuses; the JSON
    // variant is valid JSON whose base64 is such a prefix.
    let (sim, mut c, truth) = faulty("pdf_cut=1").await;
    for t in with_pdf(&truth).into_iter().step_by(100) {
        let id = &t.declaration.cus_ciq_no;
        let full = sim.pdf(0, id).unwrap();
        let r = c.get(&pdf_path(id)).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type"),
            Some("application/pdf;charset=UTF-8")
        );
        assert!(r.body.len() < full.len() * 9 / 10 + 1 && r.body.len() >= full.len() / 4);
        assert!(full.starts_with(&r.body));
        let (ok, _) = poppler("pdfinfo", &r.body, id);
        assert!(!ok, "pdfinfo accepted a cut print of {id}");
        let v = c.get(&direct_path(id)).await.unwrap().json().unwrap();
        let b = base64_decode(v["data"]["pdf"].as_str().unwrap()).unwrap();
        assert!(b.len() < full.len() && full.starts_with(&b));
    }
    let docs = sim.stats().documents;
    assert_eq!((docs.pdfs_served, docs.pdf_faults), (0, docs.pdf_requests));
    sim.shutdown().await;

    // 5xx.
    let (sim, mut c, truth) = faulty("pdf_5xx=1").await;
    let mut codes = std::collections::BTreeSet::new();
    for t in with_pdf(&truth).into_iter().take(40) {
        let r = c.get(&pdf_path(&t.declaration.cus_ciq_no)).await.unwrap();
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        codes.insert(r.status);
    }
    assert!(
        codes.contains(&500) && codes.iter().all(|s| [500, 502, 503].contains(s)),
        "{codes:?}"
    );
    sim.shutdown().await;

    // The general garbage fault on the raw print only ever cuts it.
    let (sim, mut c, truth) = faulty("garbage=1,only=pdf").await;
    for t in with_pdf(&truth).into_iter().take(30) {
        let sha = t.pdf_sha256.as_deref().unwrap();
        assert_eq!(
            outcome(&mut c, &pdf_path(&t.declaration.cus_ciq_no), sha).await,
            "cut"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn listed_declarations_fail_then_recover() {
    let (sim, _, truth) = faulty("none").await;
    let prints = with_pdf(&truth);
    let (a, b, x) = (prints[1], prints[2], prints[3]);
    let ids = |t: &TruthDeclaration| t.declaration.cus_ciq_no.clone();
    let spec = format!(
        "pdf_login_for={},pdf_cut_for={},pdf_5xx_for={},pdf_fail_times=2",
        ids(a),
        ids(b),
        ids(x)
    );
    sim.set_faults(spec.parse().unwrap());
    let mut c = session_client(&sim);
    let mut seen = Vec::new();
    for t in [a, b, x] {
        let sha = t.pdf_sha256.as_deref().unwrap();
        for _ in 0..3 {
            seen.push(outcome(&mut c, &pdf_path(&t.declaration.cus_ciq_no), sha).await);
        }
    }
    assert_eq!(
        seen,
        ["login", "login", "pdf", "cut", "cut", "pdf", "5xx", "5xx", "pdf"]
    );
    // Unlisted declarations are served; with pdf_fail_times=0 a listed one never is.
    let other = prints[4];
    let sha = other.pdf_sha256.as_deref().unwrap();
    assert_eq!(
        outcome(&mut c, &pdf_path(&other.declaration.cus_ciq_no), sha).await,
        "pdf"
    );
    sim.set_faults(format!("pdf_cut_for={}", ids(other)).parse().unwrap());
    for _ in 0..5 {
        assert_eq!(
            outcome(&mut c, &pdf_path(&other.declaration.cus_ciq_no), sha).await,
            "cut"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.faults.get("pdf_cut"), Some(&7));
    assert_eq!(stats.documents.pdf_faults, 2 + 2 + 2 + 5);
    sim.shutdown().await;
}

/// Retry every print until it is the truth's; returns the outcomes in order.
async fn fetch_all_prints(sim: &RunningSim, truth: &Truth) -> Vec<&'static str> {
    let mut c = session_client(sim);
    let mut seen = Vec::new();
    for t in with_pdf(truth) {
        let sha = t.pdf_sha256.as_deref().unwrap();
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries < 20, "{} never served", t.declaration.cus_ciq_no);
            let o = outcome(&mut c, &pdf_path(&t.declaration.cus_ciq_no), sha).await;
            seen.push(o);
            if o == "pdf" {
                break;
            }
        }
    }
    seen
}

#[tokio::test]
async fn a_fraction_of_faults_is_reproducible_and_nothing_is_lost_by_retrying() {
    let spec = "pdf_login=0.1,pdf_cut=0.1,pdf_5xx=0.1";
    let (sim, _, truth) = faulty(spec).await;
    let seen = fetch_all_prints(&sim, &truth).await;
    let n = with_pdf(&truth).len();
    let count = |o: &str| seen.iter().filter(|s| **s == o).count();
    assert_eq!(count("pdf"), n, "every print finally served, once");
    let faults = seen.len() - n;
    // About 30 % of requests fail: faults / requests within 22..38 %.
    assert!(
        faults * 100 > seen.len() * 22 && faults * 100 < seen.len() * 38,
        "{faults} of {}",
        seen.len()
    );
    for kind in ["login", "cut", "5xx"] {
        assert!(
            count(kind) * 100 > seen.len() * 6,
            "{kind}: {}",
            count(kind)
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.documents.pdf_requests, seen.len() as u64);
    assert_eq!(stats.documents.pdfs_served, n as u64);
    assert_eq!(stats.documents.pdf_faults, faults as u64);
    assert_eq!(
        stats.faults.get("pdf_login").copied().unwrap_or(0) as usize,
        count("login")
    );
    sim.shutdown().await;
    // Same seed, same requests: the same faults.
    let (again, _, truth) = faulty(spec).await;
    assert_eq!(fetch_all_prints(&again, &truth).await, seen);
    again.shutdown().await;
}

#[tokio::test]
async fn print_faults_are_set_at_run_time_through_the_admin_api() {
    let sim = sim(config()).await;
    let mut admin = Client::new(sim.addr());
    let r = admin
        .request(
            "POST",
            "/__sim/faults",
            &[],
            b"pdf_cut=0.5,pdf_5xx_for=E1|I2,pdf_fail_times=1",
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v = admin_get(&sim, "/__sim/faults").await;
    assert_eq!(v["spec"], "pdf_cut=0.5,pdf_5xx_for=E1|I2,pdf_fail_times=1");
    assert_eq!(v["parsed"]["pdfCut"], 0.5);
    let r = admin
        .request("POST", "/__sim/faults", &[], b"pdf_cut=0.7,pdf_login=0.7")
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    let stats = admin_get(&sim, "/__sim/stats").await;
    for key in [
        "requests",
        "pdfRequests",
        "receiptsRequests",
        "pdfsServed",
        "pdfBytes",
        "pdfNotFound",
        "pdfFaults",
    ] {
        assert_eq!(stats["documents"][key], 0, "{key}");
    }
    sim.shutdown().await;
}
