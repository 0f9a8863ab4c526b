//! The sync steps, one behaviour per test; the fixtures are in `store::fixtures`.

use datalink_core::checkpoint::{DetailFailed, TaskFinish, TaskLogAppend, TaskStateChange, WindowFailed, WindowSplit, WindowState};
use datalink_core::task::TaskState;
use rusqlite::types::Value as Sql;

use super::*;
use crate::store::fixtures::*;

fn new_task(store: &mut Store) -> TaskNumber {
    store.task_create(&create_one_stream("2026-01-01", "2026-01-31")).unwrap().number
}

fn members(store: &Store, task: &TaskNumber, key: &str) -> Vec<String> {
    let snapshot = store.task_snapshot(task).unwrap();
    snapshot.windows.into_iter().find(|w| w.window.key() == key).map(|w| w.members).unwrap_or_default()
}

/// Every table's rows, in a stable order, without the wall-clock columns.
fn dump(store: &Store) -> Vec<(String, Vec<Vec<Sql>>)> {
    let conn = store.connection();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
            let mut rows: Vec<Vec<Sql>> = stmt
                .query_map([], |r| {
                    (0..names.len())
                        .filter(|&i| names[i] != "fetched_at" && names[i] != "recorded_at")
                        .map(|i| r.get::<_, Sql>(i))
                        .collect()
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            rows.sort_by_key(|row| format!("{row:?}"));
            (table, rows)
        })
        .collect()
}

#[test]
fn a_page_stores_rows_window_and_page() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let w = window("2026-01-01", "2026-01-07");
    let saved =
        store.list_page(&page(&task, &w, 1, 0, 3, vec![row(&cus(1), "2026-01-02 10:00:00"), row(&cus(2), "2026-01-03 10:00:00")])).unwrap();
    assert_eq!(saved.reconciled, Vec::<String>::new());
    let snapshot = store.task_snapshot(&task).unwrap();
    assert_eq!(snapshot.windows.len(), 1);
    let record = &snapshot.windows[0];
    assert_eq!((record.state, record.pass, record.total), (WindowState::Listing, 1, Some(3)));
    assert_eq!(record.pages, [(0, 2)]);
    assert_eq!(record.members, [cus(1), cus(2)]);
    assert_eq!(snapshot.unreconciled.iter().map(|r| r.cus_ciq_no.clone()).collect::<Vec<_>>(), [cus(1), cus(2)]);
    assert_eq!(snapshot.unreconciled[0], row(&cus(1), "2026-01-02 10:00:00"), "the list row comes back as stored");
    let bill: Option<String> =
        store.connection().query_row("SELECT bill_no FROM declaration WHERE cus_ciq_no = ?1", [cus(1)], |r| r.get(0)).unwrap();
    assert_eq!(bill.as_deref(), Some("COSU00000001"));
}

#[test]
fn every_request_applied_twice_is_applied_once() {
    let (_a_dir, mut once) = open();
    let (_b_dir, mut twice) = open();
    let task = new_task(&mut once);
    assert_eq!(new_task(&mut twice), task);
    let month = window("2026-01-01", "2026-01-31");
    let halves = month.halves();
    let (a, b) = (&halves[0], &halves[1]);
    let rows: Vec<_> = (1..=4).map(|i| row(&cus(i), "2026-01-10 10:00:00")).collect();
    let mut stale = detail_for(&rows[3]);
    stale.goods.pop();

    type Step = Box<dyn Fn(&mut Store) -> String>;
    let t = task.clone();
    let steps: Vec<Step> = vec![
        Box::new({
            let t = t.clone();
            move |s| {
                format!(
                    "{:?}",
                    s.task_state(&TaskStateChange {
                        task: t.clone(),
                        state: TaskState::Running,
                        now: time("2026-05-25 14:34:00"),
                        message: None
                    })
                )
            }
        }),
        Box::new({
            let t = t.clone();
            move |s| {
                format!(
                    "{:?}",
                    s.task_log(&TaskLogAppend {
                        task: t.clone(),
                        lines: vec![datalink_core::checkpoint::LogLine {
                            at: time("2026-05-25 14:34:01"),
                            category: datalink_core::checkpoint::LogCategory::Execute,
                            message: "[进口] 查询参数已就绪，正在检索...".into()
                        }]
                    })
                    .map(|_| ())
                )
            }
        }),
        Box::new({
            let (t, month, halves) = (t.clone(), month.clone(), halves.clone());
            move |s| {
                format!(
                    "{:?}",
                    s.window_split(&WindowSplit { task: t.clone(), window: month.clone(), into: halves.clone(), learned_max_days: 16 })
                )
            }
        }),
        Box::new({
            let (t, a, r) = (t.clone(), a.clone(), rows.clone());
            move |s| format!("{:?}", s.list_page(&page(&t, &a, 1, 0, 3, r[..2].to_vec())))
        }),
        Box::new({
            let (t, a, r) = (t.clone(), a.clone(), rows.clone());
            move |s| format!("{:?}", s.list_page(&page(&t, &a, 1, 2, 3, r[2..3].to_vec())))
        }),
        Box::new({
            let (t, a, r) = (t.clone(), a.clone(), rows.clone());
            move |s| format!("{:?}", s.list_page(&page(&t, &a, 2, 0, 2, r[..2].to_vec())))
        }),
        Box::new({
            let (t, a) = (t.clone(), a.clone());
            move |s| format!("{:?}", s.window_done(&done(&t, &a, 2, 2)))
        }),
        Box::new({
            let (t, b, r) = (t.clone(), b.clone(), rows.clone());
            move |s| format!("{:?}", s.list_page(&page(&t, &b, 1, 0, 1, r[3..].to_vec())))
        }),
        Box::new({
            let (t, b) = (t.clone(), b.clone());
            move |s| {
                format!("{:?}", s.window_failed(&WindowFailed { task: t.clone(), window_key: b.key(), reason: "单一窗口响应超时".into() }))
            }
        }),
        Box::new({
            let (t, r) = (t.clone(), rows.clone());
            move |s| format!("{:?}", s.detail_save(&save(&t, detail_for(&r[0]))))
        }),
        Box::new({
            let (t, r) = (t.clone(), rows.clone());
            move |s| format!("{:?}", s.detail_save(&save(&t, detail_for(&r[1]))))
        }),
        Box::new({
            let (t, d) = (t.clone(), stale.clone());
            move |s| format!("{:?}", s.detail_save(&save(&t, d.clone())))
        }),
        Box::new({
            let t = t.clone();
            move |s| {
                format!(
                    "{:?}",
                    s.detail_failed(&DetailFailed { task: t.clone(), cus_ciq_no: cus(3), reason: "单一窗口返回 HTTP 500".into() })
                )
            }
        }),
        Box::new({
            let t = t.clone();
            move |s| format!("{:?}", s.task_finish(&TaskFinish { task: t.clone(), now: time("2026-05-25 15:00:00") }))
        }),
    ];
    for (i, step) in steps.iter().enumerate() {
        let first = step(&mut once);
        let again_a = step(&mut twice);
        let again_b = step(&mut twice);
        assert!(!first.starts_with("Err"), "step {i}: {first}");
        assert_eq!(first, again_a, "step {i}: same reply as the other store");
        assert_eq!(again_a, again_b, "step {i}: a repeated request answers the same");
        assert_eq!(dump(&once), dump(&twice), "step {i} applied twice differs from once");
    }
}

#[test]
fn a_killed_sync_resumes_from_exactly_what_was_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("datalink.db");
    let first = window("2026-01-01", "2026-01-15");
    let second = window("2026-01-16", "2026-01-31");
    let rows: Vec<_> = (1..=120).map(|i| row(&cus(i), "2026-01-20 10:00:00")).collect();
    let task = {
        let mut store = Store::open(&path).unwrap();
        let task = new_task(&mut store);
        store.list_page(&page(&task, &first, 1, 0, 20, rows[..20].to_vec())).unwrap();
        store.window_done(&done(&task, &first, 1, 20)).unwrap();
        for r in &rows[..20] {
            store.detail_save(&save(&task, detail_for(r))).unwrap();
        }
        store.list_page(&page(&task, &second, 1, 0, 100, rows[20..70].to_vec())).unwrap();
        // Killed here: the second page of `second` was being fetched, no detail of it saved.
        task
    };
    let mut store = Store::open(&path).unwrap();
    let snapshot = store.task_snapshot(&task).unwrap();
    assert_eq!(snapshot.windows.len(), 2);
    let (a, b) = (&snapshot.windows[0], &snapshot.windows[1]);
    assert_eq!((a.state, a.pass, a.total, a.members.len()), (WindowState::Done, 1, Some(20), 20));
    assert_eq!((b.state, b.pass, b.total), (WindowState::Listing, 1, Some(100)));
    assert_eq!(b.pages, [(0, 50)], "the next page to fetch is at offset 50");
    assert_eq!(b.members, rows[20..70].iter().map(|r| r.cus_ciq_no.clone()).collect::<Vec<_>>());
    assert_eq!(snapshot.unreconciled.len(), 50, "the first window's 20 are reconciled");
    assert!(snapshot.unreconciled.iter().all(|r| r.cus_ciq_no >= cus(21)));
    // The engine repeats the last request it did not see answered: nothing changes.
    let before = dump(&store);
    store.list_page(&page(&task, &second, 1, 0, 100, rows[20..70].to_vec())).unwrap();
    assert_eq!(dump(&store), before);
    // And goes on.
    store.list_page(&page(&task, &second, 1, 50, 100, rows[70..].to_vec())).unwrap();
    store.window_done(&done(&task, &second, 1, 100)).unwrap();
    for r in &rows[20..] {
        store.detail_save(&save(&task, detail_for(r))).unwrap();
    }
    let report = store.task_finish(&TaskFinish { task: task.clone(), now: time("2026-05-25 16:00:00") }).unwrap();
    assert_eq!(report.task.state, TaskState::Completed, "{:?}", report.task.message);
    assert_eq!(report.total.reconciled, 120);
}

#[test]
fn a_member_not_seen_again_in_the_next_pass_leaves() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let w = window("2026-01-01", "2026-01-31");
    let (x, y, z) = (row(&cus(1), "2026-01-05 10:00:00"), row(&cus(2), "2026-01-06 10:00:00"), row(&cus(3), "2026-01-07 10:00:00"));
    store.list_page(&page(&task, &w, 1, 0, 3, vec![x.clone(), y.clone(), z.clone()])).unwrap();
    // The total moved while paging: the engine lists the window again.
    store.list_page(&page(&task, &w, 2, 0, 2, vec![x.clone(), y.clone()])).unwrap();
    let snapshot = store.task_snapshot(&task).unwrap();
    assert_eq!((snapshot.windows[0].pass, snapshot.windows[0].members.clone()), (2, vec![cus(1), cus(2)]));
    assert_eq!(snapshot.unreconciled.len(), 3, "z is still the task's until the pass is done");
    store.window_done(&done(&task, &w, 2, 2)).unwrap();
    assert_eq!(members(&store, &task, &w.key()), [cus(1), cus(2)]);
    assert_eq!(store.task_snapshot(&task).unwrap().unreconciled.len(), 2);
    assert_eq!(store.task_get(&task).unwrap().counts.map(|c| (c.queried, c.hit)), Some((2, 2)));
    let pages: i64 = store.connection().query_row("SELECT count(*) FROM window_page", [], |r| r.get(0)).unwrap();
    assert_eq!(pages, 1, "pages of older passes go with them");
    // A late page of pass 1 changes nothing.
    let before = dump(&store);
    store.list_page(&page(&task, &w, 1, 0, 3, vec![x, y, z])).unwrap();
    store.window_done(&done(&task, &w, 1, 3)).unwrap();
    assert_eq!(dump(&store), before);
}

#[test]
fn a_declaration_that_moved_to_another_window_stays_with_it() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let (a, b) = (window("2026-01-01", "2026-01-15"), window("2026-01-16", "2026-01-31"));
    store.list_page(&page(&task, &a, 1, 0, 1, vec![row(&cus(1), "2026-01-10 10:00:00")])).unwrap();
    store.list_page(&page(&task, &b, 1, 0, 1, vec![row(&cus(1), "2026-01-20 10:00:00")])).unwrap();
    store.list_page(&page(&task, &a, 2, 0, 0, vec![])).unwrap();
    store.window_done(&done(&task, &a, 2, 0)).unwrap();
    store.window_done(&done(&task, &b, 1, 1)).unwrap();
    assert_eq!(members(&store, &task, &b.key()), [cus(1)]);
    assert_eq!(store.task_get(&task).unwrap().counts.map(|c| (c.queried, c.hit)), Some((1, 1)));
}

#[test]
fn stored_details_of_the_same_version_reconcile_without_a_preview() {
    let (_dir, mut store) = open();
    let w = window("2026-01-01", "2026-01-31");
    let rows: Vec<_> = (1..=3).map(|i| row(&cus(i), "2026-01-10 10:00:00")).collect();
    let earlier = new_task(&mut store);
    store.list_page(&page(&earlier, &w, 1, 0, 3, rows.clone())).unwrap();
    for r in &rows {
        store.detail_save(&save(&earlier, detail_for(r))).unwrap();
    }
    let later = store.task_create(&create("2026-05-26 09:00:00", "许斯维")).unwrap().number;
    let mut changed = row(&cus(2), "2026-02-01 08:00:00");
    changed.status = "10".into();
    let mut more_goods = rows[2].clone();
    more_goods.goods_num = Some(3);
    let saved = store.list_page(&page(&later, &w, 1, 0, 3, vec![rows[0].clone(), changed.clone(), more_goods])).unwrap();
    assert_eq!(saved.reconciled, [cus(1)], "cus 2 changed version; cus 3 fails the cross-check");
    let snapshot = store.task_snapshot(&later).unwrap();
    assert_eq!(snapshot.unreconciled.iter().map(|r| r.cus_ciq_no.clone()).collect::<Vec<_>>(), [cus(2), cus(3)]);
    // Its detail, fetched now, reconciles the changed one.
    let saved = store.detail_save(&save(&later, detail_for(&changed))).unwrap();
    assert_eq!((saved.reconciled, saved.window_key), (true, Some(w.key())));
    // The earlier task keeps its own 核销.
    assert_eq!(store.task_get(&earlier).unwrap().counts.map(|c| c.reconciled), Some(3));
    // Seen again in a later pass with the same version, a reconciled row stays reconciled.
    let again = store.list_page(&page(&later, &w, 2, 0, 3, vec![rows[0].clone(), changed])).unwrap();
    assert_eq!(again.reconciled, [cus(1), cus(2)]);
}

#[test]
fn a_changed_declaration_keeps_its_old_version_in_the_history() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let w = window("2026-01-01", "2026-01-31");
    let v1 = row(&cus(1), "2026-01-10 10:00:00");
    store.list_page(&page(&task, &w, 1, 0, 1, vec![v1.clone()])).unwrap();
    store.detail_save(&save(&task, detail_for(&v1))).unwrap();
    let history = |store: &Store| -> Vec<(String, String, bool, bool, Option<String>)> {
        store
            .connection()
            .prepare("SELECT update_time, changed_at, list_row IS NOT NULL, head IS NOT NULL, json_extract(goods, '$[1].declTotal') FROM declaration_history ORDER BY update_time")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert!(history(&store).is_empty(), "saving the same version is no change");
    store.detail_save(&save(&task, detail_for(&v1))).unwrap();
    assert!(history(&store).is_empty());
    let v2 = row(&cus(1), "2026-01-12 09:30:00");
    store.list_page(&page(&task, &w, 2, 0, 1, vec![v2.clone()])).unwrap();
    assert_eq!(history(&store), [("2026-01-10 10:00:00".into(), "2026-01-12 09:30:00".into(), true, true, Some("12.50".into()))]);
    let mut d2 = detail_for(&v2);
    if let Some(line) = d2.goods.get_mut(1) {
        line.insert("declTotal".into(), "13.00".into());
    }
    store.detail_save(&save(&task, d2)).unwrap();
    assert_eq!(history(&store).len(), 1, "the detail of v1 was already in the history");
    let v3 = row(&cus(1), "2026-01-15 11:00:00");
    store.detail_save(&save(&task, detail_for(&v3))).unwrap();
    let rows = history(&store);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1], ("2026-01-12 09:30:00".into(), "2026-01-15 11:00:00".into(), true, true, Some("13.00".into())));
    let (update, detail_update): (String, String) = store
        .connection()
        .query_row("SELECT update_time, detail_update_time FROM declaration", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((update.as_str(), detail_update.as_str()), ("2026-01-12 09:30:00", "2026-01-15 11:00:00"));
    // An older detail arriving late does not replace the newer one.
    store.detail_save(&save(&task, detail_for(&v1))).unwrap();
    let kept: String = store.connection().query_row("SELECT detail_update_time FROM declaration", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "2026-01-15 11:00:00");
}

#[test]
fn goods_lines_keep_their_order_and_exact_decimals() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let mut d = detail_for(&row(&cus(1), "2026-01-10 10:00:00"));
    d.goods[0].insert("declTotal".into(), "100000000000.0100".into());
    store.detail_save(&save(&task, d)).unwrap();
    let lines: Vec<(i64, String, String)> = store
        .connection()
        .prepare("SELECT seq, g_no, decl_total FROM goods_line ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(lines, [(1, "1".into(), "100000000000.0100".into()), (2, "2".into(), "12.50".into())]);
    let ty: String = store.connection().query_row("SELECT typeof(decl_total) FROM goods_line LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(ty, "text");
}

#[test]
fn a_detail_the_task_never_listed_is_stored_but_not_reconciled() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let saved = store.detail_save(&save(&task, detail_for(&row(&cus(9), "2026-01-10 10:00:00")))).unwrap();
    assert_eq!(saved, DetailSaved { reconciled: false, mismatch: None, window_key: None });
    let head: String = store.connection().query_row("SELECT json_extract(head, '$.ownerName') FROM declaration", [], |r| r.get(0)).unwrap();
    assert_eq!(head, "西安数据协同贸易有限公司");
    assert_eq!(store.task_get(&task).unwrap().counts, None);
}

#[test]
fn a_failed_detail_keeps_its_reason_until_it_is_reconciled() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let w = window("2026-01-01", "2026-01-31");
    let r = row(&cus(1), "2026-01-10 10:00:00");
    store.list_page(&page(&task, &w, 1, 0, 1, vec![r.clone()])).unwrap();
    store.detail_failed(&DetailFailed { task: task.clone(), cus_ciq_no: cus(1), reason: "单一窗口返回 HTTP 502".into() }).unwrap();
    let report = store.task_report(&task).unwrap();
    assert_eq!(report.missing[0].reason, "单一窗口返回 HTTP 502");
    // The same version listed again keeps the reason; a detail reconciles and clears it.
    store.list_page(&page(&task, &w, 1, 0, 1, vec![r.clone()])).unwrap();
    assert_eq!(store.task_report(&task).unwrap().missing[0].reason, "单一窗口返回 HTTP 502");
    store.detail_save(&save(&task, detail_for(&r))).unwrap();
    assert!(store.task_report(&task).unwrap().missing.is_empty());
    store.detail_failed(&DetailFailed { task: task.clone(), cus_ciq_no: cus(1), reason: "late".into() }).unwrap();
    assert!(store.task_report(&task).unwrap().missing.is_empty(), "a reconciled declaration stays reconciled");
}

#[test]
fn a_split_window_gives_way_to_its_pieces() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let month = window("2026-01-01", "2026-01-31");
    store.list_page(&page(&task, &month, 1, 0, 900, vec![row(&cus(1), "2026-01-10 10:00:00")])).unwrap();
    let pieces = month.split(7);
    let split = WindowSplit { task: task.clone(), window: month.clone(), into: pieces.clone(), learned_max_days: 7 };
    store.window_split(&split).unwrap();
    let snapshot = store.task_snapshot(&task).unwrap();
    assert_eq!(snapshot.learned_max_days, Some(7));
    assert_eq!(snapshot.windows.iter().map(|w| w.window.clone()).collect::<Vec<_>>(), pieces);
    assert!(snapshot.windows.iter().all(|w| w.state == WindowState::Listing && w.pass == 0 && w.total.is_none() && w.pages.is_empty()));
    assert!(snapshot.unreconciled.is_empty(), "the split window's members go; its pieces list them again");
    // Progress in a piece survives a retried split; a later, larger limit does not undo a smaller one.
    store.list_page(&page(&task, &pieces[0], 1, 0, 1, vec![row(&cus(1), "2026-01-05 10:00:00")])).unwrap();
    store.window_split(&WindowSplit { learned_max_days: 15, ..split }).unwrap();
    let snapshot = store.task_snapshot(&task).unwrap();
    assert_eq!(snapshot.learned_max_days, Some(7));
    assert_eq!((snapshot.windows[0].pass, snapshot.windows[0].members.clone()), (1, vec![cus(1)]));
    // A late page of the split window changes nothing.
    let before = dump(&store);
    store.list_page(&page(&task, &month, 1, 0, 900, vec![row(&cus(2), "2026-01-10 10:00:00")])).unwrap();
    assert_eq!(dump(&store), before);
    let itself = WindowSplit { task: task.clone(), window: pieces[1].clone(), into: vec![pieces[1].clone()], learned_max_days: 7 };
    assert!(matches!(store.window_split(&itself), Err(StoreError::Invalid(_))));
}

#[test]
fn an_empty_window_can_be_done_without_a_page() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let w = window("2026-01-08", "2026-01-14");
    store.window_done(&done(&task, &w, 1, 0)).unwrap();
    let snapshot = store.task_snapshot(&task).unwrap();
    assert_eq!(snapshot.windows[0].window, w);
    assert_eq!((snapshot.windows[0].state, snapshot.windows[0].total), (WindowState::Done, Some(0)));
    let bad = WindowDone { task: task.clone(), window_key: "2026-01|X9Z|nope".into(), pass: 1, total: 0 };
    assert!(matches!(store.window_done(&bad), Err(StoreError::Invalid(_))));
    assert_eq!(window_from_key("2026-01|E2N|2026-01-01|2026-01-07|lookup").map(|w| (w.lookup, w.stream.key())), Some((true, "E2N".into())));
    assert_eq!(window_from_key("2026-01|I0C|2026-01-07|2026-01-01"), None);
}

#[test]
fn requests_for_an_unknown_task_are_task_not_found() {
    let (_dir, mut store) = open();
    let nobody = TaskNumber("20990101000000001".into());
    let w = window("2026-01-01", "2026-01-07");
    let errors = [
        store.list_page(&page(&nobody, &w, 1, 0, 0, vec![])).map(|_| ()),
        store.window_done(&done(&nobody, &w, 1, 0)).map(|_| ()),
        store.detail_save(&save(&nobody, detail_for(&row(&cus(1), "2026-01-02 00:00:00")))).map(|_| ()),
        store.task_snapshot(&nobody).map(|_| ()),
    ];
    for error in errors {
        assert_eq!(error.unwrap_err().to_info().code, 2006);
    }
    let declarations: i64 = store.connection().query_row("SELECT count(*) FROM declaration", [], |r| r.get(0)).unwrap();
    assert_eq!(declarations, 0, "a refused request writes nothing");
}

#[test]
fn a_full_disk_is_store_full_and_saves_nothing_of_the_request() {
    let (_dir, mut store) = open();
    let task = new_task(&mut store);
    let w = window("2026-01-01", "2026-01-31");
    let r = row(&cus(1), "2026-01-10 10:00:00");
    store.list_page(&page(&task, &w, 1, 0, 1, vec![r.clone()])).unwrap();
    // SQLite's page cap stands in for the disk: no page beyond the current ones may be added.
    let pages: i64 = store.connection().query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let _: i64 = store.connection().query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| r.get(0)).unwrap();
    let before = dump(&store);
    let mut big = detail_for(&r);
    big.goods = (0..2000).map(|i| big.goods[i % 2].clone()).collect();
    let error = store.detail_save(&save(&task, big)).unwrap_err();
    assert_eq!(error.code(), datalink_core::error::ErrorCode::StoreFull, "{error:?}");
    assert_eq!(error.to_info().message, "磁盘空间不足，协同数据无法保存，请清理磁盘空间后重试");
    assert_eq!(dump(&store), before, "the transaction was rolled back");
}
