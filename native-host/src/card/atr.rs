//! The Answer To Reset, and the card profiles DataLink recognises by it.
//!
//! A card announces itself with its ATR (ISO 7816-3): `TS T0 [interface bytes] [historical bytes]
//! [TCK]`. `T0`'s low nibble counts the historical bytes (the card maker's free text); its high
//! nibble, and then each `TDi`'s, says which of `TAi TBi TCi TDi` follow, and each `TDi`'s low
//! nibble names a protocol (T=0, T=1). When any protocol other than T=0 is offered, a check byte
//! `TCK` ends the ATR: the XOR of every byte from `T0` to `TCK` is 0.
//!
//! **Profiles.** The PC/SC backend only runs commands — and only ever sends a PIN — on a card
//! whose ATR matches a [`CardProfile`]: the profile says which applet to select, which PIN
//! reference to VERIFY, where the card number and certificate are. Each wrong PIN burns a try on
//! the user's real card, so guessing the command set of an unknown card is not an option. The
//! real E-Port card's commands are not public; until someone confirms them on a real card, the
//! only profile is the DataLink test card's (`tests/virtual-card`), whose historical bytes spell
//! "DataLinkTEST" — no real card presents that ATR. Real users' cards go through the E-Port
//! client control instead.

/// A parsed ATR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atr {
    /// Protocols offered (`T=` numbers), in order, T=0 when no `TD1`.
    pub protocols: Vec<u8>,
    pub historical: Vec<u8>,
    /// `Some(ok)` when a TCK is present.
    pub check_ok: Option<bool>,
}

/// Why bytes are not an ATR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtrError {
    #[error("an ATR starts with 3B or 3F, not {0:02X}")]
    BadTs(u8),
    #[error("the ATR ends early")]
    Truncated,
    #[error("{0} bytes after the ATR")]
    Trailing(usize),
}

impl Atr {
    pub fn parse(bytes: &[u8]) -> Result<Atr, AtrError> {
        let (&ts, rest) = bytes.split_first().ok_or(AtrError::Truncated)?;
        if ts != 0x3B && ts != 0x3F {
            return Err(AtrError::BadTs(ts));
        }
        let (&t0, mut rest) = rest.split_first().ok_or(AtrError::Truncated)?;
        let k = usize::from(t0 & 0x0F);
        let mut y = t0 >> 4;
        let mut protocols = Vec::new();
        loop {
            let present = (y & 1) + (y >> 1 & 1) + (y >> 2 & 1);
            let skip = usize::from(present);
            if rest.len() < skip {
                return Err(AtrError::Truncated);
            }
            rest = &rest[skip..];
            if y & 0x8 == 0 {
                break;
            }
            let (&td, after) = rest.split_first().ok_or(AtrError::Truncated)?;
            protocols.push(td & 0x0F);
            y = td >> 4;
            rest = after;
        }
        if protocols.is_empty() {
            protocols.push(0);
        }
        if rest.len() < k {
            return Err(AtrError::Truncated);
        }
        let (historical, rest) = rest.split_at(k);
        let needs_tck = protocols.iter().any(|&t| t != 0);
        let check_ok = if needs_tck {
            if rest.is_empty() {
                return Err(AtrError::Truncated);
            }
            Some(bytes[1..].iter().fold(0u8, |x, b| x ^ b) == 0)
        } else {
            None
        };
        let trailing = rest.len() - usize::from(needs_tck);
        if trailing > 0 {
            return Err(AtrError::Trailing(trailing));
        }
        Ok(Atr { protocols, historical: historical.to_vec(), check_ok })
    }
}

/// What DataLink knows about one kind of card, recognised by its ATR.
#[derive(Debug, PartialEq, Eq)]
pub struct CardProfile {
    /// A stable name, shown in the environment check.
    pub name: &'static str,
    /// The ATR and a mask: a card matches when `atr & mask == pattern & mask`, byte by byte, at
    /// the same length.
    pub atr: &'static [u8],
    pub atr_mask: &'static [u8],
    /// The applet to SELECT before anything else.
    pub aid: &'static [u8],
    /// VERIFY's P2 for the PIN.
    pub pin_reference: u8,
    /// GET DATA P1 P2 for the card number (ASCII).
    pub card_number: (u8, u8),
    /// The file holding the DER signing certificate.
    pub certificate_file: [u8; 2],
    /// Whether PSO: COMPUTE DIGITAL SIGNATURE over a SHA-256 digest is supported.
    pub signs_sha256: bool,
}

impl CardProfile {
    pub fn matches(&self, atr: &[u8]) -> bool {
        atr.len() == self.atr.len()
            && self.atr_mask.len() == self.atr.len()
            && atr.iter().zip(self.atr).zip(self.atr_mask).all(|((a, p), m)| a & m == p & m)
    }
}

/// The DataLink test card (`tests/virtual-card`): ISO 7816-4 commands over a proprietary AID.
pub const DATALINK_TEST: CardProfile = CardProfile {
    name: "datalink-test",
    atr: &[0x3B, 0x8C, 0x80, 0x01, b'D', b'a', b't', b'a', b'L', b'i', b'n', b'k', b'T', b'E', b'S', b'T', 0x0B],
    atr_mask: &[0xFF; 17],
    aid: &[0xF0, 0x44, 0x4C, 0x54, 0x45, 0x53, 0x54, 0x01],
    pin_reference: 0x81,
    card_number: (0x00, 0x5A),
    certificate_file: [0xC0, 0x01],
    signs_sha256: true,
};

/// Every profile DataLink may send commands (and a PIN) to.
pub const PROFILES: &[&CardProfile] = &[&DATALINK_TEST];

/// The profile for a card, or `None`: then the card gets no command at all.
pub fn profile_for(atr: &[u8]) -> Option<&'static CardProfile> {
    PROFILES.iter().copied().find(|p| p.matches(atr))
}

/// Bytes as spaced upper-case hex (`3B 8C 80 01`), as ATRs are usually written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_test_card_atr() {
        let atr = Atr::parse(DATALINK_TEST.atr).unwrap();
        assert_eq!(atr.protocols, vec![0, 1]);
        assert_eq!(atr.historical, b"DataLinkTEST");
        assert_eq!(atr.check_ok, Some(true));
    }

    #[test]
    fn parses_atrs_with_interface_bytes_and_without_tck() {
        // vicc's ISO 7816 card: TS T0=95 (TA1, TD1, K=5) TA1=13 TD1=81 (T=1, TD2) TD2=01 (T=1) + 5 historical + TCK.
        let vicc = [0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B];
        let atr = Atr::parse(&vicc).unwrap();
        assert_eq!(atr.protocols, vec![1, 1]);
        assert_eq!(atr.historical, vec![0x80, 0x73, 0xFF, 0x01, 0x00]);
        assert!(atr.check_ok.is_some());
        // T=0 only: no TCK. 3B 02 14 50: T0=02 (K=2), historical 14 50.
        let t0 = Atr::parse(&[0x3B, 0x02, 0x14, 0x50]).unwrap();
        assert_eq!((t0.protocols, t0.check_ok), (vec![0], None));
    }

    #[test]
    fn refuses_what_is_not_an_atr() {
        assert_eq!(Atr::parse(&[]), Err(AtrError::Truncated));
        assert_eq!(Atr::parse(&[0x12, 0x00]), Err(AtrError::BadTs(0x12)));
        assert_eq!(Atr::parse(&[0x3B, 0x05, 1, 2]), Err(AtrError::Truncated));
        assert_eq!(Atr::parse(&[0x3B, 0x01, 1, 2]), Err(AtrError::Trailing(1)));
        let mut broken = DATALINK_TEST.atr.to_vec();
        *broken.last_mut().unwrap() ^= 0xFF;
        assert_eq!(Atr::parse(&broken).unwrap().check_ok, Some(false));
    }

    #[test]
    fn only_a_known_atr_has_a_profile() {
        assert_eq!(profile_for(DATALINK_TEST.atr), Some(&DATALINK_TEST));
        let eport_like = [0x3B, 0x8A, 0x80, 0x01, b'E', b'P', b'O', b'R', b'T', b'-', b'L', b'I', b'K', b'E', 0x71];
        assert_eq!(profile_for(&eport_like), None);
        let mut one_off = DATALINK_TEST.atr.to_vec();
        one_off[6] ^= 1;
        assert_eq!(profile_for(&one_off), None);
        assert_eq!(profile_for(&DATALINK_TEST.atr[..16]), None);
        for p in PROFILES {
            assert_eq!(p.atr.len(), p.atr_mask.len(), "{}", p.name);
            assert!(Atr::parse(p.atr).unwrap().check_ok.unwrap_or(true), "{}", p.name);
        }
    }
}
