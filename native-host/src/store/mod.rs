//! The host's local store: one SQLite file that remembers every step of every sync task.
//!
//! # Why the host keeps it
//!
//! The sync engine runs in the extension's service worker, which Chrome may stop at any time.
//! So the engine commits each step here before it counts the step done (see
//! `datalink_core::checkpoint`): a list page, a finished window, a declaration's detail. After
//! an interruption it asks for a [`TaskSnapshot`](datalink_core::checkpoint::TaskSnapshot) and
//! goes on where it stopped (断点续查). The store is also the authority for 核销: it
//! cross-checks each detail against the list row it stored and decides 执行完毕 / 执行异常.
//!
//! # How a request runs
//!
//! ```text
//! server::handle ──store::call──▶ spawn_blocking ──▶ Mutex<Option<Store>> ──▶ store.write(|tx| …)
//!                                                   (opened on first use)     one IMMEDIATE transaction
//! ```
//!
//! * **One connection per host process**, behind a mutex: store requests run one at a time, in
//!   a blocking thread, never on the async workers that read the pipe.
//! * **Closures own the transaction** (the style of mozilla's application-services
//!   `sql-support`): [`Store::write`] begins `BEGIN IMMEDIATE`, hands the closure a
//!   [`rusqlite::Transaction`], commits when it returns `Ok`, and rolls back on `Err` or panic.
//!   [`Store::read`] does the same with a deferred transaction that is always rolled back, so a
//!   multi-query read sees one consistent state even while another host process writes.
//!   Nothing else touches the connection, so no code path can forget to commit.
//! * **Idempotent writes.** Every sync request is keyed (task, window, pass, offset, 统一编号) and
//!   written with upserts and monotonic rules (a pass never goes back, a done window is not
//!   re-opened by a late page), so a request repeated after a crash changes nothing.
//!   `task_create` (a new task each time) is the one exception by nature.
//!
//! # The file
//!
//! [`default_path`]: `DATALINK_DB` if set (tests and the demo set it), else the platform's data
//! folder (`$XDG_DATA_HOME/datalink/datalink.db`, `~/.local/share/datalink/datalink.db`,
//! `%LOCALAPPDATA%\DataLink\datalink.db`, macOS `~/Library/Application Support/DataLink/`).
//! On Unix the file is created `0600` in a `0700` folder (SQLite gives its `-wal`/`-shm` files the
//! database's mode). Settings on every open: WAL journal (readers never block the writer),
//! `synchronous=NORMAL` (durable at checkpoints, never corrupt; a power cut may lose the last
//! commits, which the engine repeats), foreign keys on, a 5 s busy timeout for the other host
//! processes a browser may start. The schema is versioned by `PRAGMA user_version`
//! ([`schema`]); a file from a newer host is refused, never downgraded.
//!
//! # Errors
//!
//! Every failure is a [`StoreError`], mapped to a stable code in the 2xxx range (PROTOCOL.md).
//! Neither the log nor an error's `detail` carries SQL, a path or a payload: only SQLite's error
//! kind (`DiskFull (13)`), counts and task numbers.
//!
//! Map of the module: [`schema`] (tables, migrations), `tasks` (task records, log, 协同记录),
//! `sync` (windows, pages, details, snapshot), `report` (per-period counts, 执行完毕 or not),
//! `enterprises` (several enterprises in one store: the filter every `enterprise` parameter
//! uses, `enterprises`), [`export`] (JSONL / CSV), [`cli`] (`datalink-host export`, `db check`, `db bench`), `pages`
//! (what the extension's pages read: 协同记录, 详情, 预览, XLSX / CSV files; `xlsx` writes the XLSX).

pub mod cli;
mod documents;
mod enterprises;
pub mod export;
mod pages;
mod report;
pub mod schema;
mod sync;
mod tasks;
pub mod trade;
mod xlsx;

mod bench;
#[cfg(test)]
pub(crate) mod fixtures;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use datalink_core::error::{ErrorCode, ErrorInfo};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde::Serialize;
use serde_json::Value;

use crate::log::{info, warn};

/// How long a statement waits for another process's lock before failing with `store_busy`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a store operation failed. Messages are for developers and logs: no SQL, no paths, no
/// payloads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The file or its folder cannot be created or opened, or it is not DataLink's database.
    #[error("the store cannot be opened: {0}")]
    Unavailable(String),
    /// Another process held the lock past [`BUSY_TIMEOUT`].
    #[error("the store is locked by another process: {0}")]
    Busy(String),
    /// Disk or quota full.
    #[error("the disk is full: {0}")]
    Full(String),
    /// SQLite reports the file damaged.
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    /// The schema version is newer than this build knows.
    #[error("the store has schema version {found}, this host knows up to {supported}")]
    NewerVersion { found: i64, supported: i64 },
    /// No task with this number.
    #[error("no task {0}")]
    TaskNotFound(String),
    /// The request is well-formed JSON but makes no sense (pass 0, a window split into itself…).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A bug or an unexpected SQLite failure.
    #[error("internal store error: {0}")]
    Internal(String),
    /// `document_save`: a PDF over `MAX_PDF_BYTES`.
    #[error("document too large: {0}")]
    DocumentTooLarge(String),
    /// `document_save`: bytes that are not a whole PDF.
    #[error("not a PDF: {0}")]
    DocumentNotPdf(String),
}

impl StoreError {
    /// The stable error code this failure is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Unavailable(_) => ErrorCode::StoreUnavailable,
            StoreError::Busy(_) => ErrorCode::StoreBusy,
            StoreError::Full(_) => ErrorCode::StoreFull,
            StoreError::Corrupt(_) => ErrorCode::StoreCorrupt,
            StoreError::NewerVersion { .. } => ErrorCode::StoreNewerVersion,
            StoreError::TaskNotFound(_) => ErrorCode::TaskNotFound,
            StoreError::Invalid(_) => ErrorCode::InvalidRequest,
            StoreError::Internal(_) => ErrorCode::Internal,
            StoreError::DocumentTooLarge(_) => ErrorCode::DocumentTooLarge,
            StoreError::DocumentNotPdf(_) => ErrorCode::DocumentNotPdf,
        }
    }

    /// The error as it crosses to the extension: code, Chinese message, developer detail.
    pub fn to_info(&self) -> ErrorInfo {
        ErrorInfo::with_detail(self.code(), self.to_string())
    }
}

/// SQLite's error kind and extended code, e.g. `DiskFull (13)`: enough to act on, nothing more.
fn sqlite_kind(error: &rusqlite::ffi::Error) -> String {
    format!("{:?} ({})", error.code, error.extended_code)
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as C;
        match &error {
            rusqlite::Error::SqliteFailure(e, _) => {
                let kind = sqlite_kind(e);
                match e.code {
                    C::DatabaseBusy | C::DatabaseLocked => StoreError::Busy(kind),
                    C::DiskFull => StoreError::Full(kind),
                    C::DatabaseCorrupt | C::NotADatabase => StoreError::Corrupt(kind),
                    C::CannotOpen | C::PermissionDenied | C::ReadOnly | C::SystemIoFailure | C::NoLargeFileSupport => {
                        StoreError::Unavailable(kind)
                    }
                    _ => StoreError::Internal(kind),
                }
            }
            // The other variants are programming errors; their Display may quote values, so only
            // the variant's name travels.
            rusqlite::Error::QueryReturnedNoRows => StoreError::Internal("query returned no rows".into()),
            rusqlite::Error::InvalidColumnType(index, _, ty) => StoreError::Internal(format!("column {index} has type {ty}")),
            rusqlite::Error::FromSqlConversionFailure(index, ty, _) => {
                StoreError::Internal(format!("column {index} ({ty}) failed to convert"))
            }
            rusqlite::Error::IntegralValueOutOfRange(index, _) => StoreError::Internal(format!("column {index} out of range")),
            _ => StoreError::Internal("sqlite api error".into()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> StoreError {
        // The Display of a serde error may quote the offending value: keep only where it was.
        StoreError::Internal(format!("stored JSON ({:?}) at line {} column {}", error.classify(), error.line(), error.column()))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> StoreError {
        let kind = format!("{:?}", error.kind());
        match error.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => StoreError::Full(kind),
            _ => StoreError::Unavailable(kind),
        }
    }
}

/// A store result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An empty JSON object (`{}`): the reply of requests that only write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Ack {}

/// One open store: a connection with the settings above and the newest schema.
pub struct Store {
    conn: Connection,
    /// The database's folder: official documents live under `<folder>/documents/`.
    folder: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        prepare_file(path)?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let journal: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !journal.eq_ignore_ascii_case("wal") {
            // A file system without shared memory (some network drives): still correct, slower.
            warn!("the store runs with journal_mode {journal}, not WAL");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Store { conn, folder })
    }

    /// Runs `f` in a deferred transaction that is rolled back afterwards: a consistent read.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let out = f(&tx);
        drop(tx);
        out
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: committed if `f` returns `Ok`, rolled back
    /// otherwise (and on panic, when the transaction is dropped).
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The raw connection, for the schema tests and the benchmark's baseline.
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Creates the folder (0700) and the file (0600) before SQLite does, so they are never readable
/// by other users, not even for a moment; tightens an existing file's mode.
fn prepare_file(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir)?;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mode = std::fs::metadata(path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Where the store lives (see the module docs).
pub fn default_path() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(path) = var("DATALINK_DB") {
        return Ok(path);
    }
    let file = |dir: PathBuf| dir.join("datalink.db");
    if cfg!(windows) {
        return var("LOCALAPPDATA")
            .map(|d| file(d.join("DataLink")))
            .ok_or_else(|| StoreError::Unavailable("LOCALAPPDATA is not set".into()));
    }
    if cfg!(target_os = "macos") {
        return var("HOME")
            .map(|h| file(h.join("Library").join("Application Support").join("DataLink")))
            .ok_or_else(|| StoreError::Unavailable("HOME is not set".into()));
    }
    // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
    if let Some(data) = var("XDG_DATA_HOME").filter(|d| d.is_absolute()) {
        return Ok(file(data.join("datalink")));
    }
    var("HOME")
        .map(|h| file(h.join(".local").join("share").join("datalink")))
        .ok_or_else(|| StoreError::Unavailable("neither XDG_DATA_HOME nor HOME is set".into()))
}

/// The process's store, opened on the first store request (a host that only answers `ping`
/// never creates a file). A failed open is not remembered: the next request tries again.
static SHARED: Mutex<Option<Store>> = Mutex::new(None);

/// An error a store request can end with: the store's own, or a richer one built on it (the
/// reports' `ReportError`), each with its stable code.
pub trait RequestError: From<StoreError> + std::fmt::Display + Send + 'static {
    fn code(&self) -> ErrorCode;
    fn to_info(&self) -> ErrorInfo;
}

impl RequestError for StoreError {
    fn code(&self) -> ErrorCode {
        StoreError::code(self)
    }
    fn to_info(&self) -> ErrorInfo {
        StoreError::to_info(self)
    }
}

/// Runs one store request on the blocking pool against the shared store and serializes its
/// reply. `what` (the request type) is all that is logged of it.
pub async fn call<T, E, F>(what: &'static str, f: F) -> std::result::Result<Value, ErrorInfo>
where
    T: Serialize,
    E: RequestError,
    F: FnOnce(&mut Store) -> std::result::Result<T, E> + Send + 'static,
{
    let joined = tokio::task::spawn_blocking(move || {
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        let store = match &mut *shared {
            Some(store) => store,
            empty => {
                let store = Store::open(&default_path()?)?;
                info!("store opened (schema version {})", schema::VERSION);
                empty.insert(store)
            }
        };
        let reply = f(store)?;
        Ok::<Value, E>(serde_json::to_value(reply).map_err(StoreError::from)?)
    })
    .await;
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            warn!("{what} failed: {} ({error})", error.code().name());
            Err(error.to_info())
        }
        Err(join) => {
            warn!("{what} panicked in the store: {}", if join.is_panic() { "panic" } else { "cancelled" });
            Err(ErrorInfo::with_detail(ErrorCode::Internal, "the store request panicked"))
        }
    }
}

/// `u64` counts and offsets as SQLite integers.
pub(crate) fn int(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("{n} is out of range")))
}

/// SQLite integers back as `u64` (never negative in this schema).
pub(crate) fn uint(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_their_codes_without_sql_or_paths() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked: UPDATE task SET x".into()),
        );
        let e = StoreError::from(busy);
        assert_eq!(e.code(), ErrorCode::StoreBusy);
        assert!(!e.to_string().contains("UPDATE"), "{e}");
        let full = StoreError::from(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None));
        assert_eq!(full.to_info().code, 2003);
        assert_eq!(full.to_info().message, ErrorCode::StoreFull.user_message());
        let corrupt = StoreError::from(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB), None));
        assert_eq!(corrupt.code(), ErrorCode::StoreCorrupt);
        let io = StoreError::from(std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert_eq!(io.code(), ErrorCode::StoreUnavailable);
        assert_eq!(StoreError::TaskNotFound("1".into()).to_info().code, 2006);
        assert_eq!(StoreError::NewerVersion { found: 9, supported: 1 }.to_info().name, "store_newer_version");
        let json = StoreError::from(serde_json::from_str::<u32>("\"secret-value\"").unwrap_err());
        assert!(!json.to_string().contains("secret-value"), "{json}");
    }

    #[test]
    fn the_path_comes_from_datalink_db_first() {
        // Only this test touches the environment of the test process.
        let dir = tempfile::tempdir().unwrap();
        let wanted = dir.path().join("x.db");
        std::env::set_var("DATALINK_DB", &wanted);
        assert_eq!(default_path().unwrap(), wanted);
        std::env::remove_var("DATALINK_DB");
        let fallback = default_path().unwrap();
        assert!(fallback.ends_with("datalink.db"), "{}", fallback.display());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_and_its_wal_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("datalink.db");
        let mut store = Store::open(&path).unwrap();
        store.write(|tx| Ok(tx.execute_batch("CREATE TABLE scratch (x INTEGER); INSERT INTO scratch VALUES (1);")?)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let wal = path.with_extension("db-wal");
        assert!(wal.exists(), "WAL mode makes a -wal file");
        assert_eq!(mode(&wal), 0o600);
        drop(store);
        // A file left world-readable by something else is tightened on open.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let _again = Store::open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn settings_are_applied_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let conn = store.connection();
        assert_eq!(conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0)).unwrap(), "wal");
        assert_eq!(conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0)).unwrap(), 1, "NORMAL");
        assert_eq!(conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0)).unwrap(), 1);
        assert_eq!(conn.query_row("PRAGMA busy_timeout", [], |r| r.get::<_, i64>(0)).unwrap(), 5000);
    }

    #[test]
    fn two_host_processes_share_the_file_and_wait_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut first = Store::open(&path).unwrap();
        let mut second = Store::open(&path).unwrap();
        first.write(|tx| Ok(tx.execute_batch("CREATE TABLE scratch (who TEXT)")?)).unwrap();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            first
                .write(|tx| {
                    tx.execute("INSERT INTO scratch VALUES ('first')", [])?;
                    let _ = locked_tx.send(());
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(())
                })
                .unwrap();
        });
        locked_rx.recv().unwrap();
        // The second writer waits for the lock (busy_timeout) instead of failing with store_busy.
        second.write(|tx| Ok(tx.execute("INSERT INTO scratch VALUES ('second')", [])?)).unwrap();
        holder.join().unwrap();
        let order: Vec<String> = second
            .read(|c| {
                Ok(c.prepare("SELECT who FROM scratch ORDER BY rowid")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(order, ["first", "second"]);
    }

    #[test]
    fn a_failed_write_rolls_back_and_a_read_sees_committed_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        store.write(|tx| Ok(tx.execute_batch("CREATE TABLE scratch (seq INTEGER)")?)).unwrap();
        let insert = "INSERT INTO scratch (seq) VALUES (?1)";
        let failed: Result<()> = store.write(|tx| {
            tx.execute(insert, [1])?;
            Err(StoreError::Invalid("stop".into()))
        });
        assert!(failed.is_err());
        store.write(|tx| Ok(tx.execute(insert, [2])?)).unwrap();
        let seqs: Vec<i64> = store
            .read(|c| Ok(c.prepare("SELECT seq FROM scratch")?.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?))
            .unwrap();
        assert_eq!(seqs, [2]);
    }
}
