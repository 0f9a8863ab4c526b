//! What the certificate (数据验证报告) reads: which months a reconciled sync covers, and the
//! declarations — with their goods lines' values — that count in them.
//!
//! # Coverage: when may a month be certified?
//!
//! A month is **covered** when some task (the newest one wins) satisfies all of:
//!
//! * its conditions ask for what a trade value certificate counts: both types (报关单 and
//!   备案清单), both directions, 结关 (or 全部) as the enterprise's own trade (报关收发货人), over
//!   a date range that contains the whole month — not a single lookup;
//! * it has finished (执行完毕, or 执行异常 for *other* months) and, for this month, its windows
//!   cover every day for every query family, none failed or unfinished, and 查询数 = 命中数 =
//!   核销数.
//!
//! A month that is not covered is named, with the reason, so the page can offer the sync that
//! fixes it.
//!
//! **Per enterprise** (several enterprises in one store): with an enterprise (统一社会信用代码),
//! only that enterprise's tasks can cover a month (the rule for tasks of older versions is in
//! `enterprises.rs`). A broker's tasks (报关申报单位, `Role::Declarant`) never cover one: the
//! declarations it files for its clients are not its own trade, so a month synced only in that
//! role is a gap that says so, and no certificate is issued over broker data. The figures then come only from covering tasks: for each month, the declarations
//! its covering task listed **and reconciled** in that month, whose stored status is 结关 — the
//! same set its 核销数 counted, so the certificate and the 协同记录 can never disagree.
//!
//! Pure arithmetic (currencies, rates, sums) is not here: it lives in `datalink_core` and is
//! shared with the extension's preview.

use std::collections::BTreeMap;

use datalink_core::report::MonthCoverage;
use datalink_core::task::{Conditions, DeclarationType, Direction, DirectionChoice, Role, StatusChoice, TaskNumber, TypeChoice};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::report::build;
use super::sync::window_from_key;
use super::{Result, Store, StoreError};

/// A declaration that counts in a certificate, as stored: the month it counts in, and its goods
/// lines' currency (customs code or ISO, as the portal sent it) and 总价 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeDeclaration {
    pub cus_ciq_no: String,
    pub entry_id: Option<String>,
    pub direction: Direction,
    pub declaration_type: DeclarationType,
    /// `2025-01`: the period the covering task listed it in (its 申报日期's month).
    pub month: String,
    pub update_time: String,
    /// `(tradeCurr, declTotal)` per goods line, in line order.
    pub lines: Vec<(String, String)>,
    /// The domestic consignee / consignor (境内收发货人) and its 统一社会信用代码, from the list row.
    pub trader: Option<String>,
    pub trader_scc: Option<String>,
}

/// The gap of a month synced only as 报关申报单位 (a broker's view).
pub const BROKER_GAP: &str =
    "该月只有以报关申报单位（代理报关）身份协同的数据，不能出具本企业的进出口贸易额证明；请以报关收发货人身份协同该月";

/// Whether a task's conditions are those a certificate needs (see the module doc).
fn certifiable(conditions: &Conditions) -> bool {
    conditions.lookup.is_none()
        && conditions.types == TypeChoice::Both
        && conditions.directions == DirectionChoice::Both
        && matches!(conditions.status, StatusChoice::Closed | StatusChoice::All)
        && conditions.role == Role::Consignee
}

/// `month` (`YYYY-MM`) → its first and last day, or `None` when malformed.
fn month_days(month: &str) -> Option<(datalink_core::calendar::Date, datalink_core::calendar::Date)> {
    let first: datalink_core::calendar::Date = format!("{month}-01").parse().ok()?;
    Some((first, first.last_of_month()))
}

/// The months `from..=to` (`YYYY-MM`, inclusive).
pub fn months(from: &str, to: &str) -> Result<Vec<String>> {
    let bad = || StoreError::Invalid("时间范围应为 YYYY-MM".into());
    let (mut day, _) = month_days(from).ok_or_else(bad)?;
    let (last, _) = month_days(to).ok_or_else(bad)?;
    if day > last {
        return Err(StoreError::Invalid("开始月份晚于结束月份".into()));
    }
    let mut out = Vec::new();
    while day <= last {
        out.push(format!("{:04}-{:02}", day.year(), day.month()));
        day = day.last_of_month().add_days(1);
    }
    Ok(out)
}

/// Which tasks cover which of `months`.
pub(crate) fn coverage(conn: &Connection, months: &[String], enterprise: Option<&str>) -> Result<Vec<MonthCoverage>> {
    let mut out: Vec<MonthCoverage> =
        months.iter().map(|m| MonthCoverage { month: m.clone(), task: None, counts: None, gap: None }).collect();
    // Newest first: the latest reconciled sync of a month is the one that counts.
    let tasks = conn
        .prepare_cached(&format!(
            "SELECT number, conditions FROM task WHERE state IN ('completed', 'failed') AND {} ORDER BY number DESC",
            super::enterprises::task_matches("task", "?1")
        ))?
        .query_map([enterprise], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut seen_any_sync = vec![false; out.len()];
    let mut seen_broker = vec![false; out.len()];
    for (number, conditions) in tasks {
        if out.iter().all(MonthCoverage::covered) {
            break;
        }
        let conditions: Conditions = serde_json::from_str(&conditions)?;
        if conditions.role == Role::Declarant {
            for (i, c) in out.iter().enumerate() {
                let inside = month_days(&c.month)
                    .is_some_and(|(first, last)| conditions.range.first <= last && conditions.range.last >= first);
                seen_broker[i] |= inside;
            }
        }
        if !certifiable(&conditions) {
            continue;
        }
        let wanted: Vec<usize> = out
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.covered())
            .filter(|(_, c)| {
                month_days(&c.month)
                    .is_some_and(|(first, last)| conditions.range.first <= first && conditions.range.last >= last)
            })
            .map(|(i, _)| i)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let number = TaskNumber(number);
        let (report, uncovered) = build(conn, &number)?;
        for i in wanted {
            seen_any_sync[i] = true;
            let month = &out[i].month;
            let Some(period) = report.periods.iter().find(|p| &p.period == month) else { continue };
            let unfinished: bool = conn
                .prepare_cached("SELECT 1 FROM task_window WHERE task = ?1 AND period = ?2 AND state NOT IN ('done', 'split')")?
                .exists(params![number.0, month])?;
            if period.counts.agree() && !uncovered.contains(month) && !unfinished {
                out[i].task = Some(number.clone());
                out[i].counts = Some(period.counts);
            }
        }
    }
    for ((c, seen), broker) in out.iter_mut().zip(seen_any_sync).zip(seen_broker) {
        if !c.covered() {
            c.gap = Some(if seen {
                "协同记录中该月的查询数、命中数、核销数不一致或未查询完整，请重新协同该月".to_owned()
            } else if broker {
                BROKER_GAP.to_owned()
            } else {
                "该月尚未协同（需：报关单与备案清单、进出口、结关、报关收发货人）".to_owned()
            });
        }
    }
    Ok(out)
}

/// The declarations that count for the covered months of `coverage`, sorted by month, then 统一编号.
/// A declaration listed by covering tasks of two months counts once, in the later month.
pub(crate) fn trade_declarations(conn: &Connection, coverage: &[MonthCoverage]) -> Result<Vec<TradeDeclaration>> {
    let mut by_id: BTreeMap<String, TradeDeclaration> = BTreeMap::new();
    let mut rows = conn.prepare_cached(
        "SELECT d.cus_ciq_no, d.entry_id, d.ie_flag, d.update_time, td.window_key,
                CASE d.ie_flag WHEN 'I' THEN json_extract(td.list_row, '$.raw.consigneeCname') ELSE json_extract(td.list_row, '$.raw.consignorCname') END,
                CASE d.ie_flag WHEN 'I' THEN json_extract(td.list_row, '$.raw.rcvgdTradeScc') ELSE json_extract(td.list_row, '$.raw.cnsnTradeScc') END
           FROM task_declaration td JOIN declaration d ON d.cus_ciq_no = td.cus_ciq_no
          WHERE td.task = ?1 AND td.period = ?2 AND td.reconciled = 1 AND d.status = '10'",
    )?;
    let mut lines = conn.prepare_cached("SELECT trade_curr, decl_total FROM goods_line WHERE cus_ciq_no = ?1 ORDER BY seq")?;
    for month in coverage {
        let Some(task) = &month.task else { continue };
        let found = rows
            .query_map(params![task.0, month.month], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (cus_ciq_no, entry_id, ie_flag, update_time, window_key, trader, trader_scc) in found {
            let direction = Direction::from_code(&ie_flag)
                .ok_or_else(|| StoreError::Internal(format!("declaration with ie_flag of {} chars", ie_flag.len())))?;
            let declaration_type = window_from_key(&window_key)
                .map(|w| w.stream.declaration_type)
                .ok_or_else(|| StoreError::Internal("unreadable window key".into()))?;
            let goods = lines
                .query_map([&cus_ciq_no], |r| {
                    Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get::<_, Option<String>>(1)?.unwrap_or_default()))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            by_id.insert(
                cus_ciq_no.clone(),
                TradeDeclaration {
                    cus_ciq_no,
                    entry_id: entry_id.filter(|e| !e.is_empty()),
                    direction,
                    declaration_type,
                    month: month.month.clone(),
                    update_time,
                    lines: goods,
                    trader: trader.filter(|t| !t.trim().is_empty()),
                    trader_scc: trader_scc.filter(|t| !t.trim().is_empty()),
                },
            );
        }
    }
    let mut out: Vec<TradeDeclaration> = by_id.into_values().collect();
    out.sort_by(|a, b| (&a.month, &a.cus_ciq_no).cmp(&(&b.month, &b.cus_ciq_no)));
    Ok(out)
}

/// The enterprise the declarations belong to: the most frequent 境内收发货人 and its 统一社会信用代码
/// (ties: the smaller code). `None` without declarations that name one.
pub fn enterprise_of(declarations: &[TradeDeclaration]) -> Option<(String, String)> {
    let mut votes: BTreeMap<(String, String), usize> = BTreeMap::new();
    for d in declarations {
        if let (Some(name), Some(scc)) = (&d.trader, &d.trader_scc) {
            *votes.entry((scc.clone(), name.clone())).or_default() += 1;
        }
    }
    let best = votes.values().copied().max()?;
    votes.into_iter().find(|(_, n)| *n == best).map(|((scc, name), _)| (name, scc))
}

impl Store {
    /// Which of the months `from..=to` (`YYYY-MM`) a reconciled sync covers.
    /// With `enterprise` (统一社会信用代码), only its tasks count.
    pub fn trade_coverage(&self, from: &str, to: &str, enterprise: Option<&str>) -> Result<Vec<MonthCoverage>> {
        let months = months(from, to)?;
        self.read(|conn| coverage(conn, &months, enterprise))
    }

    /// The coverage of `from..=to` and the declarations of its covered months, read in one
    /// consistent transaction.
    pub fn trade_declarations(
        &self,
        from: &str,
        to: &str,
        enterprise: Option<&str>,
    ) -> Result<(Vec<MonthCoverage>, Vec<TradeDeclaration>)> {
        let months = months(from, to)?;
        self.read(|conn| {
            let coverage = coverage(conn, &months, enterprise)?;
            let declarations = trade_declarations(conn, &coverage)?;
            Ok((coverage, declarations))
        })
    }

    /// Every stored setting.
    pub fn settings(&self) -> Result<BTreeMap<String, String>> {
        self.read(|conn| {
            let rows = conn
                .prepare_cached("SELECT key, value FROM setting ORDER BY key")?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<BTreeMap<_, _>>>()?;
            Ok(rows)
        })
    }

    /// One setting.
    #[cfg(test)]
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        self.read(|conn| Ok(conn.prepare_cached("SELECT value FROM setting WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?))
    }

    /// Sets (or, with an empty value, removes) settings, all or none.
    pub fn set_settings(&mut self, values: &BTreeMap<String, String>) -> Result<()> {
        self.write(|tx| {
            for (key, value) in values {
                if value.trim().is_empty() {
                    tx.prepare_cached("DELETE FROM setting WHERE key = ?1")?.execute([key])?;
                } else {
                    tx.prepare_cached("INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
                        .execute(params![key, value.trim()])?;
                }
            }
            Ok(())
        })
    }
}

/// A certificate as the store records it when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCertificate {
    /// `ZM20261125001`: 证明 + the issue date + a sequence.
    pub number: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub issued_at: String,
    pub range_from: String,
    pub range_to: String,
    /// What the certificate was made from (JSON: the form, company, issuer …), so it can be re-made.
    pub inputs: String,
    /// The full verification code (hex).
    pub code: String,
    pub declarations: u32,
    pub pdf_sha256: String,
    pub signature: Option<String>,
}

impl Store {
    /// The next certificate number for `date` (`YYYYMMDD`): `ZM` + date + a 3-digit sequence.
    pub fn next_certificate_number(&self, date: &str) -> Result<String> {
        self.read(|conn| {
            let prefix = format!("ZM{date}");
            let last: Option<String> = conn
                .prepare_cached("SELECT max(number) FROM certificate WHERE number LIKE ?1 || '%'")?
                .query_row([&prefix], |r| r.get(0))?;
            let next = last.and_then(|n| n[prefix.len()..].parse::<u32>().ok()).unwrap_or(0) + 1;
            Ok(format!("{prefix}{next:03}"))
        })
    }

    /// Records a certificate (its number must be new).
    pub fn record_certificate(&mut self, issued: &IssuedCertificate) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO certificate (number, issued_at, range_from, range_to, inputs, code, declarations, pdf_sha256, signature)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                issued.number,
                issued.issued_at,
                issued.range_from,
                issued.range_to,
                issued.inputs,
                issued.code,
                issued.declarations,
                issued.pdf_sha256,
                issued.signature
            ])?;
            Ok(())
        })
    }

    /// A recorded certificate.
    pub fn certificate(&self, number: &str) -> Result<Option<IssuedCertificate>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT number, issued_at, range_from, range_to, inputs, code, declarations, pdf_sha256, signature
                       FROM certificate WHERE number = ?1",
                )?
                .query_row([number], |r| {
                    Ok(IssuedCertificate {
                        number: r.get(0)?,
                        issued_at: r.get(1)?,
                        range_from: r.get(2)?,
                        range_to: r.get(3)?,
                        inputs: r.get(4)?,
                        code: r.get(5)?,
                        declarations: r.get(6)?,
                        pdf_sha256: r.get(7)?,
                        signature: r.get(8)?,
                    })
                })
                .optional()?)
        })
    }

    /// Stores a user's data file (rate table or holiday calendar) under `name`, replacing the
    /// previous one of that name.
    pub fn import_data_file(&mut self, name: &str, content: &str, rows: usize, now: &str) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO data_file (name, content, rows, imported_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET content = excluded.content, rows = excluded.rows, imported_at = excluded.imported_at",
            )?
            .execute(params![name, content, rows as i64, now])?;
            Ok(())
        })
    }

    /// The user's data files: `(name, content)`.
    pub fn data_files(&self) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT name, content FROM data_file ORDER BY name")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::*;
    use datalink_core::checkpoint::Counts;
    use datalink_core::task::TaskState;

    #[test]
    fn months_are_listed_inclusive_and_across_a_year_end() {
        assert_eq!(months("2025-11", "2026-02").unwrap(), ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(months("2026-03", "2026-03").unwrap(), ["2026-03"]);
        assert!(matches!(months("2026-03", "2026-02"), Err(StoreError::Invalid(_))));
        assert!(matches!(months("2026-13", "2026-12"), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn a_completed_certifiable_sync_covers_its_months_and_yields_its_reconciled_declarations() {
        let (_dir, mut store) = open();
        let task = certifiable_task(&mut store, "2026-01-01", "2026-01-31", "2026-05-25 14:33:52");
        let rows = vec![row(&cus(1), "2026-01-28 10:00:00"), row(&cus(2), "2026-01-28 11:00:00"), export_row(3, "2026-01-29 09:00:00")];
        sync_month(&mut store, &task, "2026-01-01", "2026-01-31", &rows, true);
        assert_eq!(finish(&mut store, &task), TaskState::Completed);

        let (coverage, declarations) = store.trade_declarations("2026-01", "2026-02", None).unwrap();
        assert_eq!(coverage.len(), 2);
        assert_eq!(coverage[0].task.as_ref(), Some(&task));
        assert_eq!(coverage[0].counts, Some(Counts { queried: 3, hit: 3, reconciled: 3 }));
        assert!(coverage[0].gap.is_none());
        assert!(!coverage[1].covered());
        assert!(coverage[1].gap.as_deref().is_some_and(|g| g.contains("尚未协同")), "{:?}", coverage[1].gap);

        let ids: Vec<&str> = declarations.iter().map(|d| d.cus_ciq_no.as_str()).collect();
        assert_eq!(ids, [cus(3).replace('I', "E").as_str(), cus(1).as_str(), cus(2).as_str()]);
        let first = declarations.iter().find(|d| d.cus_ciq_no == cus(1)).unwrap();
        assert_eq!(first.direction, Direction::Import);
        assert_eq!(first.declaration_type, DeclarationType::General);
        assert_eq!(first.month, "2026-01");
        assert_eq!(first.lines, [("USD".to_owned(), "6789.32".to_owned()), ("USD".to_owned(), "12.50".to_owned())]);
        let export = declarations.iter().find(|d| d.direction == Direction::Export).unwrap();
        assert_eq!(
            enterprise_of(&declarations),
            Some(("西安数据协同贸易有限公司".to_owned(), "91610000MA6TEST01X".to_owned())),
            "{export:?}"
        );
    }

    #[test]
    fn a_task_that_does_not_ask_for_everything_covers_nothing() {
        let (_dir, mut store) = open();
        // Imports of 一般报关单 only: a certificate would miss exports and 备案清单.
        let task = store.task_create(&create_one_stream("2026-01-01", "2026-01-31")).unwrap().number;
        let w = window("2026-01-01", "2026-01-31");
        let r = row(&cus(1), "2026-01-28 10:00:00");
        store.list_page(&page(&task, &w, 1, 0, 1, vec![r.clone()])).unwrap();
        store.window_done(&done(&task, &w, 1, 1)).unwrap();
        store.detail_save(&save(&task, detail_for(&r))).unwrap();
        assert_eq!(finish(&mut store, &task), TaskState::Completed);
        let coverage = store.trade_coverage("2026-01", "2026-01", None).unwrap();
        assert!(!coverage[0].covered());
    }

    #[test]
    fn a_month_whose_counts_disagree_is_a_gap_until_a_newer_sync_reconciles_it() {
        let (_dir, mut store) = open();
        let old = certifiable_task(&mut store, "2026-01-01", "2026-02-28", "2026-05-25 14:33:52");
        let january = vec![row(&cus(1), "2026-01-28 10:00:00"), row(&cus(2), "2026-01-28 11:00:00")];
        let february = vec![row(&cus(3), "2026-02-10 10:00:00")];
        sync_month(&mut store, &old, "2026-01-01", "2026-01-31", &january, false);
        sync_month(&mut store, &old, "2026-02-01", "2026-02-28", &february, true);
        assert_eq!(finish(&mut store, &old), TaskState::Failed);

        // February agrees inside the failed task and counts; January does not.
        let coverage = store.trade_coverage("2026-01", "2026-02", None).unwrap();
        assert!(!coverage[0].covered());
        assert!(coverage[0].gap.as_deref().is_some_and(|g| g.contains("不一致")), "{:?}", coverage[0].gap);
        assert_eq!(coverage[1].task.as_ref(), Some(&old));

        let new = certifiable_task(&mut store, "2026-01-01", "2026-01-31", "2026-05-26 09:00:00");
        sync_month(&mut store, &new, "2026-01-01", "2026-01-31", &january, true);
        assert_eq!(finish(&mut store, &new), TaskState::Completed);
        let (coverage, declarations) = store.trade_declarations("2026-01", "2026-02", None).unwrap();
        assert_eq!(coverage[0].task.as_ref(), Some(&new));
        assert_eq!(coverage[1].task.as_ref(), Some(&old));
        assert_eq!(declarations.len(), 3, "each declaration once");
    }

    #[test]
    fn certificates_are_numbered_per_day_and_recorded() {
        let (_dir, mut store) = open();
        assert_eq!(store.next_certificate_number("20261125").unwrap(), "ZM20261125001");
        let issued = IssuedCertificate {
            number: "ZM20261125001".into(),
            issued_at: "2026-11-25 10:00:00".into(),
            range_from: "2025-01".into(),
            range_to: "2025-12".into(),
            inputs: "{}".into(),
            code: "ab".repeat(32),
            declarations: 3,
            pdf_sha256: "cd".repeat(32),
            signature: None,
        };
        store.record_certificate(&issued).unwrap();
        assert_eq!(store.next_certificate_number("20261125").unwrap(), "ZM20261125002");
        assert_eq!(store.next_certificate_number("20261126").unwrap(), "ZM20261126001");
        assert_eq!(store.certificate("ZM20261125001").unwrap(), Some(issued.clone()));
        assert!(store.record_certificate(&issued).is_err(), "a number is never reused");
        assert_eq!(store.certificate("ZM20261125009").unwrap(), None);
    }

    #[test]
    fn an_imported_data_file_replaces_the_previous_one_of_its_name() {
        let (_dir, mut store) = open();
        store.import_data_file("rates-customs", "month,currency\n", 0, "2026-11-25 10:00:00").unwrap();
        store.import_data_file("rates-customs", "month,currency\n2025-01,USD\n", 1, "2026-11-25 11:00:00").unwrap();
        store.import_data_file("holidays-cn", "date,kind\n", 0, "2026-11-25 11:00:00").unwrap();
        assert_eq!(
            store.data_files().unwrap(),
            [
                ("holidays-cn".to_owned(), "date,kind\n".to_owned()),
                ("rates-customs".to_owned(), "month,currency\n2025-01,USD\n".to_owned())
            ]
        );
    }

    #[test]
    fn settings_are_set_replaced_and_removed() {
        let (_dir, mut store) = open();
        let set = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        store.set_settings(&set(&[("issuer", " 陕西电子口岸有限责任公司 "), ("seal", "证明专用章")])).unwrap();
        store.set_settings(&set(&[("seal", "数据核验专用章")])).unwrap();
        assert_eq!(store.settings().unwrap(), set(&[("issuer", "陕西电子口岸有限责任公司"), ("seal", "数据核验专用章")]));
        store.set_settings(&set(&[("seal", "")])).unwrap();
        assert_eq!(store.setting("seal").unwrap(), None);
    }
}
