//! A certificate signed with the IC card, end to end through the host's pipe: a reconciled
//! January in the store, the virtual card in vsmartcard-vpcd's first slot (pcscd is started by
//! `cargo xtask test`; without it this test fails, never skips), `certificate_make` with
//! `sign`, then `verify-certificate` on the PDF it answered.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod card_support;
mod store_support;

use base64::Engine;
use card_support::{error_code, host, PIN, REPLY};
use datalink_core::checkpoint::{DetailSave, ListPageSave, TaskFinish, WindowDone};
use datalink_core::plan::Window;
use datalink_core::task::{DeclarationType, Direction, DirectionChoice, StatusSide, Stream, TypeChoice};
use serde_json::{json, Value};
use store_support::{create, detail, january, request, row, run};
use virtual_card::card::{CardSpec, Profile};
use virtual_card::pcscd::{self, SlotLock};
use virtual_card::{InsertedCard, SLOT_0};

fn ok(reply: Value) -> Value {
    assert_eq!(reply["ok"], json!(true), "{reply}");
    reply["result"].clone()
}

#[test]
fn a_certificate_signed_with_the_card_carries_the_signature_and_verifies() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    let card = InsertedCard::insert(SLOT_0, CardSpec::new(Profile::Test, PIN)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("datalink.db");
    let db_text = db.to_str().unwrap();
    let mut host = host(&[("DATALINK_CARD_BACKEND", "pcsc"), ("DATALINK_CARD_READER", SLOT_0.reader), ("DATALINK_DB", db_text)]);

    // January 2026 synced as a certificate needs it: both types, both directions, 结关.
    let mut conditions = create("2026-02-02 10:00:00");
    conditions.conditions.types = TypeChoice::Both;
    conditions.conditions.directions = DirectionChoice::Both;
    let task = ok(host.request(request("task_create", &conditions), REPLY))["number"].clone();
    let task: datalink_core::task::TaskNumber = serde_json::from_value(task).unwrap();
    let rows: Vec<_> = (1..=3).map(row).collect();
    for direction in Direction::BOTH {
        for declaration_type in [DeclarationType::General, DeclarationType::Filing] {
            let stream = Stream { direction, declaration_type, status: StatusSide::Closed };
            let window = Window { period: "2026-01".into(), stream, span: january(), lookup: false };
            let mine = if direction == Direction::Import && declaration_type == DeclarationType::General { rows.clone() } else { vec![] };
            let total = mine.len() as u64;
            let page = ListPageSave { task: task.clone(), window: window.clone(), pass: 1, offset: 0, total, rows: mine };
            ok(host.request(request("list_page", &page), REPLY));
            let done = WindowDone { task: task.clone(), window_key: window.key(), pass: 1, total };
            ok(host.request(request("window_done", &done), REPLY));
        }
    }
    for r in &rows {
        let saved = ok(host.request(request("detail_save", &DetailSave { task: task.clone(), detail: detail(r) }), REPLY));
        assert_eq!(saved["reconciled"], json!(true));
    }
    let finished = ok(host.request(request("task_finish", &TaskFinish { task, now: store_support::time("2026-02-02 10:30:00") }), REPLY));
    assert_eq!(finished["task"]["state"], json!("completed"), "{finished}");
    // The rows name no 境内收发货人: the enterprise comes from the settings.
    ok(host.request(json!({"type": "settings_set", "values": {"company": "西安数据协同贸易有限公司", "credit_code": "91610000MA6TEST01X"}}), REPLY));

    let form = json!({"from": "2026-01", "to": "2026-01", "project": "外贸发展专项资金", "department": "西安市商务局"});
    let mut unsigned_card = form.clone();
    unsigned_card["type"] = json!("certificate_make");
    unsigned_card["sign"] = json!(true);
    assert_eq!(error_code(&host.request(unsigned_card, REPLY)), 3015, "signing needs the PIN first");

    let mut signed = form.clone();
    signed["type"] = json!("certificate_make");
    signed["sign"] = json!(true);
    signed["pin"] = json!(PIN);
    let made = ok(host.request(signed, REPLY));
    assert_eq!(made["signed"], json!(true), "{made}");
    assert!(made["number"].as_str().unwrap().starts_with("ZM"), "{made}");
    // Two signing commands reached the card: the first (no PIN yet) was refused by it, the second signed.
    assert_eq!(card.card().received_with_ins(0x2A).len(), 2);

    let pdf = base64::engine::general_purpose::STANDARD.decode(made["pdfBase64"].as_str().unwrap()).unwrap();
    assert_eq!(pdf.len() as u64, made["bytes"].as_u64().unwrap());
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("DataLinkSignature") && text.contains("DataLinkCardCertificate"), "the signature travels in /Info");
    let file = dir.path().join("signed.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let (code, stdout, stderr) = run(&["verify-certificate", file.to_str().unwrap(), "--db", db_text]);
    let stdout = String::from_utf8_lossy(&stdout);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("核验通过") && stdout.contains("含IC卡签名"), "{stdout}");
}
