//! The portal edge: one HTTP request from the service worker, in the user's portal session.
//!
//! `fetch` with `credentials: 'include'` carries the portal's `JSESSIONID` (the extension has
//! host permissions for the portal origins). Each request can be aborted — by its timeout or
//! by 取消执行 — through its own `AbortController`. What comes back is handed, untouched, to
//! the pure checks in [`crate::portal`].

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::portal::{check_answer, HttpAnswer, PortalFault, ACCEPT_JSON};

/// One answer, as read off the wire.
pub struct Answer {
    pub status: u16,
    pub redirected: bool,
    pub final_url: String,
    pub body: String,
}

impl Answer {
    pub fn http(&self) -> HttpAnswer<'_> {
        HttpAnswer { status: self.status, redirected: self.redirected, final_url: &self.final_url, body: &self.body }
    }

    /// [`check_answer`] on this answer.
    pub fn check(&self) -> Result<(), PortalFault> {
        check_answer(&self.http())
    }
}

/// Sends a GET (or a JSON POST when `json_body` is given) and reads the whole answer.
/// `abort` lets the caller cancel it; the request is aborted after `timeout_ms` regardless.
pub async fn send(url: &str, json_body: Option<&str>, abort: &web_sys::AbortController, timeout_ms: u32) -> Result<Answer, PortalFault> {
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new().map_err(network)?;
    headers.set("Accept", ACCEPT_JSON).map_err(network)?;
    headers.set("X-Requested-With", "XMLHttpRequest").map_err(network)?;
    if let Some(body) = json_body {
        init.set_method("POST");
        headers.set("Content-Type", "application/json").map_err(network)?;
        init.set_body(&JsValue::from_str(body));
    } else {
        init.set_method("GET");
    }
    init.set_headers(&headers);
    init.set_credentials(web_sys::RequestCredentials::Include);
    init.set_redirect(web_sys::RequestRedirect::Follow);
    init.set_signal(Some(&abort.signal()));

    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let timer_abort = abort.clone();
    let timeout = gloo::timers::callback::Timeout::new(timeout_ms, move || timer_abort.abort());
    let result = async {
        let response: web_sys::Response = JsFuture::from(global.fetch_with_str_and_init(url, &init)).await.map_err(failed)?.unchecked_into();
        let text = JsFuture::from(response.text().map_err(failed)?).await.map_err(failed)?;
        Ok(Answer {
            status: response.status(),
            redirected: response.redirected(),
            final_url: response.url(),
            body: text.as_string().unwrap_or_default(),
        })
    }
    .await;
    drop(timeout);
    result
}

/// A rejected fetch: aborted (timeout or cancel) or a network failure.
fn failed(error: JsValue) -> PortalFault {
    let name = js_sys::Reflect::get(&error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    if name == "AbortError" {
        PortalFault::Timeout
    } else {
        network(error)
    }
}

fn network(error: JsValue) -> PortalFault {
    let message = js_sys::Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| format!("{error:?}"));
    PortalFault::Network(message)
}
