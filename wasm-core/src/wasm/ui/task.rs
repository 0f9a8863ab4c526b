//! 查看 (a task's conditions and its whole log; 断点续查 for 执行异常 / 已取消 tasks) and 详情
//! (the totals, a block per period with its three counts, the declarations table with filters
//! and paging, 预览 per declaration, the task's export).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;

use super::dom::{self, button, el, option, El, Scope};
use super::records::{export, pager, PagedView};
use super::{api, encode, link, navigate, problem, App};
use crate::browse::{DeclarationsPage, DeclarationsQuery, ExportFormat, ExportRequest, ReconciledFilter};
use crate::checkpoint::{LogLine, TaskRecord, TaskReport};
use crate::task::{TaskNumber, TaskState};
use crate::view::paging::Paging;
use crate::view::text::{self, Lang, T};
use crate::view::{conditions, fmt, state_class};

/// The card's head: title and 返回.
fn head(app: &App, title: T, back: &str) -> El {
    el("div").class("card-head").child(el("h2").text(app.t(title))).child(link(back, app.t(T::Back), "button").id("back"))
}

/// The task's conditions, as the seed's 查看 / 详情 list them.
fn conditions_grid(record: &TaskRecord, lang: Lang) -> El {
    let grid = el("dl").class("conditions").id("conditions");
    for (label, value) in conditions(&record.conditions, lang) {
        grid.append(&el("div").class("condition").child(el("dt").text(&format!("{label}："))).child(el("dd").text(&value)));
    }
    grid
}

fn log_list(lines: &[LogLine], lang: Lang) -> El {
    let list = el("ol").class("log full").id("task-log");
    if lines.is_empty() {
        list.append(&el("li").class("empty").text(T::LogEmpty.get(lang)));
    }
    for line in lines {
        let tag = match line.category {
            crate::checkpoint::LogCategory::Connect => "tag tag-connect",
            crate::checkpoint::LogCategory::Execute => "tag tag-execute",
            crate::checkpoint::LogCategory::Result => "tag tag-result",
            crate::checkpoint::LogCategory::Error => "tag tag-error",
        };
        list.append(
            &el("li")
                .class("line")
                .child(el("span").class("time").text(&line.at.to_string()))
                .child(el("span").class(tag).text(text::category_label(line.category, lang)))
                .child(el("span").class("message").text(&line.message)),
        );
    }
    list
}

#[derive(serde::Deserialize)]
struct Lines {
    lines: Vec<LogLine>,
}

/// 查看.
pub fn mount_view(app: Rc<App>, scope: &Scope, number: String) {
    let section = el("section").class("card task-view").child(head(&app, T::TaskViewTitle, "#/records"));
    let body = el("div").text(app.t(T::Loading));
    section.append(&body);
    app.main.append(&section);
    let scope = scope.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let lang = app.lang();
        let task = TaskNumber(number);
        let record = api::ask_as::<TaskRecord>(&json!({ "type": "task_get", "task": task })).await;
        let log = api::ask_as::<Lines>(&json!({ "type": "task_log", "task": task })).await;
        if !scope.alive() {
            return;
        }
        body.clear();
        let record = match record {
            Ok(r) => r,
            Err(e) => return body.append(&problem(&app, &e)),
        };
        body.append(&conditions_grid(&record, lang));
        let facts = el("dl").class("conditions facts");
        let fact = |label: T, value: String| el("div").class("condition").child(el("dt").text(&format!("{}：", label.get(lang)))).child(el("dd").text(&value));
        facts.append(&el("div").class("condition").child(el("dt").text(&format!("{}：", T::ColTask.get(lang)))).child(el("dd").class("mono").id("task-number").text(&record.number.0)));
        facts.append(
            &el("div")
                .class("condition")
                .child(el("dt").text(&format!("{}：", T::TaskState.get(lang))))
                .child(el("dd").child(el("span").class(state_class(record.state)).id("task-state").text(text::state_label(record.state, lang)))),
        );
        facts.append(&fact(T::ColOperator, record.operator.clone()));
        facts.append(&fact(T::TaskCreated, record.created_at.to_string()));
        facts.append(&fact(T::TaskStarted, record.started_at.map(|t| t.to_string()).unwrap_or_else(|| "--".into())));
        facts.append(&fact(T::TaskEnded, record.ended_at.map(|t| t.to_string()).unwrap_or_else(|| "--".into())));
        let [q, h, r] = fmt::counts(record.counts);
        facts.append(&fact(T::ColQueried, q));
        facts.append(&fact(T::ColHit, h));
        facts.append(&fact(T::ColReconciled, r));
        facts.append(&fact(T::Portal, record.portal.clone()));
        if let Some(message) = &record.message {
            facts.append(&fact(T::TaskMessage, message.clone()));
        }
        body.append(&facts);
        if matches!(record.state, TaskState::Failed | TaskState::Cancelled | TaskState::Pending) {
            let resume = button(T::ResumeGaps.get(lang), "primary").id("resume");
            let status = el("p").class("hint").text(T::ResumeHint.get(lang));
            body.append(&el("div").class("buttons").child(resume.clone()).child(link(&format!("#/task/{}/detail", record.number), T::Detail.get(lang), "button")));
            body.append(&status);
            let task = record.number.clone();
            let app2 = app.clone();
            scope.click(&resume, move || {
                let (task, status, app) = (task.clone(), status.clone(), app2.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let settings = super::sync_page::stored_settings().await;
                    match api::ask(&json!({ "type": "sync_resume", "task": task, "settings": settings })).await {
                        Ok(_) => {
                            status.set_text(T::Resumed.get(app.lang()));
                            navigate("#/sync");
                        }
                        Err(e) => {
                            status.clear();
                            status.append(&problem(&app, &e));
                        }
                    }
                });
            });
        } else {
            body.append(&el("div").class("buttons").child(link(&format!("#/task/{}/detail", record.number), T::Detail.get(lang), "button")).child(
                if record.state == TaskState::Running { link("#/sync", T::NavSync.get(lang), "button primary") } else { el("span") },
            ));
        }
        body.append(&el("h3").class("log-title").text(T::LogTitle.get(lang)));
        match log {
            Ok(lines) => body.append(&log_list(&lines.lines, lang)),
            Err(e) => body.append(&problem(&app, &e)),
        }
        dom::mark("task");
    });
}

impl PagedView for Detail {
    type Query = DeclarationsQuery;
    fn query(&self) -> &RefCell<DeclarationsQuery> {
        &self.query
    }
    fn reload(self: &Rc<Self>) {
        self.load();
    }
}

struct Detail {
    app: Rc<App>,
    scope: Scope,
    query: RefCell<DeclarationsQuery>,
    cus: El,
    entry: El,
    reconciled: El,
    period_label: El,
    periods: El,
    body: El,
    pager: El,
    error: El,
}

/// 详情.
pub fn mount_detail(app: Rc<App>, scope: &Scope, number: String) {
    let lang = app.lang();
    let t = |x: T| x.get(lang);
    let task = TaskNumber(number);
    let section = el("section").class("card task-detail").child(head(&app, T::DetailTitle, "#/records"));
    let top = el("div").text(t(T::Loading));
    section.append(&top);
    let page = Rc::new(Detail {
        app: app.clone(),
        scope: scope.clone(),
        query: RefCell::new(DeclarationsQuery { task: task.clone(), period: None, cus_ciq_no: None, entry_id: None, reconciled: ReconciledFilter::All, page: 1, page_size: 10 }),
        cus: el("input").id("d-cus").attr("type", "text").attr("placeholder", t(T::PhCusCiqNo)),
        entry: el("input").id("d-entry").attr("type", "text").attr("placeholder", t(T::PhEntryId)),
        reconciled: el("select").id("d-reconciled").children([
            option("all", t(T::All), true),
            option("reconciled", t(T::Reconciled), false),
            option("unreconciled", t(T::Unreconciled), false),
        ]),
        period_label: button(t(T::AllPeriods), "chip").id("d-period"),
        periods: el("div").class("periods").id("periods"),
        body: el("tbody").id("declarations-body"),
        pager: el("div").class("pager-slot"),
        error: el("div").class("notices"),
    });
    let search = button(t(T::Search), "primary").id("d-search");
    let reset = button(t(T::Reset), "").id("d-reset");
    let filters = el("div").class("filters").children([
        el("label").class("filter").push_text(t(T::FieldCusCiqNo)).child(page.cus.clone()),
        el("label").class("filter").push_text(t(T::FieldEntryId)).child(page.entry.clone()),
        el("label").class("filter").push_text(t(T::FilterState)).child(page.reconciled.clone()),
        search.clone(),
        reset.clone(),
        page.period_label.clone(),
    ]);
    let ex_status = el("span").class("export-status").id("d-export-status");
    let ex_xlsx = button(t(T::ExportXlsx), "").id("d-xlsx");
    let ex_csv = button(t(T::ExportCsv), "").id("d-csv");
    let export_line = el("div").class("toolbar").child(el("span").text(t(T::ExportTask))).child(ex_xlsx.clone()).child(ex_csv.clone()).child(ex_status.clone());
    for (b, format) in [(ex_xlsx, ExportFormat::Xlsx), (ex_csv, ExportFormat::Csv)] {
        let (task, status) = (task.clone(), ex_status.clone());
        scope.click(&b, move || {
            wasm_bindgen_futures::spawn_local(export(ExportRequest { task: Some(task.clone()), range: None, format, enterprise: None }, status.clone(), lang));
        });
    }
    let headers = [
        T::ColIndex, T::FieldCusCiqNo, T::FieldEntryId, T::ColIeDate, T::ColSupvMode, T::ColCustomMaster, T::ColPort, T::ColStatus, T::ColInspection, T::FilterState,
        T::ColActions,
    ];
    let table = el("table").class("table").id("declarations").child(el("thead").child(el("tr").children(headers.map(|h| el("th").text(t(h)))))).child(page.body.clone());
    let lower = el("div").children([
        el("h3").text(t(T::DetailSection)),
        el("div").class("totals").id("totals"),
        page.periods.clone(),
        filters,
        export_line,
        super::documents::detail_toolbar(scope, &task, lang),
        page.error.clone(),
        el("div").class("table-wrap").child(table),
        page.pager.clone(),
        el("div").id("missing"),
    ]);
    lower.set_hidden(true);
    section.append(&lower);
    app.main.append(&section);

    let p = page.clone();
    scope.click(&search, move || {
        p.read_filters();
        p.query.borrow_mut().page = 1;
        p.load();
    });
    let p = page.clone();
    scope.click(&reset, move || {
        p.cus.set_value("");
        p.entry.set_value("");
        p.reconciled.set_value("all");
        {
            let mut q = p.query.borrow_mut();
            q.cus_ciq_no = None;
            q.entry_id = None;
            q.reconciled = ReconciledFilter::All;
            q.period = None;
            q.page = 1;
        }
        p.period_label.set_text(T::AllPeriods.get(p.app.lang()));
        p.load();
    });
    let p = page.clone();
    scope.click(&page.period_label.clone(), move || {
        p.query.borrow_mut().period = None;
        p.query.borrow_mut().page = 1;
        p.period_label.set_text(T::AllPeriods.get(p.app.lang()));
        p.load();
    });

    let scope = scope.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let report = api::ask_as::<TaskReport>(&json!({ "type": "task_report", "task": task })).await;
        if !scope.alive() {
            return;
        }
        top.clear();
        match report {
            Ok(report) => {
                top.append(&conditions_grid(&report.task, lang));
                page.show_report(&report);
                lower.set_hidden(false);
                page.load();
            }
            Err(e) => top.append(&problem(&page.app, &e)),
        }
    });
}

impl Detail {
    fn show_report(self: &Rc<Self>, report: &TaskReport) {
        let lang = self.app.lang();
        let t = report.total;
        let totals = El(gloo::utils::document().get_element_by_id("totals").unwrap_or_else(|| self.periods.0.clone()));
        let bad = if t.agree() { "" } else { " bad" };
        for (label, value, key) in [(T::TotalQueried, t.queried, "queried"), (T::TotalHit, t.hit, "hit"), (T::TotalReconciled, t.reconciled, "reconciled")] {
            totals.append(
                &el("div")
                    .class(&format!("total{bad}"))
                    .child(el("span").class("total-label").text(label.get(lang)))
                    .child(el("span").class("total-value").id(&format!("total-{key}")).text(&value.to_string())),
            );
        }
        if let Some(fourth) = super::documents::fourth_total(report, lang) {
            totals.append(&fourth);
        }
        for (i, period) in report.periods.iter().enumerate() {
            let c = period.counts;
            let block = el("div")
                .class(if c.agree() { "period" } else { "period bad" })
                .attr("data-period", &period.period)
                .attr("role", "button")
                .attr("tabindex", "0")
                .child(
                    el("div")
                        .class("period-head")
                        .child(el("span").class("period-number").text(&fmt::ordinal(i)))
                        .push_text(&T::PeriodRange.fill(lang, &[&period.first, &period.last])),
                )
                .child(
                    el("table").class("period-counts").child(el("tr").children([T::ColQueried, T::ColHit, T::ColReconciled].map(|h| el("th").text(h.get(lang))))).child(
                        el("tr").children([("queried", c.queried), ("hit", c.hit), ("reconciled", c.reconciled)].map(|(k, v)| el("td").attr("data-count", k).text(&v.to_string()))),
                    ),
                );
            let me = self.clone();
            let key = period.period.clone();
            let label = T::PeriodRange.fill(lang, &[&period.first, &period.last]);
            self.scope.click(&block, move || {
                {
                    let mut q = me.query.borrow_mut();
                    q.period = Some(key.clone());
                    q.page = 1;
                }
                me.period_label.set_text(&format!("{label} ✕"));
                me.load();
            });
            self.periods.append(&block);
        }
        if !report.missing.is_empty() {
            let missing = El(gloo::utils::document().get_element_by_id("missing").unwrap_or_else(|| self.periods.0.clone()));
            missing.append(&el("h3").text(T::MissingTitle.get(lang)));
            let body = el("tbody");
            for m in report.missing.iter().take(200) {
                body.append(&el("tr").children([el("td").class("mono").text(&m.cus_ciq_no), el("td").text(&m.period), el("td").text(&m.reason)]));
            }
            missing.append(
                &el("table")
                    .class("table")
                    .child(el("thead").child(el("tr").children([T::FieldCusCiqNo, T::PeriodCol, T::Reason].map(|h| el("th").text(h.get(lang))))))
                    .child(body),
            );
        }
    }

    fn read_filters(&self) {
        let mut q = self.query.borrow_mut();
        let (cus, entry) = (self.cus.value(), self.entry.value());
        q.cus_ciq_no = (!cus.trim().is_empty()).then(|| cus.trim().to_owned());
        q.entry_id = (!entry.trim().is_empty()).then(|| entry.trim().to_owned());
        q.reconciled = serde_json::from_value(json!(self.reconciled.value())).unwrap_or_default();
    }

    fn load(self: &Rc<Self>) {
        let page = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let query = page.query.borrow().clone();
            let result = api::ask_as::<DeclarationsPage>(&api::message("task_declarations", &query)).await;
            if !page.scope.alive() {
                return;
            }
            page.error.clear();
            match result {
                Ok(rows) => page.show(rows, &query),
                Err(e) => page.error.append(&problem(&page.app, &e)),
            }
        });
    }

    fn show(self: &Rc<Self>, page: DeclarationsPage, query: &DeclarationsQuery) {
        let lang = self.app.lang();
        let paging = Paging::new(page.total, query.page, query.page_size);
        self.body.clear();
        if page.rows.is_empty() {
            self.body.append(&el("tr").child(el("td").attr("colspan", "11").class("empty").text(T::Empty.get(lang))));
        }
        for (i, row) in page.rows.iter().enumerate() {
            let state = if row.reconciled { el("span").class("badge ok").text(T::Reconciled.get(lang)) } else { el("span").class("badge bad").text(T::Unreconciled.get(lang)) };
            let state = match &row.reason {
                Some(reason) => state.attr("title", reason),
                None => state,
            };
            let preview = link(&format!("#/declaration/{}?task={}", encode(&row.cus_ciq_no), query.task), T::Preview.get(lang), "action preview");
            let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { s.to_owned() };
            self.body.append(&el("tr").attr("data-cus", &row.cus_ciq_no).class(if row.reconciled { "" } else { "unreconciled" }).children([
                el("td").text(&(paging.first_index() + i as u64).to_string()),
                el("td").class("mono").attr("data-field", "cusCiqNo").text(&row.cus_ciq_no),
                el("td").class("mono").text(&dash(&row.entry_id)),
                el("td").text(&fmt::day(&row.ie_date)),
                el("td").text(&dash(&row.supv_mode)),
                el("td").text(&dash(&row.custom_master)),
                el("td").text(&dash(&row.entry_port)),
                el("td").text(&dash(&row.status_name)),
                el("td").text(&dash(&row.inspection)),
                el("td").child(state),
                el("td").class("actions").child(preview),
            ]));
        }
        self.pager.replace(&pager(self, &self.scope, paging, lang, "declarations-pager"));
        dom::mark(&format!("detail:{}", paging.page));
    }
}
