//! Helpers shared by the integration tests: requests built exactly as the
//! public scrapers of the real portal build them.
#![allow(dead_code, clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::collections::BTreeSet;

use portal_sim::client::Client;
use portal_sim::codec::{encode_uri, encode_uri_component};
use portal_sim::{start, Date, RunningSim, SimConfig, Truth};
use serde_json::{json, Value};

/// The fixed "today" of every test.
pub const TODAY: &str = "2026-05-25";

pub fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

/// An admin-enabled config with a fixed today.
pub fn config() -> SimConfig {
    SimConfig {
        seed: 42,
        admin: true,
        today: Some(today()),
        ..SimConfig::default()
    }
}

pub async fn sim(cfg: SimConfig) -> RunningSim {
    start(cfg).await.expect("simulator starts")
}

/// A client carrying a valid JSESSIONID (admin bypass of the card login).
pub fn session_client(sim: &RunningSim) -> Client {
    let mut c = Client::new(sim.addr());
    c.set_cookie("JSESSIONID", &sim.create_session());
    c
}

/// The full `decStatusInfo` object as PYSEL/PYFLASK send it (portal-api.md §2).
pub fn info(ie: &str, kind: &str, status: &str, role: &str, start: &str, end: &str) -> Value {
    json!({
        "cusCiqNoHidden": "", "dclTrnRelFlagHidden": "", "transPreNoHidden": "", "cusOrgCode": "",
        "operType": "0", "dclTrnRelFlag": kind, "cusDecStatus": status, "etpsCategory": role,
        "cusIEFlag": ie, "entryId": "", "cusCiqNo": "", "cnsnTradeCode": "", "billNo": "",
        "isBillNoExactQuery": "0", "customMaster": "", "tableFlag": "1",
        "updateTime": start, "updateTimeEnd": end, "operateDate": "1", "queryPage": "cusBasicQuery"
    })
}

/// The list URL: `decStatusInfo` = encodeURI(encodeURI(JSON)) then encoded
/// once more as a query value, so `{` is `%25257B` in the raw URL.
pub fn list_target(prefix: &str, info: &Value, offset: usize, limit: usize) -> String {
    let twice = encode_uri(&encode_uri(&info.to_string()));
    format!(
        "{prefix}/decserver/sw/dec/merge/cusQuery?limit={limit}&offset={offset}&stName=updateTime&stOrder=desc&decStatusInfo={}&_=1748131200000",
        encode_uri_component(&twice)
    )
}

/// One page: `(total, rows)`; panics unless it is a JSON list answer.
pub async fn page(
    c: &mut Client,
    prefix: &str,
    info: &Value,
    offset: usize,
    limit: usize,
) -> (usize, Vec<Value>) {
    let r = c
        .get_api(&list_target(prefix, info, offset, limit))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r
        .json()
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()));
    let total = v["total"]
        .as_str()
        .expect("total is a string")
        .parse()
        .unwrap();
    (total, v["rows"].as_array().unwrap().clone())
}

/// Page through a query the way PYSEL does (offset += limit until total).
pub async fn fetch_all(
    c: &mut Client,
    prefix: &str,
    info: &Value,
    limit: usize,
) -> (usize, Vec<Value>) {
    let mut rows = Vec::new();
    let (total, first) = page(c, prefix, info, 0, limit).await;
    rows.extend(first);
    let mut offset = limit;
    while offset < total {
        let (t, more) = page(c, prefix, info, offset, limit).await;
        assert_eq!(t, total, "total changed while paging");
        rows.extend(more);
        offset += limit;
    }
    (total, rows)
}

/// The truth's declarations matching a list query's filters.
pub fn expected(
    truth: &Truth,
    ie: &str,
    kind: &str,
    closed: bool,
    role: &str,
    start: Date,
    end: Date,
) -> BTreeSet<String> {
    truth
        .declarations
        .iter()
        .map(|t| &t.declaration)
        .filter(|d| {
            let v = serde_json::to_value(d).unwrap();
            v["cusIEFlag"] == ie
                && v["dclTrnRelFlag"] == kind
                && (v["cusDecStatus"] == "10") == closed
                && v["etpsCategory"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == role)
                && d.query_date >= start
                && d.query_date <= end
        })
        .map(|d| d.cus_ciq_no.clone())
        .collect()
}

pub fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["cusCiqNo"].as_str().unwrap().to_string())
        .collect()
}

/// GET an admin endpoint as JSON.
pub async fn admin_get(sim: &RunningSim, path: &str) -> Value {
    let mut c = Client::new(sim.addr());
    let r = c.get(path).await.unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json().unwrap()
}

/// The truth over HTTP.
pub async fn truth_http(sim: &RunningSim) -> Truth {
    serde_json::from_value(admin_get(sim, "/__sim/truth").await).unwrap()
}
