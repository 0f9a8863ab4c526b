// DataLink's pages are Rust compiled to wasm (wasm-core/src/wasm/ui/): this only loads the
// module and starts the app. Nothing here touches the DOM.
import init, { startApp } from './wasm/datalink_core.js';

await init({ module_or_path: chrome.runtime.getURL('wasm/datalink_core_bg.wasm') });
startApp();
