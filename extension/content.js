// DataLink content script, on Single Window portal pages. Deliberately thin: it lives under the
// portal's CSP and is not a module. It marks the page as DataLink-enabled, relays one kind of
// request — a self-diagnosis — from the page to the extension (the service worker checks the
// sender again and refuses anything else a portal page asks for), and on a card login page that
// DataLink opened for a paused task, types the card PIN the user gave for that task.
(() => {
  const PAGE = 'datalink-page';
  const EXTENSION = 'datalink-extension';
  document.documentElement.dataset.datalink = chrome.runtime.getManifest().version;

  // Card login (卡介质登录): `#password` and `#loginbutton`, as on the portal's CAS card tab.
  const password = document.getElementById('password');
  const button = document.getElementById('loginbutton');
  if (password && button) {
    const msg = document.getElementById('msg');
    const message = msg ? msg.textContent : null;
    chrome.runtime.sendMessage({ type: 'autologin', message }).then((reply) => {
      if (!reply || !reply.ok || typeof reply.result !== 'string') return;
      const pin = reply.result;
      // The portal enables the button once its card client answers: wait for that (20 s).
      let waited = 0;
      const tryLogin = () => {
        if (button.disabled && waited < 20000) {
          waited += 200;
          setTimeout(tryLogin, 200);
          return;
        }
        password.value = pin;
        password.dispatchEvent(new Event('input', { bubbles: true }));
        button.click();
      };
      tryLogin();
    }, () => {});
  }

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
