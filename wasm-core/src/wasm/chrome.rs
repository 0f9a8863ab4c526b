//! The few `chrome.*` APIs the worker's Rust uses, typed. (web-sys covers the web platform,
//! not extension APIs, so these are declared here.)

use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `chrome.runtime.Port`: a connection to the native host.
    pub type Port;

    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = connectNative, catch)]
    pub fn connect_native(application: &str) -> Result<Port, JsValue>;

    #[wasm_bindgen(method, js_name = postMessage, catch)]
    pub fn post_message(this: &Port, message: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(method)]
    pub fn disconnect(this: &Port);

    #[wasm_bindgen(method, getter, js_name = onMessage)]
    pub fn on_message(this: &Port) -> ChromeEvent;

    #[wasm_bindgen(method, getter, js_name = onDisconnect)]
    pub fn on_disconnect(this: &Port) -> ChromeEvent;

    /// `chrome.tabs.create(properties)`: a promise of the new tab.
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
    pub fn create_tab(properties: &JsValue) -> Result<js_sys::Promise, JsValue>;

    /// `chrome.tabs.remove(tabId)`.
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = remove, catch)]
    pub fn remove_tab(tab_id: f64) -> Result<js_sys::Promise, JsValue>;

    /// Any `chrome.events.Event`.
    pub type ChromeEvent;

    #[wasm_bindgen(method, js_name = addListener)]
    pub fn add_listener(this: &ChromeEvent, callback: &Function);
}

fn runtime_field(name: &str) -> Option<JsValue> {
    let chrome = js_sys::Reflect::get(&js_sys::global(), &"chrome".into()).ok()?;
    let runtime = js_sys::Reflect::get(&chrome, &"runtime".into()).ok()?;
    js_sys::Reflect::get(&runtime, &name.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// `chrome.runtime.id`: this extension's id.
pub fn runtime_id() -> String {
    runtime_field("id").and_then(|id| id.as_string()).unwrap_or_default()
}

/// `chrome.runtime.lastError.message`, if set (read it inside the callback that caused it).
pub fn last_error_message() -> Option<String> {
    js_sys::Reflect::get(&runtime_field("lastError")?, &"message".into()).ok()?.as_string()
}

/// Opens `url` in a background tab; returns its id.
pub async fn open_background_tab(url: &str) -> Option<i64> {
    let properties = js_sys::Object::new();
    js_sys::Reflect::set(&properties, &"url".into(), &url.into()).ok()?;
    js_sys::Reflect::set(&properties, &"active".into(), &false.into()).ok()?;
    let tab = wasm_bindgen_futures::JsFuture::from(create_tab(&properties).ok()?).await.ok()?;
    js_sys::Reflect::get(&tab, &"id".into()).ok()?.as_f64().map(|id| id as i64)
}

/// Closes a tab (ignoring a tab the user already closed).
pub async fn close_tab(tab_id: i64) {
    if let Ok(promise) = remove_tab(tab_id as f64) {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}
