//! Rust values to and from JS values, through JSON.
//!
//! Everything the worker exchanges (native port messages, page messages) is JSON by nature, so
//! the conversion goes through `JSON.parse` / `JSON.stringify`: numbers, maps and missing fields
//! then behave exactly as they do in the host, which parses the same text with serde_json.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::{ErrorCode, ErrorInfo};

pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, ErrorInfo> {
    let text = serde_json::to_string(value).map_err(|e| ErrorInfo::with_detail(ErrorCode::Internal, e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| ErrorInfo::with_detail(ErrorCode::Internal, "JSON.parse refused serde_json output"))
}

pub fn from_js<T: DeserializeOwned>(value: &JsValue, code: ErrorCode) -> Result<T, ErrorInfo> {
    let text: String = js_sys::JSON::stringify(value)
        .map_err(|_| ErrorInfo::with_detail(code, "value is not JSON-serializable"))?
        .into();
    serde_json::from_str(&text).map_err(|e| ErrorInfo::with_detail(code, e.to_string()))
}
