//! The clear states: every error a page can meet, as a plain message and the next step — in one
//! place. The pages show [`Advice`], never a bare console error.
//!
//! The mapping is by code family: the host missing (1101) says how to install it, a lost host
//! (1102/1103) to wait and retry, an old host (1004/1005, or a ping answering an older version) to
//! update it, an expired portal session (1202) how to log in, card and reader trouble (3xxx)
//! what to plug in, the store's failures (2xxx) where to look, and the reports (4xxx): months
//! not synced yet (4002) → sync them (the report page offers the link), a missing rate (4003) →
//! how to import one, no Chinese font (4006) → how to install it. For 4002, 4003 and 4005 the
//! host's `detail` names the months, the currency or the declaration, so it is shown.

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
        // The host is older than the extension: it lacks a request, or the extension refused it.
        Some(C::UnknownRequestType | C::HostTooOld) => {
            advice(Level::Error, T::AdvVersion, own, Some(T::AdvVersionNext.fill(lang, &[&crate::VERSION])), Action::InstallHelp)
        }
        // Only the host answers 1005: the extension speaks a protocol older than the host accepts.
        Some(C::ProtocolMismatch) => {
            advice(Level::Error, T::AdvExtensionOld, own, Some(T::AdvExtensionOldNext.fill(lang, &[&crate::VERSION])), Action::None)
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
        Some(C::ReportRangeInvalid | C::ReportInputInvalid) => advice(Level::Error, T::AdvReportForm, own, t(T::AdvReportFormNext), Action::None),
        Some(C::ReportMonthsNotSynced) => advice(Level::Warning, T::AdvNotSynced, with_detail(error), t(T::AdvNotSyncedNext), Action::None),
        Some(C::RateMissing) => advice(Level::Error, T::AdvRates, with_detail(error), t(T::AdvRatesNext), Action::None),
        Some(C::HolidayDataMissing) => advice(Level::Error, T::AdvHolidays, own, t(T::AdvHolidaysNext), Action::None),
        Some(C::DeclarationValueInvalid) => advice(Level::Error, T::AdvDeclarationValue, with_detail(error), t(T::AdvDeclarationValueNext), Action::None),
        Some(C::FontMissing) => advice(Level::Error, T::AdvFont, own, t(T::AdvFontNext), Action::None),
        Some(C::DataFileInvalid) => advice(Level::Error, T::AdvDataFile, with_detail(error), t(T::AdvDataFileNext), Action::None),
        Some(C::StoreUnavailable | C::StoreBusy | C::StoreFull | C::StoreCorrupt | C::StoreNewerVersion) => {
            let next = if error.error_code() == Some(C::StoreNewerVersion) { Some(T::AdvVersionNext.fill(lang, &[&crate::VERSION])) } else { t(T::AdvStoreNext) };
            advice(Level::Error, T::AdvStore, own, next, Action::None)
        }
        _ => advice(Level::Error, T::AdvGeneric, own, t(T::AdvGenericNext), Action::None),
    }
}

/// The error's message, followed by its `detail` when the host named what is missing (the
/// months, the month and currency, the declaration): `…请先协同这些月份（2025-11、2025-12）`.
fn with_detail(error: &ErrorInfo) -> Option<String> {
    match error.detail.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(detail) => Some(format!("{}（{detail}）", error.message)),
        None => Some(error.message.clone()),
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
        let how = missing.next.unwrap();
        assert!(how.contains("install.ps1") && how.contains("datalink-host doctor"), "says how to install: {how}");
        let login = of(ErrorCode::PortalNotLoggedIn);
        assert_eq!((login.title, login.action), (T::AdvPortalLogin, Action::OpenPortalLogin));
        for card in [ErrorCode::NoReader, ErrorCode::NoCard, ErrorCode::ClientControlNotRunning, ErrorCode::NoPcscService] {
            let a = of(card);
            assert_eq!(a.title, T::AdvCard, "{card:?}");
            assert_eq!(a.message.as_deref(), Some(card.user_message()), "the specific reason is kept");
        }
        let old = of(ErrorCode::HostTooOld);
        assert_eq!((old.title, old.action), (T::AdvVersion, Action::InstallHelp));
        assert!(old.next.unwrap().contains(crate::VERSION));
        assert_eq!(of(ErrorCode::UnknownRequestType).title, T::AdvVersion);
        let newer_host = of(ErrorCode::ProtocolMismatch);
        assert_eq!((newer_host.title, newer_host.action), (T::AdvExtensionOld, Action::None));
        assert!(newer_host.next.unwrap().contains("请更新浏览器扩展"));
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
    fn report_errors_say_what_to_do_next() {
        let not_synced = advise(&ErrorInfo::with_detail(ErrorCode::ReportMonthsNotSynced, "2025-11、2025-12"), Lang::Zh);
        assert_eq!((not_synced.title, not_synced.level), (T::AdvNotSynced, Level::Warning));
        assert!(not_synced.message.as_deref().unwrap().ends_with("请先协同这些月份（2025-11、2025-12）"), "{not_synced:?}");
        assert!(not_synced.next.as_deref().unwrap().contains("去协同"));
        let rate = advise(&ErrorInfo::with_detail(ErrorCode::RateMissing, "2025-03 EUR"), Lang::Zh);
        assert_eq!(rate.title, T::AdvRates);
        assert!(rate.message.as_deref().unwrap().contains("2025-03 EUR"));
        assert!(rate.next.as_deref().unwrap().contains("datalink-host rates import"), "how to import rates");
        let font = of(ErrorCode::FontMissing);
        assert_eq!(font.title, T::AdvFont);
        assert!(font.next.as_deref().unwrap().contains("fonts-noto-cjk"), "how to install the fonts");
        assert_eq!(of(ErrorCode::ReportRangeInvalid).title, T::AdvReportForm);
        assert_eq!(of(ErrorCode::ReportInputInvalid).title, T::AdvReportForm);
        assert_eq!(of(ErrorCode::HolidayDataMissing).title, T::AdvHolidays);
        assert_eq!(of(ErrorCode::DeclarationValueInvalid).title, T::AdvDeclarationValue);
        assert_eq!(of(ErrorCode::DataFileInvalid).title, T::AdvDataFile);
        // Without a detail, the message alone.
        assert_eq!(of(ErrorCode::RateMissing).message.as_deref(), Some(ErrorCode::RateMissing.user_message()));
        // Every report code has its own title, none falls through to the generic one.
        for &code in ErrorCode::ALL.iter().filter(|c| (4000..5000).contains(&c.code())) {
            assert_ne!(of(code).title, T::AdvGeneric, "{code:?}");
        }
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
