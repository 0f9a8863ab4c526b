//! Sessions, CAS tickets and the card PIN.
//!
//! The real portal keeps a servlet session behind the `JSESSIONID` cookie,
//! created by the CAS round trip: the login page posts the card PIN, CAS
//! redirects to `…/j_spring_cas_security_check?ticket=ST-…`, which sets the
//! cookie (portal-api.md §1, §4). The simulator keeps the same shape on one
//! origin: a correct PIN creates the session at once (the cookie is set on
//! the login POST's redirect) and also issues a one-shot ticket the security
//! check accepts.
//!
//! A session ends when it idles past `--session-idle-secs`, after
//! `expire_every` data requests (fault), at logout, or at reset. Wrong PINs
//! are counted; after `--card-lock-after` consecutive wrong PINs the card
//! locks until reset (GUESS: the real lock count is not in public code).
//!
//! Session ids and tickets are derived from the seed and a counter, so a
//! run's cookies are reproducible too.
//!
//! **Several enterprises.** Each enterprise has its own card and PIN; the PIN
//! tells which card is in the reader (the PINs of a run differ), and the session
//! belongs to that enterprise for its whole life ([`Sessions::enterprise_of`]).
//! Wrong PINs count against one lock shared by all cards (GUESS: a real wrong
//! PIN counts against the card in the reader, which the simulator cannot tell).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::rng::{hash_str, mix};

/// One live session.
#[derive(Clone, Debug)]
struct Session {
    enterprise: usize,
    data_requests: u64,
    last_seen: Instant,
}

/// The outcome of presenting a cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The session is valid (and was counted, for data requests).
    Valid,
    /// No cookie, or an unknown, idle-expired or fault-expired id.
    Invalid,
}

/// The outcome of a PIN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// A new session id and its one-shot CAS ticket.
    Ok {
        /// The enterprise (0-based) whose card the PIN opened.
        enterprise: usize,
        /// The `JSESSIONID` value.
        session: String,
        /// The `ticket` for the service URL.
        ticket: String,
    },
    /// Wrong PIN; attempts left before the card locks (`None`: never locks).
    WrongPin(Option<u32>),
    /// The card is locked.
    Locked,
}

/// All sessions plus the card's state.
#[derive(Debug)]
pub struct Sessions {
    seed: u64,
    pins: Vec<String>,
    lock_after: u32,
    idle: Duration,
    sessions: HashMap<String, Session>,
    tickets: HashMap<String, String>,
    counter: u64,
    wrong: u32,
    locked: bool,
    created: u64,
    expired: u64,
    failed_logins: u64,
}

impl Sessions {
    /// A store checking `pin`, locking after `lock_after` wrong PINs (0 =
    /// never), expiring sessions idle for `idle`.
    pub fn new(seed: u64, pin: &str, lock_after: u32, idle: Duration) -> Sessions {
        Sessions::with_pins(seed, vec![pin.to_string()], lock_after, idle)
    }

    /// A store for several enterprises: `pins[e]` logs enterprise `e` in.
    pub fn with_pins(seed: u64, pins: Vec<String>, lock_after: u32, idle: Duration) -> Sessions {
        Sessions {
            seed,
            pins,
            lock_after,
            idle,
            sessions: HashMap::new(),
            tickets: HashMap::new(),
            counter: 0,
            wrong: 0,
            locked: false,
            created: 0,
            expired: 0,
            failed_logins: 0,
        }
    }

    fn next_token(&mut self, label: &str) -> String {
        self.counter += 1;
        let a = mix(self.seed, self.counter, hash_str(label));
        let b = mix(a, self.counter, hash_str("second-half"));
        format!("{a:016X}{b:016X}")
    }

    /// Create a session of the first enterprise without a PIN (admin bypass,
    /// in-process API).
    pub fn create(&mut self) -> String {
        self.create_for(0)
    }

    /// Create a session of enterprise `enterprise` without a PIN.
    pub fn create_for(&mut self, enterprise: usize) -> String {
        let id = self.next_token("jsessionid");
        self.sessions.insert(
            id.clone(),
            Session {
                enterprise,
                data_requests: 0,
                last_seen: Instant::now(),
            },
        );
        self.created += 1;
        id
    }

    /// Try a PIN.
    pub fn login(&mut self, pin: &str) -> Login {
        if self.locked {
            self.failed_logins += 1;
            return Login::Locked;
        }
        let Some(enterprise) = self.pins.iter().position(|p| p == pin) else {
            self.wrong += 1;
            self.failed_logins += 1;
            if self.lock_after > 0 && self.wrong >= self.lock_after {
                self.locked = true;
                return Login::Locked;
            }
            let left = (self.lock_after > 0).then(|| self.lock_after - self.wrong);
            return Login::WrongPin(left);
        };
        self.wrong = 0;
        let session = self.create_for(enterprise);
        let token = self.next_token("ticket");
        let ticket = format!("ST-{}-{}-cas", self.counter, &token[..20]);
        self.tickets.insert(ticket.clone(), session.clone());
        Login::Ok {
            enterprise,
            session,
            ticket,
        }
    }

    /// Redeem a one-shot ticket for its session id.
    pub fn redeem(&mut self, ticket: &str) -> Option<String> {
        let id = self.tickets.remove(ticket)?;
        self.sessions.contains_key(&id).then_some(id)
    }

    /// Check a session id. A data request counts against `expire_every`
    /// (0 = off): a session that already served that many is dropped.
    pub fn check(&mut self, id: Option<&str>, data_request: bool, expire_every: u64) -> Check {
        match self.check_as(id, data_request, expire_every) {
            Some(_) => Check::Valid,
            None => Check::Invalid,
        }
    }

    /// [`Sessions::check`], answering the session's enterprise when it is valid.
    pub fn check_as(
        &mut self,
        id: Option<&str>,
        data_request: bool,
        expire_every: u64,
    ) -> Option<usize> {
        let id = id?;
        let now = Instant::now();
        let s = self.sessions.get_mut(id)?;
        let idle = now.duration_since(s.last_seen) > self.idle;
        let used_up = data_request && expire_every > 0 && s.data_requests >= expire_every;
        if idle || used_up {
            self.sessions.remove(id);
            self.expired += 1;
            return None;
        }
        s.last_seen = now;
        if data_request {
            s.data_requests += 1;
        }
        Some(s.enterprise)
    }

    /// The enterprise of a live session (without touching it).
    pub fn enterprise_of(&self, id: &str) -> Option<usize> {
        self.sessions.get(id).map(|s| s.enterprise)
    }

    /// End a session.
    pub fn logout(&mut self, id: &str) {
        self.sessions.remove(id);
    }

    /// Drop every session and ticket and unlock the card.
    pub fn reset(&mut self) {
        self.sessions.clear();
        self.tickets.clear();
        self.wrong = 0;
        self.locked = false;
        self.created = 0;
        self.expired = 0;
        self.failed_logins = 0;
    }

    /// Whether the card is locked.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// `(live, created, expired, failed logins)`.
    pub fn counts(&self) -> (usize, u64, u64, u64) {
        (
            self.sessions.len(),
            self.created,
            self.expired,
            self.failed_logins,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(lock: u32) -> Sessions {
        Sessions::new(1, "88888888", lock, Duration::from_secs(1800))
    }

    #[test]
    fn pin_login_and_ticket() {
        let mut s = store(3);
        assert_eq!(s.login("1234"), Login::WrongPin(Some(2)));
        let Login::Ok {
            session,
            ticket,
            enterprise: 0,
        } = s.login("88888888")
        else {
            panic!("right PIN refused")
        };
        assert_eq!(session.len(), 32);
        assert_eq!(s.redeem(&ticket), Some(session.clone()));
        assert_eq!(s.redeem(&ticket), None, "tickets are one-shot");
        assert_eq!(s.check(Some(&session), true, 0), Check::Valid);
        assert_eq!(s.check(Some("nope"), true, 0), Check::Invalid);
        assert_eq!(s.check(None, false, 0), Check::Invalid);
        s.logout(&session);
        assert_eq!(s.check(Some(&session), false, 0), Check::Invalid);
    }

    #[test]
    fn card_locks_after_wrong_pins() {
        let mut s = store(2);
        assert_eq!(s.login("0"), Login::WrongPin(Some(1)));
        assert_eq!(s.login("0"), Login::Locked);
        assert_eq!(s.login("88888888"), Login::Locked);
        assert!(s.locked());
        s.reset();
        assert!(matches!(s.login("88888888"), Login::Ok { .. }));
        let mut never = store(0);
        for _ in 0..20 {
            assert_eq!(never.login("x"), Login::WrongPin(None));
        }
    }

    #[test]
    fn expire_every_counts_data_requests_only() {
        let mut s = store(0);
        let id = s.create();
        for _ in 0..3 {
            assert_eq!(s.check(Some(&id), true, 3), Check::Valid);
            assert_eq!(s.check(Some(&id), false, 3), Check::Valid);
        }
        assert_eq!(s.check(Some(&id), true, 3), Check::Invalid);
        assert_eq!(
            s.check(Some(&id), false, 3),
            Check::Invalid,
            "gone for good"
        );
        assert_eq!(s.counts().2, 1);
    }

    #[test]
    fn each_pin_opens_its_enterprise() {
        let pins = vec!["11111111".to_string(), "22222222".to_string()];
        let mut s = Sessions::with_pins(1, pins, 3, Duration::from_secs(1800));
        let Login::Ok {
            enterprise,
            session,
            ..
        } = s.login("22222222")
        else {
            panic!("second PIN refused")
        };
        assert_eq!(enterprise, 1);
        assert_eq!(s.enterprise_of(&session), Some(1));
        assert_eq!(s.check_as(Some(&session), true, 0), Some(1));
        let first = s.create();
        assert_eq!(s.check_as(Some(&first), false, 0), Some(0));
        let other = s.create_for(1);
        assert_eq!(s.enterprise_of(&other), Some(1));
        assert_eq!(s.login("33333333"), Login::WrongPin(Some(2)));
    }

    #[test]
    fn ids_are_reproducible() {
        let a = store(0).create();
        let b = store(0).create();
        assert_eq!(a, b);
        let c = Sessions::new(2, "x", 0, Duration::from_secs(1)).create();
        assert_ne!(a, c);
    }
}
