// DataLink app page (issue #5 grows it into the full 报关单协同 / 协同记录 screens).
// All decisions are the service worker's (Rust/wasm); this page only shows them.
const state = document.getElementById('host-state');
const log = document.getElementById('log');

function logLine(tag, text) {
  const li = document.createElement('li');
  const time = new Date().toLocaleString('zh-CN', { hour12: false });
  const tagEl = document.createElement('span');
  tagEl.className = 'tag';
  tagEl.textContent = tag;
  li.append(time, tagEl, text); // text nodes only: nothing from the host is parsed as HTML
  log.append(li);
}

document.getElementById('connect').addEventListener('click', async () => {
  logLine('连接', '开始环境检测...');
  const reply = await chrome.runtime.sendMessage({ type: 'connect_host' });
  if (reply.ok) {
    state.textContent = `连接成功（协同客户端 ${reply.result.hostVersion}，协议 ${reply.result.protocol}）`;
    state.className = 'state ok';
    logLine('连接', '协同客户端连接成功');
  } else {
    state.textContent = `${reply.error.message}（错误码 ${reply.error.code}）`;
    state.className = 'state error';
    logLine('错误', reply.error.message);
  }
});
