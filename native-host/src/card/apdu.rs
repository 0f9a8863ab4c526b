//! ISO 7816-4 command and response APDUs, and what status words mean for DataLink.
//!
//! A **command APDU** is `CLA INS P1 P2 [Lc data] [Le]` (short form: Lc and Le are one byte, Le 0
//! meaning 256). A **response APDU** is `[data] SW1 SW2`; the two status bytes say how it went:
//!
//! | SW | meaning | DataLink |
//! |---|---|---|
//! | `90 00` | done | ok |
//! | `61 xx` | xx more bytes: ask with GET RESPONSE | fetched ([`Step::GetResponse`]) |
//! | `6C xx` | wrong Le: resend with Le = xx | resent ([`Step::Resend`]) |
//! | `63 Cx` | VERIFY: wrong PIN, x tries left (x = 0: now locked) | `wrong_pin {x}` / `card_locked` |
//! | `69 83` | authentication method blocked | `card_locked` |
//! | `69 82` | security status not satisfied | `pin_required` |
//! | `67 00` | wrong length (a PIN of a length the card refuses: no try used) | `pin_format` |
//! | `6A 82` | file or application not found | `unsupported_card` |
//! | anything else | | `reader_error` with the SW in the detail |
//!
//! VERIFY without data (`00 20 00 <ref>`) asks for the retry counter without spending a try:
//! `63 Cx` (x left), `90 00` (already verified), `69 83` (locked).

use zeroize::Zeroizing;

use super::CardError;

/// SELECT by application identifier (`00 A4 04 00 Lc AID`).
pub fn select_aid(aid: &[u8]) -> Vec<u8> {
    with_data([0x00, 0xA4, 0x04, 0x00], aid, None)
}

/// SELECT an elementary file by its identifier, no answer data (`00 A4 02 0C 02 FID`).
pub fn select_file(fid: [u8; 2]) -> Vec<u8> {
    with_data([0x00, 0xA4, 0x02, 0x0C], &fid, None)
}

/// READ BINARY from `offset` (15 bits), up to `le` bytes (0 = 256).
pub fn read_binary(offset: u16, le: u8) -> Vec<u8> {
    let [hi, lo] = (offset & 0x7FFF).to_be_bytes();
    vec![0x00, 0xB0, hi, lo, le]
}

/// GET DATA for the data object `p1 p2` (`00 CA P1 P2 00`).
pub fn get_data(p1: u8, p2: u8) -> Vec<u8> {
    vec![0x00, 0xCA, p1, p2, 0x00]
}

/// VERIFY without data: the retry counter, no try spent.
pub fn verify_query(reference: u8) -> Vec<u8> {
    vec![0x00, 0x20, 0x00, reference]
}

/// VERIFY with the PIN. The command holds the PIN, so it is wiped when dropped.
pub fn verify(reference: u8, pin: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(with_data([0x00, 0x20, 0x00, reference], pin, None))
}

/// PERFORM SECURITY OPERATION: COMPUTE DIGITAL SIGNATURE over `digest` (`00 2A 9E 9A Lc digest 00`).
pub fn compute_signature(digest: &[u8]) -> Vec<u8> {
    with_data([0x00, 0x2A, 0x9E, 0x9A], digest, Some(0))
}

/// GET RESPONSE for `len` pending bytes.
pub fn get_response(len: u8) -> Vec<u8> {
    vec![0x00, 0xC0, 0x00, 0x00, len]
}

fn with_data(header: [u8; 4], data: &[u8], le: Option<u8>) -> Vec<u8> {
    let mut out = header.to_vec();
    if !data.is_empty() {
        // Short APDUs: callers never send more than 255 bytes (AIDs, FIDs, PINs, digests).
        out.push(u8::try_from(data.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&data[..data.len().min(255)]);
    }
    out.extend(le);
    out
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    /// Splits the bytes a reader returned; fewer than two is not a response.
    pub fn parse(bytes: &[u8]) -> Result<Response, CardError> {
        if bytes.len() < 2 {
            return Err(CardError::ReaderError(format!("a response of {} bytes", bytes.len())));
        }
        let (data, sw) = bytes.split_at(bytes.len() - 2);
        Ok(Response { data: data.to_vec(), sw: u16::from_be_bytes([sw[0], sw[1]]) })
    }

    pub fn ok(&self) -> bool {
        self.sw == 0x9000
    }
}

/// What to do after a response, for the transport's GET RESPONSE / resend loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The response is final.
    Done,
    /// `61 xx`: send GET RESPONSE for xx bytes and append what comes.
    GetResponse(u8),
    /// `6C xx`: send the same command again with Le = xx.
    Resend(u8),
}

pub fn next_step(sw: u16) -> Step {
    match sw.to_be_bytes() {
        [0x61, n] => Step::GetResponse(n),
        [0x6C, n] => Step::Resend(n),
        _ => Step::Done,
    }
}

/// `command` with its Le byte replaced (or added) — for `6C xx`.
pub fn with_le(command: &[u8], le: u8) -> Vec<u8> {
    let mut out = command.to_vec();
    let has_le = match command.len() {
        0..=4 => false,
        5 => true,
        n => n > 5 + usize::from(command[4]),
    };
    if has_le {
        out.pop();
    }
    out.push(le);
    out
}

/// The outcome of VERIFY with a PIN.
pub fn verify_outcome(sw: u16) -> Result<(), CardError> {
    match sw {
        0x9000 => Ok(()),
        0x63C0 | 0x6983 => Err(CardError::CardLocked),
        sw if sw & 0xFFF0 == 0x63C0 => Err(CardError::WrongPin { retries_left: Some((sw & 0x0F) as u8) }),
        // Some cards say "wrong, no counter" with plain 63 00.
        0x6300 => Err(CardError::WrongPin { retries_left: None }),
        0x6700 => Err(CardError::PinFormat("the card refused the PIN's length".into())),
        sw => Err(error_for(sw)),
    }
}

/// The retry counter from VERIFY without data: `Some(n)` tries left, `None` when the card did
/// not say (already verified, or no counter).
pub fn retries_from_query(sw: u16) -> Result<Option<u8>, CardError> {
    match sw {
        0x9000 => Ok(None),
        0x6983 => Ok(Some(0)),
        sw if sw & 0xFFF0 == 0x63C0 => Ok(Some((sw & 0x0F) as u8)),
        sw => Err(error_for(sw)),
    }
}

/// The error a status word means when nothing more specific applies.
pub fn error_for(sw: u16) -> CardError {
    match sw {
        0x6983 => CardError::CardLocked,
        0x6982 => CardError::PinRequired,
        0x6A82 => CardError::UnsupportedCard("the card has no DataLink-known applet (6A 82)".into()),
        sw => CardError::ReaderError(format!("status word {sw:04X}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_laid_out_as_iso_7816_4_says() {
        assert_eq!(select_aid(&[0xF0, 0x01]), vec![0x00, 0xA4, 0x04, 0x00, 0x02, 0xF0, 0x01]);
        assert_eq!(select_file([0xC0, 0x01]), vec![0x00, 0xA4, 0x02, 0x0C, 0x02, 0xC0, 0x01]);
        assert_eq!(read_binary(0x0123, 0), vec![0x00, 0xB0, 0x01, 0x23, 0x00]);
        assert_eq!(read_binary(0xFFFF, 16), vec![0x00, 0xB0, 0x7F, 0xFF, 0x10], "offsets are 15 bits");
        assert_eq!(get_data(0x00, 0x5A), vec![0x00, 0xCA, 0x00, 0x5A, 0x00]);
        assert_eq!(verify_query(0x81), vec![0x00, 0x20, 0x00, 0x81]);
        assert_eq!(verify(0x81, b"1234").as_slice(), &[0x00, 0x20, 0x00, 0x81, 0x04, 0x31, 0x32, 0x33, 0x34]);
        assert_eq!(compute_signature(&[9; 32])[..5], [0x00, 0x2A, 0x9E, 0x9A, 0x20]);
        assert_eq!(compute_signature(&[9; 32]).last(), Some(&0x00));
        assert_eq!(compute_signature(&[9; 32]).len(), 4 + 1 + 32 + 1);
    }

    #[test]
    fn responses_split_into_data_and_status() {
        assert_eq!(Response::parse(&[0x41, 0x42, 0x90, 0x00]).unwrap(), Response { data: b"AB".to_vec(), sw: 0x9000 });
        assert!(Response::parse(&[0x90, 0x00]).unwrap().ok());
        assert!(matches!(Response::parse(&[0x90]), Err(CardError::ReaderError(_))));
    }

    #[test]
    fn chained_and_resized_responses() {
        assert_eq!(next_step(0x6110), Step::GetResponse(0x10));
        assert_eq!(next_step(0x6C08), Step::Resend(8));
        assert_eq!(next_step(0x9000), Step::Done);
        assert_eq!(with_le(&[0x00, 0xCA, 0x00, 0x5A, 0x00], 0x0D), vec![0x00, 0xCA, 0x00, 0x5A, 0x0D]);
        assert_eq!(with_le(&[0x00, 0x84, 0x00, 0x00], 8), vec![0x00, 0x84, 0x00, 0x00, 8]);
        assert_eq!(with_le(&[0x00, 0x2A, 0x9E, 0x9A, 0x01, 0xAA], 0), vec![0x00, 0x2A, 0x9E, 0x9A, 0x01, 0xAA, 0]);
        assert_eq!(with_le(&[0x00, 0x2A, 0x9E, 0x9A, 0x01, 0xAA, 0x00], 64), vec![0x00, 0x2A, 0x9E, 0x9A, 0x01, 0xAA, 64]);
    }

    #[test]
    fn verify_status_words() {
        assert_eq!(verify_outcome(0x9000), Ok(()));
        assert_eq!(verify_outcome(0x63C2), Err(CardError::WrongPin { retries_left: Some(2) }));
        assert_eq!(verify_outcome(0x63C1), Err(CardError::WrongPin { retries_left: Some(1) }));
        assert_eq!(verify_outcome(0x63C0), Err(CardError::CardLocked));
        assert_eq!(verify_outcome(0x6983), Err(CardError::CardLocked));
        assert_eq!(verify_outcome(0x6300), Err(CardError::WrongPin { retries_left: None }));
        assert!(matches!(verify_outcome(0x6700), Err(CardError::PinFormat(_))));
        assert!(matches!(verify_outcome(0x6A82), Err(CardError::UnsupportedCard(_))));
        assert!(matches!(verify_outcome(0x6F00), Err(CardError::ReaderError(d)) if d.contains("6F00")));
    }

    #[test]
    fn retry_queries_never_count_as_wrong() {
        assert_eq!(retries_from_query(0x63C3), Ok(Some(3)));
        assert_eq!(retries_from_query(0x6983), Ok(Some(0)));
        assert_eq!(retries_from_query(0x9000), Ok(None));
        assert_eq!(retries_from_query(0x6982), Err(CardError::PinRequired));
    }
}
