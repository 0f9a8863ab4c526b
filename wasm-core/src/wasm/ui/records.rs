//! 协同记录: the tasks, filtered (用户名, 操作时间, 进出口, 状态) and paged (10 / 20 / 50 per
//! page), with 查看 / 详情 per task, + 新增, the seed's note that only three equal counts mean
//! success (rows whose counts disagree stand out), and an export of a date range.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;

use super::dom::{self, button, el, option, El, Scope};
use super::{api, link, problem, App};
use crate::browse::{ExportFile, ExportFormat, ExportRequest, PagedQuery, TaskRecordsQuery};
use crate::checkpoint::TaskList;
use crate::period::DateRange;
use crate::task::{DirectionChoice, TaskState};
use crate::view::advice;
use crate::view::paging::{PageButton, Paging, PAGE_SIZES};
use crate::view::text::{self, Lang, T};
use crate::view::{fmt, record_row};

/// A view showing one page of a list query, which the pager turns.
pub(super) trait PagedView: 'static {
    type Query: PagedQuery;
    /// The query the view shows.
    fn query(&self) -> &RefCell<Self::Query>;
    /// Asks the host for the query's page again and shows it.
    fn reload(self: &Rc<Self>);
}

/// A pager for `view`: `共 N 条 ‹ 1 2 3 › [10 条/页]`; a click turns the view's query to another
/// page and reloads it.
pub(super) fn pager<V: PagedView>(view: &Rc<V>, scope: &Scope, paging: Paging, lang: Lang, id: &str) -> El {
    let me = view.clone();
    let go: Rc<dyn Fn(u32, u32)> = Rc::new(move |page, size| {
        me.query().borrow_mut().turn_to(page, size);
        me.reload();
    });
    let bar = el("div").class("pager").id(id).attr("data-page", &paging.page.to_string()).attr("data-pages", &paging.pages().to_string());
    bar.append(&el("span").class("total").text(&T::Total.fill(lang, &[&paging.total])));
    let prev = button("‹", "page-button").attr("title", T::PrevPage.get(lang)).attr("data-go", "prev");
    prev.set_disabled(!paging.has_prev());
    let g = go.clone();
    scope.click(&prev, move || g(paging.page - 1, paging.page_size));
    bar.append(&prev);
    for b in paging.buttons() {
        match b {
            PageButton::Gap => bar.append(&el("span").class("gap").text("…")),
            PageButton::Page(n) => {
                let class = if n == paging.page { "page-button current" } else { "page-button" };
                let pb = button(&n.to_string(), class).attr("data-go", &n.to_string());
                let g = go.clone();
                scope.click(&pb, move || g(n, paging.page_size));
                bar.append(&pb);
            }
        }
    }
    let next = button("›", "page-button").attr("title", T::NextPage.get(lang)).attr("data-go", "next");
    next.set_disabled(!paging.has_next());
    let g = go.clone();
    scope.click(&next, move || g(paging.page + 1, paging.page_size));
    bar.append(&next);
    let sizes = el("select").class("page-size").children(PAGE_SIZES.iter().map(|s| option(&s.to_string(), &T::PerPage.fill(lang, &[s]), *s == paging.page_size)));
    let sizes_el = sizes.clone();
    scope.on(&sizes, "change", move |_| {
        let size = sizes_el.value().parse().unwrap_or(PAGE_SIZES[0]);
        let resized = paging.resized(size);
        go(resized.page, resized.page_size);
    });
    bar.append(&sizes);
    bar
}

/// Asks the host for a file and saves it; `status` says how it went.
pub(super) async fn export(request: ExportRequest, status: El, lang: Lang) {
    status.set_class("export-status");
    status.set_text(T::Exporting.get(lang));
    let message = api::message("export", &request);
    match api::ask_as::<ExportFile>(&message).await {
        Ok(file) => match dom::download(&file) {
            Ok(()) => {
                status.set_class("export-status ok");
                status.set_attr("data-declarations", &file.declarations.to_string());
                status.set_attr("data-goods", &file.goods_lines.to_string());
                status.set_attr("data-file", &file.file_name);
                status.set_text(&format!("{} ({})", T::Exported.fill(lang, &[&file.file_name, &file.declarations, &file.goods_lines]), fmt::bytes(file.bytes)));
            }
            Err(e) => {
                status.set_class("export-status error");
                status.set_text(&e);
            }
        },
        Err(e) => {
            status.set_class("export-status error");
            status.set_text(&advice::advise(&e, lang).lines(lang).0);
        }
    }
}

impl PagedView for Records {
    type Query = TaskRecordsQuery;
    fn query(&self) -> &RefCell<TaskRecordsQuery> {
        &self.query
    }
    fn reload(self: &Rc<Self>) {
        self.load();
    }
}

struct Records {
    app: Rc<App>,
    scope: Scope,
    query: RefCell<TaskRecordsQuery>,
    operator: El,
    from: El,
    to: El,
    directions: El,
    state: El,
    body: El,
    pager: El,
    error: El,
}

pub fn mount(app: Rc<App>, scope: &Scope) {
    let lang = app.lang();
    let t = |x: T| x.get(lang);
    let state_options: Vec<(String, String)> = std::iter::once((String::new(), t(T::All).to_owned()))
        .chain(
            [TaskState::Pending, TaskState::Running, TaskState::Completed, TaskState::Failed, TaskState::Cancelled]
                .into_iter()
                .map(|s| (serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(), text::state_label(s, lang).to_owned())),
        )
        .collect();
    let page = Rc::new(Records {
        app: app.clone(),
        scope: scope.clone(),
        query: RefCell::new(TaskRecordsQuery { page: 1, page_size: 10, ..TaskRecordsQuery::default() }),
        operator: el("input").id("r-operator").attr("type", "text").attr("placeholder", t(T::PhOperator)),
        from: el("input").id("r-from").attr("type", "date").attr("placeholder", t(T::PhStartTime)),
        to: el("input").id("r-to").attr("type", "date").attr("placeholder", t(T::PhEndTime)),
        directions: el("select").id("r-directions").children([
            option("", t(T::All), true),
            option("both", t(T::DirBoth), false),
            option("import", t(T::DirImport), false),
            option("export", t(T::DirExport), false),
        ]),
        state: el("select").id("r-state").children(state_options.iter().map(|(v, l)| option(v, l, v.is_empty()))),
        body: el("tbody").id("records-body"),
        pager: el("div").class("pager-slot"),
        error: el("div").class("notices"),
    });
    let search = button(t(T::Search), "primary").id("r-search");
    let reset = button(t(T::Reset), "").id("r-reset");
    let filters = el("div").class("filters").children([
        el("label").class("filter").push_text(t(T::ColOperator)).child(page.operator.clone()),
        el("label")
            .class("filter")
            .push_text(t(T::FilterTime))
            .child(page.from.clone())
            .child(el("span").class("tilde").text("~"))
            .child(page.to.clone()),
        el("label").class("filter").push_text(t(T::FilterDirections)).child(page.directions.clone()),
        el("label").class("filter").push_text(t(T::FilterState)).child(page.state.clone()),
        search.clone(),
        reset.clone(),
    ]);
    let toolbar = el("div").class("toolbar").child(link("#/sync", t(T::New), "button primary").id("r-new")).child(link("#/report", t(T::VerifyReport), "button"));
    let head = el("thead").child(el("tr").children(
        [T::ColIndex, T::ColTask, T::ColOperator, T::ColFirst, T::ColLast, T::ColRole, T::ColDirections, T::ColStatus, T::ColQueried, T::ColHit, T::ColReconciled, T::ColState, T::ColActions]
            .map(|c| el("th").text(t(c))),
    ));
    let table = el("table").class("table").id("records").child(head).child(page.body.clone());
    let notes = el("div").class("notes").child(el("p").class("note strong").text(t(T::RecordsNote))).child(el("p").class("note").text(t(T::RecordsNoteMarked)));

    // Export of a date range.
    let today = api::today();
    let ex_from = el("input").id("x-from").attr("type", "date").attr("value", &today.first_of_month().to_string());
    let ex_to = el("input").id("x-to").attr("type", "date").attr("value", &today.to_string());
    let ex_xlsx = button(t(T::ExportXlsx), "").id("x-xlsx");
    let ex_csv = button(t(T::ExportCsv), "").id("x-csv");
    let ex_status = el("p").class("export-status").id("x-status");
    let export_box = el("div").class("export-box").children([
        el("h3").text(t(T::ExportTitle)),
        el("p").class("hint").text(t(T::ExportRangeHint)),
        el("div")
            .class("filters")
            .child(ex_from.clone())
            .child(el("span").class("tilde").text("~"))
            .child(ex_to.clone())
            .child(ex_xlsx.clone())
            .child(ex_csv.clone()),
        ex_status.clone(),
    ]);
    for (b, format) in [(ex_xlsx, ExportFormat::Xlsx), (ex_csv, ExportFormat::Csv)] {
        let (from, to, status) = (ex_from.clone(), ex_to.clone(), ex_status.clone());
        let enterprise = app.enterprise();
        scope.click(&b, move || {
            let range = from.value().parse().ok().zip(to.value().parse().ok()).and_then(|(f, l)| DateRange::new(f, l).ok());
            let Some(range) = range else {
                status.set_class("export-status error");
                status.set_text(T::ErrRangeMissing.get(lang));
                return;
            };
            let status = status.clone();
            wasm_bindgen_futures::spawn_local(export(ExportRequest { task: None, range: Some(range), format, enterprise: enterprise.clone() }, status, lang));
        });
    }

    app.main.append(&el("section").class("card records").children([
        el("h2").text(t(T::NavRecords)),
        filters,
        toolbar,
        page.error.clone(),
        el("div").class("table-wrap").child(table),
        page.pager.clone(),
        notes,
        export_box,
    ]));

    let p = page.clone();
    scope.click(&search, move || {
        p.read_filters();
        p.query.borrow_mut().page = 1;
        p.load();
    });
    let p = page.clone();
    scope.click(&reset, move || {
        for f in [&p.operator, &p.from, &p.to, &p.directions, &p.state] {
            f.set_value("");
        }
        *p.query.borrow_mut() = TaskRecordsQuery { page: 1, page_size: p.query.borrow().page_size, ..TaskRecordsQuery::default() };
        p.load();
    });
    let p = page.clone();
    scope.on(&page.operator, "keydown", move |e| {
        if e.dyn_ref_key() == Some("Enter".into()) {
            p.read_filters();
            p.query.borrow_mut().page = 1;
            p.load();
        }
    });
    page.load();
}

/// `KeyboardEvent.key` of an event, without a web-sys feature for it.
trait Key {
    fn dyn_ref_key(&self) -> Option<String>;
}

impl Key for web_sys::Event {
    fn dyn_ref_key(&self) -> Option<String> {
        js_sys::Reflect::get(self, &"key".into()).ok().and_then(|k| k.as_string())
    }
}

impl Records {
    fn read_filters(&self) {
        let mut q = self.query.borrow_mut();
        let operator = self.operator.value();
        q.operator = (!operator.trim().is_empty()).then(|| operator.trim().to_owned());
        q.from = self.from.value().parse().ok();
        q.to = self.to.value().parse().ok();
        q.directions = serde_json::from_value::<DirectionChoice>(json!(self.directions.value())).ok();
        q.state = serde_json::from_value::<TaskState>(json!(self.state.value())).ok();
    }

    fn load(self: &Rc<Self>) {
        let page = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut query = page.query.borrow().clone();
            query.enterprise = page.app.enterprise();
            let result = api::ask_as::<TaskList>(&api::message("task_records", &query)).await;
            if !page.scope.alive() {
                return;
            }
            page.error.clear();
            match result {
                Ok(list) => page.show(list, &query),
                Err(e) => {
                    page.error.append(&problem(&page.app, &e));
                    dom::mark("records:error");
                }
            }
        });
    }

    fn show(self: &Rc<Self>, list: TaskList, query: &TaskRecordsQuery) {
        let lang = self.app.lang();
        let paging = Paging::new(list.total, query.page, query.page_size);
        if paging.page != query.page && list.total > 0 && list.tasks.is_empty() {
            // The filter shrank the pages: show the last one that exists.
            self.query.borrow_mut().page = paging.page;
            return self.load();
        }
        self.body.clear();
        if list.tasks.is_empty() {
            self.body.append(&el("tr").child(el("td").attr("colspan", "13").class("empty").text(T::Empty.get(lang))));
        }
        for (i, record) in list.tasks.iter().enumerate() {
            let row = record_row(paging.first_index() + i as u64, record, lang);
            let tr = el("tr").attr("data-task", &row.number).class(if row.disagree { "disagree" } else { "" });
            let [queried, hit, reconciled] = row.counts.clone();
            let count = |v: String, key: &str| {
                let td = el("td").class("count").attr("data-count", key).text(&v);
                if row.disagree {
                    td.attr("title", T::Disagree.get(lang))
                } else {
                    td
                }
            };
            tr.append(&el("td").text(&row.index.to_string()));
            tr.append(&el("td").class("mono").attr("data-field", "number").text(&row.number));
            tr.append(&el("td").attr("data-field", "operator").text(&row.operator));
            tr.append(&el("td").text(&row.first));
            tr.append(&el("td").text(&row.last));
            tr.append(&el("td").text(row.role));
            tr.append(&el("td").text(row.directions));
            tr.append(&el("td").text(row.status));
            tr.append(&count(queried, "queried"));
            tr.append(&count(hit, "hit"));
            let reconciled = count(reconciled, "reconciled");
            if let Some(documents) = &row.documents {
                reconciled.append(&el("span").class("doc-count").attr("data-count", "documents").text(documents));
            }
            tr.append(&reconciled);
            let state = el("td").child(el("span").class(row.state_class).attr("data-field", "state").text(row.state));
            if row.disagree {
                state.append(&el("span").class("badge bad").text(T::Disagree.get(lang)));
            }
            tr.append(&state);
            tr.append(
                &el("td")
                    .class("actions")
                    .child(link(&format!("#/task/{}", row.number), T::View.get(lang), "action view"))
                    .child(link(&format!("#/task/{}/detail", row.number), T::Detail.get(lang), "action detail")),
            );
            self.body.append(&tr);
        }
        self.pager.replace(&pager(self, &self.scope, paging, lang, "records-pager"));
        dom::mark(&format!("records:{}", paging.page));
    }
}
