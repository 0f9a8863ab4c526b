//! The card login, the JSESSIONID session and how its absence or expiry shows.

mod common;

use common::*;
use portal_sim::client::Client;
use portal_sim::SimConfig;

#[tokio::test]
async fn without_a_session_the_api_redirects_to_cas_login() {
    let sim = sim(config()).await;
    let mut c = Client::new(sim.addr());
    let target = list_target(
        "",
        &info("E", "0", "", "C", "2026-05-19", "2026-05-25"),
        0,
        10,
    );
    let r = c.get_api(&target).await.unwrap();
    assert_eq!(r.status, 302);
    let loc = r.header("location").unwrap().to_string();
    assert!(
        loc.starts_with(&format!("{}/cas/login?service=", sim.base_url())),
        "{loc}"
    );
    assert!(
        loc.contains("decserver%2Fj_spring_cas_security_check"),
        "{loc}"
    );
    // fetch() follows the redirect and ends on HTML where JSON was expected.
    let end = c.follow(r, 5).await.unwrap();
    assert_eq!(end.status, 200);
    assert!(end.header("content-type").unwrap().starts_with("text/html"));
    assert!(end.json().is_err());
    assert!(end.text().starts_with("<!DOCTYPE html>"));
    // The detail, PDF, receipts and desktop behave the same.
    let r = c
        .post_json(
            "/decserver/sw/dec/merge/queryDecData",
            r#"{"cusCiqNo":"x"}"#,
        )
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(
        c.get("/deskserver/sw/deskIndex?menu_id=dec001")
            .await
            .unwrap()
            .status,
        302
    );
    assert_eq!(
        c.get("/deskserver/sw/allVersion").await.unwrap().status,
        302
    );
    // A stale cookie is no better.
    c.set_cookie("JSESSIONID", "0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(c.get_api(&target).await.unwrap().status, 302);
    sim.shutdown().await;
}

#[tokio::test]
async fn card_login_wrong_then_right_pin() {
    let sim = sim(SimConfig {
        pin: "13572468".into(),
        ..config()
    })
    .await;
    let mut c = Client::new(sim.addr());
    let page = c
        .get(&sim.login_url().replace(&sim.origin(), ""))
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains(r#"<input id="password" name="password" type="password""#));
    assert!(html.contains(r#"<button id="loginbutton""#));

    let action = sim.login_url().replace(&sim.origin(), "");
    let wrong = c
        .post_form(&action, &[("password", "88888888")])
        .await
        .unwrap();
    assert_eq!(wrong.status, 200);
    assert!(wrong
        .text()
        .contains(r#"<div id="msg" class="errors">1|卡口令错误"#));
    assert!(c.cookie("JSESSIONID").is_none());

    let right = c
        .post_form(&action, &[("password", "13572468")])
        .await
        .unwrap();
    assert_eq!(right.status, 302);
    let cookie = right.header("set-cookie").unwrap();
    assert!(cookie.starts_with("JSESSIONID="), "{cookie}");
    assert!(
        cookie.contains("Path=/") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // The CAS round trip: the service URL with a ticket, then the desktop.
    let loc = right.header("location").unwrap().to_string();
    assert!(
        loc.contains("/deskserver/j_spring_cas_security_check?ticket=ST-"),
        "{loc}"
    );
    let desk = c.follow(right, 5).await.unwrap();
    assert_eq!(desk.status, 200);
    assert!(desk.text().contains(&sim.truth().enterprise.user_name));

    let probe = c.get("/deskserver/sw/allVersion").await.unwrap();
    assert!(
        probe.text().starts_with(r#"{"allPavaVersion":"#),
        "{}",
        probe.text()
    );
    let (total, _) = page_json(&mut c).await;
    assert!(total < 10_000);

    // A ticket works once only.
    let reuse = c.get(&loc).await.unwrap();
    assert_eq!(reuse.status, 302);
    assert!(reuse.header("location").unwrap().contains("/cas/login"));

    // Logout ends the session.
    let out = c.get("/cas/logout").await.unwrap();
    assert_eq!(out.status, 302);
    assert!(c.cookie("JSESSIONID").is_none());
    assert_eq!(
        c.get("/deskserver/sw/allVersion").await.unwrap().status,
        302
    );
    assert_eq!(sim.stats().failed_logins, 1);
    sim.shutdown().await;
}

async fn page_json(c: &mut Client) -> (usize, usize) {
    let (t, rows) = page(
        c,
        "",
        &info("E", "0", "10", "C", "2026-01-05", "2026-01-11"),
        0,
        10,
    )
    .await;
    (t, rows.len())
}

#[tokio::test]
async fn login_without_service_lands_on_the_desktop() {
    let sim = sim(config()).await;
    let mut c = Client::new(sim.addr());
    let r = c
        .post_form(
            "/cas/login?_swCardF=1",
            &[("password", "88888888"), ("lt", "LT-1-portalsim")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    assert!(r
        .header("location")
        .unwrap()
        .ends_with("/deskserver/sw/deskIndex?menu_id=dec001"));
    assert!(c.cookie("JSESSIONID").is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_card_locks_after_repeated_wrong_pins() {
    let sim = sim(SimConfig {
        card_lock_after: 3,
        ..config()
    })
    .await;
    let mut c = Client::new(sim.addr());
    for _ in 0..3 {
        let r = c
            .post_form("/cas/login?_swCardF=1", &[("password", "00000000")])
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    let r = c
        .post_form("/cas/login?_swCardF=1", &[("password", "88888888")])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "a locked card refuses even the right PIN");
    assert!(r.text().contains("卡介质已锁定"));
    assert!(sim.stats().card_locked);
    sim.reset();
    let r = c
        .post_form("/cas/login?_swCardF=1", &[("password", "88888888")])
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    sim.shutdown().await;
}

#[tokio::test]
async fn expire_every_ends_the_session_like_the_real_expiry() {
    let sim = sim(SimConfig {
        faults: "expire_every=3".parse().unwrap(),
        ..config()
    })
    .await;
    let mut c = session_client(&sim);
    let target = list_target(
        "",
        &info("E", "0", "10", "C", "2026-01-05", "2026-01-11"),
        0,
        10,
    );
    for _ in 0..3 {
        assert_eq!(c.get_api(&target).await.unwrap().status, 200);
        // Pages that are not data requests do not count.
        assert_eq!(
            c.get("/deskserver/sw/allVersion").await.unwrap().status,
            200
        );
    }
    let r = c.get_api(&target).await.unwrap();
    assert_eq!(r.status, 302);
    assert!(r
        .header("location")
        .unwrap()
        .contains("/cas/login?service="));
    let end = c.follow(r, 5).await.unwrap();
    assert!(end.text().contains("id=\"loginbutton\""));
    // Log in again (card PIN) and carry on.
    let r = c
        .post_form("/cas/login?_swCardF=1", &[("password", "88888888")])
        .await
        .unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(c.get_api(&target).await.unwrap().status, 200);
    let stats = sim.stats();
    assert_eq!(stats.sessions_expired, 1);
    assert_eq!(stats.faults.get("expired"), Some(&1));
    sim.shutdown().await;
}
