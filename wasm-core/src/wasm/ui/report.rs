//! 数据验证报告 (`#/report`): the reports on offer (进出口贸易额证明 first, 数据协同核验表,
//! 月度贸易汇总), the 申报信息 form (申请项目, 申报部门, 时间范围 `YYYYMM`–`YYYYMM`, remembered in
//! `chrome.storage.local`), the seed's 注意 notes, and what 确认 does:
//!
//! 1. `report_coverage` — which months a reconciled sync covers. Months missing: they are named,
//!    with why, and 去协同 opens 报关单协同 with the range and conditions filled in
//!    (`view::report::sync_offer`). Nothing else is shown: a certificate over an incomplete sync
//!    would be wrong.
//! 2. `report_trade_value` — the figures and the certificate's words: the preview (an A4-like
//!    sheet with the watermark as a repeated, rotated, `aria-hidden` text layer), the warnings
//!    (a rate without an official source …) *before* the buttons, the 核验表, the chart (SVG
//!    from `view::report::chart`) and the monthly and per-currency tables.
//! 3. PDF 下载 / PDF 打印 — `certificate_make`; the PDF (base64) becomes a Blob: downloaded under
//!    the host's file name, or opened in a new tab where Chrome's PDF viewer prints it. With
//!    使用IC卡签名 the card signs the verification code; the PIN field is a password field, never
//!    logged, and emptied once the PIN was used.
//!
//! The 设置 block reads and writes the certificate's settings (`settings_get` / `settings_set`).
//! Every decision is in `crate::view::report`; this file only builds DOM nodes (text as text,
//! the chart through `createElementNS`) and wires events. Marks: `report` once drawn, then
//! `report:invalid`, `report:gaps`, `report:ready`, `report:error`, `report:pdf`,
//! `report:pdf-error`, `report:settings`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::{json, Value};
use wasm_bindgen::JsCast;

use super::dom::{self, button, el, form_row, El, Scope};
use super::{api, problem, App};
use crate::error::{ErrorCode, ErrorInfo};
use crate::report::{setting, CertificateMade, CertificatePreview, Coverage, ReportForm, Settings, TextTable, TradeValueReport};
use crate::view::report::{self as rv, FormField, FormInput, SettingsInput, SvgNode};
use crate::view::text::{Lang, T};
use crate::view::{advice, fmt};

/// Where the form's last values are remembered.
const STORAGE_KEY: &str = "reportForm";
/// How many times the watermark's text is repeated over the sheet.
const WATERMARK_REPEAT: usize = 48;
/// A printed PDF's object URL lives this long (the viewer tab reads it).
const PRINT_URL_MS: u32 = 600_000;
/// A downloaded PDF's object URL lives this long (the download reads it after the click).
const DOWNLOAD_URL_MS: u32 = 60_000;

struct SettingsFields {
    issuer: El,
    seal: El,
    company: El,
    credit: El,
    save: El,
    status: El,
}

struct Page {
    app: Rc<App>,
    scope: Scope,
    project: El,
    department: El,
    from: El,
    to: El,
    error: El,
    notices: El,
    result: El,
    settings: SettingsFields,
    offers: Vec<(El, &'static str)>,
    /// The form of the report on screen (what the PDF buttons make).
    shown: RefCell<Option<ReportForm>>,
    /// The certificate made for it, and whether it was signed: 打印 after 下载 makes no new one.
    made: RefCell<Option<(ReportForm, bool, CertificateMade)>>,
    running: Cell<bool>,
}

pub fn mount(app: Rc<App>, scope: &Scope) {
    let lang = app.lang();
    let t = |x: T| x.get(lang);
    let (default_from, default_to) = rv::default_range(api::today());
    let text_input =
        |field: FormField, placeholder: &str| el("input").id(field.id()).attr("type", "text").attr("placeholder", placeholder).attr("autocomplete", "off");
    let month_input = |field: FormField, value: &str| {
        text_input(field, t(T::PhMonth)).attr("maxlength", "7").attr("inputmode", "numeric").class("month-input").attr("value", value)
    };
    let settings_input = |id: &str, placeholder: &str| {
        el("input").id(id).attr("type", "text").attr("placeholder", placeholder).attr("autocomplete", "off").attr("maxlength", "60")
    };
    let offers = [
        ("trade", T::ReportTradeCert, T::ReportTradeCertDesc),
        ("coverage", T::ReportCoverage, T::ReportCoverageDesc),
        ("monthly", T::ReportMonthly, T::ReportMonthlyDesc),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (key, title, desc))| {
        let tile = el("button")
            .attr("type", "button")
            .class(if i == 0 { "offer active" } else { "offer" })
            .attr("data-report", key)
            .child(el("strong").text(t(title)))
            .child(el("span").text(t(desc)));
        (tile, key)
    })
    .collect();
    let page = Rc::new(Page {
        app: app.clone(),
        scope: scope.clone(),
        project: text_input(FormField::Project, t(T::PhProject)).attr("maxlength", "60"),
        department: text_input(FormField::Department, t(T::PhDepartment)).attr("maxlength", "60"),
        from: month_input(FormField::From, &default_from),
        to: month_input(FormField::To, &default_to),
        error: el("p").id("rp-error").class("form-error"),
        notices: el("div").id("rp-notices").class("notices"),
        result: el("div").id("rp-result").class("report-result"),
        settings: SettingsFields {
            issuer: settings_input("rp-set-issuer", setting::DEFAULT_ISSUER),
            seal: settings_input("rp-set-seal", setting::DEFAULT_SEAL_CAPTION),
            company: settings_input("rp-set-company", ""),
            credit: settings_input("rp-set-credit", "").attr("maxlength", "18").class("mono"),
            save: button(t(T::SaveSettings), "").id("rp-save-settings"),
            status: el("span").id("rp-settings-status").class("export-status"),
        },
        offers,
        shown: RefCell::new(None),
        made: RefCell::new(None),
        running: Cell::new(false),
    });
    page.layout();
    page.wire();
    let loading = page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        loading.restore().await;
        if !loading.scope.alive() {
            return;
        }
        dom::mark("report");
        loading.load_settings().await;
    });
}

impl Page {
    fn lang(&self) -> Lang {
        self.app.lang()
    }

    fn t(&self, t: T) -> &'static str {
        t.get(self.lang())
    }

    fn layout(&self) {
        let t = |x: T| self.t(x);
        let offers = el("div").class("offers").id("rp-offers").children(self.offers.iter().map(|(tile, _)| tile.clone()));
        let range = el("div")
            .class("range")
            .child(self.from.clone())
            .child(el("span").class("tilde").text("-"))
            .child(self.to.clone())
            .child(button(t(T::Query), "").id("rp-query"));
        let form = el("div").class("report-form").children([
            el("h3").text(t(T::DeclareInfo)),
            form_row(t(T::FieldProject), true, self.project.clone()),
            form_row(t(T::FieldDepartment), true, self.department.clone()),
            form_row(t(T::FieldRange), true, range),
            self.error.clone(),
            el("div").class("buttons").child(button(t(T::Confirm), "primary").id("rp-confirm")),
        ]);
        let notes = el("div")
            .class("report-notes")
            .id("rp-notes")
            .child(el("strong").text(t(T::NoteTitle)))
            .child(el("ol").children([T::NoteRange, T::NoteDepartment, T::NoteWatermark, T::NoteComplete].map(|n| el("li").text(t(n)))));
        let s = &self.settings;
        let settings = el("details").class("settings").id("rp-settings").child(el("summary").text(t(T::ReportSettings))).children([
            form_row(t(T::FieldIssuer), false, s.issuer.clone()),
            form_row(t(T::FieldSealCaption), false, s.seal.clone()),
            form_row(t(T::FieldCompanyOverride), false, s.company.clone()),
            form_row(t(T::FieldCreditCode), false, s.credit.clone()),
            el("p").class("hint").text(t(T::SettingsHint)),
            el("div").class("buttons").child(s.save.clone()).child(s.status.clone()),
        ]);
        self.app.main.append(&el("section").class("card report").children([
            el("h2").text(t(T::NavReport)),
            el("h3").text(t(T::ReportsOnOffer)),
            offers,
            el("div").class("report-entry").child(form).child(notes),
            settings,
            self.notices.clone(),
            self.result.clone(),
        ]));
    }

    fn wire(self: &Rc<Self>) {
        let doc = dom::document();
        for id in ["rp-confirm", "rp-query"] {
            if let Some(b) = doc.get_element_by_id(id) {
                let page = self.clone();
                self.scope.click(&El(b), move || page.start());
            }
        }
        for field in [&self.project, &self.department, &self.from, &self.to] {
            let page = self.clone();
            self.scope.on(field, "keydown", move |e| {
                if js_sys::Reflect::get(e, &"key".into()).ok().and_then(|k| k.as_string()).as_deref() == Some("Enter") {
                    page.start();
                }
            });
        }
        for (tile, key) in &self.offers {
            let page = self.clone();
            let key = *key;
            self.scope.click(tile, move || page.choose(key));
        }
        let page = self.clone();
        self.scope.click(&self.settings.save, move || {
            let page = page.clone();
            wasm_bindgen_futures::spawn_local(async move { page.save_settings().await });
        });
    }

    /// A report tile: highlighted, and its part of the result shown when there is one.
    fn choose(&self, key: &str) {
        for (tile, k) in &self.offers {
            tile.set_class(if *k == key { "offer active" } else { "offer" });
        }
        match dom::document().get_element_by_id(&format!("rp-section-{key}")) {
            Some(section) => section.scroll_into_view(),
            None => self.project.focus(),
        }
    }

    fn input(&self) -> FormInput {
        FormInput { project: self.project.value(), department: self.department.value(), from: self.from.value(), to: self.to.value() }
    }

    fn field(&self, field: FormField) -> &El {
        match field {
            FormField::Project => &self.project,
            FormField::Department => &self.department,
            FormField::From => &self.from,
            FormField::To => &self.to,
        }
    }

    /// The form as last confirmed.
    async fn restore(&self) {
        let stored = api::load(&[STORAGE_KEY]).await;
        let Some(form) = stored.get(STORAGE_KEY) else { return };
        for (key, field) in [("project", &self.project), ("department", &self.department), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = form.get(key).and_then(Value::as_str).filter(|v| !v.is_empty()) {
                field.set_value(v);
            }
        }
    }

    fn start(self: &Rc<Self>) {
        let page = self.clone();
        wasm_bindgen_futures::spawn_local(async move { page.run().await });
    }

    /// 确认 / 查询.
    async fn run(self: &Rc<Self>) {
        if self.running.replace(true) {
            return;
        }
        self.run_once().await;
        self.running.set(false);
    }

    async fn run_once(self: &Rc<Self>) {
        let lang = self.lang();
        self.error.set_text("");
        for f in [FormField::Project, FormField::Department, FormField::From, FormField::To] {
            self.field(f).0.class_list().remove_1("invalid").ok();
        }
        let mut form = match rv::check_form(&self.input()) {
            Ok(form) => form,
            Err(p) => {
                let field = self.field(p.field);
                field.0.class_list().add_1("invalid").ok();
                self.error.set_text(&p.message(lang));
                field.focus();
                dom::mark("report:invalid");
                return;
            }
        };
        // Only the active enterprise's tasks count, and the certificate names it.
        form.range.enterprise = self.app.enterprise();
        let remembered = json!({
            "project": form.project, "department": form.department,
            "from": rv::compact_month(&form.range.from), "to": rv::compact_month(&form.range.to),
        });
        let mut items = serde_json::Map::new();
        items.insert(STORAGE_KEY.to_owned(), remembered);
        api::save(&Value::Object(items)).await;
        self.notices.clear();
        *self.shown.borrow_mut() = None;
        self.result.replace(&el("p").class("hint plain").text(self.t(T::Checking)));

        let coverage = api::ask_as::<Coverage>(&api::message("report_coverage", &form.range)).await;
        if !self.scope.alive() {
            return;
        }
        let coverage = match coverage {
            Ok(c) => c,
            Err(e) => return self.failed(&e),
        };
        if !coverage.gaps().is_empty() {
            self.result.clear();
            self.result.append(&self.gaps(&coverage));
            self.result.append(&self.coverage_section(&coverage));
            dom::mark("report:gaps");
            return;
        }
        self.result.replace(&el("p").class("hint plain").text(self.t(T::Computing)));
        let report = api::ask_as::<TradeValueReport>(&api::message("report_trade_value", &form)).await;
        if !self.scope.alive() {
            return;
        }
        match report {
            Ok(report) => {
                self.result.clear();
                self.show(&form, &report);
                *self.shown.borrow_mut() = Some(form);
                dom::mark("report:ready");
            }
            Err(e) => {
                self.failed(&e);
                if e.error_code() == Some(ErrorCode::ReportMonthsNotSynced) {
                    // The data changed since the coverage was read: show it again.
                    self.result.append(&self.coverage_section(&coverage));
                }
            }
        }
    }

    fn failed(&self, error: &ErrorInfo) {
        self.result.clear();
        self.notices.clear();
        let notice = problem(&self.app, error).attr("data-code", &error.code.to_string());
        self.notices.append(&notice);
        dom::mark("report:error");
    }

    /// The months a certificate still needs, and the sync that fills them.
    fn gaps(&self, coverage: &Coverage) -> El {
        let lang = self.lang();
        let list = el("ul").class("gap-list");
        for row in rv::coverage_rows(coverage, lang).into_iter().filter(|r| !r.covered) {
            list.append(&el("li").attr("data-month", &row.month).child(el("strong").text(&row.month)).push_text(&format!("：{}", row.result)));
        }
        let panel = el("div")
            .class("notice warning gaps")
            .id("rp-gaps")
            .child(el("strong").text(self.t(T::GapsTitle)))
            .child(list)
            .child(el("p").text(self.t(T::GapsHint)));
        match rv::sync_offer(coverage, api::today()) {
            Some(offer) => panel.append(
                &el("p").child(
                    super::link(&offer.href, self.t(T::GoSync), "button primary")
                        .id("rp-go-sync")
                        .attr("data-from", &offer.range.first.to_string())
                        .attr("data-to", &offer.range.last.to_string()),
                ),
            ),
            None => panel.append(&el("p").text(self.t(T::GapsFuture))),
        }
        panel
    }

    /// 数据协同核验表.
    fn coverage_section(&self, coverage: &Coverage) -> El {
        let lang = self.lang();
        let t = |x: T| x.get(lang);
        let body = el("tbody");
        for row in rv::coverage_rows(coverage, lang) {
            let [q, h, r] = row.counts.clone();
            let count = |v: String, key: &str| el("td").class("count").attr("data-count", key).text(&v);
            body.append(&el("tr").attr("data-month", &row.month).class(if row.covered { "" } else { "unreconciled" }).children([
                el("td").text(&row.month),
                count(q, "queried"),
                count(h, "hit"),
                count(r, "reconciled"),
                el("td").class("mono").attr("data-field", "task").text(&row.task),
                el("td").attr("data-field", "result").child(el("span").class(if row.covered { "badge ok" } else { "badge bad" }).text(&row.result)),
            ]));
        }
        let head =
            el("thead")
                .child(el("tr").children(
                    [T::ColMonth, T::ColQueried, T::ColHit, T::ColReconciled, T::ColCoverageTask, T::ColCoverageResult].map(|c| el("th").text(t(c))),
                ));
        el("div")
            .class("report-part")
            .id("rp-section-coverage")
            .child(el("h3").text(t(T::ReportCoverage)))
            .child(el("div").class("table-wrap").child(el("table").class("table").id("rp-coverage").child(head).child(body)))
    }

    /// Everything a covered range shows.
    fn show(self: &Rc<Self>, form: &ReportForm, report: &TradeValueReport) {
        let lang = self.lang();
        let t = |x: T| x.get(lang);
        let fact = |label: T, id: &str, value: String| {
            el("div").class("condition").child(el("dt").text(&format!("{}：", label.get(lang)))).child(el("dd").id(id).text(&value))
        };
        let facts = el("dl").class("conditions facts").children([
            fact(T::FactCompany, "rp-company", report.company.clone()),
            fact(T::FactCreditCode, "rp-credit-code", report.credit_code.clone()),
            fact(T::FactPeriod, "rp-period", report.range.compact()),
            fact(T::FactDeclarations, "rp-declarations", report.declarations.to_string()),
        ]);
        let trade = el("div").class("report-part").id("rp-section-trade").child(el("h3").text(t(T::ReportTradeCert))).child(facts);
        if !report.warnings.is_empty() {
            trade.append(
                &el("div")
                    .class("notice warning report-warnings")
                    .id("rp-warnings")
                    .attr("role", "alert")
                    .child(el("strong").text(t(T::WarningsTitle)))
                    .child(el("ul").children(report.warnings.iter().map(|w| el("li").text(w)))),
            );
        }
        trade.append(&self.pdf_controls(form));
        trade.append(&el("h3").text(t(T::CertPreview)));
        trade.append(&self.sheet(&report.certificate, &report.verification_code));
        self.result.append(&trade);
        self.result.append(&self.coverage_section(&report.coverage));
        self.result.append(&monthly(report, lang));
    }

    /// PDF 下载, PDF 打印, 使用IC卡签名 with its PIN, and where it says how it went.
    fn pdf_controls(self: &Rc<Self>, form: &ReportForm) -> El {
        let t = |x: T| self.t(x);
        let download = button(t(T::PdfDownload), "primary").id("rp-download");
        let print = button(t(T::PdfPrint), "").id("rp-print");
        let sign = el("input").attr("type", "checkbox").id("rp-sign");
        let pin =
            el("input").attr("type", "password").id("rp-pin").attr("placeholder", t(T::PhPin)).attr("maxlength", "16").attr("autocomplete", "new-password");
        pin.set_hidden(true);
        let status = el("div").class("export-status").id("rp-status");
        let (p, s) = (pin.clone(), sign.clone());
        self.scope.on(&sign, "change", move |_| {
            p.set_hidden(!s.checked());
            if !s.checked() {
                p.set_value("");
            }
        });
        for (b, print) in [(&download, false), (&print, true)] {
            let (page, form, sign, pin, status) = (self.clone(), form.clone(), sign.clone(), pin.clone(), status.clone());
            self.scope.click(b, move || {
                let job = Job { form: form.clone(), print, sign: sign.checked(), pin: pin.clone(), status: status.clone() };
                let page = page.clone();
                wasm_bindgen_futures::spawn_local(async move { page.make(job, false).await });
            });
        }
        el("div").class("pdf-controls").children([
            el("div").class("buttons").children([download, print, el("label").class("sign").child(sign).push_text(&format!(" {}", t(T::SignWithCard))), pin]),
            el("p").class("hint plain").text(t(T::SignHint)),
            status,
        ])
    }

    /// `certificate_make`, then the file: saved, or opened for printing.
    async fn make(self: &Rc<Self>, job: Job, confirm_last_try: bool) {
        let lang = self.lang();
        let cached = self.made.borrow().as_ref().filter(|(f, signed, _)| *f == job.form && (*signed || !job.sign)).map(|(_, _, m)| m.clone());
        let made = match cached {
            Some(made) => made,
            None => {
                let mut message = api::message("certificate_make", &job.form);
                message["sign"] = Value::Bool(job.sign);
                message["confirmLastTry"] = Value::Bool(confirm_last_try);
                if job.sign {
                    let typed = job.pin.value();
                    if !crate::secret::well_formed(&typed) {
                        job.pin.0.class_list().add_1("invalid").ok();
                        job.status.set_class("export-status error");
                        job.status.set_text(T::ErrPin.get(lang));
                        job.pin.focus();
                        dom::mark("report:pdf-error");
                        return;
                    }
                    message["pin"] = Value::String(typed);
                }
                job.pin.0.class_list().remove_1("invalid").ok();
                job.status.set_class("export-status");
                job.status.set_text(T::Making.get(lang));
                let result = api::ask_as::<CertificateMade>(&message).await;
                drop(message);
                let keep_pin = matches!(&result, Err(e) if e.error_code() == Some(ErrorCode::LastTryUnconfirmed));
                if !keep_pin {
                    // Used (or refused by the card): never kept, never typed again by itself.
                    job.pin.set_value("");
                }
                if !self.scope.alive() {
                    return;
                }
                match result {
                    Ok(made) => {
                        *self.made.borrow_mut() = Some((job.form.clone(), made.signed, made.clone()));
                        made
                    }
                    Err(e) => return self.make_failed(job, &e),
                }
            }
        };
        match pdf_url(&made.pdf_base64) {
            Ok(url) => {
                if job.print {
                    api::open_tab(&url);
                } else {
                    save_as(&url, &made.file_name);
                }
                revoke_later(url, if job.print { PRINT_URL_MS } else { DOWNLOAD_URL_MS });
            }
            Err(e) => {
                job.status.set_class("export-status error");
                job.status.set_text(&e);
                dom::mark("report:pdf-error");
                return;
            }
        }
        let mut text = T::Made.fill(lang, &[&made.number, &made.file_name, &fmt::bytes(made.bytes)]);
        if made.signed {
            text.push_str(T::MadeSigned.get(lang));
        }
        if job.print {
            text = format!("{text} · {}", T::PrintOpened.get(lang));
        }
        job.status.clear();
        job.status.set_class("export-status ok");
        job.status.set_attr("data-file", &made.file_name);
        job.status.set_attr("data-number", &made.number);
        job.status.set_attr("data-bytes", &made.bytes.to_string());
        job.status.set_attr("data-signed", if made.signed { "true" } else { "false" });
        job.status.set_text(&text);
        for w in &made.warnings {
            job.status.append(&el("p").class("warning-line").text(w));
        }
        dom::mark("report:pdf");
    }

    fn make_failed(self: &Rc<Self>, job: Job, error: &ErrorInfo) {
        let lang = self.lang();
        job.status.clear();
        job.status.set_class("export-status");
        job.status.append(&problem(&self.app, error).attr("data-code", &error.code.to_string()));
        let a = advice::advise(error, lang);
        if a.action == advice::Action::ConfirmLastTry {
            let confirm = button(T::ConfirmLastTry.get(lang), "danger").id("rp-confirm-last-try");
            let page = self.clone();
            let once = RefCell::new(Some(job.clone()));
            self.scope.click(&confirm, move || {
                if let Some(job) = once.borrow_mut().take() {
                    let page = page.clone();
                    wasm_bindgen_futures::spawn_local(async move { page.make(job, true).await });
                }
            });
            job.status.append(&confirm);
        }
        if matches!(error.error_code(), Some(ErrorCode::WrongPin | ErrorCode::PinFormat | ErrorCode::CardLocked)) {
            job.pin.0.class_list().add_1("invalid").ok();
        }
        dom::mark("report:pdf-error");
    }

    /// The certificate as it will be printed: an A4-like sheet under its watermark.
    fn sheet(&self, c: &CertificatePreview, code: &str) -> El {
        let watermark = el("div").class("cert-watermark").attr("aria-hidden", "true");
        let layer = el("div").class("cert-watermark-layer");
        for _ in 0..WATERMARK_REPEAT {
            layer.append(&el("span").text(&c.watermark));
        }
        watermark.append(&layer);
        let seal_caption = Some(self.settings.seal.value()).filter(|s| !s.trim().is_empty()).unwrap_or_else(|| setting::DEFAULT_SEAL_CAPTION.to_owned());
        let seal = el("div")
            .class("cert-seal")
            .attr("aria-hidden", "true")
            .child(el("span").class("cert-seal-issuer").text(&c.issuer))
            .child(el("span").class("cert-seal-star").text("★"))
            .child(el("span").class("cert-seal-caption").text(&seal_caption));
        let sheet = el("article").class("cert-sheet").id("rp-cert").attr("lang", "zh-CN").attr("data-watermark", &c.watermark).child(watermark);
        sheet.append(&el("h1").class("cert-title").text(&c.title));
        sheet.append(&el("p").class("cert-addressee").text(&c.addressee));
        for p in &c.body {
            sheet.append(&el("p").class("cert-body").text(p));
        }
        sheet.append(
            &el("div").class("cert-sign").child(el("p").class("cert-issuer").text(&c.issuer)).child(el("p").class("cert-date").text(&c.date_line)).child(seal),
        );
        let notes = el("div").class("cert-footnotes");
        for f in &c.footnotes {
            notes.append(&el("p").text(f));
        }
        sheet.append(&notes);
        sheet.append(&el("p").class("cert-code mono").id("rp-code").text(&T::VerificationCode.fill(Lang::Zh, &[&code])));
        for table in &c.attachments {
            sheet.append(&attachment(table));
        }
        sheet
    }

    async fn load_settings(&self) {
        match api::ask_as::<Settings>(&json!({ "type": "settings_get" })).await {
            Ok(settings) => self.fill_settings(&settings),
            Err(e) => {
                self.settings.status.set_class("export-status error");
                self.settings.status.set_text(&advice::advise(&e, self.lang()).lines(self.lang()).0);
            }
        }
    }

    fn fill_settings(&self, settings: &Settings) {
        let input = rv::settings_input(settings);
        let s = &self.settings;
        s.issuer.set_value(&input.issuer);
        s.seal.set_value(&input.seal_caption);
        s.company.set_value(&input.company);
        s.credit.set_value(&input.credit_code);
    }

    async fn save_settings(self: &Rc<Self>) {
        let lang = self.lang();
        let s = &self.settings;
        s.credit.0.class_list().remove_1("invalid").ok();
        let input = SettingsInput { issuer: s.issuer.value(), seal_caption: s.seal.value(), company: s.company.value(), credit_code: s.credit.value() };
        let settings = match rv::check_settings(&input) {
            Ok(settings) => settings,
            Err(text) => {
                if text == T::ErrCreditCode {
                    s.credit.0.class_list().add_1("invalid").ok();
                }
                s.status.set_class("export-status error");
                s.status.set_text(text.get(lang));
                return;
            }
        };
        s.save.set_disabled(true);
        let saved = api::ask_as::<Settings>(&api::message("settings_set", &settings)).await;
        s.save.set_disabled(false);
        if !self.scope.alive() {
            return;
        }
        match saved {
            Ok(settings) => {
                self.fill_settings(&settings);
                s.status.set_class("export-status ok");
                s.status.set_text(T::SettingsSaved.get(lang));
                // The certificate on screen used the old settings.
                *self.made.borrow_mut() = None;
                if self.shown.borrow().is_some() {
                    self.run().await;
                }
                dom::mark("report:settings");
            }
            Err(e) => {
                s.status.set_class("export-status error");
                s.status.set_text(&advice::advise(&e, lang).lines(lang).0);
            }
        }
    }
}

/// One PDF button press.
#[derive(Clone)]
struct Job {
    form: ReportForm,
    print: bool,
    sign: bool,
    pin: El,
    status: El,
}

/// An attachment table of the certificate (附件).
fn attachment(table: &TextTable) -> El {
    let numeric = |i: usize| table.numeric.get(i).copied().unwrap_or(false);
    let head = el("thead").child(el("tr").children(table.columns.iter().enumerate().map(|(i, c)| el("th").class(if numeric(i) { "num" } else { "" }).text(c))));
    let body = el("tbody").children(
        table.rows.iter().map(|row| el("tr").children(row.iter().enumerate().map(|(i, v)| el("td").class(if numeric(i) { "num" } else { "" }).text(v)))),
    );
    el("div").class("cert-attachment").child(el("h4").text(&table.title)).child(el("table").class("cert-table").child(head).child(body))
}

/// 月度贸易汇总: the chart, the monthly table with its totals, the per-currency table.
fn monthly(report: &TradeValueReport, lang: Lang) -> El {
    let t = |x: T| x.get(lang);
    let num = |v: &str| el("td").class("count").text(v);
    let body = el("tbody");
    for row in rv::summary_rows(&report.months) {
        body.append(&el("tr").attr("data-month", &row.month).children([
            el("td").text(&row.month),
            num(&row.import_declarations),
            num(&row.export_declarations),
            num(&row.import_rmb),
            num(&row.export_rmb),
            num(&row.import_usd),
            num(&row.export_usd),
        ]));
    }
    let (imports, exports) = report.months.iter().fold((0u64, 0u64), |(i, e), m| (i + u64::from(m.import_declarations), e + u64::from(m.export_declarations)));
    body.append(&el("tr").class("total-row").children([
        el("td").text(t(T::TotalRow)),
        num(&imports.to_string()),
        num(&exports.to_string()),
        num(&rv::amount(&report.import_rmb)),
        num(&rv::amount(&report.export_rmb)),
        num(&rv::amount(&report.import_usd)),
        num(&rv::amount(&report.export_usd)),
    ]));
    let head = el("thead").child(el("tr").children(
        [T::ColMonth, T::ColImportCount, T::ColExportCount, T::ColImportRmb, T::ColExportRmb, T::ColImportUsd, T::ColExportUsd].map(|c| el("th").text(t(c))),
    ));
    let currencies = el("tbody");
    for row in rv::currency_rows(&report.months) {
        currencies.append(&el("tr").attr("data-currency", &row.currency).children([
            el("td").text(&format!("{} {}", row.currency, row.name)),
            num(&row.import),
            num(&row.export),
        ]));
    }
    let currency_head = el("thead").child(el("tr").children([T::ColCurrency, T::ColImport, T::ColExport].map(|c| el("th").text(t(c)))));
    el("div").class("report-part").id("rp-section-monthly").children([
        el("h3").text(t(T::ReportMonthly)),
        el("div").class("chart-wrap").id("rp-chart").child(svg(&rv::chart(&report.months, lang))),
        el("div").class("table-wrap").child(el("table").class("table").id("rp-summary").child(head).child(body)),
        el("h4").text(t(T::CurrencyTitle)),
        el("div").class("table-wrap").child(el("table").class("table narrow").id("rp-currency").child(currency_head).child(currencies)),
    ])
}

/// An [`SvgNode`] as DOM: `createElementNS` in the SVG namespace, attributes as attributes, text
/// as a text node.
fn svg(node: &SvgNode) -> El {
    let doc = dom::document();
    let element = match doc.create_element_ns(Some(rv::SVG_NS), node.name) {
        Ok(element) => element,
        Err(_) => return el("span"),
    };
    for (name, value) in &node.attrs {
        // The namespace comes with createElementNS; an `xmlns` attribute is for serialized SVG.
        if *name != "xmlns" {
            let _ = element.set_attribute(name, value);
        }
    }
    if let Some(text) = &node.text {
        let _ = element.append_child(&doc.create_text_node(text));
    }
    for child in &node.children {
        let _ = element.append_child(&svg(child).0);
    }
    El(element)
}

/// The PDF (base64) as a Blob's object URL.
fn pdf_url(base64_pdf: &str) -> Result<String, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64_pdf).map_err(|e| e.to_string())?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/pdf");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&array), &options).map_err(|e| format!("{e:?}"))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))
}

/// Downloads `url` as `file_name` (a hidden `<a download>`, clicked).
fn save_as(url: &str, file_name: &str) {
    let anchor = el("a").attr("href", url).attr("download", file_name);
    anchor.set_hidden(true);
    if let Some(body) = dom::document().body() {
        let _ = body.append_child(&anchor.0);
    }
    if let Some(a) = anchor.0.dyn_ref::<web_sys::HtmlElement>() {
        a.click();
    }
    anchor.0.remove();
}

fn revoke_later(url: String, ms: u32) {
    gloo::timers::callback::Timeout::new(ms, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
}
