//! 自动协同 in the worker: the `chrome.alarms` alarm and the desktop notifications.
//!
//! The settings ([`crate::view::schedule::Schedule`], pure and tested natively) live in
//! `chrome.storage.local`; `extension/background.js` registers the listeners synchronously and
//! calls, once wasm is ready:
//!
//! * [`arm`] (`scheduleArm`) when the browser starts, when the extension is installed or
//!   updated, and when the page saves the settings: clears the alarm and creates it again from
//!   the settings (Chrome keeps alarms across worker restarts, so nothing else is needed);
//! * [`fire`] (`scheduleFire`) when an alarm goes off: never two tasks at once (a running task
//!   makes it skip, recorded with why); the portal session is probed as 连接协同服务 does, and
//!   without one a notification asks the user to log in and no task starts; otherwise the task
//!   runs in the worker exactly like a manual one (no page needed), with the operator
//!   `自动协同` and without a PIN — DataLink never stores the card PIN, so a session that
//!   expires mid-task pauses the task and a notification asks for the login (the collector).
//!
//! What each alarm did is written to `chrome.storage.local` (`scheduleLast`,
//! [`crate::view::schedule::LastRun`]). [`notify`] shows a desktop notification
//! (`chrome.notifications`, the extension's `icon-128.png`); the collector calls it when any
//! task ends and when a task without a PIN pauses for a login.

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{collector, js};
use crate::error::{ErrorCode, ErrorInfo};
use crate::page::{SyncSettings, SyncStart};
use crate::view::form::{check_settings, SettingsInput};
use crate::view::schedule::{
    LastRun, Schedule, ALARM_NAME, LAST_RUN_KEY, SKIP_RUNNING, STORAGE_KEY,
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = get, catch)]
    fn storage_get(keys: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "storage", "local"], js_name = set, catch)]
    fn storage_set(items: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
    fn alarms_create(name: &str, info: &JsValue) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = clear, catch)]
    fn alarms_clear(name: &str) -> Result<js_sys::Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "notifications"], js_name = create, catch)]
    fn notifications_create(id: &str, options: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

/// `chrome.storage.local`'s values for `keys` (`Null` when unreadable).
async fn stored(keys: &[&str]) -> Value {
    let list = js_sys::Array::new();
    for key in keys {
        list.push(&JsValue::from_str(key));
    }
    let Ok(promise) = storage_get(&list) else {
        return Value::Null;
    };
    let Ok(items) = JsFuture::from(promise).await else {
        return Value::Null;
    };
    js::from_js(&items, ErrorCode::Internal).unwrap_or(Value::Null)
}

/// How hard the task may press the portal: the page's 设置 (`concurrency`, `rate`, saved by
/// 报关单协同), else the defaults.
async fn sync_settings(portal: &str) -> SyncSettings {
    let items = stored(&["concurrency", "rate"]).await;
    let number = |key: &str| {
        items
            .get(key)
            .and_then(Value::as_u64)
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    let input = SettingsInput {
        portal: portal.to_owned(),
        concurrency: number("concurrency"),
        rate: number("rate"),
    };
    check_settings(&input)
        .map(|(_, settings)| settings)
        .unwrap_or_default()
}

/// The stored settings; missing or unreadable ones are "off".
async fn load() -> Schedule {
    let items = stored(&[STORAGE_KEY]).await;
    items
        .get(STORAGE_KEY)
        .cloned()
        .and_then(|v| serde_json::from_value::<Schedule>(v).ok())
        .filter(|s| s.validate().is_ok())
        .unwrap_or_default()
}

async fn record(last: &LastRun) {
    let items = serde_json::json!({ LAST_RUN_KEY: last });
    if let Ok(value) = js::to_js(&items) {
        if let Ok(promise) = storage_set(&value) {
            let _ = JsFuture::from(promise).await;
        }
    }
}

/// (Re)creates the alarm from the stored settings (cleared when off).
#[wasm_bindgen(js_name = scheduleArm)]
pub async fn arm() {
    let schedule = load().await;
    if let Ok(promise) = alarms_clear(ALARM_NAME) {
        let _ = JsFuture::from(promise).await;
    }
    let (Some(delay), Some(period)) = (
        schedule.first_delay_seconds(collector::local_now()),
        schedule.period_minutes(),
    ) else {
        return;
    };
    let info = js_sys::Object::new();
    let when = js_sys::Date::now() + delay as f64 * 1000.0;
    let _ = js_sys::Reflect::set(&info, &"when".into(), &when.into());
    let _ = js_sys::Reflect::set(&info, &"periodInMinutes".into(), &f64::from(period).into());
    match alarms_create(ALARM_NAME, &info) {
        Ok(promise) => {
            let _ = JsFuture::from(promise).await;
        }
        Err(e) => web_sys::console::warn_1(
            &format!("DataLink: the schedule's alarm was not created ({e:?})").into(),
        ),
    }
}

/// An alarm went off: starts the automatic sync if it may run.
#[wasm_bindgen(js_name = scheduleFire)]
pub async fn fire(name: String) {
    if name != ALARM_NAME {
        return;
    }
    let at = collector::local_now().to_string();
    let last = run(at).await;
    record(&last).await;
}

async fn run(at: String) -> LastRun {
    if collector::is_running() {
        return LastRun::Skipped {
            at,
            reason: SKIP_RUNNING.into(),
        };
    }
    let schedule = load().await;
    if schedule.portal.is_empty() {
        return LastRun::Failed {
            at,
            reason: ErrorInfo::new(ErrorCode::InvalidRequest).message,
        };
    }
    match collector::portal_user(&schedule.portal).await {
        Ok(_) => {}
        Err(e) if e.error_code() == Some(ErrorCode::PortalNotLoggedIn) => {
            let (title, message) = crate::view::schedule::login_notice(None);
            notify("datalink-login", &title, &message).await;
            return LastRun::NotLoggedIn { at };
        }
        Err(e) => {
            return LastRun::Failed {
                at,
                reason: e.message,
            }
        }
    }
    let request = SyncStart {
        conditions: schedule.conditions(collector::local_now().date),
        portal: schedule.portal.clone(),
        settings: sync_settings(&schedule.portal).await,
        pin: None,
        verify_card: false,
        confirm_last_try: false,
        card_settings: Default::default(),
        // The official documents (issue #10) are a manual option for now.
        documents: false,
    };
    match collector::start_automatic(request).await {
        Ok(record) => LastRun::Started {
            at,
            task: record.number.to_string(),
        },
        // A manual task won the race between the check above and the start.
        Err(e) if e.error_code() == Some(ErrorCode::SyncAlreadyRunning) => LastRun::Skipped {
            at,
            reason: SKIP_RUNNING.into(),
        },
        Err(e) => LastRun::Failed {
            at,
            reason: e.message,
        },
    }
}

/// Shows a desktop notification (replacing an earlier one with the same `id`).
pub async fn notify(id: &str, title: &str, message: &str) {
    let options = js_sys::Object::new();
    // Relative to the extension's root.
    for (key, value) in [
        ("type", "basic"),
        ("iconUrl", "icon-128.png"),
        ("title", title),
        ("message", message),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    match notifications_create(id, &options) {
        Ok(promise) => {
            if let Err(e) = JsFuture::from(promise).await {
                web_sys::console::warn_1(
                    &format!("DataLink: notification not shown ({e:?})").into(),
                );
            }
        }
        Err(e) => {
            web_sys::console::warn_1(&format!("DataLink: notification not shown ({e:?})").into())
        }
    }
}
