//! Several enterprises: each logs in with its own card PIN, its session sees only its own
//! declarations (list, detail, receipts, prints), its desktop shows who it is; a customs
//! broker sees, as 报关申报单位 (role A), exactly the clients' declarations it declared.
//! The default (one enterprise) stays the single-enterprise simulator.

#![allow(clippy::unwrap_used)] // test helpers too: a failed unwrap is a failed test

mod common;

use std::collections::BTreeSet;

use common::*;
use portal_sim::client::Client;
use portal_sim::{initial_truth, Date, EnterpriseSpec, RunningSim, SimConfig, Truth};
use serde_json::json;

const PIN_1: &str = "88888888";
const PIN_2: &str = "22222222";
const PIN_BROKER: &str = "33333333";

fn from() -> Date {
    today().add_days(-62)
}

/// Three enterprises over two months: the first (PIN 88888888, 160 declarations), a
/// second client (PIN 22222222, 120) and a broker (PIN 33333333, none of its own).
fn three() -> SimConfig {
    SimConfig {
        declarations: 160,
        from: Some(from()),
        extra_enterprises: vec![
            EnterpriseSpec::client(PIN_2, 120),
            EnterpriseSpec::broker(PIN_BROKER, 0.5),
        ],
        ..config()
    }
}

/// Log in through the card page with `pin`: a client holding that enterprise's session.
async fn login(sim: &RunningSim, pin: &str) -> Client {
    let mut c = Client::new(sim.addr());
    let action = sim.login_url().replace(&sim.origin(), "");
    let r = c.post_form(&action, &[("password", pin)]).await.unwrap();
    assert_eq!(r.status, 302, "PIN {pin}: {}", r.text());
    let desk = c.follow(r, 5).await.unwrap();
    assert_eq!(desk.status, 200);
    assert!(c.cookie("JSESSIONID").is_some());
    c
}

/// Every 统一编号 a session lists with `role` over the whole range, all directions,
/// types and statuses, in 7-day windows.
async fn list_all(c: &mut Client, role: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut start = from();
    while start <= today() {
        let end = start.add_days(6).min(today());
        for ie in ["I", "E"] {
            for kind in ["0", "2"] {
                for status in ["", "10"] {
                    let q = info(ie, kind, status, role, &start.to_string(), &end.to_string());
                    let (total, rows) = fetch_all(c, "", &q, 100).await;
                    assert_eq!(rows.len(), total);
                    for id in ids(&rows) {
                        assert!(seen.insert(id.clone()), "{id} listed twice");
                    }
                }
            }
        }
        start = end.add_days(1);
    }
    seen
}

fn sight(truth: &Truth, e: usize, role: &str) -> BTreeSet<String> {
    truth.enterprises[e]
        .declarations
        .iter()
        .filter(|t| {
            serde_json::to_value(&t.declaration.etps_category)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == role)
        })
        .map(|t| t.declaration.cus_ciq_no.clone())
        .collect()
}

#[tokio::test]
async fn by_default_one_enterprise_as_before() {
    let truth = initial_truth(&config()).unwrap();
    assert_eq!(truth.enterprises.len(), 1);
    let only = &truth.enterprises[0];
    assert_eq!(only.enterprise, truth.enterprise);
    assert!(!only.broker);
    assert_eq!(only.own, truth.declarations.len());
    assert_eq!(only.declarations, truth.declarations);
    // A second, non-broker enterprise leaves the first one's data exactly as it was.
    let two = initial_truth(&SimConfig {
        extra_enterprises: vec![EnterpriseSpec::client(PIN_2, 50)],
        ..config()
    })
    .unwrap();
    assert_eq!(two.enterprise, truth.enterprise);
    assert_eq!(two.declarations, truth.declarations);
    assert_eq!(two.enterprises[1].declarations.len(), 50);
    // Configurations the simulator refuses: a PIN used twice.
    let twice = SimConfig {
        extra_enterprises: vec![EnterpriseSpec::client(PIN_1, 5)],
        ..config()
    };
    assert!(portal_sim::start(twice).await.is_err());
}

#[tokio::test]
async fn each_pin_logs_its_enterprise_in_and_the_desktop_shows_it() {
    let sim = sim(three()).await;
    let truth = sim.truth();
    assert_eq!(truth.enterprises.len(), 3);
    assert_eq!(sim.enterprises().len(), 3);
    let names: BTreeSet<&str> = truth
        .enterprises
        .iter()
        .map(|e| e.enterprise.scc.as_str())
        .collect();
    assert_eq!(names.len(), 3, "three distinct 统一社会信用代码");
    for (e, pin) in [PIN_1, PIN_2, PIN_BROKER].into_iter().enumerate() {
        let ent = &truth.enterprises[e].enterprise;
        assert_eq!(ent.customs_code.len(), 10);
        assert_eq!(ent.scc.len(), 18);
        let mut c = login(&sim, pin).await;
        let desk = c
            .get("/deskserver/sw/deskIndex?menu_id=dec001")
            .await
            .unwrap();
        let html = desk.text();
        for (id, value) in [
            ("etpsName", &ent.name),
            ("etpsScc", &ent.scc),
            ("etpsCode", &ent.customs_code),
            ("userName", &ent.user_name),
        ] {
            assert!(
                html.contains(&format!("<span id=\"{id}\">{value}</span>")),
                "enterprise {e}: #{id} should be {value}"
            );
        }
    }
    assert!(truth.enterprises[2].broker);
    assert!(truth.enterprises[2]
        .enterprise
        .customs_code
        .starts_with("610198"));
    // A wrong PIN opens nothing.
    let mut c = Client::new(sim.addr());
    let action = sim.login_url().replace(&sim.origin(), "");
    let r = c
        .post_form(&action, &[("password", "44444444")])
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().contains("1|卡口令错误"));
    sim.shutdown().await;
}

#[tokio::test]
async fn sessions_never_cross_enterprises() {
    let sim = sim(three()).await;
    let truth = sim.truth();
    let mut one = login(&sim, PIN_1).await;
    let mut two = login(&sim, PIN_2).await;
    // Lists: each sees exactly its own declarations (role C and B), as the truth says.
    for (c, e) in [(&mut one, 0), (&mut two, 1)] {
        for role in ["C", "B"] {
            let listed = list_all(c, role).await;
            assert_eq!(
                listed,
                sight(&truth, e, role),
                "enterprise {e}, role {role}"
            );
            assert!(!listed.is_empty());
        }
    }
    let own = |e: usize| -> BTreeSet<String> {
        truth.enterprises[e]
            .declarations
            .iter()
            .map(|t| t.declaration.cus_ciq_no.clone())
            .collect()
    };
    assert!(own(0).is_disjoint(&own(1)));
    assert_eq!(own(0).len(), 160);
    assert_eq!(own(1).len(), 120);
    // Detail, receipts and prints of the other's declaration: not found.
    for (c, other) in [(&mut one, 1), (&mut two, 0)] {
        let mine = if other == 1 { 0 } else { 1 };
        let theirs = truth.enterprises[other]
            .declarations
            .iter()
            .find(|t| t.has_pdf)
            .unwrap();
        let yours = truth.enterprises[mine]
            .declarations
            .iter()
            .find(|t| t.has_pdf)
            .unwrap();
        for (t, visible) in [(theirs, false), (yours, true)] {
            let id = &t.declaration.cus_ciq_no;
            let v = c
                .post_json(
                    "/decserver/sw/dec/merge/queryDecData",
                    &format!(r#"{{"cusCiqNo":"{id}"}}"#),
                )
                .await
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(v["ok"], visible, "{id}");
            let target =
                format!("/decserver/sw/dec/common/queryCusDecRet?cusCiqNo={id}&limit=10&offset=0");
            let v = c.get_api(&target).await.unwrap().json().unwrap();
            assert_eq!(
                v["total"],
                if visible {
                    t.declaration.receipts.len().to_string()
                } else {
                    "0".into()
                }
            );
            let r = c
                .get(&format!("/decserver/entries/ftl/1/0/0/{id}.pdf"))
                .await
                .unwrap();
            assert_eq!(r.status, if visible { 200 } else { 302 }, "{id}");
            // A lookup by number finds nothing either.
            let mut q = info("I", "0", "", "C", "", "");
            q["cusCiqNo"] = json!(id);
            q["cusIEFlag"] = json!(t.declaration.cus_i_e_flag.code());
            q["dclTrnRelFlag"] = json!(t.declaration.dcl_trn_rel_flag.code());
            q["cusDecStatus"] = json!(if t.declaration.cus_dec_status.is_closed() {
                "10"
            } else {
                ""
            });
            let role = serde_json::to_value(&t.declaration.etps_category).unwrap()[0].clone();
            q["etpsCategory"] = role;
            let (total, _) = page(c, "", &q, 0, 10).await;
            assert_eq!(total, usize::from(visible), "{id}");
        }
        // The desktop still shows the session's own enterprise after the other logged in.
        let html = c
            .get("/deskserver/sw/deskIndex?menu_id=dec001")
            .await
            .unwrap()
            .text();
        assert!(html.contains(&truth.enterprises[mine].enterprise.scc));
        assert!(!html.contains(&truth.enterprises[other].enterprise.scc));
    }
    // Admin sessions by index or by 统一社会信用代码 belong to that enterprise.
    let mut admin = Client::new(sim.addr());
    let scc = &truth.enterprises[1].enterprise.scc;
    let r = admin
        .request(
            "POST",
            "/__sim/session",
            &[],
            json!({ "scc": scc }).to_string().as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(r.json().unwrap()["enterprise"], 1);
    let r = admin
        .request("POST", "/__sim/session", &[], br#"{"enterprise":7}"#)
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    let mut c = Client::new(sim.addr());
    c.set_cookie("JSESSIONID", &sim.create_session_for(1).unwrap());
    let html = c
        .get("/deskserver/sw/deskIndex?menu_id=dec001")
        .await
        .unwrap()
        .text();
    assert!(html.contains(scc.as_str()));
    assert!(sim.create_session_for(3).is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_broker_sees_exactly_its_clients_declarations_it_declared() {
    let sim = sim(three()).await;
    let truth = sim.truth();
    let broker = &truth.enterprises[2];
    assert!(broker.broker);
    assert_eq!(broker.own, 0);
    // Truth: the broker's sight is the clients' declarations where it is the 申报单位.
    let declared: BTreeSet<String> = truth.enterprises[..2]
        .iter()
        .flat_map(|e| e.declarations.iter())
        .filter(|t| t.declaration.agent_scc == broker.enterprise.scc)
        .map(|t| t.declaration.cus_ciq_no.clone())
        .collect();
    let in_sight: BTreeSet<String> = broker
        .declarations
        .iter()
        .map(|t| t.declaration.cus_ciq_no.clone())
        .collect();
    assert_eq!(in_sight, declared);
    for (e, client) in truth.enterprises[..2].iter().enumerate() {
        let theirs = broker
            .declarations
            .iter()
            .filter(|t| t.home_scc == client.enterprise.scc)
            .count();
        assert!(theirs > 10, "the broker declared {theirs} of client {e}'s");
    }
    for t in &broker.declarations {
        let d = &t.declaration;
        assert_eq!(
            serde_json::to_value(&d.etps_category).unwrap(),
            json!(["A", "D"])
        );
        assert_eq!(d.agent_code, broker.enterprise.customs_code);
        assert_eq!(d.agent_name, broker.enterprise.name);
        // The client holds the same declaration with its own roles, without A.
        let home = truth
            .enterprises
            .iter()
            .find(|e| e.enterprise.scc == t.home_scc)
            .unwrap();
        let theirs = home
            .declarations
            .iter()
            .find(|h| h.declaration.cus_ciq_no == d.cus_ciq_no)
            .unwrap();
        assert!(!serde_json::to_value(&theirs.declaration.etps_category)
            .unwrap()
            .as_array()
            .unwrap()
            .contains(&json!("A")));
        assert_eq!(theirs.pdf_sha256, t.pdf_sha256);
    }
    // Over HTTP: role A lists exactly that; role C nothing (no goods of its own).
    let mut c = login(&sim, PIN_BROKER).await;
    assert_eq!(list_all(&mut c, "A").await, declared);
    assert_eq!(list_all(&mut c, "D").await, declared);
    assert!(list_all(&mut c, "C").await.is_empty());
    // It can open what it declared, detail, receipts and print, and nothing else.
    let mine = broker.declarations.iter().find(|t| t.has_pdf).unwrap();
    let id = &mine.declaration.cus_ciq_no;
    let r = c
        .get(&format!("/decserver/entries/ftl/1/0/0/{id}.pdf"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(Some(portal_sim::pdf::sha256_hex(&r.body)), mine.pdf_sha256);
    let v = c
        .post_json(
            "/decserver/sw/dec/merge/queryDecData",
            &format!(r#"{{"cusCiqNo":"{id}"}}"#),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        v["data"]["preDecHeadVo"]["agentScc"],
        broker.enterprise.scc.as_str()
    );
    let not_mine = truth.enterprises[0]
        .declarations
        .iter()
        .find(|t| t.has_pdf && !declared.contains(&t.declaration.cus_ciq_no))
        .unwrap();
    let r = c
        .get(&format!(
            "/decserver/entries/ftl/1/0/0/{}.pdf",
            not_mine.declaration.cus_ciq_no
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    // Each client, with role A, lists only what it declared itself.
    let mut one = login(&sim, PIN_1).await;
    let own_a = list_all(&mut one, "A").await;
    assert_eq!(own_a, sight(&truth, 0, "A"));
    assert!(own_a.is_disjoint(&declared));
    sim.shutdown().await;
}

#[test]
fn the_command_line_defines_enterprises() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portal-sim"))
        .args([
            "--today",
            TODAY,
            "--declarations",
            "30",
            "--enterprise",
            "pin=22222222,declarations=20,name=西安第二贸易有限公司,code=6101369999",
            "--enterprise",
            "pin=33333333,broker,share=0.4",
            "--dump-truth",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth: Truth = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(truth.enterprises.len(), 3);
    assert_eq!(truth.enterprises[1].enterprise.name, "西安第二贸易有限公司");
    assert_eq!(truth.enterprises[1].enterprise.customs_code, "6101369999");
    assert_eq!(truth.enterprises[1].own, 20);
    assert!(truth.enterprises[2].broker);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_portal-sim"))
        .args(["--enterprise", "pin=88888888", "--dump-truth"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PIN"));
}
