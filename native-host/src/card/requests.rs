//! The card's host-protocol requests (see PROTOCOL.md, "Card requests"): `card_status`,
//! `card_verify_pin`, `card_sign`, `card_wait`.
//!
//! Card I/O blocks (PC/SC calls, the WebSocket to the E-Port control), so each request runs on
//! tokio's blocking pool; the card service's mutex makes them take turns. The PIN is moved out
//! of the request into a zeroizing [`Pin`] at once, and checked for format before anything else.

use std::time::Duration;

use datalink_core::error::{ErrorCode, ErrorInfo};
use datalink_core::protocol::{
    CardSignReply, CardSignRequest, CardStatusReply, CardStatusRequest, CardVerifyPinRequest, CardVerifyReply, CardWaitReply, CardWaitRequest,
    MAX_CARD_WAIT_MS,
};
use zeroize::Zeroizing;

use super::service::{self, now_unix, resolve};
use super::{CardError, Pin};

/// Runs blocking card work off the async runtime.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, CardError> + Send + 'static) -> Result<T, ErrorInfo> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ErrorInfo::from),
        Err(e) => Err(ErrorInfo::with_detail(ErrorCode::Internal, format!("card task failed: {e}"))),
    }
}

/// `card_status`: the environment check.
pub async fn status(request: CardStatusRequest) -> Result<CardStatusReply, ErrorInfo> {
    blocking(move || {
        let settings = resolve(&request.settings)?;
        Ok(service::service().status(&settings, now_unix()))
    })
    .await
}

/// `card_verify_pin`: the PIN, checked once.
pub async fn verify_pin(mut request: CardVerifyPinRequest) -> Result<CardVerifyReply, ErrorInfo> {
    let pin = Pin::parse(Zeroizing::new(request.pin.take()));
    blocking(move || {
        let pin = pin?;
        let settings = resolve(&request.settings)?;
        service::service().verify_pin(&settings, pin, request.confirm_last_try)
    })
    .await
}

/// `card_sign`: a signature over `data`, with the PIN verified first when given.
pub async fn sign(mut request: CardSignRequest) -> Result<CardSignReply, ErrorInfo> {
    let pin = request.pin.as_mut().map(|secret| Pin::parse(Zeroizing::new(secret.take()))).transpose();
    blocking(move || {
        let pin = pin?;
        let settings = resolve(&request.settings)?;
        service::service().sign(&settings, request.data.as_bytes(), pin, request.confirm_last_try)
    })
    .await
}

/// `card_wait`: until a card is in (or out of) a reader.
pub async fn wait(request: CardWaitRequest) -> Result<CardWaitReply, ErrorInfo> {
    if request.timeout_ms > MAX_CARD_WAIT_MS {
        return Err(ErrorInfo::with_detail(ErrorCode::InvalidRequest, format!("timeoutMs is at most {MAX_CARD_WAIT_MS}")));
    }
    blocking(move || {
        let settings = resolve(&request.settings)?;
        service::wait(&settings, request.until, Duration::from_millis(u64::from(request.timeout_ms)))
    })
    .await
}
