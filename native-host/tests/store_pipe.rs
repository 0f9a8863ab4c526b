//! The store over the real binary and pipe, as the extension drives it: a whole sync, resuming in
//! a new host process, the store's errors, and `datalink-host export` of what was stored.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod store_support;

use datalink_core::checkpoint::{ListPageSave, TaskRef, WindowDone};
use serde_json::{json, Value};
use store_support::*;

#[test]
fn a_sync_over_the_pipe_then_an_export() {
    let (dir, db) = temp();
    let log = dir.path().join("host.log");
    assert!(!db.exists());

    let mut host = Host::start(&db, &log);
    let pong = host.ok(json!({"type": "ping", "protocol": 1, "extensionVersion": "0.1.0"}));
    assert_eq!(pong["host"], json!("datalink-host"));
    assert!(!db.exists(), "a ping does not create the store");
    let task = sync(&mut host, "2026-05-25 14:33:52", 3);
    assert_eq!(task.0, "20260525143352001");
    assert!(db.exists());
    let report = host.ok(request("task_report", &TaskRef { task: task.clone() }));
    assert_eq!(report["total"], json!({"queried": 3, "hit": 3, "reconciled": 3}));
    assert_eq!(report["periods"][0]["period"], json!("2026-01"));
    host.close();

    // A new host process (the browser reconnected) sees everything.
    let mut again = Host::start(&db, &log);
    let record = again.ok(request("task_get", &TaskRef { task: task.clone() }));
    assert_eq!((record["state"].clone(), record["counts"].clone()), (json!("completed"), json!({"queried": 3, "hit": 3, "reconciled": 3})));
    assert_eq!(record["operator"], json!(OPERATOR));
    assert_eq!(record["startedAt"], json!("2026-05-25 14:33:52"));
    let list = again.ok(json!({"type": "task_list", "page": 1, "pageSize": 10}));
    assert_eq!(list["total"], json!(1));
    assert_eq!(again.ok(json!({"type": "task_active"})), Value::Null);
    let second = again.ok(request("task_create", &create("2026-05-25 14:33:52")));
    assert_eq!(second["number"], json!("20260525143352002"), "the second task of the same second");
    again.close();

    // Export what was stored.
    let db_arg = db.to_str().unwrap();
    let (code, out, err) = run(&["export", "--db", db_arg, "--format", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines.iter().map(|l| l["cusCiqNo"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), [cus(1), cus(2), cus(3)]);
    assert_eq!(lines[0]["goods"][0]["declTotal"], json!("6789.32"));
    assert_eq!(lines[0]["goods"][1]["declTotal"], json!("0.10"), "decimals stay text");
    assert_eq!(lines[2]["ownerName"], json!("西安数据协同贸易有限公司"));
    let (code, out, _) = run(&["export", "--db", db_arg, "--format", "jsonl", "--task", &task.0]);
    assert_eq!((code, String::from_utf8(out).unwrap()), (0, text.clone()), "--task: the task's declarations");

    // The log says what happened, never what was in the requests.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("store opened"), "{log}");
    for secret in [OPERATOR, &cus(1), "6789.32", db_arg, "SELECT", "INSERT"] {
        assert!(!log.contains(secret), "the log contains {secret:?}:\n{log}");
    }
}

#[test]
fn a_host_killed_mid_sync_resumes_from_the_snapshot() {
    let (dir, db) = temp();
    let log = dir.path().join("host.log");
    let mut host = Host::start(&db, &log);
    let task = host.ok(request("task_create", &create("2026-05-25 09:00:00")))["number"].clone();
    let task: datalink_core::task::TaskNumber = serde_json::from_value(task).unwrap();
    let rows: Vec<_> = (1..=60).map(row).collect();
    let first = ListPageSave { task: task.clone(), window: window(), pass: 1, offset: 0, total: 60, rows: rows[..50].to_vec() };
    assert_eq!(host.ok(request("list_page", &first)), json!({"reconciled": []}));
    // The browser dies: the host is killed without a goodbye.
    host.kill();

    let mut host = Host::start(&db, &log);
    let snapshot = host.ok(request("task_snapshot", &TaskRef { task: task.clone() }));
    let windows = snapshot["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (windows[0]["state"].clone(), windows[0]["pass"].clone(), windows[0]["total"].clone()),
        (json!("listing"), json!(1), json!(60))
    );
    assert_eq!(windows[0]["pages"], json!([[0, 50]]));
    assert_eq!(windows[0]["members"].as_array().unwrap().len(), 50);
    assert_eq!(snapshot["unreconciled"].as_array().unwrap().len(), 50);
    let second = ListPageSave { offset: 50, rows: rows[50..].to_vec(), ..first };
    host.ok(request("list_page", &second));
    host.ok(request("window_done", &WindowDone { task: task.clone(), window_key: window().key(), pass: 1, total: 60 }));
    let report = host.ok(request("task_finish", &datalink_core::checkpoint::TaskFinish { task, now: time("2026-05-25 09:30:00") }));
    assert_eq!(report["task"]["state"], json!("failed"), "no detail was saved");
    assert_eq!(report["task"]["message"], json!("2026-01 查询数 60 命中数 60 核销数 0"));
    assert_eq!(report["missing"].as_array().unwrap().len(), 60);
    host.close();
}

#[test]
fn store_errors_arrive_as_numbered_replies() {
    let (dir, db) = temp();
    let log = dir.path().join("host.log");
    let mut host = Host::start(&db, &log);
    let unknown = host.reply(json!({"type": "task_get", "task": "20990101000000001"}));
    assert_eq!((unknown["error"]["code"].clone(), unknown["error"]["name"].clone()), (json!(2006), json!("task_not_found")));
    assert_eq!(unknown["error"]["message"], json!("未找到该协同任务"));
    host.close();

    // A store written by a newer host is refused, and left as it was.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 999").unwrap();
    drop(conn);
    let mut host = Host::start(&db, &log);
    let newer = host.reply(json!({"type": "task_active"}));
    assert_eq!(newer["error"]["code"], json!(2005), "{newer}");
    assert!(newer["error"]["message"].as_str().unwrap().contains("请更新协同客户端"));
    let detail = newer["error"]["detail"].as_str().unwrap();
    assert!(!detail.contains(db.to_str().unwrap()), "no path in the detail: {detail}");
    host.ok(json!({"type": "ping", "protocol": 1}));
    host.close();

    // A store that cannot be created (its folder is a file): 2001, and the host keeps serving.
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let mut host = Host::start(&blocked.join("datalink.db"), &log);
    let unavailable = host.reply(json!({"type": "task_list"}));
    assert_eq!(unavailable["error"]["code"], json!(2001), "{unavailable}");
    host.ok(json!({"type": "echo", "text": "still here"}));
    host.close();
}
