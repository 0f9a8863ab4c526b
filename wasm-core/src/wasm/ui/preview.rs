//! 预览: a whole declaration from the local store (head, goods lines, documents), laid out like
//! the customs form by [`crate::view::customs`]. Every value is the portal's, shown as text.

use std::rc::Rc;

use serde_json::json;

use super::dom::{self, el, El, Scope};
use super::{api, link, problem, App};
use crate::browse::DeclarationFull;
use crate::view::customs::{layout, Cell};
use crate::view::text::T;

fn cells(row: &[Cell]) -> El {
    let line = el("div").class("cf-row");
    for c in row {
        line.append(
            &el("div")
                .class("cf-cell")
                .attr("style", &format!("grid-column: span {}", c.span.clamp(1, 12)))
                .child(el("div").class("cf-label").text(c.label))
                .child(el("div").class("cf-value").attr("data-label", c.label).text(&c.value)),
        );
    }
    line
}

pub fn mount(app: Rc<App>, scope: &Scope, cus_ciq_no: String, task: Option<String>) {
    let lang = app.lang();
    let back = match &task {
        Some(task) => format!("#/task/{task}/detail"),
        None => "#/records".to_owned(),
    };
    let body = el("div").text(T::Loading.get(lang));
    app.main.append(
        &el("section")
            .class("card preview")
            .child(el("div").class("card-head").child(el("h2").text(T::PreviewTitle.get(lang))).child(link(&back, T::Back.get(lang), "button").id("back")))
            .child(body.clone()),
    );
    let scope = scope.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let found = api::ask_as::<Option<DeclarationFull>>(&json!({ "type": "declaration_get", "cusCiqNo": cus_ciq_no, "enterprise": app.enterprise() })).await;
        if !scope.alive() {
            return;
        }
        body.clear();
        let full = match found {
            Ok(Some(full)) => full,
            Ok(None) => {
                body.append(&el("div").class("notice error").child(el("strong").text(&format!("{}：{}", T::AdvNotFound.get(lang), cus_ciq_no))));
                return dom::mark("preview:missing");
            }
            Err(e) => {
                body.append(&problem(&app, &e));
                return dom::mark("preview:error");
            }
        };
        let head = full.head.clone().or_else(|| full.list_row.clone()).unwrap_or_default();
        let note = match (&full.head, &full.fetched_at) {
            (Some(_), Some(at)) => T::FromStore.fill(lang, &[at]),
            (Some(_), None) => String::new(),
            (None, _) => T::NoDetail.get(lang).to_owned(),
        };
        if !note.is_empty() {
            body.append(&el("p").class("note").text(&note));
        }
        let form = layout(&head, &full.goods, &full.documents);
        let sheet = el("div").class("customs-form").id("customs-form");
        sheet.append(&el("h3").class("cf-title").text(form.title));
        sheet.append(&cells(&form.top).class("cf-row cf-top"));
        for row in &form.rows {
            sheet.append(&cells(row));
        }
        let goods = el("table").class("cf-goods").id("goods");
        goods.append(&el("thead").child(el("tr").children(form.goods_header.iter().map(|h| el("th").text(h)))));
        let rows = el("tbody");
        for line in &form.goods {
            rows.append(&el("tr").children(line.iter().map(|v| el("td").text(v))));
        }
        goods.append(&rows);
        sheet.append(&el("div").class("cf-goods-wrap").child(goods));
        sheet.append(&cells(&form.bottom));
        body.append(&sheet);
        body.append(&super::documents::preview_section(&scope, &cus_ciq_no, lang));
        dom::mark("preview");
    });
}
