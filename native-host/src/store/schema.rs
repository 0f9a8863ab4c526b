//! The store's tables and how a file gets from any older version to the current one.
//!
//! # Versions
//!
//! `PRAGMA user_version` is the schema version of a file; [`MIGRATIONS`]`[n]` takes a file from
//! version `n` to `n + 1`. [`migrate`] runs the missing steps in **one** `BEGIN IMMEDIATE`
//! transaction, reading the version inside it, so two host processes opening a new file at once
//! cannot both migrate it, and a crash mid-way leaves the file at its old version. A file whose
//! version is above [`VERSION`] was written by a newer host: it is refused
//! ([`StoreError::NewerVersion`]) and left untouched. `PRAGMA application_id` marks the file as
//! DataLink's, so a foreign SQLite file at `DATALINK_DB` is refused rather than written into.
//!
//! To change the schema: append a step to [`MIGRATIONS`] (never edit a released one), and add a
//! test that builds a file at the previous version with [`migrate_to`], puts rows in it, opens
//! it with [`crate::store::Store::open`] and checks the rows came through.
//!
//! # Tables (version 1)
//!
//! ```text
//! task ─┬─< task_window ─< window_page            one task, its query windows, their pages
//!       ├─< task_declaration >── declaration ─< goods_line
//!       │                              └─────< declaration_history
//!       └─< task_log
//! ```
//!
//! * `task`: a 协同记录 row. `conditions` is the form as JSON; times are local
//!   `YYYY-MM-DD HH:MM:SS` text, which sorts as time.
//! * `task_window`: a window of the task (`window_key` = `Window::key()`), its state
//!   (`listing` / `done` / `failed` / `split`), the current listing `pass` and the portal's `total`.
//! * `window_page`: a page stored in a pass (`offset`, `rows`).
//! * `declaration`: one row per 统一编号 across all tasks, the newest version seen. List-view
//!   columns come from the latest list row; `detail_*`, `head`, `documents` and `goods_line` from
//!   the latest detail. `detail_update_time` equal to a new list row's `update_time` is what lets
//!   a later task reconcile without fetching (incremental sync).
//! * `goods_line`: the detail's goods lines in order; `decl_total` is the portal's decimal text,
//!   never a float.
//! * `declaration_history`: a version that was replaced, keyed by its own `update_time`.
//! * `task_declaration`: a declaration as one task listed it (window, pass, period, list row) and
//!   whether the task reconciled it (核销): the source of 命中数 / 核销数.
//! * `task_log`: 执行日志 lines.
//!
//! # Version 2 (the certificate, issue #7)
//!
//! ```text
//! setting          key → value: the issuer's name, the seal's text, the company name override
//! data_file        a user's imported rate table or holiday calendar (CSV text, merged over the shipped one)
//! certificate      every certificate issued: number, inputs, verification code, PDF hash
//! ```
//!
//! # Version 3 (official documents, several enterprises, issue #10)
//!
//! * `task.enterprise_scc` / `enterprise_name` / `enterprise_code`: the enterprise whose portal
//!   session ran the task (NULL for tasks of older versions: the store's only enterprise).
//! * `task.with_documents`: the task also fetches each declaration's official documents.
//! * `document`: per declaration and kind (`pdf` 报关单打印件, `receipts` 回执, `attachments`
//!   随附单证 list), the version it belongs to (`update_time`); a PDF lives on disk (`path`
//!   relative to the documents folder, `sha256`, `bytes`), the lists as JSON (`content`).

use rusqlite::{Connection, TransactionBehavior};

use super::{Result, StoreError};

/// Marks a SQLite file as DataLink's store (`PRAGMA application_id`, "DLNK").
pub const APPLICATION_ID: i64 = 0x444C_4E4B;

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[n]` upgrades a file from version `n` to `n + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

const V1: &str = "
CREATE TABLE task (
    number            TEXT PRIMARY KEY,
    conditions        TEXT NOT NULL,
    portal            TEXT NOT NULL,
    operator          TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    ended_at          TEXT,
    message           TEXT,
    learned_max_days  INTEGER
);
CREATE INDEX task_by_created ON task (created_at);
CREATE INDEX task_by_state ON task (state, number);

CREATE TABLE task_window (
    task        TEXT NOT NULL REFERENCES task (number) ON DELETE CASCADE,
    window_key  TEXT NOT NULL,
    window      TEXT NOT NULL,
    period      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('listing', 'done', 'failed', 'split')),
    pass        INTEGER NOT NULL DEFAULT 0,
    total       INTEGER,
    reason      TEXT,
    UNIQUE (task, window_key)
);
CREATE INDEX task_window_by_period ON task_window (task, period, state);

CREATE TABLE window_page (
    task        TEXT NOT NULL,
    window_key  TEXT NOT NULL,
    pass        INTEGER NOT NULL,
    offset      INTEGER NOT NULL,
    rows        INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    PRIMARY KEY (task, window_key, pass, offset),
    FOREIGN KEY (task, window_key) REFERENCES task_window (task, window_key) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE declaration (
    cus_ciq_no          TEXT PRIMARY KEY,
    entry_id            TEXT,
    bill_no             TEXT,
    ie_flag             TEXT NOT NULL,
    status              TEXT NOT NULL,
    ie_date             TEXT NOT NULL,
    update_time         TEXT NOT NULL,
    list_row            TEXT,
    declaration_date    TEXT,
    detail_update_time  TEXT,
    detail_entry_id     TEXT,
    detail_ie_flag      TEXT,
    detail_status       TEXT,
    detail_ie_date      TEXT,
    head                TEXT,
    documents           TEXT,
    fetched_at          TEXT
);
CREATE INDEX declaration_by_entry_id ON declaration (entry_id);
CREATE INDEX declaration_by_bill_no ON declaration (bill_no);

CREATE TABLE goods_line (
    cus_ciq_no  TEXT NOT NULL REFERENCES declaration (cus_ciq_no) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    g_no        TEXT,
    code_ts     TEXT,
    g_name      TEXT,
    decl_total  TEXT,
    trade_curr  TEXT,
    line        TEXT NOT NULL,
    PRIMARY KEY (cus_ciq_no, seq)
) WITHOUT ROWID;
CREATE INDEX goods_line_by_code_ts ON goods_line (code_ts);

CREATE TABLE declaration_history (
    cus_ciq_no   TEXT NOT NULL REFERENCES declaration (cus_ciq_no) ON DELETE CASCADE,
    update_time  TEXT NOT NULL,
    changed_at   TEXT NOT NULL,
    status       TEXT,
    list_row     TEXT,
    head         TEXT,
    documents    TEXT,
    goods        TEXT,
    recorded_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now', 'localtime')),
    PRIMARY KEY (cus_ciq_no, update_time)
) WITHOUT ROWID;

CREATE TABLE task_declaration (
    task        TEXT NOT NULL,
    cus_ciq_no  TEXT NOT NULL REFERENCES declaration (cus_ciq_no),
    window_key  TEXT NOT NULL,
    pass        INTEGER NOT NULL,
    period      TEXT NOT NULL,
    list_row    TEXT NOT NULL,
    reconciled  INTEGER NOT NULL DEFAULT 0 CHECK (reconciled IN (0, 1)),
    reason      TEXT,
    PRIMARY KEY (task, cus_ciq_no),
    FOREIGN KEY (task, window_key) REFERENCES task_window (task, window_key) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX task_declaration_by_window ON task_declaration (task, window_key, pass);
CREATE INDEX task_declaration_by_period ON task_declaration (task, period, reconciled);

CREATE TABLE task_log (
    task      TEXT NOT NULL REFERENCES task (number) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    at        TEXT NOT NULL,
    category  TEXT NOT NULL,
    message   TEXT NOT NULL,
    PRIMARY KEY (task, seq)
) WITHOUT ROWID;
";

const V2: &str = "
CREATE TABLE setting (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE data_file (
    name         TEXT PRIMARY KEY,
    content      TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    imported_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE certificate (
    number       TEXT PRIMARY KEY,
    issued_at    TEXT NOT NULL,
    range_from   TEXT NOT NULL,
    range_to     TEXT NOT NULL,
    inputs       TEXT NOT NULL,
    code         TEXT NOT NULL,
    declarations INTEGER NOT NULL,
    pdf_sha256   TEXT NOT NULL,
    signature    TEXT
);
";

/// Version 3 (issue #10): the enterprise a task ran for (several enterprises in one store, taken
/// from the portal session), whether it fetches official documents, and the documents stored.
const V3: &str = "
ALTER TABLE task ADD COLUMN enterprise_scc TEXT;
ALTER TABLE task ADD COLUMN enterprise_name TEXT;
ALTER TABLE task ADD COLUMN enterprise_code TEXT;
ALTER TABLE task ADD COLUMN with_documents INTEGER NOT NULL DEFAULT 0 CHECK (with_documents IN (0, 1));
CREATE INDEX task_by_enterprise ON task (enterprise_scc, number);

CREATE TABLE document (
    cus_ciq_no   TEXT NOT NULL REFERENCES declaration (cus_ciq_no) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('pdf', 'receipts', 'attachments')),
    update_time  TEXT NOT NULL,
    path         TEXT,
    sha256       TEXT,
    bytes        INTEGER,
    content      TEXT,
    fetched_at   TEXT NOT NULL,
    PRIMARY KEY (cus_ciq_no, kind)
) WITHOUT ROWID;
";

/// Brings `conn` to [`VERSION`].
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, VERSION)
}

/// Brings `conn` to `target` (≤ [`VERSION`]); tests use it to build files of older versions.
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let application: i64 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let objects: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    let fresh = application == 0 && found == 0 && objects == 0;
    if application != APPLICATION_ID && !fresh {
        return Err(StoreError::Unavailable(format!("not a DataLink database (application_id {application})")));
    }
    if found > VERSION {
        return Err(StoreError::NewerVersion { found, supported: VERSION });
    }
    if found >= target {
        return Ok(());
    }
    for (from, step) in
        MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)).take(usize::try_from(target - found).unwrap_or(0))
    {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

/// What `datalink-host db check` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub user_version: i64,
    pub ours: bool,
    /// `PRAGMA integrity_check`'s lines (`["ok"]` when healthy).
    pub integrity: Vec<String>,
}

impl Check {
    pub fn healthy(&self) -> bool {
        self.ours && self.user_version <= VERSION && self.integrity == ["ok"]
    }
}

/// Checks a file without changing it (opened read-only: no migration, no repair).
pub fn check(path: &std::path::Path) -> Result<Check> {
    if !path.is_file() {
        return Err(StoreError::Unavailable("no database file".into()));
    }
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let application: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let integrity =
        conn.prepare("PRAGMA integrity_check")?.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Check { user_version, ours: application == APPLICATION_ID, integrity })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
    }

    fn tables(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn an_empty_file_goes_to_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 0").unwrap();
        let store = Store::open(&path).unwrap();
        let conn = store.connection();
        assert_eq!(version(conn), VERSION);
        assert_eq!(
            tables(conn),
            [
                "certificate",
                "data_file",
                "declaration",
                "declaration_history",
                "document",
                "goods_line",
                "setting",
                "task",
                "task_declaration",
                "task_log",
                "task_window",
                "window_page"
            ]
        );
        assert_eq!(conn.query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0)).unwrap(), APPLICATION_ID);
    }

    #[test]
    fn every_step_upgrades_a_file_of_the_version_before_and_keeps_its_rows() {
        for before in 0..VERSION {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("s.db");
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, before).unwrap();
            assert_eq!(version(&conn), before);
            if before >= 1 {
                conn.execute(
                    "INSERT INTO task (number, conditions, portal, operator, state, created_at) VALUES ('20260525143352001', '{}', 'p', 'o', 'pending', '2026-05-25 14:33:52')",
                    [],
                )
                .unwrap();
            }
            if before >= 2 {
                conn.execute("INSERT INTO setting (key, value) VALUES ('issuer', '陕西电子口岸有限责任公司')", []).unwrap();
            }
            drop(conn);
            let mut store = Store::open(&path).unwrap();
            assert_eq!(version(store.connection()), VERSION, "from {before}");
            let tasks: i64 = store.connection().query_row("SELECT count(*) FROM task", [], |r| r.get(0)).unwrap();
            assert_eq!(tasks, i64::from(before >= 1));
            // Version 3: a task of an older version ran for the store's only enterprise, without documents.
            if before >= 1 {
                let (scc, documents): (Option<String>, i64) =
                    store.connection().query_row("SELECT enterprise_scc, with_documents FROM task", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
                assert_eq!((scc, documents), (None, 0), "from {before}");
            }
            // Version 2's tables work on an upgraded file, and keep what was there.
            let issuer = store.setting("issuer").unwrap();
            assert_eq!(issuer.as_deref(), (before >= 2).then_some("陕西电子口岸有限责任公司"), "from {before}");
            store.set_settings(&[("seal".to_owned(), "证明专用章".to_owned())].into_iter().collect()).unwrap();
            assert_eq!(store.setting("seal").unwrap().as_deref(), Some("证明专用章"));
        }
    }

    #[test]
    fn reopening_a_current_file_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open(&path).unwrap();
        store.connection().execute_batch("CREATE TABLE marker (x); INSERT INTO marker VALUES (42);").unwrap();
        let schema_before: Vec<String> = tables(store.connection());
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(version(store.connection()), VERSION);
        assert_eq!(tables(store.connection()), schema_before);
        assert_eq!(store.connection().query_row("SELECT x FROM marker", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
    }

    #[test]
    fn a_file_from_a_newer_host_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path).unwrap().execute_batch(&format!("PRAGMA user_version = {}", VERSION + 1)).unwrap();
        let error = Store::open(&path).unwrap_err();
        assert_eq!(error, StoreError::NewerVersion { found: VERSION + 1, supported: VERSION });
        assert_eq!(error.to_info().code, 2005);
        assert_eq!(version(&Connection::open(&path).unwrap()), VERSION + 1, "not downgraded");
    }

    #[test]
    fn a_foreign_sqlite_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE invoices (id INTEGER)").unwrap();
        let error = Store::open(&path).unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert_eq!(tables(&Connection::open(&path).unwrap()), ["invoices"]);
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        let error = Store::open(&path).unwrap_err();
        assert_eq!(error.code(), datalink_core::error::ErrorCode::StoreCorrupt, "{error:?}");
    }

    #[test]
    fn check_reports_version_and_integrity_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let check = check(&path).unwrap();
        assert_eq!(check, Check { user_version: VERSION, ours: true, integrity: vec!["ok".into()] });
        assert!(check.healthy());
        assert!(matches!(super::check(&dir.path().join("missing.db")), Err(StoreError::Unavailable(_))));
        assert!(!dir.path().join("missing.db").exists());
    }
}
