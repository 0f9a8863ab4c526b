//! `datalink-host export` and `datalink-host db check` as a person runs them.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod store_support;

use store_support::*;

fn synced(n: u32) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let (dir, db) = temp();
    let mut host = Host::start(&db, &dir.path().join("host.log"));
    let task = sync(&mut host, "2026-05-25 10:00:00", n);
    host.close();
    (dir, db, task.0)
}

#[test]
fn csv_to_a_file_with_bom_header_and_rfc4180_quoting() {
    let (dir, db, task) = synced(2);
    let out = dir.path().join("报关单.csv");
    let (code, stdout, err) =
        run(&["export", "--db", db.to_str().unwrap(), "--format=csv", "--task", &task, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "--out writes nothing to stdout");
    assert!(err.contains("exported 2 declarations, 4 goods lines"), "{err}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte order mark");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 5, "header + 2 declarations × 2 goods lines");
    assert!(lines[0].starts_with("统一编号,报关单号,"), "{}", lines[0]);
    assert!(lines[1].starts_with(&cus(1)) && lines[1].contains(",6789.32,USD"), "{}", lines[1]);
    assert!(lines[2].contains(",\"鼠标, \"\"无线\"\"\","), "{}", lines[2]);
    assert!(lines[3].starts_with(&cus(2)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn export_refuses_what_it_cannot_do() {
    let (dir, db, _) = synced(1);
    let missing = dir.path().join("missing.db");
    let (code, _, err) = run(&["export", "--db", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("本地数据库无法打开") && err.contains("2001"), "{err}");
    assert!(!missing.exists(), "export never creates a store");
    let (code, _, err) = run(&["export", "--db", db.to_str().unwrap(), "--format", "xml"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["export", "--db", db.to_str().unwrap(), "--task", "20990101000000001"]);
    assert_eq!(code, 1);
    assert!(err.contains("2006"), "{err}");
    let (code, _, _) = run(&["export", "--colour"]);
    assert_eq!(code, 2);
}

#[test]
fn db_check_reports_integrity_and_version_without_changing_the_file() {
    let (dir, db, _) = synced(1);
    let before = std::fs::read(&db).unwrap();
    let (code, out, err) = run(&["db", "check", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("user_version: 3 (this host writes 3)"), "{out}");
    assert!(out.contains("integrity_check: ok"), "{out}");
    assert!(out.contains("datalink_database: yes"), "{out}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "check is read-only");

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x); PRAGMA user_version = 7;").unwrap();
    let (code, out, _) = run(&["db", "check", "--db", foreign.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(String::from_utf8(out).unwrap().contains("datalink_database: no"));
    let (code, _, _) = run(&["db"]);
    assert_eq!(code, 2);
}
