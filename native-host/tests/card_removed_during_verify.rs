//! Issue #9's fault matrix, the card case: the IC card is pulled out of the reader while the host
//! is verifying the PIN — after the applet was selected, at the retry query that comes before
//! the PIN, and with the PIN itself in flight (VERIFY sent, no answer).
//!
//! Runs against the machine's pcscd with the virtual card in vsmartcard-vpcd's first slot (as
//! `card_pcsc.rs`; without pcscd the test fails, saying how to start it). The virtual card pulls
//! itself out at the chosen command (`CardSpec::remove_on_ins`, `CardSpec::remove_on_pin`).
//!
//! What must hold: the reply is the typed 3005 `card_removed` with its Chinese message; the
//! card's retry counter is what it was (the host spent no try and never sent the PIN again);
//! no PIN in anything the host wrote; and once the same card is back, the PIN verifies.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod card_support;

use card_support::*;
use virtual_card::hygiene::pin_needles;
use datalink_core::error::ErrorCode;
use serde_json::json;
use virtual_card::card::{self, Card, CardSpec, Profile};
use virtual_card::pcscd::{self, SlotLock};
use virtual_card::{InsertedCard, SLOT_0};

/// Where the card leaves.
#[derive(Debug, Clone, Copy)]
enum Removal {
    /// At the first VERIFY after SELECT: the retry query, before any PIN is sent.
    BeforeThePin,
    /// At the VERIFY that carries the PIN, before the card checks it.
    WithThePinInFlight,
}

/// VERIFY commands that carried data (a PIN) to the card.
fn pins_received(card: &Card) -> usize {
    card.received_with_ins(0x20).iter().filter(|apdu| apdu.len() > 4).count()
}


#[test]
fn a_card_pulled_out_during_verification_is_card_removed_spends_no_try_and_verifies_once_back() {
    let _slot = SlotLock::acquire(SLOT_0);
    pcscd::require();
    for removal in [Removal::BeforeThePin, Removal::WithThePinInFlight] {
        // A card that already took one wrong PIN: a try spent now would show as 1.
        let mut spec = CardSpec::new(Profile::Test, PIN);
        spec.tries_left = 2;
        match removal {
            Removal::BeforeThePin => spec.remove_on_ins = Some(0x20),
            Removal::WithThePinInFlight => spec.remove_on_pin = true,
        }
        let inserted = InsertedCard::insert(SLOT_0, spec).unwrap();
        let mut host = pcsc_host();

        let reply = verify(&mut host, PIN, false);
        assert_eq!(error_code(&reply), 3005, "{removal:?}: {reply}");
        assert_eq!(reply["error"]["name"], json!("card_removed"));
        assert_eq!(reply["error"]["message"], json!(ErrorCode::CardRemoved.user_message()));
        assert_eq!(reply["error"]["message"], json!("操作过程中IC卡被拔出，请重新插入IC卡后重试"));
        assert!(
            reply["error"].get("retriesLeft").is_none(),
            "{removal:?}: the outcome is unknown, no count is claimed: {reply}"
        );

        let pulled = inserted.remove(SLOT_0).unwrap();
        assert_eq!(pulled.tries_left, 2, "{removal:?}: the retry counter was not decremented");
        let sent = match removal {
            Removal::BeforeThePin => 0,
            Removal::WithThePinInFlight => 1,
        };
        assert_eq!(pins_received(&pulled), sent, "{removal:?}: the PIN was sent at most once, never repeated");
        assert!(!pulled.received_with_ins(0xA4).is_empty(), "{removal:?}: the applet was selected before the card left");

        // Out: the environment check says so, and a PIN request gets no further.
        let out = status(&mut host);
        assert_eq!(out["cardPresent"], json!(false), "{removal:?}: {out:#}");
        assert_eq!(problem(&out, "card"), Some(3004));

        // The same card back in (its state as it left): the counter reads 2, the PIN verifies
        // and resets it.
        let mut back = CardSpec::new(Profile::Test, PIN);
        back.tries_left = pulled.tries_left;
        let inserted = InsertedCard::insert(SLOT_0, back).unwrap();
        let back_in = status(&mut host);
        assert_eq!(
            (back_in["ready"].clone(), back_in["pinRetriesLeft"].clone()),
            (json!(true), json!(2)),
            "{removal:?}: {back_in:#}"
        );
        let verified = verify(&mut host, PIN, false);
        assert_eq!(verified["ok"], json!(true), "{removal:?}: {verified}");
        assert_eq!(verified["result"]["verified"], json!(true));
        {
            let card = inserted.card();
            assert!(card.verified);
            assert_eq!(card.tries_left, card::MAX_TRIES);
            assert_eq!(pins_received(&card), 1, "{removal:?}: one PIN for one request");
        }
        drop(inserted);

        // No PIN in anything the host wrote: replies, log.
        let transcript = host.finish();
        assert!(transcript.exited_ok);
        let written = format!(
            "{}\n{}",
            String::from_utf8_lossy(&transcript.stdout),
            String::from_utf8_lossy(&transcript.stderr)
        );
        assert!(
            written.contains("3005") || written.contains("card_removed"),
            "{removal:?}: the host's output has the error"
        );
        for needle in pin_needles(PIN) {
            assert!(!written.contains(&needle), "{removal:?}: the PIN ({needle}) appears in the host's output");
        }
    }
}
