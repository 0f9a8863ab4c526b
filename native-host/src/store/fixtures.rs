//! Test data for the store's unit tests: a task over January 2026 in one query family, list rows
//! and details shaped as the portal sends them (see `datalink_core::portal`).

use datalink_core::calendar::Date;
use datalink_core::checkpoint::{DetailSave, ListPageSave, TaskCreate, TaskFinish, WindowDone};
use datalink_core::period::DateRange;
use datalink_core::plan::{period_key, Window};
use datalink_core::portal::{Detail, ListRow};
use datalink_core::task::{
    Conditions, DateTime, DeclarationType, Direction, DirectionChoice, Role, StatusChoice, StatusSide, Stream, TaskNumber, TaskState,
    TypeChoice,
};
use serde_json::{json, Map, Value};

use super::Store;

pub fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(&dir.path().join("datalink.db")).expect("open the store");
    (dir, store)
}

pub fn time(text: &str) -> DateTime {
    DateTime::parse(text).expect("a time")
}

pub fn date(text: &str) -> Date {
    text.parse().expect("a date")
}

pub fn range(first: &str, last: &str) -> DateRange {
    DateRange { first: date(first), last: date(last) }
}

/// Import × 一般报关单 × 结关: the one query family of the fixtures.
pub fn stream() -> Stream {
    Stream { direction: Direction::Import, declaration_type: DeclarationType::General, status: StatusSide::Closed }
}

pub fn create_one_stream(first: &str, last: &str) -> TaskCreate {
    TaskCreate {
        conditions: Conditions {
            types: TypeChoice::General,
            role: Role::Consignee,
            directions: DirectionChoice::Import,
            status: StatusChoice::Closed,
            lookup: None,
            range: range(first, last),
        },
        portal: "http://127.0.0.1:8080".into(),
        operator: "许斯维".into(),
        now: time("2026-05-25 14:33:52"),
        enterprise: None,
    }
}

pub fn create(at: &str, operator: &str) -> TaskCreate {
    TaskCreate { operator: operator.into(), now: time(at), ..create_one_stream("2026-01-01", "2026-01-31") }
}

pub fn window(first: &str, last: &str) -> Window {
    let span = range(first, last);
    Window { period: period_key(span.first), stream: stream(), span, lookup: false }
}

/// The `n`-th 统一编号 of the fixtures (`I2026000000000000n`, 18 characters).
pub fn cus(n: u32) -> String {
    format!("I2026{n:013}")
}

/// A 结关 import row with two goods lines.
pub fn row(cus_ciq_no: &str, update_time: &str) -> ListRow {
    let entry_id = format!("6{}", &cus_ciq_no[1..]);
    let raw = json!({
        "cusCiqNo": cus_ciq_no, "entryId": entry_id, "cusIEFlag": "I", "cusDecStatus": "10", "cusDecStatusName": "结关",
        "iEDate": "20260127", "updateTime": update_time, "goodsNum": "2", "billNo": format!("COSU{}", &cus_ciq_no[10..]),
    });
    let raw = object(raw);
    ListRow {
        cus_ciq_no: cus_ciq_no.into(),
        entry_id: Some(entry_id),
        ie_flag: "I".into(),
        status: "10".into(),
        status_name: "结关".into(),
        ie_date: "20260127".into(),
        update_time: update_time.into(),
        goods_num: Some(2),
        raw,
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The detail that matches `row` (same version, two goods lines; a comma and quotes in a name).
pub fn detail_for(row: &ListRow) -> Detail {
    let head = object(json!({
        "cusCiqNo": row.cus_ciq_no, "entryId": row.entry_id, "cusIEFlag": row.ie_flag, "cusDecStatus": row.status,
        "iEDate": "2026-01-27", "dDate": "2026-01-20", "updateTime": row.update_time, "billNo": row.raw.get("billNo"),
        "supvModeCdde": "0110", "customMaster": "9001", "iEPort": "9001", "ownerName": "西安数据协同贸易有限公司",
    }));
    let goods = vec![
        object(
            json!({"gNo": "1", "codeTs": "8471300000", "gName": "笔记本电脑", "gQty": "2", "declPrice": "3394.66", "declTotal": "6789.32", "tradeCurr": "USD"}),
        ),
        object(
            json!({"gNo": "2", "codeTs": "8471607200", "gName": "鼠标, \"无线\"", "gQty": "10", "declPrice": "1.25", "declTotal": "12.50", "tradeCurr": "USD"}),
        ),
    ];
    Detail {
        cus_ciq_no: row.cus_ciq_no.clone(),
        entry_id: row.entry_id.clone(),
        ie_flag: row.ie_flag.clone(),
        status: row.status.clone(),
        ie_date: "2026-01-27".into(),
        declaration_date: "2026-01-20".into(),
        update_time: row.update_time.clone(),
        head,
        goods,
        documents: vec![json!({"attEdocId": "x1", "attTypeCode": "00000004"})],
    }
}

pub fn page(task: &TaskNumber, window: &Window, pass: u32, offset: u64, total: u64, rows: Vec<ListRow>) -> ListPageSave {
    ListPageSave { task: task.clone(), window: window.clone(), pass, offset, total, rows }
}

pub fn done(task: &TaskNumber, window: &Window, pass: u32, total: u64) -> WindowDone {
    WindowDone { task: task.clone(), window_key: window.key(), pass, total }
}

pub fn save(task: &TaskNumber, detail: Detail) -> DetailSave {
    DetailSave { task: task.clone(), detail }
}

// ── Certificates (`store::trade`, `report`): tasks that ask for everything a certificate needs. ──

/// A certifiable task (both types, both directions, 结关) over `first..=last`.
pub fn certifiable_task(store: &mut Store, first: &str, last: &str, at: &str) -> TaskNumber {
    let mut create: TaskCreate = create_one_stream(first, last);
    create.conditions.types = TypeChoice::Both;
    create.conditions.directions = DirectionChoice::Both;
    create.now = time(at);
    store.task_create(&create).unwrap().number
}

pub fn streams() -> Vec<Stream> {
    let mut out = Vec::new();
    for direction in Direction::BOTH {
        for declaration_type in [DeclarationType::General, DeclarationType::Filing] {
            out.push(Stream { direction, declaration_type, status: StatusSide::Closed });
        }
    }
    out
}

pub fn export_row(n: u32, update_time: &str) -> ListRow {
    let mut r = row(&format!("E2026{n:013}"), update_time);
    r.ie_flag = "E".into();
    r.raw.insert("cusIEFlag".into(), "E".into());
    r.raw.insert("consignorCname".into(), "西安数据协同贸易有限公司".into());
    r.raw.insert("cnsnTradeScc".into(), "91610000MA6TEST01X".into());
    r
}

/// Lists and reconciles `rows` (by direction) in every stream's one window over the month;
/// `reconcile_all = false` leaves the last row without its detail.
pub fn sync_month(store: &mut Store, task: &TaskNumber, first: &str, last: &str, rows: &[ListRow], reconcile_all: bool) {
    sync_month_with(store, task, first, last, rows, reconcile_all, &detail_for);
}

/// [`sync_month`] with the details `detail` makes.
pub fn sync_month_with(
    store: &mut Store,
    task: &TaskNumber,
    first: &str,
    last: &str,
    rows: &[ListRow],
    reconcile_all: bool,
    detail: &dyn Fn(&ListRow) -> Detail,
) {
    for stream in streams() {
        let span = range(first, last);
        let w = Window { period: datalink_core::plan::period_key(span.first), stream, span, lookup: false };
        let mine: Vec<ListRow> = rows
            .iter()
            .filter(|r| r.ie_flag == stream.direction.code() && stream.declaration_type == DeclarationType::General)
            .cloned()
            .collect();
        let n = mine.len() as u64;
        store.list_page(&page(task, &w, 1, 0, n, mine.clone())).unwrap();
        store.window_done(&done(task, &w, 1, n)).unwrap();
        for (i, r) in mine.iter().enumerate() {
            if reconcile_all || i + 1 < mine.len() {
                let mut detail = detail(r);
                detail.ie_flag = r.ie_flag.clone();
                assert!(store.detail_save(&save(task, detail)).unwrap().reconciled);
            }
        }
    }
}

pub fn finish(store: &mut Store, task: &TaskNumber) -> TaskState {
    store.task_finish(&TaskFinish { task: task.clone(), now: time("2026-05-25 15:00:00") }).unwrap().task.state
}


/// The detail of `row` with goods lines of these `(tradeCurr, declTotal)`.
pub fn detail_with_goods(row: &ListRow, goods: &[(&str, &str)]) -> Detail {
    let mut detail = detail_for(row);
    detail.goods = goods
        .iter()
        .enumerate()
        .map(|(i, (curr, total))| object(json!({"gNo": (i + 1).to_string(), "codeTs": "8471300000", "gName": "货物", "declTotal": total, "tradeCurr": curr})))
        .collect();
    detail
}
