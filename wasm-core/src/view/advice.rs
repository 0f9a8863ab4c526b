//! The clear states: every error a page can meet, as a plain message and the next step — in one
//! place. The pages show [`Advice`], never a bare console error.
//!
//! The mapping is by code family: the host missing (1101) says how to install it, a lost host
//! (1102/1103) to wait and retry, an old host (1004/1005, or a ping answering an older version) to
//! update it, an expired portal session (1202) how to log in, card and reader trouble (3xxx)
//! what to plug in, the store's failures (2xxx) where to look.

use crate::error::{ErrorCode, ErrorInfo};
use crate::protocol::PingReply;

use super::text::{Lang, T};

/// What the page offers next to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Show how to install the host.
    InstallHelp,
    /// Try 连接协同服务 again.
    Reconnect,
    /// Open the portal's login in a new tab.
    OpenPortalLogin,
    /// The card has one PIN try left: send the PIN again only once the user confirmed it.
    ConfirmLastTry,
    /// Nothing to press: read and fix (e.g. the form).
    None,
}

/// How loud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Warning,
    Error,
}

impl Level {
    pub fn class(self) -> &'static str {
        match self {
            Level::Warning => "notice warning",
            Level::Error => "notice error",
        }
    }
}

/// A clear state: title, what happened, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub level: Level,
    pub title: T,
    /// The error's own message (Chinese, from the error table or the host), or `None` when the
    /// title says it all.
    pub message: Option<String>,
    /// The next step.
    pub next: Option<String>,
    pub action: Action,
    pub code: Option<u32>,
}

impl Advice {
    /// The text a page shows: `title：message` then `下一步：next`, with the code.
    pub fn lines(&self, lang: Lang) -> (String, Option<String>) {
        let mut head = self.title.get(lang).to_owned();
        if let Some(message) = self.message.as_deref().filter(|m| *m != head) {
            head.push_str(if lang == Lang::Zh { "：" } else { ": " });
            head.push_str(message);
        }
        if let Some(code) = self.code {
            head.push_str(&format!(" ({})", T::ErrorCode.fill(lang, &[&code])));
        }
        let next = self.next.as_ref().map(|n| format!("{}{n}", T::NextStep.get(lang)));
        (head, next)
    }
}

/// The one mapping from an error to what the user reads and does.
pub fn advise(error: &ErrorInfo, lang: Lang) -> Advice {
    use ErrorCode as C;
    let t = |t: T| Some(t.get(lang).to_owned());
    let own = Some(error.message.clone());
    let advice = |level, title, message, next, action| Advice { level, title, message, next, action, code: Some(error.code) };
    match error.error_code() {
        Some(C::HostNotFound) => advice(Level::Error, T::AdvHostMissing, None, t(T::InstallHelp), Action::InstallHelp),
        Some(C::HostDisconnected | C::HostTimeout | C::Busy | C::HostReplyInvalid) => {
            advice(Level::Error, T::AdvHostLost, own, t(T::AdvHostLostNext), Action::Reconnect)
        }
        Some(C::UnknownRequestType | C::ProtocolMismatch) => {
            advice(Level::Error, T::AdvVersion, own, Some(T::AdvVersionNext.fill(lang, &[&crate::VERSION])), Action::InstallHelp)
        }
        Some(C::PortalNotLoggedIn) => advice(Level::Error, T::AdvPortalLogin, own, t(T::AdvPortalLoginNext), Action::OpenPortalLogin),
        Some(C::PortalUnreachable) => advice(Level::Error, T::AdvPortalDown, own, t(T::AdvPortalDownNext), Action::None),
        Some(C::SyncAlreadyRunning) => advice(Level::Warning, T::AdvRunning, None, t(T::AdvRunningNext), Action::None),
        Some(C::ConditionsInvalid) => advice(Level::Error, T::AdvConditions, error.detail.clone().or(own), t(T::AdvConditionsNext), Action::None),
        Some(C::NoRunningTask) => advice(Level::Warning, T::AdvNoTask, None, None, Action::None),
        Some(C::TaskNotFound) => advice(Level::Error, T::AdvNotFound, None, t(T::AdvNotFoundNext), Action::None),
        Some(C::WrongPin | C::PinFormat) => advice(Level::Error, T::AdvPin, own, t(T::AdvPinNext), Action::None),
        Some(C::LastTryUnconfirmed) => advice(Level::Warning, T::AdvLastTry, own, t(T::AdvLastTryNext), Action::ConfirmLastTry),
        Some(C::CardLocked) => advice(Level::Error, T::AdvCardLocked, own, t(T::AdvCardLockedNext), Action::None),
        Some(
            C::NoPcscService
            | C::ClientControlNotRunning
            | C::NoReader
            | C::NoCard
            | C::CardRemoved
            | C::ReaderBusy
            | C::UnsupportedCard
            | C::CardTimeout
            | C::ReaderError
            | C::CardClientError
            | C::CardClientReplyInvalid
            | C::PinRequired
            | C::CertNotValidNow,
        ) => advice(Level::Warning, T::AdvCard, own, t(T::AdvCardNext), Action::Reconnect),
        Some(C::StoreUnavailable | C::StoreBusy | C::StoreFull | C::StoreCorrupt | C::StoreNewerVersion) => {
            let next = if error.error_code() == Some(C::StoreNewerVersion) { Some(T::AdvVersionNext.fill(lang, &[&crate::VERSION])) } else { t(T::AdvStoreNext) };
            advice(Level::Error, T::AdvStore, own, next, Action::None)
        }
        _ => advice(Level::Error, T::AdvGeneric, own, t(T::AdvGenericNext), Action::None),
    }
}

/// A host that answers but is older than the extension: it works for what it knows, yet new
/// pages may ask what it does not (1004). `None` when the versions are the same or the host is
/// newer.
pub fn host_version(ping: &PingReply, lang: Lang) -> Option<Advice> {
    let parse = |v: &str| -> Vec<u64> { v.split(['.', '-', '+']).take(3).map(|p| p.parse().unwrap_or(0)).collect() };
    if parse(&ping.host_version) >= parse(crate::VERSION) {
        return None;
    }
    Some(Advice {
        level: Level::Warning,
        title: T::AdvVersion,
        message: Some(T::AdvVersionOlder.fill(lang, &[&ping.host_version, &crate::VERSION])),
        next: Some(T::AdvVersionNext.fill(lang, &[&crate::VERSION])),
        action: Action::InstallHelp,
        code: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(code: ErrorCode) -> Advice {
        advise(&ErrorInfo::new(code), Lang::Zh)
    }

    #[test]
    fn the_clear_states_of_the_issue() {
        let missing = of(ErrorCode::HostNotFound);
        assert_eq!((missing.title, missing.action), (T::AdvHostMissing, Action::InstallHelp));
        assert!(missing.next.unwrap().contains("NativeMessagingHosts"), "says how to install");
        let login = of(ErrorCode::PortalNotLoggedIn);
        assert_eq!((login.title, login.action), (T::AdvPortalLogin, Action::OpenPortalLogin));
        for card in [ErrorCode::NoReader, ErrorCode::NoCard, ErrorCode::ClientControlNotRunning, ErrorCode::NoPcscService] {
            let a = of(card);
            assert_eq!(a.title, T::AdvCard, "{card:?}");
            assert_eq!(a.message.as_deref(), Some(card.user_message()), "the specific reason is kept");
        }
        let old = of(ErrorCode::ProtocolMismatch);
        assert_eq!(old.title, T::AdvVersion);
        assert!(old.next.unwrap().contains(crate::VERSION));
        assert_eq!(of(ErrorCode::UnknownRequestType).title, T::AdvVersion);
    }

    #[test]
    fn every_code_has_a_title_and_a_way_on() {
        for &code in ErrorCode::ALL {
            let a = of(code);
            let (head, _) = a.lines(Lang::Zh);
            assert!(head.contains(&format!("错误码 {}", code.code())), "{code:?}: {head}");
            assert!(!a.title.get(Lang::En).is_empty());
        }
        let unknown = advise(&ErrorInfo { code: 4242, name: "x".into(), message: "奇怪".into(), detail: None, retries_left: None }, Lang::Zh);
        assert_eq!(unknown.title, T::AdvGeneric);
        assert_eq!(unknown.lines(Lang::Zh).0, "操作未成功：奇怪 (错误码 4242)");
    }

    #[test]
    fn card_pin_states_never_invite_a_retry_on_a_locked_card() {
        assert_eq!(of(ErrorCode::CardLocked).title, T::AdvCardLocked);
        let wrong = advise(&ErrorInfo::wrong_pin(Some(2)), Lang::Zh);
        assert!(wrong.message.unwrap().contains("还可尝试 2 次"));
        let last = of(ErrorCode::LastTryUnconfirmed);
        assert_eq!((last.level, last.action), (Level::Warning, Action::ConfirmLastTry));
        assert_eq!(of(ErrorCode::CardLocked).action, Action::None, "no way to try again");
    }

    #[test]
    fn an_older_host_is_a_warning_a_newer_one_is_fine() {
        let ping = |v: &str| PingReply {
            host: "datalink-host".into(),
            host_version: v.into(),
            protocol: 1,
            min_protocol: 1,
            os: "linux".into(),
            arch: "x86_64".into(),
            pid: 1,
        };
        assert_eq!(host_version(&ping(crate::VERSION), Lang::Zh), None);
        assert_eq!(host_version(&ping("99.0.0"), Lang::Zh), None);
        let old = host_version(&ping("0.0.1"), Lang::Zh).unwrap();
        assert_eq!((old.title, old.level), (T::AdvVersion, Level::Warning));
        assert!(old.message.unwrap().contains("0.0.1"));
    }
}
