//! 报关单协同: the form, 连接协同服务 (环境检测), the four steps, 启动协同服务 / 取消执行 / 重置,
//! the progress bar and the live 执行日志. The task runs in the worker; this page polls
//! `sync_status` every 500 ms and picks a running task up when it is opened again.
//!
//! Opened as `#/sync?from=YYYY-MM-DD&to=YYYY-MM-DD&for=report` (数据验证报告's 去协同), the form
//! starts with that range as 自定义 and, for a report, the conditions a certificate needs; a
//! finished task of this worker then does not overwrite them (a running one still shows).

use std::cell::RefCell;
use std::rc::Rc;

use gloo::timers::future::TimeoutFuture;
use serde_json::{json, Value};

use super::dom::{self, button, el, form_row, option, El, Scope};
use super::{api, link, App};
use crate::browse::EnvReport;
use crate::checkpoint::{LogCategory, TaskRecord};
use crate::error::ErrorCode;
use crate::page::{SyncSettings, SyncStatus};
use crate::portal::DESK_PATH;
use crate::task::{DirectionChoice, Role, StatusChoice, TaskNumber, TaskState, TypeChoice};
use crate::view::advice::{self, Action, Advice};
use crate::view::form::{self, Field, FieldError, FormInput, SettingsInput, Span};
use crate::view::text::{self, Lang, T};
use crate::view::{fmt, steps};

const POLL_MS: u32 = 500;
/// The log keeps this many lines on screen (查看 shows the whole log).
const MAX_LOG_LINES: u32 = 1500;

/// The connection, as long as the app page is open (it survives moving between views).
#[derive(Default, Clone)]
struct Conn {
    connected: bool,
    environment: Option<bool>,
    host_version: Option<String>,
}

thread_local! {
    static CONN: RefCell<Conn> = RefCell::new(Conn::default());
}

fn conn() -> Conn {
    CONN.with(|c| c.borrow().clone())
}

fn set_conn(f: impl FnOnce(&mut Conn)) {
    CONN.with(|c| f(&mut c.borrow_mut()));
}

struct Fields {
    types: El,
    role: El,
    directions: El,
    status: El,
    cus: El,
    entry: El,
    bill: El,
    pin: El,
    spans: Vec<(Span, El)>,
    first: El,
    last: El,
    portal: El,
    concurrency: El,
    rate: El,
}

#[derive(Default)]
struct Poll {
    after_seq: u64,
    task: Option<TaskNumber>,
    running: bool,
    state: Option<TaskState>,
    lines: u32,
    /// The first (time, fraction done) this page saw of the run: the pace for the time left.
    pace: Option<(f64, f64)>,
    /// The last state marked on `<body data-rendered>` (marked once per change).
    marked: Option<String>,
}

struct Page {
    app: Rc<App>,
    scope: Scope,
    host_state: El,
    connect: El,
    notices: El,
    install: El,
    download: El,
    steps: El,
    f: Fields,
    error: El,
    start: El,
    cancel: El,
    reset: El,
    progress: El,
    progress_title: El,
    bar: El,
    progress_line: El,
    time_left: El,
    paused: El,
    result: El,
    log: El,
    poll: RefCell<Poll>,
    busy: RefCell<bool>,
    /// The user confirmed sending the PIN with one try left (3016), for the next start only.
    confirm_last_try: std::cell::Cell<bool>,
    /// The form was filled from the page's link (`#/sync?from=…&to=…`).
    prefilled: std::cell::Cell<bool>,
}

fn now_text() -> String {
    let d = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

fn select(id: &str, options: &[(&str, &str)], selected: &str) -> El {
    el("select").id(id).children(options.iter().map(|(v, l)| option(v, l, *v == selected)))
}

fn input(id: &str, kind: &str, placeholder: &str) -> El {
    el("input").id(id).attr("type", kind).attr("placeholder", placeholder).attr("autocomplete", "off")
}

fn code<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(Value::String(text.to_owned())).ok()
}

async fn save_settings(portal: String, settings: SyncSettings) {
    api::save(&json!({ "portal": portal, "concurrency": settings.concurrency, "rate": settings.rate_per_second as u64 })).await;
}

/// The settings the user last saved (for 断点续查 started from another page).
pub(super) async fn stored_settings() -> Option<SyncSettings> {
    let stored = api::load(&["portal", "concurrency", "rate"]).await;
    let input = SettingsInput {
        portal: stored.get("portal").and_then(Value::as_str).unwrap_or(form::DEFAULT_PORTAL).to_owned(),
        concurrency: stored.get("concurrency").and_then(Value::as_u64).map(|n| n.to_string()).unwrap_or_default(),
        rate: stored.get("rate").and_then(Value::as_u64).map(|n| n.to_string()).unwrap_or_default(),
    };
    form::check_settings(&input).ok().map(|(_, s)| s)
}

pub fn mount(app: Rc<App>, scope: &Scope) {
    let lang = app.lang();
    let t = |t: T| t.get(lang);
    let today = api::today();
    let preset = Span::PastThreeYears.preset(today).unwrap_or(crate::period::DateRange { first: today, last: today });

    let f = Fields {
        types: select("f-types", &[("general", t(T::TypeGeneral)), ("filing", t(T::TypeFiling)), ("both", t(T::TypeBoth))], "both"),
        role: select(
            "f-role",
            &[Role::Consignee, Role::Declarant, Role::Owner, Role::DataEntry].map(|r| (r.code(), text::role_label(r, lang))),
            Role::Consignee.code(),
        ),
        directions: select("f-directions", &[("both", t(T::DirBoth)), ("import", t(T::DirImport)), ("export", t(T::DirExport))], "both"),
        status: select("f-status", &[("closed", t(T::StatusClosed)), ("not_closed", t(T::StatusNotClosed)), ("all", t(T::StatusAll))], "closed"),
        cus: input(Field::CusCiqNo.id(), "text", t(T::PhCusCiqNo)).attr("maxlength", "18"),
        entry: input(Field::EntryId.id(), "text", t(T::PhEntryId)).attr("maxlength", "18"),
        bill: input(Field::BillNo.id(), "text", t(T::PhBillNo)).attr("maxlength", "64"),
        pin: input(Field::Pin.id(), "password", t(T::PhPin)).attr("maxlength", "16").attr("autocomplete", "new-password"),
        spans: Span::ALL
            .iter()
            .map(|s| (*s, el("input").attr("type", "radio").attr("name", "span").attr("value", s.code()).id(&format!("f-span-{}", s.code()))))
            .collect(),
        first: input(Field::First.id(), "date", "").attr("value", &preset.first.to_string()),
        last: input(Field::Last.id(), "date", "").attr("value", &preset.last.to_string()).attr("max", &today.to_string()),
        portal: input(Field::Portal.id(), "url", form::DEFAULT_PORTAL).attr("value", form::DEFAULT_PORTAL),
        concurrency: input(Field::Concurrency.id(), "number", "").attr("min", "1").attr("max", "16"),
        rate: input(Field::Rate.id(), "number", "").attr("min", "1").attr("max", "1000"),
    };
    let defaults = SyncSettings::default();
    f.concurrency.set_value(&defaults.concurrency.to_string());
    f.rate.set_value(&(defaults.rate_per_second as u32).to_string());
    if let Some((_, radio)) = f.spans.first() {
        radio.set_checked(true);
    }

    let page = Rc::new(Page {
        app: app.clone(),
        scope: scope.clone(),
        host_state: el("span").id("host-state").class("host-state waiting").text(t(T::HostNotConnected)),
        connect: button(t(T::Connect), "primary").id("connect"),
        notices: el("div").id("notices").class("notices"),
        install: el("p").id("install-help").class("install-help").text(t(T::InstallHelp)),
        download: button(t(T::DownloadClient), "link-button").id("download-client"),
        steps: el("ol").id("steps").class("steps"),
        f,
        error: el("p").id("form-error").class("form-error"),
        start: button(t(T::Start), "primary").id("start"),
        cancel: button(t(T::Cancel), "danger").id("cancel"),
        reset: button(t(T::Reset), "").id("reset"),
        progress: el("div").id("progress").class("progress-panel"),
        progress_title: el("h3").id("progress-title"),
        bar: el("div").class("bar-fill").id("progress-bar"),
        progress_line: el("p").id("progress-line").class("progress-line"),
        time_left: el("p").id("time-left").class("time-left"),
        paused: el("p").id("paused").class("notice warning"),
        result: el("div").id("result").class("result"),
        log: el("ol").id("log").class("log").attr("aria-live", "polite"),
        poll: RefCell::new(Poll::default()),
        busy: RefCell::new(false),
        confirm_last_try: std::cell::Cell::new(false),
        prefilled: std::cell::Cell::new(false),
    });
    page.install.set_hidden(true);
    page.progress.set_hidden(true);
    page.paused.set_hidden(true);
    page.render_layout();
    page.update_connection();
    page.update_steps(None);
    page.empty_log();
    page.wire();
    page.prefill_from_link();

    let loading = page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        loading.load_settings().await;
        dom::mark("sync");
        loading.poll_loop().await;
    });
}

impl Page {
    fn t(&self, t: T) -> &'static str {
        t.get(self.app.lang())
    }

    fn lang(&self) -> Lang {
        self.app.lang()
    }

    fn render_layout(&self) {
        let t = |x: T| self.t(x);
        let f = &self.f;
        let span_group = el("div").class("segmented").id("f-span");
        for (span, radio) in &f.spans {
            span_group.append(&el("label").class("segment").child(radio).child(el("span").text(t(span.text()))));
        }
        let column1 = el("div").class("form-col").children([
            form_row(t(T::FieldTypes), true, f.types.clone()),
            el("p").class("hint").id("types-advice").text(t(T::TypesAdvice)),
            form_row(t(T::FieldRole), true, f.role.clone()),
            form_row(t(T::FieldDirections), true, f.directions.clone()),
            form_row(t(T::FieldStatus), true, f.status.clone()),
        ]);
        let column2 = el("div").class("form-col").children([
            form_row(t(T::FieldCusCiqNo), false, f.cus.clone()),
            form_row(t(T::FieldEntryId), false, f.entry.clone()),
            form_row(t(T::FieldBillNo), false, f.bill.clone()),
            el("p").class("hint").text(t(T::LookupHint)),
            form_row(t(T::FieldPin), false, f.pin.clone()),
            el("p").class("hint").text(t(T::PinHint)),
        ]);
        let column3 = el("div").class("form-col").children([
            form_row(t(T::FieldSpan), false, span_group),
            form_row(t(T::FieldFirst), false, f.first.clone()),
            form_row(t(T::FieldLast), false, f.last.clone()),
            super::documents::option_box(self.lang()),
        ]);
        let settings = el("details").class("settings").id("settings").child(el("summary").text(t(T::Settings))).children([
            form_row(t(T::FieldPortal), false, f.portal.clone()),
            el("p").class("hint").text(t(T::PortalHint)),
            form_row(t(T::FieldConcurrency), false, f.concurrency.clone()),
            form_row(t(T::FieldRate), false, f.rate.clone()),
        ]);
        let header = el("div").class("card-head").child(el("h2").text(&format!("+ {}", t(T::NavSync)))).child(self.download.clone());
        let host_line = el("div").class("host-line").child(self.host_state.clone()).child(self.connect.clone());
        let buttons = el("div").class("buttons").child(self.start.clone()).child(self.cancel.clone()).child(self.reset.clone());
        let bar = el("div").class("bar").child(self.bar.clone());
        self.progress.append(&self.progress_title);
        self.progress.append(&bar);
        self.progress.append(&self.progress_line);
        self.progress.append(&self.time_left);
        self.progress.append(&self.paused);
        self.progress.append(&self.result);
        let section = el("section").class("card sync").children([
            header,
            self.install.clone(),
            host_line,
            self.notices.clone(),
            self.steps.clone(),
            el("div").class("form-grid").child(column1).child(column2).child(column3),
            settings,
            super::schedule::block(self.lang(), &self.scope, self.f.portal.clone()),
            self.error.clone(),
            buttons,
            el("p").class("note").text(t(T::BackgroundNote)),
            self.progress.clone(),
            el("h3").class("log-title").text(t(T::LogTitle)),
            self.log.clone(),
        ]);
        self.app.main.append(&section);
    }

    fn wire(self: &Rc<Self>) {
        let scope = &self.scope;
        let page = self.clone();
        scope.click(&self.connect, move || {
            let page = page.clone();
            wasm_bindgen_futures::spawn_local(async move {
                page.connect().await;
            });
        });
        let page = self.clone();
        scope.click(&self.start, move || {
            let page = page.clone();
            wasm_bindgen_futures::spawn_local(async move { page.start().await });
        });
        let page = self.clone();
        scope.click(&self.cancel, move || {
            let page = page.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = api::ask(&json!({ "type": "sync_cancel" })).await {
                    page.show(advice::advise(&e, page.lang()));
                }
            });
        });
        let page = self.clone();
        scope.click(&self.reset, move || page.reset_form());
        for (span, radio) in &self.f.spans {
            let page = self.clone();
            let span = *span;
            scope.on(radio, "change", move |_| page.span_changed(span));
        }
        let install = self.install.clone();
        scope.click(&self.download, move || install.set_hidden(false));
        // Settings are remembered as they are typed (when valid).
        for field in [&self.f.portal, &self.f.concurrency, &self.f.rate] {
            let page = self.clone();
            scope.on(field, "change", move |_| {
                if let Ok((portal, settings)) = form::check_settings(&page.settings_input()) {
                    wasm_bindgen_futures::spawn_local(save_settings(portal, settings));
                }
            });
        }
        self.span_changed(Span::PastThreeYears);
    }

    /// `#/sync?from=…&to=…[&for=report]`: the range as 自定义; for a report, also both types,
    /// 报关收发货人, 进出口, 结关, and a note saying so.
    fn prefill_from_link(&self) {
        let hash = gloo::utils::window().location().hash().unwrap_or_default();
        let Some((range, for_report)) = crate::view::report::parse_sync_link(&hash) else { return };
        for (span, radio) in &self.f.spans {
            radio.set_checked(*span == Span::Custom);
        }
        self.span_changed(Span::Custom);
        self.f.first.set_value(&range.first.to_string());
        self.f.last.set_value(&range.last.to_string());
        if for_report {
            self.f.types.set_value("both");
            self.f.role.set_value(Role::Consignee.code());
            self.f.directions.set_value("both");
            self.f.status.set_value("closed");
            for field in [&self.f.cus, &self.f.entry, &self.f.bill] {
                field.set_value("");
            }
            let note = el("p").class("notice warning").id("prefill-note").text(self.t(T::SyncForReport));
            let _ = self.steps.0.after_with_node_1(&note.0);
        }
        self.prefilled.set(true);
    }

    async fn load_settings(&self) {
        let stored = api::load(&["portal", "concurrency", "rate"]).await;
        if let Some(portal) = stored.get("portal").and_then(Value::as_str) {
            self.f.portal.set_value(portal);
        }
        if let Some(n) = stored.get("concurrency").and_then(Value::as_u64) {
            self.f.concurrency.set_value(&n.to_string());
        }
        if let Some(n) = stored.get("rate").and_then(Value::as_u64) {
            self.f.rate.set_value(&n.to_string());
        }
    }

    fn span(&self) -> Span {
        self.f.spans.iter().find(|(_, r)| r.checked()).map_or(Span::PastThreeYears, |(s, _)| *s)
    }

    fn span_changed(&self, span: Span) {
        match span.preset(api::today()) {
            Some(range) => {
                self.f.first.set_value(&range.first.to_string());
                self.f.last.set_value(&range.last.to_string());
                self.f.first.set_attr("readonly", "");
                self.f.last.set_attr("readonly", "");
            }
            None => {
                self.f.first.remove_attr("readonly");
                self.f.last.remove_attr("readonly");
            }
        }
    }

    fn reset_form(&self) {
        self.f.types.set_value("both");
        self.f.role.set_value(Role::Consignee.code());
        self.f.directions.set_value("both");
        self.f.status.set_value("closed");
        for field in [&self.f.cus, &self.f.entry, &self.f.bill, &self.f.pin] {
            field.set_value("");
        }
        for (span, radio) in &self.f.spans {
            radio.set_checked(*span == Span::PastThreeYears);
        }
        self.span_changed(Span::PastThreeYears);
        self.clear_errors();
    }

    fn input(&self) -> FormInput {
        let f = &self.f;
        FormInput {
            types: parse(&f.types.value()).unwrap_or(TypeChoice::Both),
            role: parse(&f.role.value()).unwrap_or_default(),
            directions: parse(&f.directions.value()).unwrap_or(DirectionChoice::Both),
            status: parse(&f.status.value()).unwrap_or(StatusChoice::Closed),
            cus_ciq_no: f.cus.value(),
            entry_id: f.entry.value(),
            bill_no: f.bill.value(),
            span: self.span(),
            first: f.first.value(),
            last: f.last.value(),
            pin: f.pin.value(),
        }
    }

    fn settings_input(&self) -> SettingsInput {
        SettingsInput { portal: self.f.portal.value(), concurrency: self.f.concurrency.value(), rate: self.f.rate.value() }
    }

    fn field(&self, field: Field) -> &El {
        let f = &self.f;
        match field {
            Field::CusCiqNo => &f.cus,
            Field::EntryId => &f.entry,
            Field::BillNo => &f.bill,
            Field::First => &f.first,
            Field::Last => &f.last,
            Field::Pin => &f.pin,
            Field::Portal => &f.portal,
            Field::Concurrency => &f.concurrency,
            Field::Rate => &f.rate,
        }
    }

    fn clear_errors(&self) {
        self.error.set_text("");
        for field in [Field::CusCiqNo, Field::EntryId, Field::BillNo, Field::First, Field::Last, Field::Pin, Field::Portal, Field::Concurrency, Field::Rate] {
            self.field(field).0.class_list().remove_1("invalid").ok();
        }
    }

    fn field_error(&self, error: &FieldError) {
        let el = self.field(error.field);
        el.0.class_list().add_1("invalid").ok();
        if matches!(error.field, Field::Portal | Field::Concurrency | Field::Rate) {
            let _ = gloo::utils::document().get_element_by_id("settings").map(|s| s.set_attribute("open", ""));
        }
        self.error.set_text(&error.message(self.lang()));
        el.focus();
    }

    /// Shows a clear state above the steps.
    fn show(self: &Rc<Self>, advice: Advice) {
        let lang = self.lang();
        let (head, next) = advice.lines(lang);
        let notice = el("div").class(advice.level.class()).attr("data-code", &advice.code.map(|c| c.to_string()).unwrap_or_default());
        notice.append(&el("strong").class("notice-title").text(&head));
        if let Some(next) = next {
            notice.append(&el("p").class("notice-next").text(&next));
        }
        let action = match advice.action {
            Action::InstallHelp => Some(button(self.t(T::DownloadClient), "link-button")),
            Action::Reconnect => Some(button(self.t(T::Connect), "link-button")),
            Action::OpenPortalLogin => Some(button(self.t(T::OpenPortal), "link-button").id("open-portal")),
            Action::ConfirmLastTry => Some(button(self.t(T::ConfirmLastTry), "danger").id("confirm-last-try")),
            Action::None => None,
        };
        if let Some(b) = action {
            let page = self.clone();
            let kind = advice.action;
            self.scope.click(&b, move || match kind {
                Action::InstallHelp => page.install.set_hidden(false),
                Action::Reconnect => {
                    let page = page.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        page.connect().await;
                    });
                }
                Action::OpenPortalLogin => {
                    let portal = form::check_settings(&page.settings_input()).map(|(p, _)| p).unwrap_or_else(|_| form::DEFAULT_PORTAL.to_owned());
                    api::open_tab(&format!("{portal}{DESK_PATH}"));
                }
                Action::ConfirmLastTry => {
                    page.confirm_last_try.set(true);
                    let page = page.clone();
                    wasm_bindgen_futures::spawn_local(async move { page.start().await });
                }
                Action::None => {}
            });
            notice.append(&b);
        }
        self.notices.append(&notice);
    }

    fn empty_log(&self) {
        self.log.clear();
        self.log.append(&el("li").class("empty").text(self.t(T::LogEmpty)));
        self.poll.borrow_mut().lines = 0;
    }

    fn log_line(&self, at: &str, category: LogCategory, message: &str) {
        let mut poll = self.poll.borrow_mut();
        if poll.lines == 0 {
            self.log.clear();
        }
        poll.lines += 1;
        if poll.lines > MAX_LOG_LINES {
            if let Some(first) = self.log.0.first_element_child() {
                first.remove();
            }
        }
        let stick = self.log.0.scroll_top() + self.log.0.client_height() + 40 >= self.log.0.scroll_height();
        let class = match category {
            LogCategory::Connect => "tag tag-connect",
            LogCategory::Execute => "tag tag-execute",
            LogCategory::Result => "tag tag-result",
            LogCategory::Error => "tag tag-error",
        };
        self.log.append(
            &el("li")
                .class(if category == LogCategory::Error { "line error" } else { "line" })
                .child(el("span").class("time").text(at))
                .child(el("span").class(class).text(text::category_label(category, self.lang())))
                .child(el("span").class("message").text(message)),
        );
        if stick {
            self.log.scroll_to_bottom();
        }
    }

    fn page_log(&self, category: LogCategory, message: &str) {
        self.log_line(&now_text(), category, message);
    }

    fn update_connection(&self) {
        let c = conn();
        match (&c.host_version, c.connected) {
            (Some(v), true) => {
                self.host_state.set_text(&T::HostConnected.fill(self.lang(), &[v]));
                self.host_state.set_class("host-state ok");
            }
            (None, true) => {
                self.host_state.set_text(self.t(T::HostConnectedPlain));
                self.host_state.set_class("host-state ok");
            }
            _ => {
                self.host_state.set_text(self.t(T::HostNotConnected));
                self.host_state.set_class("host-state waiting");
            }
        }
    }

    fn update_steps(&self, task: Option<TaskState>) {
        let c = conn();
        self.steps.clear();
        for step in steps(c.connected, c.environment, task) {
            self.steps.append(
                &el("li")
                    .class(step.state.class())
                    .attr("data-step", &step.number.to_string())
                    .child(el("span").class("step-number").text(&step.number.to_string()))
                    .child(el("span").class("step-text").text(self.t(step.text))),
            );
        }
    }

    /// 连接协同服务: the host, the portal session, the card. Returns whether the environment
    /// check passed.
    async fn connect(self: &Rc<Self>) -> bool {
        if self.busy.replace(true) {
            return false;
        }
        self.connect.set_disabled(true);
        self.connect.set_text(self.t(T::Connecting));
        self.notices.clear();
        let lang = self.lang();
        self.page_log(LogCategory::Connect, self.t(T::LogEnvStart));
        let portal = form::check_settings(&self.settings_input()).map(|(p, _)| p);
        let passed = match portal {
            Err(e) => {
                self.field_error(&e);
                false
            }
            Ok(portal) => match api::ask_as::<EnvReport>(&json!({ "type": "env_check", "portal": portal })).await {
                Ok(report) => self.connected(report),
                Err(error) => {
                    set_conn(|c| {
                        c.connected = false;
                        c.environment = None;
                        c.host_version = None;
                    });
                    self.page_log(LogCategory::Error, &advice::advise(&error, lang).lines(lang).0);
                    self.show(advice::advise(&error, lang));
                    false
                }
            },
        };
        self.connect.set_disabled(false);
        self.connect.set_text(self.t(T::Connect));
        self.update_connection();
        let state = self.poll.borrow().state;
        self.update_steps(state);
        self.busy.replace(false);
        passed
    }

    fn connected(self: &Rc<Self>, report: EnvReport) -> bool {
        let lang = self.lang();
        set_conn(|c| {
            c.connected = true;
            c.host_version = Some(report.host.host_version.clone());
        });
        // The seed's order: the user first, then the client, then the check's verdict.
        if report.portal.logged_in {
            self.page_log(LogCategory::Connect, &T::LogUser.fill(lang, &[&report.portal.user_name]));
        }
        self.page_log(LogCategory::Connect, self.t(T::LogHostOk));
        self.page_log(LogCategory::Connect, &T::LogHostVersion.fill(lang, &[&report.host.host_version, &report.host.protocol]));
        if let Some(old) = advice::host_version(&report.host, lang) {
            self.show(old);
        }
        match (&report.card, &report.card_problem) {
            (Some(card), _) if card.ready => {
                let who = card.card.as_ref().map(|c| [c.holder.clone(), c.enterprise.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ")).unwrap_or_default();
                self.page_log(LogCategory::Connect, &T::LogCard.fill(lang, &[&who]));
            }
            (Some(card), _) => {
                let problem = card.checks.iter().find(|c| !c.ok).and_then(|c| c.problem.clone());
                if let Some(problem) = problem {
                    self.page_log(LogCategory::Connect, &T::LogCardMissing.fill(lang, &[&problem.message]));
                    self.show(advice::advise(&problem, lang));
                }
            }
            (None, Some(problem)) => {
                self.page_log(LogCategory::Connect, &T::LogCardMissing.fill(lang, &[&problem.message]));
                self.show(advice::advise(problem, lang));
            }
            (None, None) => {}
        }
        let ok = report.portal.logged_in;
        if ok {
            self.page_log(LogCategory::Connect, self.t(T::LogEnvOk));
        } else if let Some(problem) = &report.portal.problem {
            let a = advice::advise(problem, lang);
            self.page_log(LogCategory::Error, &a.lines(lang).0);
            self.show(a);
        }
        set_conn(|c| c.environment = Some(ok));
        ok
    }

    /// 启动协同服务.
    async fn start(self: &Rc<Self>) {
        self.clear_errors();
        let today = api::today();
        let (portal, settings) = match form::check_settings(&self.settings_input()) {
            Ok(s) => s,
            Err(e) => return self.field_error(&e),
        };
        let checked = match form::check(&self.input(), today) {
            Ok(c) => c,
            Err(e) => return self.field_error(&e),
        };
        let c = conn();
        if !(c.connected && c.environment == Some(true)) && !self.connect().await {
            return;
        }
        save_settings(portal.clone(), settings).await;
        // With a PIN, the worker checks it on the IC card before it creates the task (卡介质验证).
        let confirm = self.confirm_last_try.replace(false);
        let mut message = json!({
            "type": "sync_start", "conditions": checked.conditions, "portal": portal, "settings": settings,
            "verifyCard": checked.pin.is_some(), "confirmLastTry": confirm,
        });
        if let Some(pin) = &checked.pin {
            message["pin"] = Value::String(pin.expose().to_owned());
        }
        message["documents"] = Value::Bool(super::documents::option_checked());
        self.start.set_disabled(true);
        self.notices.clear();
        match api::ask_as::<TaskRecord>(&message).await {
            Ok(_) => {
                self.f.pin.set_value("");
                self.poll_now().await;
            }
            Err(e) => {
                self.start.set_disabled(false);
                if matches!(e.error_code(), Some(ErrorCode::WrongPin | ErrorCode::CardLocked | ErrorCode::PinFormat)) {
                    // Never typed again by itself: the user reads the tries left and types anew.
                    self.f.pin.set_value("");
                    self.field(Field::Pin).0.class_list().add_1("invalid").ok();
                }
                self.show(advice::advise(&e, self.lang()));
            }
        }
    }

    /// 断点续查 for the task shown (执行异常 / 已取消).
    async fn resume(self: &Rc<Self>, task: TaskNumber) {
        let settings = form::check_settings(&self.settings_input()).map(|(_, s)| s).ok();
        let message = json!({ "type": "sync_resume", "task": task, "settings": settings });
        match api::ask(&message).await {
            Ok(_) => self.poll_now().await,
            Err(e) => self.show(advice::advise(&e, self.lang())),
        }
    }

    async fn poll_loop(self: &Rc<Self>) {
        while self.scope.alive() {
            self.poll_now().await;
            TimeoutFuture::new(POLL_MS).await;
        }
    }

    async fn poll_now(self: &Rc<Self>) {
        let after = self.poll.borrow().after_seq;
        let Ok(status) = api::ask_as::<SyncStatus>(&json!({ "type": "sync_status", "after_seq": after })).await else { return };
        if !self.scope.alive() {
            return;
        }
        let running = status.state == Some(TaskState::Running);
        let new_run = {
            let poll = self.poll.borrow();
            status.task.is_some() && (status.task != poll.task || (running && !poll.running))
        };
        if new_run {
            {
                let mut poll = self.poll.borrow_mut();
                poll.task = status.task.clone();
                poll.running = running;
                poll.after_seq = 0;
                poll.pace = None;
            }
            self.empty_log();
            // A form filled from a link keeps its values over a finished task's conditions.
            if let Some(task) = status.task.clone().filter(|_| running || !self.prefilled.get()) {
                let page = self.clone();
                wasm_bindgen_futures::spawn_local(async move { page.show_task_conditions(task).await });
            }
            if after > 0 {
                return Box::pin(self.poll_now()).await;
            }
        }
        for (seq, line) in &status.lines {
            self.log_line(&line.at.to_string(), line.category, &line.message);
            self.poll.borrow_mut().after_seq = *seq;
        }
        {
            let mut poll = self.poll.borrow_mut();
            poll.running = running;
            poll.state = status.state;
        }
        self.show_status(&status);
    }

    fn show_status(self: &Rc<Self>, status: &SyncStatus) {
        let lang = self.lang();
        self.update_steps(status.state);
        let running = status.state == Some(TaskState::Running);
        self.start.set_disabled(running);
        self.start.set_text(if running { self.t(T::StepRunning) } else { self.t(T::Start) });
        self.cancel.set_disabled(!running);
        self.reset.set_disabled(running);
        self.lock_form(running);
        let Some(task) = &status.task else {
            self.progress.set_hidden(true);
            return;
        };
        if running {
            self.update_connection_running();
        }
        self.progress.set_hidden(false);
        self.progress_title.set_text(&format!("{} · {}", self.t(T::ProgressTitle), T::TaskNumberIs.fill(lang, &[task])));
        let percent = fmt::percent(status);
        let now = (js_sys::Date::now(), fmt::fraction(status));
        let first = *self.poll.borrow_mut().pace.get_or_insert(now);
        let seconds_left = fmt::estimate(first, now);
        self.bar.set_attr("style", &format!("width: {percent}%"));
        self.bar.set_attr("data-percent", &percent.to_string());
        self.progress_line.set_text(&fmt::progress_line(status, lang));
        self.time_left.set_text(&if running { fmt::time_left(seconds_left, lang) } else { String::new() });
        self.paused.set_text(self.t(T::Paused));
        self.paused.set_hidden(!status.paused);
        self.result.clear();
        if let (Some(report), Some(state)) = (&status.report, status.state) {
            let t = report.total;
            let class = if t.agree() && state == TaskState::Completed { "result-line ok" } else { "result-line bad" };
            self.result.append(
                &el("p")
                    .class(class)
                    .id("result-line")
                    .text(&T::Finished.fill(lang, &[&text::state_label(state, lang), &t.queried, &t.hit, &t.reconciled])),
            );
            self.result.append(&link(&format!("#/task/{task}/detail"), self.t(T::OpenDetail), "button"));
        }
        if matches!(status.state, Some(TaskState::Failed | TaskState::Cancelled)) {
            let resume = button(self.t(T::ResumeGaps), "primary").id("resume");
            let page = self.clone();
            let task = task.clone();
            self.scope.click(&resume, move || {
                let page = page.clone();
                let task = task.clone();
                wasm_bindgen_futures::spawn_local(async move { page.resume(task).await });
            });
            self.result.append(&resume);
        }
        let mark = format!("sync:{}", status.state.map(code).unwrap_or_default());
        let changed = self.poll.borrow().marked.as_deref() != Some(mark.as_str());
        if changed {
            dom::mark(&mark);
            self.poll.borrow_mut().marked = Some(mark);
        }
    }

    /// A running task means the host is connected, even when this page did not connect it (it
    /// was reopened while the task ran).
    fn update_connection_running(&self) {
        if !conn().connected {
            set_conn(|c| {
                c.connected = true;
                c.environment = Some(true);
            });
            self.update_connection();
        }
    }

    /// The form shows the conditions of the task on screen (a task picked up after the page was
    /// reopened, or resumed from 查看), read-only while it runs.
    async fn show_task_conditions(self: &Rc<Self>, task: TaskNumber) {
        let Ok(record) = api::ask_as::<TaskRecord>(&json!({ "type": "task_get", "task": task })).await else { return };
        if !self.scope.alive() {
            return;
        }
        let c = &record.conditions;
        let f = &self.f;
        f.types.set_value(&code(c.types));
        f.role.set_value(c.role.code());
        f.directions.set_value(&code(c.directions));
        f.status.set_value(&code(c.status));
        let lookup = |want: fn(&crate::task::Lookup) -> bool| c.lookup.as_ref().filter(|l| want(l)).map(|l| l.value().to_owned()).unwrap_or_default();
        f.cus.set_value(&lookup(|l| matches!(l, crate::task::Lookup::CusCiqNo(_))));
        f.entry.set_value(&lookup(|l| matches!(l, crate::task::Lookup::EntryId(_))));
        f.bill.set_value(&lookup(|l| matches!(l, crate::task::Lookup::BillNo(_))));
        let today = api::today();
        let span = Span::ALL.into_iter().find(|s| s.preset(today) == Some(c.range)).unwrap_or(Span::Custom);
        for (s, radio) in &f.spans {
            radio.set_checked(*s == span);
        }
        self.span_changed(span);
        f.first.set_value(&c.range.first.to_string());
        f.last.set_value(&c.range.last.to_string());
        f.portal.set_value(&record.portal);
    }

    /// The form cannot change while a task runs.
    fn lock_form(&self, locked: bool) {
        let f = &self.f;
        for field in [&f.types, &f.role, &f.directions, &f.status, &f.cus, &f.entry, &f.bill, &f.pin, &f.first, &f.last, &f.portal] {
            field.set_disabled(locked);
        }
        for (_, radio) in &f.spans {
            radio.set_disabled(locked);
        }
    }
}
