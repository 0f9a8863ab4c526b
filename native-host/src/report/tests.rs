//! The report path end to end inside the host: a synced store → figures → PDF → verification.

use std::collections::BTreeMap;

use datalink_core::month::YearMonth;
use datalink_core::portal::ListRow;
use datalink_core::rates::RateBook;
use datalink_core::report::{CertificateRequest, ReportForm, ReportRange};
use rust_decimal::Decimal;

use super::make::{issue, prepare};
use super::verify::{verify, Verdict};
use super::*;
use crate::store::fixtures::*;

/// Goods lines per declaration of the sample: `(tradeCurr, declTotal)`, customs codes and ISO mixed.
fn goods(cus_ciq_no: &str) -> Vec<(&'static str, &'static str)> {
    match &cus_ciq_no[cus_ciq_no.len() - 1..] {
        "1" => vec![("502", "1000.00"), ("EUR", "500.50")],
        "2" => vec![("142", "20000")],
        "3" => vec![("USD", "3000.25"), ("116", "1000000")],
        "4" => vec![("HKD", "8888.88")],
        _ => vec![("USD", "1")],
    }
}

/// `row` announcing `n` goods lines (the store cross-checks the count against the detail).
fn lines(mut row: ListRow, n: usize) -> ListRow {
    row.goods_num = u32::try_from(n).ok();
    row.raw.insert("goodsNum".into(), n.to_string().into());
    row
}

fn sample(row: ListRow) -> ListRow {
    let n = goods(&row.cus_ciq_no).len();
    lines(row, n)
}

fn detail(row: &ListRow) -> datalink_core::portal::Detail {
    detail_with_goods(row, &goods(&row.cus_ciq_no))
}

/// A store with January and February 2025 synced and reconciled: two imports and one export in
/// January, one export in February.
fn synced() -> (tempfile::TempDir, Store) {
    let (dir, mut store) = open();
    let task = certifiable_task(&mut store, "2025-01-01", "2025-02-28", "2025-03-05 10:00:00");
    let mut i1 = sample(row("I20250000000000001", "2025-01-10 10:00:00"));
    i1.raw.insert("consigneeCname".into(), "西安数据协同贸易有限公司".into());
    i1.raw.insert("rcvgdTradeScc".into(), "91610000MA6TEST01X".into());
    let i2 = sample(row("I20250000000000002", "2025-01-12 10:00:00"));
    let e3 = sample(export_row(3, "2025-01-20 10:00:00"));
    let e4 = sample(export_row(4, "2025-02-11 10:00:00"));
    sync_month_with(&mut store, &task, "2025-01-01", "2025-01-31", &[i1, i2, e3], true, &detail);
    sync_month_with(&mut store, &task, "2025-02-01", "2025-02-28", &[e4], true, &detail);
    store.task_finish(&datalink_core::checkpoint::TaskFinish { task, now: time("2025-03-05 10:30:00") }).unwrap();
    (dir, store)
}

fn form(from: &str, to: &str) -> ReportForm {
    ReportForm { range: ReportRange { from: from.into(), to: to.into(), enterprise: None }, project: "外贸发展专项资金".into(), department: "西安市商务局".into() }
}

fn today() -> datalink_core::calendar::Date {
    "2026-11-25".parse().unwrap()
}

/// The figures, computed here from the goods lines above and the shipped rate table with plain
/// decimal arithmetic — independently of `trade_value`.
fn expected_rmb_usd() -> (Decimal, Decimal, Decimal, Decimal) {
    let book = RateBook::shipped();
    let iso = |c: &str| match c {
        "502" => "USD",
        "142" => "CNY",
        "116" => "JPY",
        other => other,
    }
    .to_owned();
    let (mut import_rmb, mut import_usd, mut export_rmb, mut export_usd) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (cus, month, import) in [("I1", "2025-01", true), ("I2", "2025-01", true), ("E3", "2025-01", false), ("E4", "2025-02", false)] {
        let month: YearMonth = month.parse().unwrap();
        for (curr, total) in goods(cus) {
            let amount: Decimal = total.parse().unwrap();
            let currency = iso(curr);
            let rmb = if currency == "CNY" { Decimal::ONE } else { book.customs(month, &currency).unwrap().rmb_per_unit };
            let usd = if currency == "USD" { Decimal::ONE } else { book.usd(month, &currency).unwrap().usd_per_unit };
            let (r, u) = if import { (&mut import_rmb, &mut import_usd) } else { (&mut export_rmb, &mut export_usd) };
            *r += amount * rmb;
            *u += amount * usd;
        }
    }
    (import_rmb, import_usd, export_rmb, export_usd)
}

fn cents(d: Decimal) -> String {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero).to_string()
}

#[test]
fn the_figures_equal_an_independent_computation_from_the_goods_lines_and_the_rate_table() {
    let (_dir, store) = synced();
    let report = make::trade_value_on(&store, &form("2025-01", "2025-02"), today()).unwrap();
    let (import_rmb, import_usd, export_rmb, export_usd) = expected_rmb_usd();
    assert_eq!(report.import_rmb, cents(import_rmb));
    assert_eq!(report.import_usd, cents(import_usd));
    assert_eq!(report.export_rmb, cents(export_rmb));
    assert_eq!(report.export_usd, cents(export_usd));
    assert_eq!(report.declarations, 4);
    assert_eq!(report.company, "西安数据协同贸易有限公司");
    assert_eq!(report.credit_code, "91610000MA6TEST01X");
    assert_eq!(report.months.len(), 2);
    assert_eq!((report.months[0].import_declarations, report.months[0].export_declarations), (2, 1));
    assert_eq!((report.months[1].import_declarations, report.months[1].export_declarations), (0, 1));
    assert_eq!(report.months[1].by_currency.len(), 1);
    assert_eq!(report.months[1].by_currency[0].export, "8888.88");
    let body = &report.certificate.body[0];
    assert!(body.starts_with("兹证明西安数据协同贸易有限公司(统一社会信用代码：91610000MA6TEST01X)"), "{body}");
    assert!(body.contains("2025年1月-2月"), "{body}");
    assert_eq!(report.certificate.addressee, "西安市商务局：");
    assert_eq!(report.certificate.watermark, "外贸发展专项资金 · 西安市商务局");
    // The shipped rates are approximations: the page must say so before printing.
    assert!(report.warnings.iter().any(|w| w.contains("没有官方来源")), "{:?}", report.warnings);
    assert_eq!(report.coverage.gaps(), Vec::<&str>::new());
}

#[test]
fn a_cross_year_range_and_an_unsynced_month_are_refused_with_their_codes() {
    let (_dir, store) = synced();
    let error = make::trade_value_on(&store, &form("2024-12", "2025-01"), today()).unwrap_err();
    assert_eq!(error.to_info().code, 4001, "{error:?}");
    let error = make::trade_value_on(&store, &form("2025-01", "2025-03"), today()).unwrap_err();
    let info = error.to_info();
    assert_eq!((info.code, info.detail.as_deref()), (4002, Some("未完成协同的月份：2025-03")));
    let coverage = coverage(&store, &ReportRange { from: "2024-12".into(), to: "2025-03".into(), enterprise: None }).unwrap();
    assert_eq!(coverage.gaps(), ["2024-12", "2025-03"], "a table may span years");
}

#[test]
fn a_missing_rate_names_its_month_and_currency() {
    let (_dir, mut store) = synced();
    // A currency without any row: ZAR is known to the catalog but not in the shipped tables.
    let task = certifiable_task(&mut store, "2025-04-01", "2025-04-30", "2025-05-02 10:00:00");
    let r = lines(row("I20250000000000009", "2025-04-10 10:00:00"), 1);
    sync_month_with(&mut store, &task, "2025-04-01", "2025-04-30", &[r], true, &|r| detail_with_goods(r, &[("ZAR", "100")]));
    store.task_finish(&datalink_core::checkpoint::TaskFinish { task, now: time("2025-05-02 10:30:00") }).unwrap();
    let error = make::trade_value_on(&store, &form("2025-04", "2025-04"), today()).unwrap_err();
    let info = error.to_info();
    assert!(matches!(info.code, 4003 | 4005), "{info:?}");
    let detail = info.detail.unwrap_or_default();
    assert!(detail.contains("ZAR") || detail.contains("I20250000000000009"), "{detail}");
}

#[test]
fn a_certificate_is_numbered_recorded_and_verified_and_an_edited_or_outdated_one_is_rejected() {
    let (_dir, mut store) = synced();
    let prepared = prepare(&store, &form("2025-01", "2025-02"), today(), None).unwrap();
    let (made, pdf) = issue(&mut store, prepared.clone(), None).unwrap();
    assert_eq!(made.number, "ZM20261125001");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(made.bytes, pdf.len() as u64);
    assert_eq!(made.file_name, "进出口贸易额证明_西安数据协同贸易有限公司_202501-202502.pdf");
    assert!(!made.signed);
    assert_eq!(store.certificate("ZM20261125001").unwrap().map(|c| c.declarations), Some(4));
    let verdict = verify(&store, &pdf).unwrap();
    assert!(matches!(verdict, Verdict::Matches { recorded: true, .. }), "{verdict:?}");
    assert!(verdict.message().starts_with("核验通过"));

    // Someone edits an amount (same metadata, different words): the pages give it away.
    let mut forged = prepared.clone();
    let first_amount = forged.text.body[0].find("人民币 ").map(|i| i + "人民币 ".len()).unwrap();
    forged.text.body[0].replace_range(first_amount..first_amount + 1, "9");
    let forged_pdf = forged.render(&made.number, None).unwrap();
    assert_ne!(forged_pdf, pdf);
    let verdict = verify(&store, &forged_pdf).unwrap();
    assert!(matches!(verdict, Verdict::Edited { ref pages, .. } if pages == &[1]), "{verdict:?}");
    assert!(!verdict.matches());

    // The data changes after the certificate (an amended declaration, synced again).
    let task = certifiable_task(&mut store, "2025-02-01", "2025-02-28", "2025-03-10 10:00:00");
    let e4 = lines(export_row(4, "2025-03-09 09:00:00"), 1);
    sync_month_with(&mut store, &task, "2025-02-01", "2025-02-28", &[e4], true, &|r| detail_with_goods(r, &[("HKD", "9999.99")]));
    store.task_finish(&datalink_core::checkpoint::TaskFinish { task, now: time("2025-03-10 10:30:00") }).unwrap();
    let verdict = verify(&store, &pdf).unwrap();
    assert!(matches!(verdict, Verdict::DataChanged { .. }), "{verdict:?}");
    assert!(verdict.message().contains("数据已变化"));

    // Not a DataLink certificate at all.
    assert_eq!(verify(&store, b"%PDF-1.4 not really").unwrap(), Verdict::NotOurs);
}

#[test]
fn an_imported_official_rate_changes_the_figures_and_the_code() {
    let (_dir, mut store) = synced();
    let before = prepare(&store, &form("2025-02", "2025-02"), today(), None).unwrap();
    let file = "month,currency,rmb_per_unit,rate_date,source\n2025-02,HKD,0.9200,2025-01-15,https://www.customs.gov.cn/example\n";
    data::import(&mut store, file, "2026-11-25 10:00:00").unwrap();
    let after = prepare(&store, &form("2025-02", "2025-02"), today(), None).unwrap();
    assert_ne!(before.code, after.code);
    assert_eq!(after.report().export_rmb, cents(Decimal::new(888888, 2) * Decimal::new(9200, 4)));
}

#[test]
fn settings_accept_only_known_keys_and_name_the_issuer() {
    let (_dir, mut store) = synced();
    let mut values = BTreeMap::new();
    values.insert("issuer".to_owned(), "陕西电子口岸有限责任公司".to_owned());
    let settings = set_settings(&mut store, &Settings { values }).unwrap();
    assert_eq!(settings.values.get("issuer").map(String::as_str), Some("陕西电子口岸有限责任公司"));
    let prepared = prepare(&store, &form("2025-01", "2025-01"), today(), None).unwrap();
    assert_eq!(prepared.text.issuer, "陕西电子口岸有限责任公司");
    let mut bad = BTreeMap::new();
    bad.insert("sql".to_owned(), "x".to_owned());
    assert_eq!(set_settings(&mut store, &Settings { values: bad }).unwrap_err().to_info().code, 4007);
    let request = CertificateRequest { form: form("2025-01", "2025-01"), sign: false, pin: None, confirm_last_try: false };
    let made = certificate_make(&mut store, &request).unwrap();
    assert!(made.pdf_base64.len() > 1000);
}

/// `pdftotext` of `pdf` (poppler-utils, installed by `cargo xtask test`), with `-layout` or not.
fn pdftotext(pdf: &[u8], layout: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    let mut command = std::process::Command::new("pdftotext");
    if layout {
        command.arg("-layout");
    }
    let out = command.arg(&path).arg("-").output().expect("pdftotext (poppler-utils) is installed by `cargo xtask test`");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_certificate_pdf_shows_every_word_and_amount_of_the_figures_as_extractable_text() {
    let (_dir, mut store) = synced();
    let prepared = prepare(&store, &form("2025-01", "2025-02"), today(), None).unwrap();
    let (_, pdf) = issue(&mut store, prepared.clone(), None).unwrap();
    let text = pdftotext(&pdf, false);
    let flat: String = text.split_whitespace().collect();
    for needle in ["进出口贸易额证明", "西安市商务局：", "西安数据协同贸易有限公司", "91610000MA6TEST01X", "2025年1月-2月", "特此证明。", "2026年11月25日"] {
        assert!(flat.contains(needle), "{needle} not in the text:\n{text}");
    }
    // Every amount of the body (in 万) and of the attachment tables.
    let body: String = prepared.text.body.concat().split_whitespace().collect();
    assert!(flat.contains(&body), "the body does not extract as printed:\n{text}");
    let layout = pdftotext(&pdf, true);
    for table in &prepared.text.attachments {
        for row in &table.rows {
            for (cell, numeric) in row.iter().zip(&table.numeric) {
                if *numeric {
                    assert!(layout.contains(cell.as_str()), "amount {cell} of {} not in the PDF", table.title);
                }
            }
        }
    }
    // The watermark and the seal are outlines, not text.
    assert!(!flat.contains("外贸发展专项资金·西安市商务局"), "the watermark leaked into the text");
    assert!(!flat.contains("证明专用章"), "the seal leaked into the text");
}

/// Several enterprises: the certificate names the active one; a broker's data makes none.
#[test]
fn the_certificate_names_the_active_enterprise_and_refuses_a_brokers_data() {
    let (_dir, mut store) = synced();
    // The sample's task was created by an older version (no enterprise): it is the only
    // enterprise's, so with the filter it still covers January and February.
    store
        .connection()
        .execute("UPDATE task SET enterprise_scc = '91610000MA6TEST01X', enterprise_name = '西安甲贸易有限公司'", [])
        .unwrap();
    let mut active = form("2025-01", "2025-02");
    active.range.enterprise = Some("91610000MA6TEST01X".into());
    let report = make::trade_value_on(&store, &active, today()).unwrap();
    assert_eq!((report.company.as_str(), report.credit_code.as_str(), report.declarations), ("西安甲贸易有限公司", "91610000MA6TEST01X", 4));

    // A broker (报关申报单位) synced the same months for its clients.
    let mut broker = create_one_stream("2025-01-01", "2025-02-28");
    broker.conditions.types = datalink_core::task::TypeChoice::Both;
    broker.conditions.directions = datalink_core::task::DirectionChoice::Both;
    broker.conditions.role = datalink_core::task::Role::Declarant;
    broker.now = time("2025-03-06 10:00:00");
    broker.enterprise =
        Some(datalink_core::checkpoint::Enterprise { scc: "91440300MA5TEST03Z".into(), name: "深圳丙报关行有限公司".into(), code: "4403980001".into() });
    let task = store.task_create(&broker).unwrap().number;
    let rows = [sample(row("I20250000000000009", "2025-01-15 10:00:00"))];
    sync_month_with(&mut store, &task, "2025-01-01", "2025-01-31", &rows, true, &detail);
    sync_month_with(&mut store, &task, "2025-02-01", "2025-02-28", &[], true, &detail);
    store.task_finish(&datalink_core::checkpoint::TaskFinish { task, now: time("2025-03-06 10:30:00") }).unwrap();

    let mut of_broker = form("2025-01", "2025-02");
    of_broker.range.enterprise = Some("91440300MA5TEST03Z".into());
    let info = make::trade_value_on(&store, &of_broker, today()).unwrap_err().to_info();
    assert_eq!(info.code, 4002);
    assert!(info.detail.as_deref().is_some_and(|d| d.contains("报关申报单位") && d.contains("2025-01、2025-02")), "{info:?}");
    // A's certificate is unchanged by the broker's task.
    let again = make::trade_value_on(&store, &active, today()).unwrap();
    assert_eq!((again.declarations, again.verification_code.clone()), (4, report.verification_code));
}
