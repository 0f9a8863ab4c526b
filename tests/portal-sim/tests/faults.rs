//! Faults: reproducible from the seed, changeable at run time, visible in
//! the truth; the limits (rate, latency); the admin API's presence.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use portal_sim::client::Client;
use portal_sim::{RateLimitAnswer, SimConfig};
use serde_json::{json, Value};

/// How a response looks to a client expecting JSON.
fn outcome(r: &portal_sim::client::Response) -> String {
    let ct = r.header("content-type").unwrap_or("");
    match (r.status, r.json()) {
        (200, Ok(v)) if v.get("total").is_some() => format!("200 json total={}", v["total"]),
        (200, Ok(v)) => format!("200 json ok={}", v["ok"]),
        (200, Err(_)) if ct.starts_with("text/html") => "200 html".into(),
        (200, Err(_)) => "200 garbage".into(),
        (s, _) => format!("{s}"),
    }
}

async fn run_sequence(seed: u64) -> Vec<String> {
    let sim = sim(SimConfig {
        seed,
        faults: "5xx=0.15,garbage=0.15,html=0.15"
            .parse()
            .expect("valid spec"),
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let mut seen = Vec::new();
    for week in 0..40 {
        let start = today().add_days(-7 * (week + 1));
        let q = info(
            "E",
            "0",
            "10",
            "C",
            &start.to_string(),
            &start.add_days(6).to_string(),
        );
        seen.push(outcome(
            &c.get_api(&list_target("", &q, 0, 10))
                .await
                .expect("an answer"),
        ));
    }
    sim.shutdown().await;
    seen
}

#[tokio::test]
async fn faults_are_reproducible_from_the_seed() {
    let a = run_sequence(42).await;
    let b = run_sequence(42).await;
    assert_eq!(a, b, "same seed, same requests, same faults");
    assert!(
        a.iter().any(|s| s == "500" || s == "502" || s == "503"),
        "{a:?}"
    );
    assert!(a.iter().any(|s| s == "200 garbage"), "{a:?}");
    assert!(a.iter().any(|s| s == "200 html"), "{a:?}");
    assert!(a.iter().any(|s| s.starts_with("200 json")), "{a:?}");
    let c = run_sequence(43).await;
    assert_ne!(a, c, "another seed, other faults");
}

#[tokio::test]
async fn hang_answers_late_with_504() {
    let sim = sim(SimConfig {
        faults: "hang=1,hang_ms=150".parse().unwrap(),
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let t0 = Instant::now();
    let r = c
        .get_api(&list_target(
            "",
            &info("E", "0", "", "C", "2026-05-19", "2026-05-25"),
            0,
            10,
        ))
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status, 504);
    // A client with a shorter timeout gives up first.
    c.timeout = Duration::from_millis(50);
    let e = c
        .get_api(&list_target(
            "",
            &info("E", "0", "", "C", "2026-05-19", "2026-05-25"),
            0,
            10,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(sim.stats().faults.get("hang"), Some(&2));
    sim.shutdown().await;
}

#[tokio::test]
async fn bursts_are_runs_of_consecutive_5xx_counted_in_the_stats() {
    let sim = sim(SimConfig {
        faults: "burst=3,burst_every=8".parse().unwrap(),
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let q = info("E", "0", "", "C", "2026-05-19", "2026-05-25");
    let mut seen = Vec::new();
    for _ in 0..20 {
        let r = c.get_api(&list_target("", &q, 0, 10)).await.unwrap();
        seen.push(r.status);
    }
    // Requests 8, 9, 10 and 16, 17, 18 fail, one after the other; the rest are answered.
    for (i, status) in seen.iter().enumerate() {
        let k = i + 1;
        if matches!(k, 8..=10 | 16..=18) {
            assert!(matches!(status, 500 | 502 | 503), "request {k}: {seen:?}");
        } else {
            assert_eq!(*status, 200, "request {k}: {seen:?}");
        }
    }
    let stats = admin_get(&sim, "/__sim/stats").await;
    assert_eq!(stats["faults"]["burst"], 6, "{stats}");
    assert_eq!(stats["faultSpec"], "burst=3,burst_every=8");
    // Replaced at run time: the count of data requests starts again.
    let mut admin = Client::new(sim.addr());
    let r = admin
        .post_json("/__sim/faults", r#"{"spec":"burst=2,burst_every=3"}"#)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let mut again = Vec::new();
    for _ in 0..6 {
        again.push(c.get_api(&list_target("", &q, 0, 10)).await.unwrap().status);
    }
    assert_eq!(
        again.iter().map(|s| *s == 200).collect::<Vec<_>>(),
        [true, true, false, false, true, false],
        "{again:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn detail_fail_only_and_runtime_changes() {
    let sim = sim(config()).await;
    let truth = sim.truth();
    let (a, b) = (
        &truth.declarations[0].declaration,
        &truth.declarations[1].declaration,
    );
    let mut admin = Client::new(sim.addr());
    // Text body.
    let r = admin
        .request(
            "POST",
            "/__sim/faults",
            &[("Content-Type", "text/plain")],
            format!("detail_fail={}", a.cus_ciq_no).as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let mut c = session_client(&sim);
    let detail =
        |id: &str| json!({"cusCiqNo": id, "cusIEFlag": "", "operationType": "cusEdit"}).to_string();
    for _ in 0..2 {
        let v = c
            .post_json(
                "/decserver/sw/dec/merge/queryDecData",
                &detail(&a.cus_ciq_no),
            )
            .await
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(v["ok"], false);
        assert!(v["messageList"][0].is_string());
    }
    let v = c
        .post_json(
            "/decserver/sw/dec/merge/queryDecData",
            &detail(&b.cus_ciq_no),
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["ok"], true);

    // JSON body: every detail fails with a 500, the list is untouched.
    let r = admin
        .post_json("/__sim/faults", r#"{"spec":"5xx=1,only=detail"}"#)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json().unwrap()["spec"], "5xx=1,only=detail");
    let r = c
        .post_json(
            "/decserver/sw/dec/merge/queryDecData",
            &detail(&b.cus_ciq_no),
        )
        .await
        .unwrap();
    assert!(r.status >= 500, "{}", r.status);
    let r = c
        .get_api(&list_target(
            "",
            &info("E", "0", "", "C", "2026-05-19", "2026-05-25"),
            0,
            10,
        ))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    // JSON object form.
    let r = admin
        .post_json("/__sim/faults", r#"{"html":1}"#)
        .await
        .unwrap();
    assert_eq!(r.json().unwrap()["spec"], "html=1");
    let r = c
        .get_api(&list_target(
            "",
            &info("E", "0", "", "C", "2026-05-19", "2026-05-25"),
            0,
            10,
        ))
        .await
        .unwrap();
    assert_eq!(outcome(&r), "200 html");
    // Reading it back; rejecting nonsense.
    assert_eq!(admin_get(&sim, "/__sim/faults").await["spec"], "html=1");
    let r = admin
        .request("POST", "/__sim/faults", &[], b"explode=1")
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.json().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("unknown key"));
    let r = admin
        .request("POST", "/__sim/faults", &[], b"none")
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let stats = admin_get(&sim, "/__sim/stats").await;
    assert_eq!(stats["faults"]["detail_fail"], 2);
    assert_eq!(stats["faults"]["html"], 1);
    assert_eq!(stats["faultSpec"], "none");
    sim.shutdown().await;
}

#[tokio::test]
async fn shift_moves_offsets_during_a_sync_and_shows_in_the_truth() {
    let sim = sim(SimConfig {
        faults: "shift=2,shift_every=2".parse().unwrap(),
        ..config()
    })
    .await;
    let before = truth_http(&sim).await;
    assert_eq!(before.revision, 0);
    let mut c = session_client(&sim);
    // Page the current week (includes today) two rows at a time.
    let start = today().add_days(-6);
    let q = info("E", "0", "", "C", &start.to_string(), &today().to_string());
    let (t1, p1) = page(&mut c, "", &q, 0, 2).await;
    let (t2, p2) = page(&mut c, "", &q, 2, 2).await; // event 1 happens before this answer
    let (t3, _) = page(&mut c, "", &q, 4, 2).await;
    let (t4, _) = page(&mut c, "", &q, 6, 2).await; // event 2
    let (t5, _) = page(&mut c, "", &q, 8, 2).await; // no more events
    assert!(!p1.is_empty() || !p2.is_empty());
    assert_eq!(t3, t2);
    assert_eq!(t5, t4);
    let after = truth_http(&sim).await;
    assert_eq!(after.revision, 2);
    let stats = admin_get(&sim, "/__sim/stats").await;
    assert_eq!(stats["shiftEvents"], 2);
    // The changes are in the truth: new declarations or changed updateTimes.
    let old: BTreeSet<(String, String)> = before
        .declarations
        .iter()
        .map(|t| {
            (
                t.declaration.cus_ciq_no.clone(),
                t.declaration.update_time.clone(),
            )
        })
        .collect();
    let changed: Vec<_> = after
        .declarations
        .iter()
        .filter(|t| {
            !old.contains(&(
                t.declaration.cus_ciq_no.clone(),
                t.declaration.update_time.clone(),
            ))
        })
        .collect();
    assert_eq!(changed.len(), 2, "two declarations added or updated");
    let newest = after
        .declarations
        .iter()
        .map(|t| t.declaration.update_time.clone())
        .max()
        .unwrap();
    assert!(changed.iter().any(|t| t.declaration.update_time == newest));
    // Each change happened inside the queried window, so totals or order moved.
    for t in &changed {
        assert!(t.declaration.query_date >= start && t.declaration.query_date <= today());
    }
    // What page 2 would have been without the change.
    let window = expected(&before, "E", "0", false, "C", start, today());
    let mut pre: Vec<&portal_sim::Declaration> = before
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .filter(|d| window.contains(&d.cus_ciq_no))
        .collect();
    pre.sort_by(|a, b| {
        b.update_time
            .cmp(&a.update_time)
            .then(a.cus_ciq_no.cmp(&b.cus_ciq_no))
    });
    let pre_p2: Vec<String> = pre
        .iter()
        .skip(2)
        .take(2)
        .map(|d| d.cus_ciq_no.clone())
        .collect();
    assert_eq!(t1, pre.len());
    assert!(
        t2 != t1 || ids(&p2) != pre_p2,
        "the change must move the client's offsets"
    );
    let _ = t4;
    // Reset restores the initial data.
    let mut admin = Client::new(sim.addr());
    assert_eq!(
        admin
            .request("POST", "/__sim/reset", &[], b"")
            .await
            .unwrap()
            .status,
        200
    );
    let reset = truth_http(&sim).await;
    assert_eq!(
        serde_json::to_vec(&reset).unwrap(),
        serde_json::to_vec(&before).unwrap()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn shift_on_a_closed_query_closes_a_declaration_of_the_window() {
    let sim = sim(SimConfig {
        faults: "shift=1,shift_every=1".parse().unwrap(),
        ..config()
    })
    .await;
    let truth = sim.truth();
    // A window holding a not-yet-closed export with role C.
    let open = truth
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .filter(|d| {
            !d.cus_dec_status.is_closed()
                && d.cus_i_e_flag.code() == "E"
                && d.has_role(portal_sim::model::Role::C)
        })
        .filter(|d| serde_json::to_value(d.dcl_trn_rel_flag).unwrap() == "0")
        .min_by_key(|d| d.query_date)
        .unwrap();
    let start = open.query_date;
    let end = start.add_days(6);
    let before = expected(&truth, "E", "0", true, "C", start, end);
    let mut c = session_client(&sim);
    let (total, rows) = page(
        &mut c,
        "",
        &info("E", "0", "10", "C", &start.to_string(), &end.to_string()),
        0,
        100,
    )
    .await;
    assert_eq!(
        total,
        before.len() + 1,
        "one declaration closed during the sync"
    );
    let first = rows[0]["cusCiqNo"].as_str().unwrap();
    assert!(!before.contains(first), "the newly closed one is on top");
    let now = sim.truth();
    let d = now
        .declarations
        .iter()
        .find(|t| t.declaration.cus_ciq_no == first)
        .unwrap();
    assert!(d.declaration.cus_dec_status.is_closed());
    assert_eq!(
        d.declaration.receipts.last().unwrap().channel_name,
        "海关已结关"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_api_is_absent_without_admin() {
    let sim = sim(SimConfig {
        admin: false,
        ..config()
    })
    .await;
    let mut c = Client::new(sim.addr());
    for (m, p) in [
        ("GET", "/__sim/truth"),
        ("GET", "/__sim/stats"),
        ("GET", "/__sim/faults"),
        ("POST", "/__sim/faults"),
        ("POST", "/__sim/reset"),
        ("POST", "/__sim/session"),
    ] {
        assert_eq!(
            c.request(m, p, &[], b"").await.unwrap().status,
            404,
            "{m} {p}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_session_stats_per_route_and_status() {
    let sim = sim(config()).await;
    let mut admin = Client::new(sim.addr());
    let r = admin
        .request("POST", "/__sim/session", &[], b"")
        .await
        .unwrap();
    let v: Value = r.json().unwrap();
    let id = v["jsessionid"].as_str().unwrap().to_string();
    assert!(r
        .header("set-cookie")
        .unwrap()
        .starts_with(&format!("JSESSIONID={id}")));
    let mut c = Client::new(sim.addr());
    c.set_cookie("JSESSIONID", &id);
    let q = info("E", "0", "", "C", "2026-05-19", "2026-05-25");
    page(&mut c, "", &q, 0, 10).await;
    page(&mut c, "", &q, 0, 10).await;
    c.get("/nowhere").await.unwrap();
    let mut anon = Client::new(sim.addr());
    anon.get_api(&list_target("", &q, 0, 10)).await.unwrap();
    let s = admin_get(&sim, "/__sim/stats").await;
    assert_eq!(s["byRoute"]["cusQuery"]["requests"], 3);
    assert_eq!(s["byRoute"]["cusQuery"]["byStatus"]["200"], 2);
    assert_eq!(s["byRoute"]["cusQuery"]["byStatus"]["302"], 1);
    assert_eq!(s["byRoute"]["notFound"]["byStatus"]["404"], 1);
    assert_eq!(s["byStatus"]["200"], 2);
    assert_eq!(s["requests"], 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_429_or_waf_400() {
    for (answer, status) in [
        (RateLimitAnswer::TooManyRequests, 429),
        (RateLimitAnswer::WafBadRequest, 400),
    ] {
        let sim = sim(SimConfig {
            rate_limit: 5.0,
            rate_limit_answer: answer,
            ..config()
        })
        .await;
        let mut c = session_client(&sim);
        let q = list_target(
            "",
            &info("E", "0", "", "C", "2026-05-19", "2026-05-25"),
            0,
            10,
        );
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(c.get_api(&q).await.unwrap().status);
        }
        let ok = statuses.iter().filter(|s| **s == 200).count();
        let limited = statuses.iter().filter(|s| **s == status).count();
        // A burst of 5, refilled at 5/s while the 20 requests run.
        assert!(ok >= 5 && limited >= 5, "{statuses:?}");
        assert_eq!(ok + limited, 20, "{statuses:?}");
        assert_eq!(sim.stats().rate_limited as usize, limited);
        // The bucket refills.
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(c.get_api(&q).await.unwrap().status, 200);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn latency_with_jitter_is_applied() {
    let sim = sim(SimConfig {
        latency_ms: 40,
        jitter_ms: Some(10),
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let t0 = Instant::now();
    for _ in 0..5 {
        c.get("/deskserver/sw/allVersion").await.unwrap();
    }
    let per = t0.elapsed() / 5;
    assert!(per >= Duration::from_millis(30), "{per:?}");
    assert!(per < Duration::from_millis(400), "{per:?}");
    sim.shutdown().await;
}
