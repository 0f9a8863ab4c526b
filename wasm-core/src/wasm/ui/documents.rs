//! Official documents on the pages (issue #10): 详情's fourth count, its ZIP of the task's
//! prints and the 补采 of a past task's documents; 预览's receipts timeline (回执) and the
//! button that opens the print (报关单打印件) in a new tab.
//!
//! Everything comes from the worker (`documents_export`, `documents_fetch`, `document_get`),
//! which asks the host; a PDF or ZIP arrives as base64 and becomes a Blob's object URL. Portal
//! values (receipt notes, channels) are shown as text only.

use serde_json::json;

use super::api;
use super::dom::{self, button, el, El, Scope};
use crate::checkpoint::TaskReport;
use crate::documents::{DocumentFile, DocumentsZip};
use crate::task::TaskNumber;
use crate::view::text::{Lang, T};

/// Bytes (base64) as a Blob's object URL of type `mime`.
fn blob_url(base64_data: &str, mime: &str) -> Result<String, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64_data).map_err(|e| e.to_string())?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&array), &options)
        .map_err(|e| format!("{e:?}"))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))
}

fn revoke_later(url: String) {
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
}

/// Downloads the ZIP under the host's file name (a hidden `<a download>`, clicked).
fn save_zip(zip: &DocumentsZip) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let url = blob_url(&zip.base64, &zip.mime)?;
    let anchor = el("a").attr("href", &url).attr("download", &zip.file_name);
    anchor.set_hidden(true);
    if let Some(body) = dom::document().body() {
        let _ = body.append_child(&anchor.0);
    }
    if let Some(a) = anchor.0.dyn_ref::<web_sys::HtmlElement>() {
        a.click();
    }
    anchor.0.remove();
    revoke_later(url);
    Ok(())
}

/// 报关单协同's checkbox: 同时下载报关单打印件、回执和随附单证清单 (`sync_start`'s `documents`).
pub fn option_box(lang: Lang) -> El {
    el("label")
        .class("check")
        .child(el("input").id("f-documents").attr("type", "checkbox"))
        .child(el("span").text(T::DocOption.get(lang)))
}

/// Whether the checkbox of [`option_box`] is ticked.
pub fn option_checked() -> bool {
    use wasm_bindgen::JsCast;
    dom::document()
        .get_element_by_id("f-documents")
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|input| input.checked())
}

/// 详情's documents line: 下载报关单打印件 (ZIP) and 补采报关单打印件.
pub fn detail_toolbar(scope: &Scope, task: &TaskNumber, lang: Lang) -> El {
    let status = el("span").class("export-status").id("doc-status");
    let zip = button(T::DocZip.get(lang), "").id("doc-zip");
    let fetch = button(T::DocFetch.get(lang), "").id("doc-fetch");
    // A month (across tasks) instead of the whole task, when one is typed.
    let month = el("input").attr("type", "text").attr("placeholder", T::DocZipMonth.get(lang)).id("doc-month").class("month-input");
    let (number, shown, typed) = (task.clone(), status.clone(), month.clone());
    scope.click(&zip, move || {
        let (number, shown) = (number.clone(), shown.clone());
        let request = match typed.value().trim() {
            "" => json!({ "type": "documents_export", "task": number }),
            text => match crate::report::parse_month(text) {
                Some((y, m)) => json!({ "type": "documents_export", "month": format!("{y:04}-{m:02}") }),
                None => {
                    shown.set_text(T::DocZipMonth.get(lang));
                    return;
                }
            },
        };
        shown.set_text(T::Loading.get(lang));
        wasm_bindgen_futures::spawn_local(async move {
            match api::ask_as::<DocumentsZip>(&request).await {
                Ok(zip) => match save_zip(&zip) {
                    Ok(()) => shown.set_text(&T::DocZipDone.fill(lang, &[&zip.files])),
                    Err(e) => shown.set_text(&e),
                },
                Err(e) => shown.set_text(&e.message),
            }
        });
    });
    let (number, shown) = (task.clone(), status.clone());
    scope.click(&fetch, move || {
        let (number, shown) = (number.clone(), shown.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match api::ask(&json!({ "type": "documents_fetch", "task": number })).await {
                Ok(_) => shown.set_text(T::DocFetchStarted.get(lang)),
                Err(e) => shown.set_text(&e.message),
            }
        });
    });
    el("div")
        .class("toolbar")
        .id("documents-toolbar")
        .child(el("span").text(T::DocPrints.get(lang)))
        .child(month)
        .child(zip)
        .child(fetch)
        .child(status)
}

/// 详情's fourth total (报关单打印件 stored / declarations with 报关单号), for a task with documents.
pub fn fourth_total(report: &TaskReport, lang: Lang) -> Option<El> {
    let d = report.documents?;
    Some(
        el("div")
            .class(if d.agree() { "total" } else { "total bad" })
            .child(el("span").class("total-label").text(T::DocPrints.get(lang)))
            .child(el("span").class("total-value").id("total-documents").text(&format!("{} / {}", d.stored, d.entries))),
    )
}

/// 预览's documents: the receipts timeline (time, channel, note) and 打开报关单打印件.
pub fn preview_section(scope: &Scope, cus_ciq_no: &str, lang: Lang) -> El {
    let section = el("div").class("documents").id("documents");
    let timeline = el("div").id("receipts");
    let status = el("span").class("export-status").id("pdf-status");
    let open = button(T::DocOpenPdf.get(lang), "").id("open-pdf");
    section.append(&el("h3").text(T::DocReceipts.get(lang)));
    section.append(&timeline);
    section.append(&el("div").class("buttons").child(open.clone()).child(status.clone()));
    let cus = cus_ciq_no.to_owned();
    let alive = scope.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let found =
            api::ask_as::<Option<DocumentFile>>(&json!({ "type": "document_get", "cusCiqNo": cus, "kind": "receipts" })).await;
        if !alive.alive() {
            return;
        }
        let rows = match found {
            Ok(Some(file)) => file.info.content.and_then(|c| c.as_array().cloned()).unwrap_or_default(),
            Ok(None) => Vec::new(),
            Err(e) => {
                timeline.set_text(&e.message);
                return;
            }
        };
        if rows.is_empty() {
            timeline.set_text(T::DocNoReceipts.get(lang));
            return;
        }
        let body = el("tbody");
        for r in &rows {
            let text = |key: &str| r.get(key).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            body.append(&el("tr").children([
                el("td").text(&text("noticeDate")),
                el("td").text(&text("channelName")),
                el("td").text(&text("note")),
            ]));
        }
        let head = el("tr").children([T::DocColTime, T::DocColChannel, T::DocColNote].map(|h| el("th").text(h.get(lang))));
        timeline.append(&el("table").class("table receipts").child(el("thead").child(head)).child(body));
        dom::mark("preview:receipts");
    });
    let cus = cus_ciq_no.to_owned();
    scope.click(&open, move || {
        let (cus, status) = (cus.clone(), status.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match api::ask_as::<Option<DocumentFile>>(&json!({ "type": "document_get", "cusCiqNo": cus, "kind": "pdf" })).await {
                Ok(Some(DocumentFile { base64: Some(pdf), .. })) => match blob_url(&pdf, "application/pdf") {
                    Ok(url) => {
                        let _ = gloo::utils::window().open_with_url_and_target(&url, "_blank");
                        revoke_later(url);
                        status.set_text("");
                    }
                    Err(e) => status.set_text(&e),
                },
                Ok(_) => status.set_text(T::DocNoPdf.get(lang)),
                Err(e) => status.set_text(&e.message),
            }
        });
    });
    section
}
