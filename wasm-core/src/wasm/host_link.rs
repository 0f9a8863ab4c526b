//! The worker's connection to `datalink-host`: one native port, many requests in flight.
//!
//! [`call`] sends `{"id", "type", ...}` and waits for the reply with that id, or a timeout.
//! Replies may arrive in [`Chunk`]s, which are put back together before the caller sees them.
//! When the host goes away (crash, kill, not installed) every waiting call fails with a typed
//! error and the next call starts the host again: the browser launches a fresh process for
//! each `connectNative`.

use std::cell::RefCell;
use std::collections::HashMap;

use futures::channel::oneshot;
use futures::future::{select, Either};
use gloo::timers::future::TimeoutFuture;
use wasm_bindgen::prelude::*;

use super::chrome::{self, Port};
use super::js::{from_js, to_js};
use crate::error::{ErrorCode, ErrorInfo};
use crate::protocol::{ChunkAssembler, Envelope, HostMessage, Reply, Request, HOST_NAME};

type Waiter = oneshot::Sender<Result<serde_json::Value, ErrorInfo>>;

struct Link {
    port: Option<Port>,
    next_id: u64,
    waiting: HashMap<u64, Waiter>,
    chunks: ChunkAssembler,
    /// The port's listeners, kept alive as long as the port.
    _listeners: Vec<Closure<dyn FnMut(JsValue)>>,
    /// Bumped by every call: an idle timer only closes the port if no call came since.
    generation: u64,
}

/// An open port keeps the worker (and the host process) alive; with nothing to do for this
/// long, and no task running, the port is closed so both can rest.
const IDLE_DISCONNECT_MS: u32 = 60_000;

thread_local! {
    static LINK: RefCell<Link> = RefCell::new(Link {
        port: None,
        next_id: 1,
        waiting: HashMap::new(),
        chunks: ChunkAssembler::default(),
        _listeners: Vec::new(),
        generation: 0,
    });
}

/// Sends `request` to the host and waits at most `timeout_ms` for its reply.
pub async fn call(request: Request, timeout_ms: u32) -> Result<serde_json::Value, ErrorInfo> {
    let (id, reply) = LINK.with(|link| -> Result<_, ErrorInfo> {
        let mut link = link.borrow_mut();
        if link.port.is_none() {
            connect(&mut link)?;
        }
        let id = link.next_id;
        link.next_id += 1;
        link.generation += 1;
        let message = to_js(&Envelope { id, body: request })?;
        let (tx, rx) = oneshot::channel();
        link.waiting.insert(id, tx);
        if let Some(port) = &link.port {
            if let Err(e) = port.post_message(&message) {
                link.waiting.remove(&id);
                return Err(ErrorInfo::with_detail(ErrorCode::HostDisconnected, format!("{e:?}")));
            }
        }
        Ok((id, rx))
    })?;
    let outcome = match select(reply, TimeoutFuture::new(timeout_ms)).await {
        Either::Left((Ok(result), _)) => result,
        Either::Left((Err(_canceled), _)) => Err(ErrorInfo::new(ErrorCode::HostDisconnected)),
        Either::Right(((), _)) => {
            LINK.with(|link| {
                let mut link = link.borrow_mut();
                link.waiting.remove(&id);
                link.chunks.forget(Some(id));
            });
            Err(ErrorInfo::with_detail(ErrorCode::HostTimeout, format!("no reply to request {id} in {timeout_ms} ms")))
        }
    };
    schedule_idle_disconnect();
    outcome
}

fn schedule_idle_disconnect() {
    let generation = LINK.with(|link| link.borrow().generation);
    wasm_bindgen_futures::spawn_local(async move {
        TimeoutFuture::new(IDLE_DISCONNECT_MS).await;
        if super::collector::is_running() {
            return;
        }
        LINK.with(|link| {
            let mut link = link.borrow_mut();
            if link.generation == generation && link.waiting.is_empty() {
                if let Some(port) = link.port.take() {
                    port.disconnect();
                }
                link.chunks = ChunkAssembler::default();
                // Not running now: the port's listeners can go.
                link._listeners.clear();
            }
        });
    });
}

fn connect(link: &mut Link) -> Result<(), ErrorInfo> {
    let port = chrome::connect_native(HOST_NAME)
        .map_err(|e| ErrorInfo::with_detail(ErrorCode::HostNotFound, format!("connectNative: {e:?}")))?;
    let on_message = Closure::<dyn FnMut(JsValue)>::new(|message: JsValue| received(&message));
    let on_disconnect = Closure::<dyn FnMut(JsValue)>::new(|_port: JsValue| disconnected(chrome::last_error_message()));
    port.on_message().add_listener(on_message.as_ref().unchecked_ref());
    port.on_disconnect().add_listener(on_disconnect.as_ref().unchecked_ref());
    link._listeners = vec![on_message, on_disconnect];
    link.port = Some(port);
    Ok(())
}

fn received(message: &JsValue) {
    let parsed: Result<HostMessage, ErrorInfo> = from_js(message, ErrorCode::HostReplyInvalid);
    LINK.with(|link| {
        let mut link = link.borrow_mut();
        let reply = match parsed {
            Ok(HostMessage::Reply(reply)) => reply,
            Ok(HostMessage::Chunk(chunk)) => {
                let id = chunk.id;
                match link.chunks.push(chunk) {
                    Ok(Some(reply)) => reply,
                    Ok(None) => return,
                    Err(e) => Reply::failure(id, ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, e.to_string())),
                }
            }
            Err(e) => {
                web_sys::console::warn_1(&format!("DataLink: unreadable host message: {e}").into());
                return;
            }
        };
        let Some(id) = reply.id else {
            web_sys::console::warn_1(&format!("DataLink: host error without request id: {:?}", reply.error).into());
            return;
        };
        if let Some(waiter) = link.waiting.remove(&id) {
            let _ = waiter.send(reply.into_result());
        }
    });
}

fn disconnected(reason: Option<String>) {
    // "Specified native messaging host not found." is how Chrome says the host is not installed.
    let code = match &reason {
        Some(text) if text.contains("not found") || text.contains("forbidden") => ErrorCode::HostNotFound,
        _ => ErrorCode::HostDisconnected,
    };
    let error = ErrorInfo::with_detail(code, reason.unwrap_or_else(|| "the host closed the connection".into()));
    let waiting = LINK.with(|link| {
        let mut link = link.borrow_mut();
        link.port = None;
        link.chunks = ChunkAssembler::default();
        // The listeners are running right now: drop them only after this call returns.
        let listeners = std::mem::take(&mut link._listeners);
        wasm_bindgen_futures::spawn_local(async move { drop(listeners) });
        std::mem::take(&mut link.waiting)
    });
    for (_, waiter) in waiting {
        let _ = waiter.send(Err(error.clone()));
    }
}
