//! The environment check (环境检测, step 2 of the form), as a pure function of what the
//! backends found.
//!
//! [`report`] turns [`Findings`] into the `card_status` reply: the raw facts (which backend,
//! readers, ATRs, the card's identity) and an ordered list of [`EnvCheck`] lines, each with a
//! Chinese label, a value, and — when something is wrong — the problem as an [`ErrorInfo`],
//! whose message comes from the one error table (`wasm-core/src/error.rs`). `ready` is true when
//! every line is fine: the form may then ask for the PIN and start the task.
//!
//! The clock is an input (`now_unix`), so the certificate's validity is testable.

use datalink_core::error::ErrorInfo;
use datalink_core::protocol::{CardBackendChoice, CardBackendKind, CardIdentity, CardStatusReply, EnvCheck, EportProbe, PcscProbe};

use super::{cert, CardError, Presence};

/// What the service found, backend by backend.
#[derive(Debug, Clone)]
pub struct Findings {
    pub host_version: String,
    pub choice: CardBackendChoice,
    /// The E-Port control's address and whether it answered (`None`: not probed).
    pub eport: Option<(String, Result<(), CardError>)>,
    /// PC/SC readers and presence (`None`: not probed).
    pub pcsc: Option<Result<Presence, CardError>>,
    /// The backend in use.
    pub backend: Option<CardBackendKind>,
    /// Presence through the backend in use.
    pub card: Option<Result<Presence, CardError>>,
    pub identity: Option<Result<CardIdentity, CardError>>,
    pub retries: Option<u8>,
    pub now_unix: i64,
}

fn line(key: &str, label: &str, value: Option<String>, problem: Option<&CardError>) -> EnvCheck {
    EnvCheck { key: key.into(), label: label.into(), ok: problem.is_none(), value, problem: problem.map(CardError::to_info) }
}

fn problem_info(result: &Result<impl Sized, CardError>) -> Option<ErrorInfo> {
    result.as_ref().err().map(CardError::to_info)
}

/// The reply to `card_status`.
pub fn report(f: Findings) -> CardStatusReply {
    let mut checks = vec![line("host_version", "协同客户端版本", Some(f.host_version.clone()), None)];

    let backend_value = |kind: CardBackendKind| match kind {
        CardBackendKind::Eport => format!("中国电子口岸客户端控件（{}）", f.eport.as_ref().map(|(url, _)| url.as_str()).unwrap_or_default()),
        CardBackendKind::Pcsc => "PC/SC 读卡器（系统智能卡服务）".to_owned(),
    };
    let backend_problem = match (f.backend, f.choice) {
        (Some(_), _) => None,
        (None, CardBackendChoice::Pcsc) => f.pcsc.as_ref().and_then(|r| r.as_ref().err()),
        (None, _) => f.eport.as_ref().and_then(|(_, r)| r.as_ref().err()),
    };
    let fallback = CardError::ClientControlNotRunning("no backend answered".into());
    let backend_problem = backend_problem.or(f.backend.is_none().then_some(&fallback));
    checks.push(line("backend", "读卡方式", f.backend.map(backend_value), backend_problem));

    match (f.backend, &f.pcsc) {
        (Some(CardBackendKind::Eport), _) => checks.push(line("readers", "读卡器", Some("由电子口岸客户端控件管理".into()), None)),
        (_, Some(Ok(presence))) => {
            let names: Vec<&str> = presence.readers.iter().map(|r| r.name.as_str()).collect();
            checks.push(line("readers", "读卡器", Some(names.join("、")), None));
        }
        (_, Some(Err(e))) => checks.push(line("readers", "读卡器", None, Some(e))),
        (_, None) => {}
    }

    // The card, through the backend in use; with none, what PC/SC saw.
    let presence = f.card.as_ref().or(f.pcsc.as_ref());
    let card_present = matches!(presence, Some(Ok(p)) if p.card_present);
    match presence {
        Some(Ok(p)) if p.card_present => {
            let value = match &p.reader {
                Some(reader) => format!("已插入（{reader}）"),
                None => "已插入".to_owned(),
            };
            checks.push(line("card", "IC卡", Some(value), None));
        }
        Some(Ok(_)) => checks.push(line("card", "IC卡", Some("未插入".into()), Some(&CardError::NoCard))),
        Some(Err(e)) if f.backend.is_some() => checks.push(line("card", "IC卡", None, Some(e))),
        _ => {}
    }

    let identity = f.identity.as_ref();
    match identity {
        Some(Ok(id)) => {
            checks.push(line("card_id", "卡号", id.card_id.clone(), None));
            checks.push(line("holder", "持卡人", id.holder.clone(), None));
            checks.push(line("enterprise", "企业", id.enterprise.clone(), None));
            checks.push(certificate_line(id, f.now_unix));
            let pin_problem = (f.retries == Some(0)).then_some(CardError::CardLocked);
            let value = match f.retries {
                Some(0) => "0 次（已锁定）".to_owned(),
                Some(1) => "1 次（再输错一次IC卡将被锁定）".to_owned(),
                Some(n) => format!("{n} 次"),
                None => "未知（IC卡未告知）".to_owned(),
            };
            checks.push(line("pin", "密码剩余尝试次数", Some(value), pin_problem.as_ref()));
        }
        Some(Err(e)) => checks.push(line("card_id", "卡号", None, Some(e))),
        None => {}
    }

    let ready = f.backend.is_some() && card_present && matches!(identity, Some(Ok(_))) && checks.iter().all(|c| c.ok);
    CardStatusReply {
        host_version: f.host_version.clone(),
        choice: f.choice,
        backend: f.backend,
        eport: f.eport.as_ref().map(|(url, result)| EportProbe { url: url.clone(), running: result.is_ok(), problem: problem_info(result) }),
        pcsc: f.pcsc.as_ref().map(|result| PcscProbe {
            service: !matches!(result, Err(CardError::NoPcscService(_))),
            readers: result.as_ref().map(|p| p.readers.clone()).unwrap_or_default(),
            problem: problem_info(result),
        }),
        card_present,
        card: identity.and_then(|r| r.as_ref().ok()).cloned(),
        pin_retries_left: f.retries,
        checks,
        ready,
    }
}

fn certificate_line(id: &CardIdentity, now: i64) -> EnvCheck {
    let (Some(from), Some(to)) = (&id.valid_from, &id.valid_to) else {
        return line("certificate", "证书有效期", Some("未知".into()), None);
    };
    let day = |s: &str| s.get(..10).unwrap_or(s).to_owned();
    let value = format!("{} 至 {}", day(from), day(to));
    let outside = match (cert::parse_utc(from), cert::parse_utc(to)) {
        (Some(start), Some(end)) => now < start || now > end,
        _ => false,
    };
    let problem = outside.then(|| CardError::CertNotValidNow(format!("valid {from} to {to}")));
    line("certificate", "证书有效期", Some(value), problem.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datalink_core::protocol::ReaderStatus;

    const NOW: i64 = 1_764_000_000; // 2025-11-24

    fn identity() -> CardIdentity {
        CardIdentity {
            card_id: Some("8930000012345".into()),
            holder: Some("张三".into()),
            enterprise: Some("示例进出口贸易有限公司".into()),
            cert_no: Some("03000000000cde6f".into()),
            valid_from: Some("2024-01-01T00:00:00Z".into()),
            valid_to: Some("2055-12-31T23:59:59Z".into()),
        }
    }

    fn present(profile: Option<&str>) -> Presence {
        Presence {
            readers: vec![ReaderStatus { name: "Virtual PCD 00 00".into(), card_present: true, atr: Some("3B 8C".into()), profile: profile.map(Into::into) }],
            card_present: true,
            reader: Some("Virtual PCD 00 00".into()),
        }
    }

    fn base() -> Findings {
        Findings {
            host_version: "0.1.0".into(),
            choice: CardBackendChoice::Auto,
            eport: Some(("ws://127.0.0.1:61232".into(), Err(CardError::ClientControlNotRunning("refused".into())))),
            pcsc: Some(Ok(present(Some("datalink-test")))),
            backend: Some(CardBackendKind::Pcsc),
            card: Some(Ok(present(Some("datalink-test")))),
            identity: Some(Ok(identity())),
            retries: Some(3),
            now_unix: NOW,
        }
    }

    fn check<'a>(reply: &'a CardStatusReply, key: &str) -> &'a EnvCheck {
        reply.checks.iter().find(|c| c.key == key).unwrap_or_else(|| panic!("no check {key} in {:?}", reply.checks))
    }

    #[test]
    fn all_good_is_ready_and_lists_everything_in_order() {
        let reply = report(base());
        assert!(reply.ready, "{:?}", reply.checks);
        let keys: Vec<&str> = reply.checks.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["host_version", "backend", "readers", "card", "card_id", "holder", "enterprise", "certificate", "pin"]);
        assert_eq!(check(&reply, "certificate").value.as_deref(), Some("2024-01-01 至 2055-12-31"));
        assert_eq!(check(&reply, "pin").value.as_deref(), Some("3 次"));
        assert_eq!(reply.eport.as_ref().map(|e| e.running), Some(false), "the E-Port probe is reported even when PC/SC is used");
        assert_eq!(reply.card.as_ref().and_then(|c| c.holder.as_deref()), Some("张三"));
    }

    #[test]
    fn nothing_running_names_the_control_first() {
        let reply = report(Findings {
            pcsc: Some(Err(CardError::NoPcscService("no pcscd".into()))),
            backend: None,
            card: None,
            identity: None,
            retries: None,
            ..base()
        });
        assert!(!reply.ready);
        assert_eq!(check(&reply, "backend").problem.as_ref().map(|p| p.code), Some(3002));
        assert_eq!(check(&reply, "readers").problem.as_ref().map(|p| p.code), Some(3001));
        assert_eq!(reply.pcsc.as_ref().map(|p| p.service), Some(false));
    }

    #[test]
    fn forced_pcsc_without_a_card_says_insert_the_card() {
        let empty = Presence { readers: vec![ReaderStatus { name: "R".into(), card_present: false, atr: None, profile: None }], card_present: false, reader: None };
        let reply = report(Findings { choice: CardBackendChoice::Pcsc, eport: None, pcsc: Some(Ok(empty.clone())), card: Some(Ok(empty)), identity: None, retries: None, ..base() });
        assert!(!reply.ready);
        let card = check(&reply, "card");
        assert_eq!((card.ok, card.problem.as_ref().map(|p| p.code)), (false, Some(3004)));
        assert!(!reply.card_present);
    }

    #[test]
    fn an_unknown_card_is_shown_but_not_ready() {
        let reply = report(Findings {
            choice: CardBackendChoice::Pcsc,
            pcsc: Some(Ok(present(None))),
            card: Some(Ok(present(None))),
            identity: Some(Err(CardError::UnsupportedCard("no profile".into()))),
            retries: None,
            ..base()
        });
        assert!(!reply.ready);
        assert!(reply.card_present);
        assert_eq!(check(&reply, "card_id").problem.as_ref().map(|p| p.code), Some(3010));
    }

    #[test]
    fn expired_certificates_and_locked_cards_are_problems() {
        let mut expired = identity();
        expired.valid_to = Some("2025-01-01T00:00:00Z".into());
        let reply = report(Findings { identity: Some(Ok(expired)), ..base() });
        assert_eq!(check(&reply, "certificate").problem.as_ref().map(|p| p.code), Some(3017));
        assert!(!reply.ready);

        let reply = report(Findings { retries: Some(0), ..base() });
        assert_eq!(check(&reply, "pin").problem.as_ref().map(|p| p.code), Some(3008));
        assert!(!reply.ready);

        let reply = report(Findings { retries: Some(1), ..base() });
        assert!(reply.ready, "one try left is a warning in the value, not a problem");
        assert!(check(&reply, "pin").value.as_deref().unwrap_or_default().contains("锁定"));
    }

    #[test]
    fn eport_backend_needs_no_readers() {
        let reply = report(Findings {
            eport: Some(("ws://127.0.0.1:61232".into(), Ok(()))),
            pcsc: Some(Err(CardError::NoPcscService("none".into()))),
            backend: Some(CardBackendKind::Eport),
            card: Some(Ok(Presence { readers: vec![], card_present: true, reader: None })),
            retries: None,
            ..base()
        });
        assert!(reply.ready, "{:?}", reply.checks);
        assert_eq!(check(&reply, "readers").value.as_deref(), Some("由电子口岸客户端控件管理"));
        assert!(check(&reply, "backend").value.as_deref().unwrap_or_default().contains("ws://127.0.0.1:61232"));
    }
}
