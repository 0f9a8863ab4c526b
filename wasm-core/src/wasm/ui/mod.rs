//! The extension's pages (`extension/app.html`), in Rust: web-sys for the DOM, gloo for events
//! and timers, no UI framework.
//!
//! Why no framework: the pages are a few forms and tables that change when a poll or a click
//! says so; a framework (Leptos, Yew, Dioxus) would bring a reactive runtime, macros and a
//! second build pipeline for what [`dom`]'s hundred lines do, and make the rule "portal strings
//! only as text" harder to see. Everything that decides what the pages say is pure and tested
//! natively in [`crate::view`]; this module only turns it into DOM nodes and wires events.
//!
//! The app is one page with a hash router: `#/` 首页, `#/sync` 报关单协同, `#/records` 协同记录,
//! `#/task/<n>` 查看, `#/task/<n>/detail` 详情, `#/declaration/<统一编号>` 预览, `#/report`
//! 数据验证报告. Each view is mounted into `<main>` with a [`dom::Scope`] that owns its listeners
//! and ends (stopping its polls) when the view changes. The worker does the work: the pages ask
//! it with `chrome.runtime.sendMessage` ([`api`]), and a sync keeps running when the page is
//! closed; reopened, 报关单协同 picks the running task up from `sync_status`.
//!
//! **The active enterprise** (several enterprises in one store): the header shows it (name and
//! 统一社会信用代码) and a select switches between the store's enterprises (`enterprises`); the
//! choice is remembered in `chrome.storage.local` (`enterprise`, with the newest task then,
//! `enterpriseSeen`), and a sync that ran since for another enterprise makes that one active
//! (`EnterpriseList::active`). 协同记录, its export, 预览 and 数据验证报告 pass it as their
//! `enterprise` filter ([`App::enterprise`]); 详情 follows its task, which has one.

mod api;
mod documents;
mod dom;
mod preview;
mod records;
mod report;
pub(super) mod serve;
mod schedule;
mod sync_page;
mod task;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::view::text::{Lang, T};
use dom::{el, El, Scope};

/// Where the app is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Home,
    Sync,
    Records,
    Task(String),
    Detail(String),
    Declaration { cus_ciq_no: String, task: Option<String> },
    Report,
    NotFound,
}

fn decode(segment: &str) -> String {
    js_sys::decode_uri_component(segment).ok().and_then(|s| s.as_string()).unwrap_or_default()
}

/// A path segment for a link (`#/declaration/<this>`).
fn encode(segment: &str) -> String {
    js_sys::encode_uri_component(segment).as_string().unwrap_or_default()
}

impl Route {
    fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#');
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts[..] {
            [] | ["home"] => Route::Home,
            ["sync"] => Route::Sync,
            ["records"] => Route::Records,
            ["report"] => Route::Report,
            ["task", n] if crate::task::TaskNumber::is_valid(n) => Route::Task(n.to_owned()),
            ["task", n, "detail"] if crate::task::TaskNumber::is_valid(n) => Route::Detail(n.to_owned()),
            ["declaration", cus] => Route::Declaration {
                cus_ciq_no: decode(cus),
                task: query.strip_prefix("task=").filter(|n| crate::task::TaskNumber::is_valid(n)).map(str::to_owned),
            },
            _ => Route::NotFound,
        }
    }

    /// The breadcrumb after 首页 and the nav item to highlight.
    fn trail(&self) -> (Vec<T>, &'static str) {
        match self {
            Route::Home | Route::NotFound => (vec![], "home"),
            Route::Sync => (vec![T::NavData, T::NavSync], "sync"),
            Route::Records => (vec![T::NavData, T::NavRecords], "records"),
            Route::Task(_) => (vec![T::NavData, T::NavRecords, T::TaskViewTitle], "records"),
            Route::Detail(_) => (vec![T::NavData, T::NavRecords, T::DetailTitle], "records"),
            Route::Declaration { .. } => (vec![T::NavData, T::NavRecords, T::PreviewTitle], "records"),
            Route::Report => (vec![T::NavReport], "report"),
        }
    }
}

/// The app: its language, the active enterprise, the shell's parts and the mounted view.
pub struct App {
    lang: Cell<Lang>,
    /// The store's enterprises, as last read.
    enterprises: RefCell<crate::browse::EnterpriseList>,
    /// The user's choice and the store's newest task when it was made (`chrome.storage.local`).
    chosen: RefCell<(Option<String>, Option<crate::task::TaskNumber>)>,
    root: El,
    main: El,
    scope: RefCell<Scope>,
}

thread_local! {
    static APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

fn app() -> Option<Rc<App>> {
    APP.with(|a| a.borrow().clone())
}

impl App {
    pub fn lang(&self) -> Lang {
        self.lang.get()
    }

    pub fn t(&self, t: T) -> &'static str {
        t.get(self.lang.get())
    }

    /// The active enterprise's 统一社会信用代码 (`None` when the store has none): the pages'
    /// `enterprise` filter.
    pub fn enterprise(&self) -> Option<String> {
        self.active().map(|e| e.enterprise.scc)
    }

    fn active(&self) -> Option<crate::browse::EnterpriseSummary> {
        let chosen = self.chosen.borrow();
        self.enterprises.borrow().active(chosen.0.as_deref(), chosen.1.as_ref()).cloned()
    }
}

/// Reads the store's enterprises again; true when the active enterprise changed from one to
/// another (a view mounted without one showed everything, which was that enterprise's anyway).
async fn refresh_enterprises(app: &App) -> bool {
    let Ok(list) = api::ask_as::<crate::browse::EnterpriseList>(&serde_json::json!({ "type": "enterprises" })).await else {
        return false;
    };
    let before = app.enterprise();
    *app.enterprises.borrow_mut() = list;
    before.is_some() && app.enterprise() != before
}

/// Goes to `hash` (`#/records`).
pub fn navigate(hash: &str) {
    let _ = gloo::utils::window().location().set_hash(hash);
}

/// `<a href="#/…">`.
/// An error as the pages show it: what happened and the next step (one mapping, `view::advice`).
pub fn problem(app: &App, error: &crate::error::ErrorInfo) -> El {
    let lang = app.lang();
    let (head, next) = crate::view::advice::advise(error, lang).lines(lang);
    let notice = el("div").class("notice error").child(el("strong").text(&head));
    if let Some(next) = next {
        notice.append(&el("p").text(&next));
    }
    notice
}

pub fn link(hash: &str, label: &str, class: &str) -> El {
    el("a").attr("href", hash).class(class).text(label)
}

/// Starts the app in `extension/app.html` (called by `app.js` once the module is loaded).
#[wasm_bindgen(js_name = startApp)]
pub fn start_app() {
    let Some(body) = gloo::utils::document().body() else { return };
    let root = El(body.into());
    let app = Rc::new(App {
        lang: Cell::new(Lang::Zh),
        enterprises: RefCell::new(crate::browse::EnterpriseList::default()),
        chosen: RefCell::new((None, None)),
        root,
        main: el("main").id("main"),
        scope: RefCell::new(Scope::new()),
    });
    APP.with(|a| *a.borrow_mut() = Some(app.clone()));
    wasm_bindgen_futures::spawn_local(async move {
        let stored = api::load(&["lang", "enterprise", "enterpriseSeen"]).await;
        if let Some(code) = stored.get("lang").and_then(|v| v.as_str()) {
            app.lang.set(Lang::from_code(code));
        }
        let text = |key: &str| stored.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        *app.chosen.borrow_mut() = (text("enterprise"), text("enterpriseSeen").map(crate::task::TaskNumber));
        // Before the first view: the views read the active enterprise when they mount.
        refresh_enterprises(&app).await;
        let listener = gloo::events::EventListener::new(&gloo::utils::window(), "hashchange", |_| render());
        // The app lives as long as the page: so does its router.
        listener.forget();
        render();
    });
}

/// Draws the shell and the view of the current hash.
fn render() {
    let Some(app) = app() else { return };
    app.scope.borrow().close();
    let scope = Scope::new();
    *app.scope.borrow_mut() = scope.clone();
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    let route = Route::parse(&hash);
    let lang = app.lang();
    let _ = gloo::utils::document().document_element().map(|e| e.set_attribute("lang", lang.html_lang()));
    gloo::utils::document().set_title(&format!("DataLink {}", T::Platform.get(lang)));

    let (trail, active) = route.trail();
    let item = |key: &str, hash: &str, t: T, nested: bool| {
        let class = match (key == active, nested) {
            (true, true) => "nav-item nested active",
            (true, false) => "nav-item active",
            (false, true) => "nav-item nested",
            (false, false) => "nav-item",
        };
        link(hash, t.get(lang), class).attr("data-nav", key)
    };
    let nav = el("nav").class("nav").children([
        item("home", "#/", T::NavHome, false),
        el("div").class("nav-group").text(T::NavData.get(lang)),
        item("sync", "#/sync", T::NavSync, true),
        item("records", "#/records", T::NavRecords, true),
        item("report", "#/report", T::NavReport, false),
    ]);
    let sidebar = el("aside").class("sidebar").child(el("div").class("brand").child(el("span").class("brand-mark").text("DL")).push_text(T::Platform.get(lang))).child(nav);
    let crumbs = el("div").class("breadcrumb").child(link("#/", T::NavHome.get(lang), ""));
    for t in trail {
        crumbs.append(&el("span").class("sep").text("/"));
        crumbs.append(&el("span").text(t.get(lang)));
    }
    let switch = dom::button(T::SwitchLanguage.get(lang), "link-button").id("lang-switch");
    let topbar = el("header").class("topbar").child(crumbs);
    if let Some(active) = app.active() {
        let list = app.enterprises.borrow().clone();
        let select = el("select").id("enterprise-switch").children(list.enterprises.iter().map(|e| {
            let label = format!("{}（{}）", e.enterprise.name, e.enterprise.scc);
            dom::option(&e.enterprise.scc, &label, e.enterprise.scc == active.enterprise.scc)
        }));
        let shown = el("span")
            .id("enterprise-active")
            .attr("data-scc", &active.enterprise.scc)
            .text(&format!("{} · {} {}", active.enterprise.name, T::EnterpriseCreditCode.get(lang), active.enterprise.scc));
        topbar.append(&el("label").class("enterprise").push_text(T::EnterpriseActive.get(lang)).child(select.clone()).child(shown));
        let choosing = app.clone();
        let chosen = select.clone();
        scope.on(&select, "change", move |_| {
            let scc = chosen.value();
            let newest = choosing.enterprises.borrow().newest_task().cloned();
            *choosing.chosen.borrow_mut() = (Some(scc.clone()), newest.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let seen = newest.map(|t| t.0).unwrap_or_default();
                api::save(&serde_json::json!({ "enterprise": scc, "enterpriseSeen": seen })).await;
                render();
            });
        });
    }
    let topbar = topbar.child(switch.clone());
    app.main.clear();
    let content = el("div").class("content").child(topbar).child(app.main.clone());
    app.root.clear();
    app.root.append(&el("div").class("app").child(sidebar).child(content));

    let switching = app.clone();
    scope.click(&switch, move || {
        let lang = switching.lang().other();
        switching.lang.set(lang);
        wasm_bindgen_futures::spawn_local(async move {
            api::save(&serde_json::json!({ "lang": lang.code() })).await;
        });
        render();
    });

    // A sync may have run for another enterprise since: the header and the view follow it.
    let following = app.clone();
    let watching = scope.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if refresh_enterprises(&following).await && watching.alive() {
            render();
        }
    });
    match route {
        Route::Home => home(&app, &scope),
        Route::Sync => sync_page::mount(app.clone(), &scope),
        Route::Records => records::mount(app.clone(), &scope),
        Route::Task(n) => task::mount_view(app.clone(), &scope, n),
        Route::Detail(n) => task::mount_detail(app.clone(), &scope, n),
        Route::Declaration { cus_ciq_no, task } => preview::mount(app.clone(), &scope, cus_ciq_no, task),
        Route::Report => report::mount(app.clone(), &scope),
        Route::NotFound => app.main.append(&el("section").class("card").child(el("h2").text(app.t(T::NotFound)))),
    }
}

/// 首页: the four steps of the seed's home page.
fn home(app: &App, _scope: &Scope) {
    let lang = app.lang();
    let card = |n: &str, title: T, body: T| {
        el("div").class("home-step").child(el("div").class("home-number").text(n)).child(el("h3").text(title.get(lang))).child(el("p").text(body.get(lang)))
    };
    let section = el("section")
        .class("card home")
        .child(el("h2").text(app.t(T::Welcome)))
        .child(el("div").class("home-steps").children([
            card("1", T::HomeLoginTitle, T::HomeLoginText),
            card("2", T::HomeClientTitle, T::HomeClientText),
            card("3", T::HomeSyncTitle, T::HomeSyncText),
            card("4", T::HomeReportTitle, T::HomeReportText),
        ]))
        .child(el("p").child(link("#/sync", app.t(T::HomeStart), "button primary")));
    app.main.append(&section);
    dom::mark("home");
}
