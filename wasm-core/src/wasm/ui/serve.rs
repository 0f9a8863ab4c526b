//! The worker's half of the pages' requests that are more than a pass-through to the host:
//! the environment check (环境检测) behind 连接协同服务.

use futures::future::join;

use super::super::{fetch, host_link, ping};
use crate::browse::{EnvReport, PortalCheck};
use crate::error::{ErrorCode, ErrorInfo};
use crate::portal::{parse_desk, session_probe_ok, DESK_PATH, SESSION_PROBE_PATH};
use crate::protocol::{CardStatusReply, CardStatusRequest, Request};

const PROBE_TIMEOUT_MS: u32 = 15_000;
const CARD_TIMEOUT_MS: u32 = 20_000;

fn url(portal: &str, path: &str) -> String {
    format!("{}{path}", portal.trim_end_matches('/'))
}

/// Whether the user is logged in to the portal at `portal`, and as whom.
async fn portal_check(portal: String) -> PortalCheck {
    let Ok(abort) = web_sys::AbortController::new() else {
        return PortalCheck { url: portal, logged_in: false, user_name: String::new(), problem: Some(ErrorInfo::new(ErrorCode::Internal)) };
    };
    let probe = match fetch::send(&url(&portal, SESSION_PROBE_PATH), None, &abort, PROBE_TIMEOUT_MS).await {
        Ok(answer) => answer,
        Err(fault) => {
            let problem = ErrorInfo::with_detail(ErrorCode::PortalUnreachable, fault.to_string());
            return PortalCheck { url: portal, logged_in: false, user_name: String::new(), problem: Some(problem) };
        }
    };
    if !session_probe_ok(&probe.http()) {
        return PortalCheck { url: portal, logged_in: false, user_name: String::new(), problem: Some(ErrorInfo::new(ErrorCode::PortalNotLoggedIn)) };
    }
    let user_name = match fetch::send(&url(&portal, DESK_PATH), None, &abort, PROBE_TIMEOUT_MS).await {
        Ok(desk) => parse_desk(&desk.body).user_name,
        Err(_) => String::new(),
    };
    PortalCheck { url: portal, logged_in: true, user_name, problem: None }
}

/// 连接协同服务: the host's handshake first (nothing else works without it), then the portal
/// session and the card's environment check, side by side.
pub async fn env_check(portal: String) -> Result<EnvReport, ErrorInfo> {
    let host = ping().await?;
    let card = async {
        let value = host_link::call(Request::CardStatus(CardStatusRequest::default()), CARD_TIMEOUT_MS).await?;
        serde_json::from_value::<CardStatusReply>(value).map_err(|e| ErrorInfo::with_detail(ErrorCode::HostReplyInvalid, e.to_string()))
    };
    let (portal, card) = join(portal_check(portal), card).await;
    let (card, card_problem) = match card {
        Ok(card) => (Some(card), None),
        Err(problem) => (None, Some(problem)),
    };
    Ok(EnvReport { host, portal, card, card_problem })
}
