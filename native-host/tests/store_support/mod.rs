//! Shared by the store's integration tests: a host process driven frame by frame over its pipe,
//! with `DATALINK_DB` pointing into a temporary folder, and the sync's requests as JSON built from
//! `datalink_core`'s own types (so the tests speak exactly what the engine sends).
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use datalink_core::checkpoint::{
    DetailSave, ListPageSave, TaskCreate, TaskFinish, TaskStateChange, WindowDone,
};
use datalink_core::period::DateRange;
use datalink_core::plan::Window;
use datalink_core::portal::{Detail, ListRow};
use datalink_core::task::{
    Conditions, DateTime, DeclarationType, Direction, DirectionChoice, Role, StatusChoice,
    StatusSide, Stream, TaskNumber, TaskState, TypeChoice,
};
use serde_json::{json, Map, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_datalink-host");
pub const OPERATOR: &str = "许斯维";

/// One host process, as the browser starts it, answering one request at a time.
pub struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    next_id: u64,
}

impl Host {
    /// Starts the host with `DATALINK_DB=db`; its log goes to `log`.
    pub fn start(db: &Path, log: &Path) -> Host {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(BIN)
            .arg("chrome-extension://kkaaldpdgcikdogodnihlanlipfoeboa/")
            .env("DATALINK_DB", db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start datalink-host");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        Host {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    /// Sends `request` (an object without `id`) and returns the whole reply.
    pub fn reply(&mut self, mut request: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        request["id"] = json!(id);
        let payload = serde_json::to_vec(&request).unwrap();
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(&(payload.len() as u32).to_ne_bytes())
            .unwrap();
        stdin.write_all(&payload).unwrap();
        stdin.flush().unwrap();
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len).unwrap();
        let mut frame = vec![0u8; u32::from_ne_bytes(len) as usize];
        self.stdout.read_exact(&mut frame).unwrap();
        let reply: Value = serde_json::from_slice(&frame).unwrap();
        assert_eq!(reply["id"], json!(id), "{reply}");
        reply
    }

    /// Sends `request` and returns its `result`, failing the test on an error reply.
    pub fn ok(&mut self, request: Value) -> Value {
        let reply = self.reply(request.clone());
        assert_eq!(
            reply["ok"],
            json!(true),
            "{} answered {reply}",
            request["type"]
        );
        reply["result"].clone()
    }

    /// Kills the host without a goodbye (the browser crashed).
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Closes the pipe as the browser does and waits for a clean exit.
    pub fn close(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the host exited with {status}");
    }
}

/// A request of `kind` with the fields of `body` (a `datalink_core` request type).
pub fn request<T: serde::Serialize>(kind: &str, body: &T) -> Value {
    let mut value = serde_json::to_value(body).unwrap();
    value["type"] = json!(kind);
    value
}

pub fn time(text: &str) -> DateTime {
    DateTime::parse(text).unwrap()
}

pub fn january() -> DateRange {
    DateRange {
        first: "2026-01-01".parse().unwrap(),
        last: "2026-01-31".parse().unwrap(),
    }
}

pub fn create(now: &str) -> TaskCreate {
    TaskCreate {
        conditions: Conditions {
            types: TypeChoice::General,
            role: Role::Consignee,
            directions: DirectionChoice::Import,
            status: StatusChoice::Closed,
            lookup: None,
            range: january(),
        },
        portal: "http://127.0.0.1:18080".into(),
        operator: OPERATOR.into(),
        now: time(now),
        enterprise: None,
    }
}

pub fn window() -> Window {
    Window {
        period: "2026-01".into(),
        stream: Stream {
            direction: Direction::Import,
            declaration_type: DeclarationType::General,
            status: StatusSide::Closed,
        },
        span: january(),
        lookup: false,
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub fn cus(n: u32) -> String {
    format!("I2026{n:013}")
}

pub fn row(n: u32) -> ListRow {
    let cus = cus(n);
    let entry = format!("6{}", &cus[1..]);
    let raw = object(
        json!({"cusCiqNo": cus, "entryId": entry, "cusIEFlag": "I", "cusDecStatus": "10", "cusDecStatusName": "结关",
        "iEDate": "20260127", "updateTime": "2026-01-28 10:00:00", "goodsNum": "2"}),
    );
    ListRow {
        cus_ciq_no: cus,
        entry_id: Some(entry),
        ie_flag: "I".into(),
        status: "10".into(),
        status_name: "结关".into(),
        ie_date: "20260127".into(),
        update_time: "2026-01-28 10:00:00".into(),
        goods_num: Some(2),
        raw,
    }
}

pub fn detail(row: &ListRow) -> Detail {
    Detail {
        cus_ciq_no: row.cus_ciq_no.clone(),
        entry_id: row.entry_id.clone(),
        ie_flag: "I".into(),
        status: "10".into(),
        ie_date: "2026-01-27".into(),
        declaration_date: "2026-01-20".into(),
        update_time: row.update_time.clone(),
        head: object(
            json!({"cusCiqNo": row.cus_ciq_no, "entryId": row.entry_id, "cusIEFlag": "I", "cusDecStatus": "10",
            "iEDate": "2026-01-27", "dDate": "2026-01-20", "updateTime": row.update_time, "ownerName": "西安数据协同贸易有限公司",
            "billNo": "COSU6123456780"}),
        ),
        goods: vec![
            object(
                json!({"gNo": "1", "codeTs": "8471300000", "gName": "笔记本电脑", "declTotal": "6789.32", "tradeCurr": "USD"}),
            ),
            object(
                json!({"gNo": "2", "codeTs": "8471607200", "gName": "鼠标, \"无线\"", "declTotal": "0.10", "tradeCurr": "USD"}),
            ),
        ],
        documents: vec![],
    }
}

/// A whole sync over the pipe: January, one window, `n` declarations, every one reconciled.
/// Returns the task number.
pub fn sync(host: &mut Host, now: &str, n: u32) -> TaskNumber {
    let task: TaskNumber =
        serde_json::from_value(host.ok(request("task_create", &create(now)))["number"].clone())
            .unwrap();
    host.ok(request(
        "task_state",
        &TaskStateChange {
            task: task.clone(),
            state: TaskState::Running,
            now: time(now),
            message: None,
        },
    ));
    let rows: Vec<ListRow> = (1..=n).map(row).collect();
    let page = ListPageSave {
        task: task.clone(),
        window: window(),
        pass: 1,
        offset: 0,
        total: u64::from(n),
        rows: rows.clone(),
    };
    host.ok(request("list_page", &page));
    host.ok(request(
        "window_done",
        &WindowDone {
            task: task.clone(),
            window_key: window().key(),
            pass: 1,
            total: u64::from(n),
        },
    ));
    for r in &rows {
        let saved = host.ok(request(
            "detail_save",
            &DetailSave {
                task: task.clone(),
                detail: detail(r),
            },
        ));
        assert_eq!(saved["reconciled"], json!(true), "{saved}");
    }
    let report = host.ok(request(
        "task_finish",
        &TaskFinish {
            task: task.clone(),
            now: time(now),
        },
    ));
    assert_eq!(report["task"]["state"], json!("completed"), "{report}");
    task
}

/// Runs `datalink-host` with `args`; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("DATALINK_DB")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data").join("datalink.db");
    (dir, db)
}
