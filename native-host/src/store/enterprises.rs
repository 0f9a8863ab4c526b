//! Several enterprises in one store (issue #10): which enterprise a task, a declaration, a
//! report belongs to.
//!
//! # The rule
//!
//! A **task** belongs to the enterprise whose portal session ran it: at 启动协同服务 the worker
//! reads the portal's desktop (统一社会信用代码, 企业名称, 海关编码) and `task_create` stores them
//! in `task.enterprise_*`. The 统一社会信用代码 (`scc`) is the key.
//!
//! A task of an older version has no enterprise (NULL). It belongs to **the store's only
//! enterprise**: it matches any enterprise filter while the store holds tasks of at most one
//! enterprise, and none once a second enterprise appears (it cannot be told apart any more; it
//! still shows unfiltered, and [`EnterpriseList::unassigned_tasks`] counts it).
//!
//! A **declaration** belongs to every enterprise one of whose tasks listed it. So a broker's
//! task (报关申报单位, `Role::Declarant`), which lists its clients' declarations, puts them under
//! the broker's enterprise; they appear under a client only if the client synced them itself.
//!
//! Everything that takes an `enterprise` filter (`task_list`, `task_records`, `export` by range,
//! `datalink-host export --enterprise`, the reports' coverage) builds its SQL from
//! [`task_matches`] and [`declaration_matches`], so the rule lives here once.

use datalink_core::browse::{DeclarationFull, EnterpriseList, EnterpriseSummary};
use datalink_core::checkpoint::Enterprise;
use datalink_core::task::TaskNumber;
use rusqlite::{Connection, OptionalExtension};

use super::tasks::parse_time;
use super::{uint, Result, Store};

/// SQL condition: the task row `{alias}.` belongs to the enterprise bound at `param` (`?5`); a
/// NULL parameter matches every task.
pub(crate) fn task_matches(alias: &str, param: &str) -> String {
    format!(
        "({param} IS NULL OR {alias}.enterprise_scc = {param} \
         OR ({alias}.enterprise_scc IS NULL AND (SELECT count(DISTINCT enterprise_scc) FROM task) <= 1))"
    )
}

/// SQL condition: the declaration `{column}` (a 统一编号 column) was listed by a task of the
/// enterprise bound at `param`; a NULL parameter matches every declaration.
pub(crate) fn declaration_matches(column: &str, param: &str) -> String {
    format!(
        "({param} IS NULL OR {column} IN (SELECT ed.cus_ciq_no FROM task_declaration ed JOIN task ek ON ek.number = ed.task WHERE {}))",
        task_matches("ek", param)
    )
}

/// The enterprise `scc` as its newest task recorded it, if the store has a task of it.
pub(crate) fn find(conn: &Connection, scc: &str) -> Result<Option<Enterprise>> {
    let row = conn
        .prepare_cached(
            "SELECT enterprise_name, enterprise_code FROM task WHERE enterprise_scc = ?1 ORDER BY number DESC LIMIT 1",
        )?
        .query_row([scc], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)))
        .optional()?;
    Ok(row.map(|(name, code)| Enterprise {
        scc: scc.to_owned(),
        name: name.unwrap_or_default(),
        code: code.unwrap_or_default(),
    }))
}

impl Store {
    /// `declaration_get` for the pages' active enterprise: `None` unless one of its tasks
    /// listed the declaration (no enterprise: any declaration).
    pub fn declaration_get_for(
        &self,
        cus_ciq_no: &str,
        enterprise: Option<&str>,
    ) -> Result<Option<DeclarationFull>> {
        let enterprise = enterprise.map(str::trim).filter(|e| !e.is_empty());
        let visible = self.read(|conn| {
            let sql = format!(
                "SELECT 1 FROM declaration WHERE cus_ciq_no = ?1 AND {}",
                declaration_matches("cus_ciq_no", "?2")
            );
            Ok(conn
                .prepare_cached(&sql)?
                .exists(rusqlite::params![cus_ciq_no, enterprise])?)
        })?;
        if visible {
            self.declaration_get(cus_ciq_no)
        } else {
            Ok(None)
        }
    }

    /// The enterprise `scc` as its newest task recorded it (`None` when no task ran for it).
    pub fn enterprise(&self, scc: &str) -> Result<Option<Enterprise>> {
        self.read(|conn| find(conn, scc))
    }

    /// `enterprises`: the enterprises the store has tasks of, the one of the newest task first,
    /// with their task counts and newest task.
    pub fn enterprises(&self) -> Result<EnterpriseList> {
        self.read(|conn| {
            let unassigned: i64 = conn.query_row("SELECT count(*) FROM task WHERE enterprise_scc IS NULL", [], |r| r.get(0))?;
            let rows = conn
                .prepare_cached(
                    "SELECT enterprise_scc, count(*), max(number) FROM task WHERE enterprise_scc IS NOT NULL
                     GROUP BY enterprise_scc ORDER BY max(number) DESC",
                )?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let only = rows.len() == 1;
            let mut enterprises = Vec::with_capacity(rows.len());
            for (scc, tasks, last) in rows {
                let (name, code, created): (Option<String>, Option<String>, String) = conn
                    .prepare_cached("SELECT enterprise_name, enterprise_code, created_at FROM task WHERE number = ?1")?
                    .query_row([&last], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                let tasks = if only { tasks + unassigned } else { tasks };
                enterprises.push(EnterpriseSummary {
                    enterprise: Enterprise { scc, name: name.unwrap_or_default(), code: code.unwrap_or_default() },
                    tasks: uint(tasks),
                    last_task: TaskNumber(last),
                    last_sync: parse_time(&created)?,
                });
            }
            Ok(EnterpriseList { enterprises, unassigned_tasks: uint(unassigned) })
        })
    }
}

#[cfg(test)]
mod tests {
    use datalink_core::browse::{ExportFormat, ExportRequest, TaskRecordsQuery};
    use datalink_core::checkpoint::{Enterprise, TaskListQuery};
    use datalink_core::period::DateRange;
    use datalink_core::portal::ListRow;
    use datalink_core::task::{DirectionChoice, Role, TaskNumber, TaskState, TypeChoice};

    use crate::store::export::Format;
    use crate::store::fixtures::*;
    use crate::store::Store;

    pub(crate) fn enterprise(scc: &str, name: &str) -> Enterprise {
        Enterprise {
            scc: scc.into(),
            name: name.into(),
            code: format!("61{}", &scc[10..18]),
        }
    }

    #[test]
    fn tasks_of_older_versions_belong_to_the_only_enterprise_until_a_second_appears() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let old = store
            .task_create(&create("2026-05-20 09:00:00", "旧版本"))
            .unwrap()
            .number;
        assert_eq!(store.enterprises().unwrap().enterprises, vec![]);
        assert_eq!(store.enterprises().unwrap().unassigned_tasks, 1);

        let a = enterprise("91610000MA6TEST01X", "西安甲贸易有限公司");
        let first = store
            .task_create(&create_for("2026-05-21 09:00:00", &a))
            .unwrap();
        assert_eq!(first.enterprise.as_ref(), Some(&a));
        let of = |store: &Store, scc: &str| -> Vec<String> {
            let query = TaskListQuery {
                enterprise: Some(scc.into()),
                page_size: 50,
                ..TaskListQuery::default()
            };
            store
                .task_list(&query)
                .unwrap()
                .tasks
                .into_iter()
                .map(|t| t.number.0)
                .collect()
        };
        assert_eq!(
            of(&store, &a.scc),
            vec![first.number.0.clone(), old.0.clone()],
            "the old task is A's while A is the only one"
        );
        let list = store.enterprises().unwrap();
        assert_eq!(list.enterprises.len(), 1);
        assert_eq!(
            (
                list.enterprises[0].tasks,
                list.enterprises[0].last_task.0.as_str()
            ),
            (2, first.number.0.as_str())
        );

        let b = enterprise("91310000MA1TEST02Y", "上海乙物流有限公司");
        let second = store
            .task_create(&create_for("2026-05-22 09:00:00", &b))
            .unwrap();
        assert_eq!(
            of(&store, &a.scc),
            vec![first.number.0.clone()],
            "with two enterprises the old task is nobody's"
        );
        assert_eq!(of(&store, &b.scc), vec![second.number.0.clone()]);
        assert_eq!(
            store
                .task_list(&TaskListQuery {
                    page_size: 50,
                    ..TaskListQuery::default()
                })
                .unwrap()
                .total,
            3
        );
        let list = store.enterprises().unwrap();
        let names: Vec<(&str, u64)> = list
            .enterprises
            .iter()
            .map(|e| (e.enterprise.name.as_str(), e.tasks))
            .collect();
        assert_eq!(
            names,
            vec![("上海乙物流有限公司", 1), ("西安甲贸易有限公司", 1)],
            "newest first"
        );
        assert_eq!(
            list.enterprises[0].last_sync.to_string(),
            "2026-05-22 09:00:00"
        );
        assert_eq!(list.unassigned_tasks, 1);
    }

    pub(crate) fn create_for(
        at: &str,
        enterprise: &Enterprise,
    ) -> datalink_core::checkpoint::TaskCreate {
        datalink_core::checkpoint::TaskCreate {
            enterprise: Some(enterprise.clone()),
            ..create(at, "许斯维")
        }
    }

    /// A finished task of `enterprise` in `role` asking for everything a certificate needs,
    /// over 2026-01, listing and reconciling `rows`.
    fn synced(
        store: &mut Store,
        at: &str,
        enterprise: &Enterprise,
        role: Role,
        rows: &[ListRow],
    ) -> TaskNumber {
        let mut request = create_one_stream("2026-01-01", "2026-01-31");
        request.conditions.types = TypeChoice::Both;
        request.conditions.directions = DirectionChoice::Both;
        request.conditions.role = role;
        request.now = time(at);
        request.enterprise = Some(enterprise.clone());
        let task = store.task_create(&request).unwrap().number;
        sync_month(store, &task, "2026-01-01", "2026-01-31", rows, true);
        assert_eq!(finish(store, &task), TaskState::Completed);
        task
    }

    fn exported(store: &Store, enterprise: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        store
            .export_for(Format::Jsonl, None, enterprise, &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        text.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["cusCiqNo"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    /// Two enterprises and a broker (报关申报单位) that filed one of the first's declarations.
    #[test]
    fn each_enterprise_sees_only_the_declarations_its_own_tasks_listed() {
        let (_dir, mut store) = open();
        let a = enterprise("91610000MA6TEST01X", "西安甲贸易有限公司");
        let b = enterprise("91310000MA1TEST02Y", "上海乙物流有限公司");
        let broker = enterprise("91440300MA5TEST03Z", "深圳丙报关行有限公司");
        let task_a = synced(
            &mut store,
            "2026-05-25 10:00:00",
            &a,
            Role::Consignee,
            &[
                row(&cus(1), "2026-01-28 10:00:00"),
                row(&cus(2), "2026-01-28 11:00:00"),
                export_row(3, "2026-01-29 09:00:00"),
            ],
        );
        let task_b = synced(
            &mut store,
            "2026-05-25 11:00:00",
            &b,
            Role::Consignee,
            &[row(&cus(11), "2026-01-20 10:00:00")],
        );
        let task_broker = synced(
            &mut store,
            "2026-05-25 12:00:00",
            &broker,
            Role::Declarant,
            &[
                row(&cus(1), "2026-01-28 10:00:00"),
                row(&cus(21), "2026-01-21 10:00:00"),
            ],
        );
        let e3 = "E2026".to_owned() + &format!("{:013}", 3);

        // `datalink-host export --enterprise`.
        assert_eq!(
            exported(&store, Some(&a.scc)),
            vec![e3.clone(), cus(1), cus(2)],
            "by 统一编号"
        );
        assert_eq!(exported(&store, Some(&b.scc)), vec![cus(11)]);
        assert_eq!(
            exported(&store, Some(&broker.scc)),
            vec![cus(1), cus(21)],
            "the broker's view spans its clients"
        );
        assert_eq!(exported(&store, None).len(), 5);
        assert_eq!(
            exported(&store, Some("91000000000000000X")),
            Vec::<String>::new()
        );

        // The page's range export.
        let range = ExportRequest {
            task: None,
            range: Some(DateRange {
                first: "2026-01-01".parse().unwrap(),
                last: "2026-01-31".parse().unwrap(),
            }),
            format: ExportFormat::Csv,
            enterprise: Some(b.scc.clone()),
        };
        let file = store.export_file(&range).unwrap();
        assert_eq!(file.declarations, 1);

        // 预览: another enterprise's declaration is not shown.
        assert_eq!(
            store
                .declaration_get_for(&cus(11), Some(&b.scc))
                .unwrap()
                .map(|d| d.cus_ciq_no),
            Some(cus(11))
        );
        assert_eq!(
            store.declaration_get_for(&cus(11), Some(&a.scc)).unwrap(),
            None
        );
        assert_eq!(
            store
                .declaration_get_for(&cus(1), Some(&broker.scc))
                .unwrap()
                .map(|d| d.cus_ciq_no),
            Some(cus(1))
        );
        assert_eq!(
            store
                .declaration_get_for(&cus(21), None)
                .unwrap()
                .map(|d| d.cus_ciq_no),
            Some(cus(21))
        );

        // 协同记录.
        let records = |scc: &str| -> Vec<TaskNumber> {
            let query = TaskRecordsQuery {
                enterprise: Some(scc.into()),
                ..TaskRecordsQuery::default()
            };
            store
                .task_records(&query)
                .unwrap()
                .tasks
                .into_iter()
                .map(|t| t.number)
                .collect()
        };
        assert_eq!(records(&a.scc), vec![task_a.clone()]);
        assert_eq!(records(&b.scc), vec![task_b.clone()]);
        assert_eq!(records(&broker.scc), vec![task_broker.clone()]);
        assert_eq!(store.task_get(&task_b).unwrap().enterprise, Some(b.clone()));

        // The certificate's coverage and declarations.
        let (coverage, declarations) = store
            .trade_declarations("2026-01", "2026-01", Some(&a.scc))
            .unwrap();
        assert_eq!(coverage[0].task.as_ref(), Some(&task_a));
        let ids: Vec<&str> = declarations.iter().map(|d| d.cus_ciq_no.as_str()).collect();
        assert_eq!(ids, vec![e3.as_str(), cus(1).as_str(), cus(2).as_str()]);
        let (coverage, declarations) = store
            .trade_declarations("2026-01", "2026-01", Some(&b.scc))
            .unwrap();
        assert_eq!(
            (coverage[0].task.as_ref(), declarations.len()),
            (Some(&task_b), 1)
        );
        // Unfiltered, the newest certifiable task (B's) covers the month.
        assert_eq!(
            store.trade_coverage("2026-01", "2026-01", None).unwrap()[0]
                .task
                .as_ref(),
            Some(&task_b)
        );
        let broker_month = &store
            .trade_coverage("2026-01", "2026-01", Some(&broker.scc))
            .unwrap()[0];
        assert_eq!(broker_month.task, None);
        assert!(
            broker_month
                .gap
                .as_deref()
                .unwrap_or_default()
                .contains("报关申报单位"),
            "{broker_month:?}"
        );
        assert_eq!(store.enterprise(&broker.scc).unwrap(), Some(broker));
        assert_eq!(store.enterprise("91000000000000000X").unwrap(), None);
    }
}
