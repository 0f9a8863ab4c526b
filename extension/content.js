// DataLink content script, on Single Window portal pages. Deliberately thin: it lives under the
// portal's CSP and is not a module. It marks the page as DataLink-enabled and relays one kind of
// request — a self-diagnosis — from the page to the extension; the service worker checks the
// sender again and refuses anything else a portal page asks for.
(() => {
  const PAGE = 'datalink-page';
  const EXTENSION = 'datalink-extension';
  document.documentElement.dataset.datalink = chrome.runtime.getManifest().version;

  window.addEventListener('message', (event) => {
    const data = event.data;
    if (event.source !== window || !data || data.source !== PAGE || !data.request) return;
    const answer = (reply) => window.postMessage({ source: EXTENSION, requestId: data.requestId, reply }, window.location.origin);
    chrome.runtime.sendMessage(data.request).then(answer, (err) => answer({
      ok: false,
      error: { code: 1102, name: 'host_disconnected', message: '与扩展的连接已断开，请刷新页面', detail: String(err) },
    }));
  });
})();
