//! The page's side of talking to the worker (`chrome.runtime.sendMessage`), its settings in
//! `chrome.storage.local`, and the few other `chrome.*` calls the pages make.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::super::js;
use crate::error::{ErrorCode, ErrorInfo};

#[wasm_bindgen]
extern "C" {
    /// `chrome.runtime.sendMessage(message)`: a promise of the worker's reply.
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
    fn send_message(message: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = get, catch)]
    fn storage_get(keys: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = set, catch)]
    fn storage_set(items: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
    fn tabs_create(properties: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// Asks the worker; the reply's `error` becomes `Err` (with the worker gone: 1102).
pub async fn ask(message: &Value) -> Result<Value, ErrorInfo> {
    let request = js::to_js(message)?;
    let promise = send_message(&request).map_err(|e| ErrorInfo::with_detail(ErrorCode::HostDisconnected, format!("{e:?}")))?;
    let reply = JsFuture::from(promise).await.map_err(|e| ErrorInfo::with_detail(ErrorCode::HostDisconnected, format!("{e:?}")))?;
    let reply: Value = js::from_js(&reply, ErrorCode::HostReplyInvalid)?;
    if reply["ok"] == Value::Bool(true) {
        return Ok(reply.get("result").cloned().unwrap_or(Value::Null));
    }
    match reply.get("error").cloned().map(serde_json::from_value::<ErrorInfo>) {
        Some(Ok(error)) => Err(error),
        _ => Err(ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, "the worker answered neither result nor error")),
    }
}

/// [`ask`], decoding the result.
pub async fn ask_as<T: DeserializeOwned>(message: &Value) -> Result<T, ErrorInfo> {
    let value = ask(message).await?;
    serde_json::from_value(value).map_err(|e| ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, e.to_string()))
}

/// A request built from a typed value plus its `type`.
pub fn message<T: Serialize>(kind: &str, body: &T) -> Value {
    let mut value = serde_json::to_value(body).unwrap_or(Value::Null);
    match &mut value {
        Value::Object(map) => {
            map.insert("type".into(), Value::String(kind.into()));
            value
        }
        _ => serde_json::json!({ "type": kind }),
    }
}

/// `chrome.storage.local`'s values for `keys` (missing ones absent).
pub async fn load(keys: &[&str]) -> serde_json::Map<String, Value> {
    let list = js_sys::Array::new();
    for k in keys {
        list.push(&JsValue::from_str(k));
    }
    let Ok(promise) = storage_get(&list) else { return serde_json::Map::new() };
    match JsFuture::from(promise).await {
        Ok(items) => js::from_js::<serde_json::Map<String, Value>>(&items, ErrorCode::Internal).unwrap_or_default(),
        Err(_) => serde_json::Map::new(),
    }
}

/// Saves `items` in `chrome.storage.local`.
pub async fn save(items: &Value) {
    if let Ok(value) = js::to_js(items) {
        if let Ok(promise) = storage_set(&value) {
            let _ = JsFuture::from(promise).await;
        }
    }
}

/// Opens `url` in a new, focused tab.
pub fn open_tab(url: &str) {
    let properties = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&properties, &"url".into(), &url.into());
    if let Ok(promise) = tabs_create(&properties) {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}

/// Today, local time.
pub fn today() -> crate::calendar::Date {
    let now = js_sys::Date::new_0();
    crate::calendar::Date::new(now.get_full_year() as i32, (now.get_month() + 1) as u8, now.get_date() as u8)
        .unwrap_or_else(|| crate::calendar::Date::from_day_number(0))
}
