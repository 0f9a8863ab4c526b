// DataLink service worker: thin glue around the Rust/wasm core (wasm-core/src/wasm).
//
// MV3 rules this file follows: listeners are registered synchronously at the top level, before
// wasm has loaded, and each waits for `ready`; the wasm glue is imported statically (a module
// worker cannot import() dynamically); nothing here touches `window`.
import init, { handleMessage, resumeActive, scheduleArm, scheduleFire } from './wasm/datalink_core.js';

const ready = init({ module_or_path: chrome.runtime.getURL('wasm/datalink_core_bg.wasm') });

// A task the previous worker left running goes on (the browser stops idle workers; a
// connected native port keeps a running one alive, but a crash or update may still end it).
ready.then(() => resumeActive());

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  ready
    .then(() => handleMessage(message, sender))
    .then(sendResponse, (err) => sendResponse({
      ok: false,
      error: { code: 9001, name: 'internal', message: '内部错误，请将日志发送给技术支持', detail: String(err) },
    }));
  return true; // the answer comes asynchronously
});

// 自动协同 (wasm-core/src/wasm/schedule.rs): the alarm fires the sync; it is (re)created from
// the settings in chrome.storage.local when the browser starts, when the extension is
// installed or updated, and when the page saves the settings. Chrome keeps alarms across
// worker restarts.
chrome.alarms.onAlarm.addListener((alarm) => {
  ready.then(() => scheduleFire(alarm.name));
});
chrome.runtime.onStartup.addListener(() => {
  ready.then(() => scheduleArm());
});
chrome.runtime.onInstalled.addListener(() => {
  ready.then(() => scheduleArm());
});
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && changes.schedule) ready.then(() => scheduleArm());
});
// A notification (a task ended, please log in) opens the pages.
chrome.notifications.onClicked.addListener((id) => {
  chrome.notifications.clear(id);
  chrome.tabs.create({ url: chrome.runtime.getURL(id.startsWith('datalink-task-') ? 'app.html#/records' : 'app.html#/sync') });
});

chrome.action.onClicked.addListener(() => {
  chrome.tabs.create({ url: chrome.runtime.getURL('app.html') });
});
