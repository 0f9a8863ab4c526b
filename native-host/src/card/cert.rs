//! Just enough X.509 to show who a card belongs to and when its certificate is valid.
//!
//! A certificate is DER: nested `tag, length, contents` values. The parts read here sit at fixed
//! places in the first SEQUENCE, `tbsCertificate` (RFC 5280 §4.1):
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//! tbsCertificate ::= SEQUENCE {
//!     [0] version OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier,
//!     issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name, ... }
//! Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value DirectoryString }
//! Time ::= UTCTime "YYMMDDHHMMSSZ" (years 1950–2049) | GeneralizedTime "YYYYMMDDHHMMSSZ"
//! ```
//!
//! E-Port certificates are SM2-with-SM3 (older ones RSA); the algorithm does not matter here, so
//! nothing in this reader depends on it. The serial, in hex, is the certificate number the
//! E-Port control reports (`certNo`); subject CN is the holder, O (or OU) the company. Chinese
//! names come as UTF8String or BMPString (UTF-16BE); both are read.

use base64::Engine;

/// What the environment check shows of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The serial number in lower-case hex, without a sign byte.
    pub serial_hex: String,
    pub subject_cn: Option<String>,
    pub subject_o: Option<String>,
    pub subject_ou: Option<String>,
    pub issuer_cn: Option<String>,
    /// Seconds since the Unix epoch, UTC.
    pub not_before: i64,
    pub not_after: i64,
}

/// Why bytes are not a certificate this reader understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("DER ends early")]
    Truncated,
    #[error("expected tag {expected:02X}, found {found:02X}")]
    Tag { expected: u8, found: u8 },
    #[error("a DER length that is too long or not minimal")]
    Length,
    #[error("a time that is not valid: {0}")]
    Time(String),
    #[error("not PEM: {0}")]
    Pem(String),
}

/// One DER value: its tag, its contents, and what follows it.
fn next(input: &[u8]) -> Result<(u8, &[u8], &[u8]), CertError> {
    let (&tag, rest) = input.split_first().ok_or(CertError::Truncated)?;
    let (&first, rest) = rest.split_first().ok_or(CertError::Truncated)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(CertError::Length);
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(CertError::Truncated);
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), CertError> {
    let (found, contents, rest) = next(input)?;
    if found != tag {
        return Err(CertError::Tag { expected: tag, found });
    }
    Ok((contents, rest))
}

/// The total length of the DER value that starts with `prefix` (tag, length and contents), from
/// its first bytes: how much to READ BINARY off a card. `None` until the length bytes are in.
#[cfg_attr(not(feature = "pcsc"), allow(dead_code))]
pub fn der_total_len(prefix: &[u8]) -> Option<usize> {
    let first = *prefix.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return None;
    }
    let bytes = prefix.get(2..2 + n)?;
    Some(2 + n + bytes.iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b)))
}

/// Reads a DER certificate.
pub fn parse_der(der: &[u8]) -> Result<CertInfo, CertError> {
    let (certificate, _) = expect(der, 0x30)?;
    let (tbs, _) = expect(certificate, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xA0) {
        rest = next(rest)?.2;
    }
    let (serial, rest) = expect(rest, 0x02)?;
    let (_algorithm, rest) = expect(rest, 0x30)?;
    let (issuer, rest) = expect(rest, 0x30)?;
    let (validity, rest) = expect(rest, 0x30)?;
    let (subject, _) = expect(rest, 0x30)?;
    let (not_before, after) = time(validity)?;
    let (not_after, _) = time(after)?;
    let serial = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    Ok(CertInfo {
        serial_hex: serial.iter().map(|b| format!("{b:02x}")).collect(),
        subject_cn: attribute(subject, OID_CN)?,
        subject_o: attribute(subject, OID_O)?,
        subject_ou: attribute(subject, OID_OU)?,
        issuer_cn: attribute(issuer, OID_CN)?,
        not_before,
        not_after,
    })
}

/// The DER inside a PEM `CERTIFICATE` block (or bare base64, as some E-Port calls return).
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, CertError> {
    let body: String = match (pem.find("-----BEGIN"), pem.find("-----END")) {
        (Some(begin), Some(end)) if begin < end => {
            let after_header = pem[begin..].find('\n').map(|i| begin + i + 1).ok_or_else(|| CertError::Pem("no line after BEGIN".into()))?;
            pem[after_header..end].to_owned()
        }
        _ => pem.to_owned(),
    };
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).map_err(|e| CertError::Pem(e.to_string()))
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0A];
const OID_OU: &[u8] = &[0x55, 0x04, 0x0B];

/// The first value of attribute `oid` in a Name.
fn attribute(name: &[u8], oid: &[u8]) -> Result<Option<String>, CertError> {
    let mut rdns = name;
    while !rdns.is_empty() {
        let (set, rest) = expect(rdns, 0x31)?;
        rdns = rest;
        let mut pairs = set;
        while !pairs.is_empty() {
            let (pair, rest) = expect(pairs, 0x30)?;
            pairs = rest;
            let (found, value) = expect(pair, 0x06)?;
            if found == oid {
                let (tag, contents, _) = next(value)?;
                return Ok(Some(directory_string(tag, contents)));
            }
        }
    }
    Ok(None)
}

fn directory_string(tag: u8, contents: &[u8]) -> String {
    match tag {
        // BMPString: UTF-16 big-endian.
        0x1E => {
            let units: Vec<u16> = contents.chunks(2).map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)])).collect();
            String::from_utf16_lossy(&units)
        }
        // TeletexString: Latin-1 in practice.
        0x14 => contents.iter().map(|&b| char::from(b)).collect(),
        // UTF8String, PrintableString, IA5String, and anything else: UTF-8.
        _ => String::from_utf8_lossy(contents).into_owned(),
    }
}

/// A Time value and what follows it.
fn time(input: &[u8]) -> Result<(i64, &[u8]), CertError> {
    let (tag, contents, rest) = next(input)?;
    let text = std::str::from_utf8(contents).map_err(|_| CertError::Time("not ASCII".into()))?;
    let digits = text.strip_suffix('Z').ok_or_else(|| CertError::Time(format!("{text:?} is not in UTC")))?;
    let full = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: i64 = digits[..2].parse().map_err(|_| CertError::Time(text.into()))?;
            format!("{}{digits}", if yy < 50 { "20" } else { "19" })
        }
        (0x18, 14) => digits.to_owned(),
        _ => return Err(CertError::Time(format!("{text:?} with tag {tag:02X}"))),
    };
    let field = |range: std::ops::Range<usize>| -> Result<i64, CertError> {
        full.get(range).and_then(|s| s.parse().ok()).ok_or_else(|| CertError::Time(text.into()))
    };
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let (hour, minute, second) = (field(8..10)?, field(10..12)?, field(12..14)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return Err(CertError::Time(text.into()));
    }
    Ok((days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second, rest))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2024-01-01T00:00:00Z` for a Unix time.
pub fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // civil_from_days, the inverse of the above.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The Unix time of a `YYYY-MM-DDTHH:MM:SSZ` text (what [`format_utc`] writes).
pub fn parse_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let field = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real SM2 certificate made with OpenSSL 3.0, so the reader is checked against a
    /// certificate it did not write: `openssl genpkey -algorithm EC -pkeyopt
    /// ec_paramgen_curve:SM2 -out k`, then `openssl req -new -x509 -key k -sm3 -utf8
    /// -subj "/C=CN/O=示例进出口贸易有限公司/CN=张三" -set_serial 0x03000000000cde6f -days 3650
    /// -config /dev/null`.
    const OPENSSL_SM2: &str = include_str!("testdata/sm2-openssl.pem");
    /// The same subject, RSA, and OpenSSL's `string_mask=default`, which writes the Chinese
    /// names as BMPString; serial 0x8A01 needs a sign byte.
    const OPENSSL_RSA_BMP: &str = include_str!("testdata/rsa-bmp-openssl.pem");

    #[test]
    fn reads_an_openssl_sm2_certificate() {
        let info = parse_der(&pem_to_der(OPENSSL_SM2).unwrap()).unwrap();
        assert_eq!(info.serial_hex, "03000000000cde6f");
        assert_eq!(info.subject_cn.as_deref(), Some("张三"));
        assert_eq!(info.subject_o.as_deref(), Some("示例进出口贸易有限公司"));
        assert_eq!(info.issuer_cn.as_deref(), Some("张三"), "self-signed");
        assert_eq!(info.not_after - info.not_before, 3650 * 86_400);
    }

    #[test]
    fn reads_bmp_strings_and_a_serial_with_a_sign_byte() {
        let info = parse_der(&pem_to_der(OPENSSL_RSA_BMP).unwrap()).unwrap();
        assert_eq!(info.subject_cn.as_deref(), Some("张三"));
        assert_eq!(info.subject_o.as_deref(), Some("示例进出口贸易有限公司"));
        assert_eq!(info.serial_hex, "8a01", "the 00 sign byte of 0x8A01 is dropped");
    }

    #[test]
    fn times_in_both_forms() {
        assert_eq!(time(b"\x17\x0d240101000000Z").unwrap().0, 1_704_067_200);
        assert_eq!(time(b"\x17\x0d491231235959Z").unwrap().0, days_from_civil(2049, 12, 31) * 86_400 + 86_399);
        assert_eq!(time(b"\x17\x0d500101000000Z").unwrap().0, days_from_civil(1950, 1, 1) * 86_400);
        assert_eq!(time(b"\x18\x0f20551231235959Z").unwrap().0, days_from_civil(2055, 12, 31) * 86_400 + 86_399);
        assert!(matches!(time(b"\x17\x0d241301000000Z"), Err(CertError::Time(_))));
        assert!(matches!(time(b"\x17\x11240101000000+0800"), Err(CertError::Time(_))));
    }

    #[test]
    fn dates_round_trip() {
        for (unix, text) in [(0, "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"), (1_704_067_200, "2024-01-01T00:00:00Z"), (2_714_601_599, "2056-01-08T23:59:59Z")] {
            assert_eq!(format_utc(unix), text);
        }
        assert_eq!(days_from_civil(2024, 1, 1) * 86_400, 1_704_067_200);
        for unix in [0, 951_782_400, 1_704_067_200, 2_714_601_599] {
            assert_eq!(parse_utc(&format_utc(unix)), Some(unix));
        }
        assert_eq!(parse_utc("2024-01-01 00:00:00"), None);
    }

    #[test]
    fn der_lengths_from_a_prefix() {
        assert_eq!(der_total_len(&[0x30, 0x05]), Some(7));
        assert_eq!(der_total_len(&[0x30, 0x82, 0x01, 0x2C]), Some(304));
        assert_eq!(der_total_len(&[0x30, 0x82, 0x01]), None);
        assert_eq!(der_total_len(&[0x30]), None);
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        let der = pem_to_der(OPENSSL_SM2).unwrap();
        for cut in [0, 1, 2, 10, 100, der.len() / 2, der.len() - 1] {
            assert!(parse_der(&der[..cut]).is_err(), "a certificate cut at {cut} bytes was accepted");
        }
        assert!(matches!(pem_to_der("-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----"), Err(CertError::Pem(_))));
        assert!(matches!(parse_der(&[0x31, 0x00]), Err(CertError::Tag { expected: 0x30, found: 0x31 })));
    }
}
