//! The dataset: deterministic from the seed, with the documented shape; and
//! the binary's command line.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use portal_sim::client::Client;
use portal_sim::model::{DecStatus, DeclKind, IeFlag};
use portal_sim::{generate, initial_truth, Date, SimConfig};

#[tokio::test]
async fn same_seed_same_truth_bytes_other_seed_differs() {
    let a = sim(config()).await;
    let b = sim(config()).await;
    let c = sim(SimConfig {
        seed: 43,
        ..config()
    })
    .await;
    let get = |s: &portal_sim::RunningSim| {
        let addr = s.addr();
        async move { Client::new(addr).get("/__sim/truth").await.unwrap().body }
    };
    let (ta, tb, tc) = (get(&a).await, get(&b).await, get(&c).await);
    assert!(ta == tb, "same seed, same bytes");
    assert!(
        ta == serde_json::to_vec(&initial_truth(&config()).unwrap()).unwrap(),
        "initial_truth serves the same bytes"
    );
    let da: serde_json::Value = serde_json::from_slice(&ta).unwrap();
    let dc: serde_json::Value = serde_json::from_slice(&tc).unwrap();
    assert_ne!(da["declarations"], dc["declarations"]);
    assert_ne!(da["enterprise"], dc["enterprise"]);
    for s in [a, b, c] {
        s.shutdown().await;
    }
}

#[test]
fn the_default_dataset_has_the_documented_shape() {
    let today = today();
    let data = generate(42, 700, today.minus_years(3), today, today);
    let ds = &data.declarations;
    assert_eq!(ds.len(), 700);
    let count = |f: &dyn Fn(&portal_sim::Declaration) -> bool| ds.iter().filter(|d| f(d)).count();
    let exports = count(&|d| d.cus_i_e_flag == IeFlag::E);
    let filings = count(&|d| d.dcl_trn_rel_flag == DeclKind::Filing);
    let closed = count(&|d| d.cus_dec_status == DecStatus::Closed);
    let no_entry = count(&|d| d.entry_id.is_none());
    assert!((330..440).contains(&exports), "exports {exports}");
    assert!((100..180).contains(&filings), "备案清单 {filings}");
    assert!(closed > 600 && closed < 700, "closed {closed}");
    assert!(no_entry >= 5, "without entryId {no_entry}");

    let currencies: BTreeSet<&str> = ds
        .iter()
        .flat_map(|d| d.goods.iter().map(|g| g.trade_curr_name.as_str()))
        .collect();
    for name in ["美元", "欧元", "日本元", "港币", "英镑", "人民币"] {
        assert!(currencies.contains(name), "no {name}: {currencies:?}");
    }
    let modes: BTreeSet<&str> = ds.iter().map(|d| d.supv_mode_cdde_name.as_str()).collect();
    for name in ["一般贸易", "进料对口", "来料加工", "料件进出区"] {
        assert!(modes.contains(name), "no {name}");
    }
    assert!(
        ds.iter().all(|d| d.custom_master.starts_with("90")),
        "Shaanxi customs offices"
    );
    assert!(ds.iter().all(|d| d
        .goods
        .iter()
        .all(|g| g.code_ts.len() == 10 && g.g_name.chars().any(|c| c > '\u{4e00}'))));

    // Empty and busy months.
    let mut per_month: BTreeMap<(i64, u32), usize> = BTreeMap::new();
    let mut m = today.minus_years(3).first_of_month();
    while m <= today {
        per_month.insert((m.year(), m.month()), 0);
        m = m.first_of_next_month();
    }
    for d in ds {
        *per_month
            .entry((d.query_date.year(), d.query_date.month()))
            .or_default() += 1;
    }
    let mut counts: Vec<usize> = per_month.values().copied().collect();
    assert!(counts.contains(&0), "an empty month: {per_month:?}");
    counts.sort();
    let median = counts[counts.len() / 2];
    assert!(
        *counts.last().unwrap() >= 2 * median,
        "a busy month: {counts:?}"
    );

    // The certificate's identity.
    assert_eq!(data.enterprise.scc.len(), 18);
    assert!(data.enterprise.name.ends_with("有限公司"));
    assert_eq!(
        portal_sim::generate::scc_check(&data.enterprise.scc[..17]),
        data.enterprise.scc.chars().nth(17)
    );
}

#[test]
fn dates_outside_the_range_are_never_generated() {
    let from = Date::parse("2024-02-10").unwrap();
    let to = Date::parse("2024-02-20").unwrap();
    let data = generate(5, 50, from, to, Date::parse("2025-01-01").unwrap());
    assert!(data
        .declarations
        .iter()
        .all(|d| d.query_date >= from && d.query_date <= to));
    assert!(data
        .declarations
        .iter()
        .all(|d| d.cus_dec_status == DecStatus::Closed || d.entry_id.is_some()));
}

#[test]
fn the_binary_prints_its_url_and_dumps_the_truth() {
    let exe = env!("CARGO_BIN_EXE_portal-sim");
    let dump = |seed: &str| {
        let out = Command::new(exe)
            .args([
                "--dump-truth",
                "--seed",
                seed,
                "--declarations",
                "50",
                "--today",
                TODAY,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let (a, b, c) = (dump("9"), dump("9"), dump("10"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let t: portal_sim::Truth = serde_json::from_slice(&a).unwrap();
    assert_eq!(t.declarations.len(), 50);

    let mut child = Command::new(exe)
        .args([
            "--port",
            "0",
            "--prefix",
            "/swProxy",
            "--today",
            TODAY,
            "--declarations",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("portal-sim listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/swProxy"),
        "{url}"
    );
    let addr: std::net::SocketAddr = url["http://".len()..url.len() - "/swProxy".len()]
        .parse()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        Client::new(addr)
            .get("/swProxy/deskserver/sw/allVersion")
            .await
            .unwrap()
            .status
    });
    assert_eq!(status, 302);
    child.kill().unwrap();
    child.wait().unwrap();

    let bad = Command::new(exe)
        .args(["--faults", "boom=1"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown key"));
}
