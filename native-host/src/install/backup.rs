//! `datalink-host backup [--db PATH] [--out FILE]`: one consistent copy of the store.
//!
//! Copying `datalink.db` with a file manager while a browser runs a sync can catch it halfway
//! (and forget the `-wal` file beside it). `backup` asks SQLite instead: `VACUUM INTO` writes a
//! complete, compacted database as of one transaction, while other processes keep working. The
//! copy is created `0600` (it holds the company's declarations), then checked the way
//! `db check` checks a store.
//!
//! Default destination: `backups/datalink-<UTC time>.db` beside the database.
//!
//! **Restore** (README, “备份与恢复”): close the browser (no host may hold the database), check
//! the copy with `datalink-host db check --db <copy>`, then put it in place of `datalink.db` and
//! delete `datalink.db-wal` and `datalink.db-shm` beside it (they belong to the replaced file).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rusqlite::{Connection, OpenFlags};

use crate::store::{self, schema, StoreError};

/// What a backup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub file: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
}

/// Why a backup failed. No paths in the text.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("还没有本地数据库（第一次协同后才有数据可备份）")]
    NoDatabase,
    #[error("备份文件已存在，请换一个文件名")]
    Exists,
    #[error("无法创建备份文件（{0:?}）")]
    Create(std::io::ErrorKind),
    #[error("{}（错误码 {}）", .0.to_info().message, .0.to_info().code)]
    Store(#[from] StoreError),
    #[error("备份文件检查未通过（integrity_check：{0}）")]
    Check(String),
}

/// `backups/datalink-2026-05-25T10-15-00Z.db` beside the database.
pub fn default_destination(db: &Path, now_unix: i64) -> PathBuf {
    let stamp = crate::card::cert::format_utc(now_unix).replace(':', "-");
    db.parent()
        .unwrap_or(Path::new("."))
        .join("backups")
        .join(format!("datalink-{stamp}.db"))
}

/// Copies the store at `db` into the new file `out`.
pub fn backup(db: &Path, out: &Path) -> Result<Done, BackupError> {
    if !db.is_file() {
        return Err(BackupError::NoDatabase);
    }
    if let Some(dir) = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| BackupError::Create(e.kind()))?;
    }
    // Created empty and private first: VACUUM INTO accepts an empty file and keeps its mode.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(BackupError::Exists),
        Err(e) => return Err(BackupError::Create(e.kind())),
    }
    let copied = (|| -> Result<(), StoreError> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(store::BUSY_TIMEOUT)?;
        conn.execute("VACUUM INTO ?1", [out.to_string_lossy()])?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    let check = schema::check(out)?;
    if !check.healthy() {
        return Err(BackupError::Check(check.integrity.join("; ")));
    }
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(Done {
        file: out.to_path_buf(),
        bytes,
        schema_version: check.user_version,
    })
}

/// `datalink-host backup …`
pub fn command(args: &[String]) -> ExitCode {
    let (mut db, mut out) = (None, None);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (arg.as_str(), None),
        };
        let slot = match name {
            "--db" => &mut db,
            "--out" => &mut out,
            other => return usage(&format!("unknown option {other:?}")),
        };
        match inline.or_else(|| rest.next().cloned()) {
            Some(value) => *slot = Some(PathBuf::from(value)),
            None => return usage(&format!("{name} needs a value")),
        }
    }
    let db = match db.map_or_else(store::default_path, Ok) {
        Ok(db) => db,
        Err(e) => return fail(&e.into()),
    };
    let out = out.unwrap_or_else(|| default_destination(&db, crate::card::service::now_unix()));
    match backup(&db, &out) {
        Ok(done) => {
            super::out(&format!(
                "已备份本地数据库（结构版本 {}，{} 字节）：\n{}\n恢复方法见 README“备份与恢复”。\n",
                done.schema_version,
                done.bytes,
                done.file.display()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn usage(message: &str) -> ExitCode {
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("{message}\n\n{}", crate::USAGE),
    );
    ExitCode::from(2)
}

fn fail(error: &BackupError) -> ExitCode {
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("备份失败：{error}\n"));
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_is_a_dated_file_beside_the_database() {
        assert_eq!(
            default_destination(Path::new("/d/datalink.db"), 1_779_704_100),
            PathBuf::from("/d/backups/datalink-2026-05-25T10-15-00Z.db")
        );
    }

    #[test]
    fn a_backup_holds_the_data_is_private_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("datalink.db");
        let mut store = crate::store::Store::open(&db).unwrap();
        store
            .write(|tx| {
                Ok(tx.execute_batch(
                    "CREATE TABLE scratch (x INTEGER); INSERT INTO scratch VALUES (42);",
                )?)
            })
            .unwrap();
        let out = default_destination(&db, 0);
        // The store stays open (a browser's host may be writing): the copy is still consistent.
        let done = backup(&db, &out).unwrap();
        assert_eq!(done.schema_version, schema::VERSION);
        assert!(done.bytes > 0);
        let copy = Connection::open(&out).unwrap();
        assert_eq!(
            copy.query_row("SELECT x FROM scratch", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            42
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(out.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        assert!(matches!(backup(&db, &out), Err(BackupError::Exists)));
        assert!(matches!(
            backup(&dir.path().join("none.db"), &dir.path().join("x.db")),
            Err(BackupError::NoDatabase)
        ));
        drop(store);
    }
}
