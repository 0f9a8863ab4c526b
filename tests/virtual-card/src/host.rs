//! Drives `datalink-host` the way the browser does: 4-byte native-endian length + JSON on its
//! stdin, the same framing back on its stdout; one request at a time, each reply matched by
//! `id`. Everything the host writes (frames and its stderr log) is kept, so a test can also
//! check what the host *said* — for instance that no PIN appears anywhere in it.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// A running host.
pub struct HostProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: mpsc::Receiver<Value>,
    early: Vec<Value>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    next_id: u64,
}

/// What a host wrote over its whole life.
#[derive(Debug)]
pub struct Transcript {
    /// Raw stdout (the frames).
    pub stdout: Vec<u8>,
    /// Raw stderr (the host's log).
    pub stderr: Vec<u8>,
    pub exited_ok: bool,
}

/// One native-messaging frame.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap_or(u32::MAX).to_ne_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

impl HostProcess {
    /// Starts `command` (the host binary, with whatever environment the test sets) with piped
    /// stdio.
    pub fn spawn(mut command: Command) -> HostProcess {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the host: {e}"));
        let stdin = child.stdin.take();
        let (tx, frames) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(mut out) = child.stdout.take() {
            let raw = stdout.clone();
            readers.push(std::thread::spawn(move || {
                let mut pending = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = out.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    raw.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&buf[..n]);
                    pending.extend_from_slice(&buf[..n]);
                    while pending.len() >= 4 {
                        let len = u32::from_ne_bytes([pending[0], pending[1], pending[2], pending[3]]) as usize;
                        if pending.len() < 4 + len {
                            break;
                        }
                        let value = serde_json::from_slice(&pending[4..4 + len]).unwrap_or(Value::Null);
                        pending.drain(..4 + len);
                        if tx.send(value).is_err() {
                            return;
                        }
                    }
                }
            }));
        }
        if let Some(mut err) = child.stderr.take() {
            let raw = stderr.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    raw.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&buf[..n]);
                }
            }));
        }
        HostProcess { child, stdin, frames, early: Vec::new(), stdout, stderr, readers, next_id: 1 }
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `request` (an object without `id`; one is added) and waits up to `timeout` for its
    /// reply. Panics, with the host's log, when none comes.
    pub fn request(&mut self, mut request: Value, timeout: Duration) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        request["id"] = Value::from(id);
        let bytes = frame(request.to_string().as_bytes());
        let sent = self.stdin.as_mut().map(|stdin| stdin.write_all(&bytes).and_then(|()| stdin.flush()));
        if !matches!(sent, Some(Ok(()))) {
            panic!("cannot write to the host; its log:\n{}", self.log());
        }
        if let Some(at) = self.early.iter().position(|f| f["id"] == id) {
            return self.early.remove(at);
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.frames.recv_timeout(left) {
                Ok(reply) if reply["id"] == id => return reply,
                Ok(other) => self.early.push(other),
                Err(_) => panic!("no reply to {} within {timeout:?}; the host's log:\n{}", request["type"], self.log()),
            }
        }
    }

    /// The host's stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Closes stdin (the browser closing the port) and waits for the host to exit.
    pub fn finish(mut self) -> Transcript {
        drop(self.stdin.take());
        let exited_ok = self.child.wait().map(|s| s.success()).unwrap_or(false);
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let take = |buf: &Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *buf.lock().unwrap_or_else(|p| p.into_inner()));
        Transcript { stdout: take(&self.stdout), stderr: take(&self.stderr), exited_ok }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
