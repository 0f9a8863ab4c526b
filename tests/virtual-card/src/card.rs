//! An E-Port-like smart card: an applet with a card number, a signing certificate, a PIN with
//! a retry counter, and a signing command.
//!
//! The real E-Port card's command set is not public (`eport-card.md` §1), so this card speaks a
//! **DataLink test profile** made of plain ISO 7816-4 commands. The host knows the profile by
//! this card's ATR and only then talks to it; the same card with [`Profile::Unknown`] has an
//! ATR the host does not know, and the tests check that it never receives a PIN.
//!
//! | command | APDU | answer |
//! |---|---|---|
//! | SELECT applet | `00 A4 04 00 Lc <TEST_AID>` | `90 00`; another AID `6A 82` |
//! | SELECT certificate file | `00 A4 02 0C 02 C0 01` | `90 00` (applet selected first, else `69 85`) |
//! | READ BINARY | `00 B0 <offset hi> <offset lo> Le` | up to Le bytes (0 = 256); past the end `6B 00` |
//! | GET DATA card number | `00 CA 00 5A 00` | ASCII card number |
//! | VERIFY, retry query | `00 20 00 81` (no data) | `90 00` verified; `63 Cx` x tries left; `69 83` locked |
//! | VERIFY | `00 20 00 81 Lc <PIN>` | `90 00` (counter back to max); `63 Cx` wrong, x left; `69 83` locked |
//! | PSO: COMPUTE DIGITAL SIGNATURE | `00 2A 9E 9A Lc <hash> 00` | 64-byte signature; without a verified PIN `69 82` |
//!
//! A warm reset or power-off forgets the verified PIN (the ISO security state). The signature
//! is [`signature_of`]: a keyed hash, not cryptography — it only proves which card answered.

use sha2::{Digest, Sha256};

use crate::cert;

/// The applet identifier of the DataLink test profile (proprietary RID `F0`, "DLTEST", 01).
pub const TEST_AID: &[u8] = &[0xF0, 0x44, 0x4C, 0x54, 0x45, 0x53, 0x54, 0x01];
/// The PIN's reference (VERIFY's P2): a specific (not global) reference data number 1.
pub const PIN_REFERENCE: u8 = 0x81;
/// The file that holds the DER signing certificate.
pub const CERT_FILE: [u8; 2] = [0xC0, 0x01];
/// Tries before the card locks.
pub const MAX_TRIES: u8 = 3;

/// The test profile's ATR: T=0 and T=1 offered, historical bytes "DataLinkTEST", and TCK.
pub const TEST_ATR: &[u8] = &[
    0x3B, 0x8C, 0x80, 0x01, b'D', b'a', b't', b'a', b'L', b'i', b'n', b'k', b'T', b'E', b'S', b'T', 0x0B,
];
/// An ATR no profile of the host knows (historical bytes "EPORT-LIKE"): what a real E-Port card
/// is to DataLink today.
pub const UNKNOWN_ATR: &[u8] = &[0x3B, 0x8A, 0x80, 0x01, b'E', b'P', b'O', b'R', b'T', b'-', b'L', b'I', b'K', b'E', 0x71];

/// Which ATR the card presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// [`TEST_ATR`]: the host's test profile.
    Test,
    /// [`UNKNOWN_ATR`]: a card the host must not send a PIN to.
    Unknown,
}

/// How the card is made.
#[derive(Debug, Clone)]
pub struct CardSpec {
    pub profile: Profile,
    /// The PIN (ASCII).
    pub pin: String,
    /// Tries left when the card is inserted (0 = locked already).
    pub tries_left: u8,
    pub card_number: String,
    pub certificate: cert::CertSpec,
    /// Pull the card out (close the socket without answering) when an APDU with this INS
    /// arrives: "card removed mid-operation".
    pub remove_on_ins: Option<u8>,
    /// Pull the card out when a VERIFY that carries a PIN arrives, before the card looks at
    /// it: "card removed while the PIN is in flight" (the retry query, VERIFY without data,
    /// is answered as usual). The retry counter is untouched.
    pub remove_on_pin: bool,
}

impl CardSpec {
    pub fn new(profile: Profile, pin: &str) -> CardSpec {
        CardSpec {
            profile,
            pin: pin.into(),
            tries_left: MAX_TRIES,
            card_number: "8930000012345".into(),
            certificate: cert::CertSpec::default(),
            remove_on_ins: None,
            remove_on_pin: false,
        }
    }
}

/// The card's state and everything it received.
#[derive(Debug, Clone)]
pub struct Card {
    pub spec: CardSpec,
    pub tries_left: u8,
    pub verified: bool,
    applet_selected: bool,
    file_selected: bool,
    certificate: Vec<u8>,
    /// Every command APDU received, in order (a test record; it holds the PIN bytes of VERIFY).
    pub received: Vec<Vec<u8>>,
}

impl Card {
    pub fn new(spec: CardSpec) -> Card {
        let certificate = cert::build(&spec.certificate);
        Card { tries_left: spec.tries_left, spec, verified: false, applet_selected: false, file_selected: false, certificate, received: Vec::new() }
    }

    pub fn atr(&self) -> &'static [u8] {
        match self.spec.profile {
            Profile::Test => TEST_ATR,
            Profile::Unknown => UNKNOWN_ATR,
        }
    }

    /// The certificate's DER bytes.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    fn forget_security_state(&mut self) {
        self.verified = false;
        self.applet_selected = false;
        self.file_selected = false;
    }

    /// Answers a command APDU, or `None` to be pulled out.
    pub fn process(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        self.received.push(apdu.to_vec());
        if apdu.len() < 4 {
            return Some(sw(0x6700));
        }
        if self.spec.remove_on_ins == Some(apdu[1]) {
            return None;
        }
        if self.spec.remove_on_pin && apdu[1] == 0x20 && !split_body(&apdu[4..]).0.is_empty() {
            return None;
        }
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        let (data, le) = split_body(&apdu[4..]);
        if cla != 0x00 {
            return Some(sw(0x6E00));
        }
        Some(match (ins, p1, p2) {
            (0xA4, 0x04, 0x00) => {
                if data == TEST_AID {
                    self.applet_selected = true;
                    self.file_selected = false;
                    sw(0x9000)
                } else {
                    sw(0x6A82)
                }
            }
            (0xA4, 0x02, 0x0C) if !self.applet_selected => sw(0x6985),
            (0xA4, 0x02, 0x0C) => {
                if data == CERT_FILE {
                    self.file_selected = true;
                    sw(0x9000)
                } else {
                    sw(0x6A82)
                }
            }
            (0xB0, _, _) if !self.file_selected => sw(0x6986),
            (0xB0, _, _) => {
                let offset = usize::from(p1 & 0x7F) << 8 | usize::from(p2);
                if offset >= self.certificate.len() {
                    sw(0x6B00)
                } else {
                    let want = match le {
                        Some(0) | None => 256,
                        Some(n) => n,
                    };
                    let end = (offset + want).min(self.certificate.len());
                    with_sw(&self.certificate[offset..end], 0x9000)
                }
            }
            (0xCA, 0x00, 0x5A) if self.applet_selected => with_sw(self.spec.card_number.as_bytes(), 0x9000),
            (0xCA, _, _) => sw(0x6A88),
            (0x20, 0x00, _) if !self.applet_selected => sw(0x6985),
            (0x20, 0x00, PIN_REFERENCE) => self.verify(data),
            (0x20, _, _) => sw(0x6A88),
            (0x2A, 0x9E, 0x9A) if !self.applet_selected => sw(0x6985),
            (0x2A, 0x9E, 0x9A) if !self.verified => sw(0x6982),
            (0x2A, 0x9E, 0x9A) => with_sw(&signature_of(data), 0x9000),
            _ => sw(0x6D00),
        })
    }

    fn verify(&mut self, data: &[u8]) -> Vec<u8> {
        if self.tries_left == 0 {
            return sw(0x6983);
        }
        if data.is_empty() {
            return if self.verified { sw(0x9000) } else { sw(0x63C0 | u16::from(self.tries_left)) };
        }
        if data == self.spec.pin.as_bytes() {
            self.tries_left = MAX_TRIES;
            self.verified = true;
            sw(0x9000)
        } else {
            self.tries_left -= 1;
            self.verified = false;
            if self.tries_left == 0 {
                sw(0x6983)
            } else {
                sw(0x63C0 | u16::from(self.tries_left))
            }
        }
    }

    /// Commands received with INS `ins`.
    pub fn received_with_ins(&self, ins: u8) -> Vec<&Vec<u8>> {
        self.received.iter().filter(|apdu| apdu.get(1) == Some(&ins)).collect()
    }
}

impl crate::vpcd::Icc for Card {
    fn atr(&self) -> Vec<u8> {
        Card::atr(self).to_vec()
    }

    fn power(&mut self, on: bool) {
        if !on {
            self.forget_security_state();
        }
    }

    fn reset(&mut self) {
        self.forget_security_state();
    }

    fn apdu(&mut self, command: &[u8]) -> Option<Vec<u8>> {
        self.process(command)
    }
}

/// The test card's "signature" of `data`: SHA-256 of a fixed key and the data, twice, 64 bytes
/// like an SM2 signature's r‖s. Tests compute it to check which card signed.
pub fn signature_of(data: &[u8]) -> Vec<u8> {
    let half = |n: u8| Sha256::new().chain_update(b"virtual-card test key").chain_update(data).chain_update([n]).finalize();
    let mut out = half(0).to_vec();
    out.extend(half(1));
    out
}

/// Splits an APDU body (after the 4 header bytes) into data and Le, for short APDUs
/// (ISO 7816-3 cases 1–4).
fn split_body(body: &[u8]) -> (&[u8], Option<usize>) {
    match body {
        [] => (&[], None),
        [le] => (&[], Some(usize::from(*le))),
        [lc, rest @ ..] => {
            let lc = usize::from(*lc);
            let data = &rest[..lc.min(rest.len())];
            let le = rest.get(lc).map(|le| usize::from(*le));
            (data, le)
        }
    }
}

fn sw(word: u16) -> Vec<u8> {
    word.to_be_bytes().to_vec()
}

fn with_sw(data: &[u8], word: u16) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend(word.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(card: &mut Card) {
        let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, TEST_AID.len() as u8];
        apdu.extend_from_slice(TEST_AID);
        assert_eq!(card.process(&apdu), Some(sw(0x9000)));
    }

    fn verify(card: &mut Card, pin: &[u8]) -> Vec<u8> {
        let mut apdu = vec![0x00, 0x20, 0x00, PIN_REFERENCE];
        if !pin.is_empty() {
            apdu.push(pin.len() as u8);
            apdu.extend_from_slice(pin);
        }
        card.process(&apdu).unwrap()
    }

    #[test]
    fn atrs_carry_a_correct_check_byte() {
        for atr in [TEST_ATR, UNKNOWN_ATR] {
            assert_eq!(atr[1..].iter().fold(0u8, |x, b| x ^ b), 0, "TCK of {atr:02X?}");
        }
    }

    #[test]
    fn the_retry_counter_counts_down_locks_and_a_right_pin_resets_it() {
        let mut card = Card::new(CardSpec::new(Profile::Test, "12345678"));
        select(&mut card);
        assert_eq!(verify(&mut card, b""), sw(0x63C3));
        assert_eq!(verify(&mut card, b"00000000"), sw(0x63C2));
        assert_eq!(verify(&mut card, b""), sw(0x63C2), "the query does not spend a try");
        assert_eq!(verify(&mut card, b"12345678"), sw(0x9000));
        assert_eq!(verify(&mut card, b""), sw(0x9000));
        assert_eq!(card.tries_left, MAX_TRIES);
        for expected in [0x63C2, 0x63C1, 0x6983] {
            assert_eq!(verify(&mut card, b"99999999"), sw(expected));
        }
        assert_eq!(verify(&mut card, b"12345678"), sw(0x6983), "locked stays locked");
    }

    #[test]
    fn signing_needs_the_pin_and_a_reset_forgets_it() {
        let mut card = Card::new(CardSpec::new(Profile::Test, "12345678"));
        select(&mut card);
        let pso = [0x00, 0x2A, 0x9E, 0x9A, 0x02, 0xAB, 0xCD, 0x00];
        assert_eq!(card.process(&pso), Some(sw(0x6982)));
        assert_eq!(verify(&mut card, b"12345678"), sw(0x9000));
        let signed = card.process(&pso).unwrap();
        assert_eq!(&signed[..64], signature_of(&[0xAB, 0xCD]).as_slice());
        crate::vpcd::Icc::reset(&mut card);
        select(&mut card);
        assert_eq!(card.process(&pso), Some(sw(0x6982)));
    }

    #[test]
    fn the_certificate_reads_in_pieces() {
        let mut card = Card::new(CardSpec::new(Profile::Test, "12345678"));
        assert_eq!(card.process(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0xC0, 0x01]), Some(sw(0x6985)));
        select(&mut card);
        assert_eq!(card.process(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0xC0, 0x01]), Some(sw(0x9000)));
        let mut read = Vec::new();
        loop {
            let offset = read.len();
            let reply = card.process(&[0x00, 0xB0, (offset >> 8) as u8, offset as u8, 0x00]).unwrap();
            if reply == sw(0x6B00) {
                break;
            }
            read.extend_from_slice(&reply[..reply.len() - 2]);
        }
        assert_eq!(read, card.certificate());
    }

    #[test]
    fn removal_on_an_instruction() {
        let mut spec = CardSpec::new(Profile::Test, "12345678");
        spec.remove_on_ins = Some(0x20);
        let mut card = Card::new(spec);
        select(&mut card);
        assert_eq!(card.process(&[0x00, 0x20, 0x00, PIN_REFERENCE]), None);
    }

    #[test]
    fn removal_on_the_pin_leaves_the_retry_query_and_the_counter_alone() {
        let mut spec = CardSpec::new(Profile::Test, "12345678");
        spec.remove_on_pin = true;
        let mut card = Card::new(spec);
        select(&mut card);
        assert_eq!(card.process(&[0x00, 0x20, 0x00, PIN_REFERENCE]), Some(sw(0x63C0 | u16::from(MAX_TRIES))));
        assert_eq!(card.process(&[0x00, 0x20, 0x00, PIN_REFERENCE, 8, b'1', b'1', b'1', b'1', b'2', b'2', b'2', b'2']), None);
        assert_eq!((card.tries_left, card.verified), (MAX_TRIES, false));
    }
}
