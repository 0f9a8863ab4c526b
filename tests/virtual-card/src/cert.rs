//! A test certificate shaped like an E-Port card's signing certificate, built with a tiny DER
//! writer.
//!
//! Real E-Port certificates (see `eport-card.md` §4) are X.509 v3 with SM2-with-SM3 signatures,
//! issuer CN 中国电子业务证书管理中心, subject CN = the holder and O/OU = the company, and a
//! hexadecimal serial that doubles as the certificate number (`certNo`). This module writes a
//! certificate with the same shape so that the host's DER reader is exercised end to end; its
//! key and signature are filler bytes (nothing verifies them), and the issuer says 测试.
//!
//! DER in one paragraph: every value is `tag, length, contents`; a length under 128 is one byte,
//! otherwise `0x80 | n` followed by n big-endian length bytes. SEQUENCE (0x30) and SET (0x31)
//! contain other values; `[0]` (0xA0) is a context tag (the certificate version).

use base64::Engine;

/// What goes into a test certificate.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// The serial, as the card reports the certificate number (hex digits).
    pub serial_hex: String,
    pub holder: String,
    pub enterprise: String,
    /// `YYYYMMDDHHMMSS` in UTC.
    pub not_before: String,
    /// `YYYYMMDDHHMMSS` in UTC.
    pub not_after: String,
}

impl Default for CertSpec {
    fn default() -> CertSpec {
        CertSpec {
            serial_hex: "03000000000cde6f".into(),
            holder: "张三".into(),
            enterprise: "示例进出口贸易有限公司".into(),
            not_before: "20240101000000".into(),
            // After 2049: written as GeneralizedTime, so both time forms get read.
            not_after: "20551231235959".into(),
        }
    }
}

/// The DER bytes of the certificate.
pub fn build(spec: &CertSpec) -> Vec<u8> {
    const SM2_WITH_SM3: &[u64] = &[1, 2, 156, 10197, 1, 501];
    const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
    const SM2_CURVE: &[u64] = &[1, 2, 156, 10197, 1, 301];
    const CN: &[u64] = &[2, 5, 4, 3];
    const C: &[u64] = &[2, 5, 4, 6];
    const O: &[u64] = &[2, 5, 4, 10];
    const OU: &[u64] = &[2, 5, 4, 11];

    let name = |parts: &[(&[u64], Vec<u8>)]| {
        let rdns: Vec<Vec<u8>> = parts.iter().map(|(oid, value)| set(&[seq(&[object_id(oid), value.clone()])])).collect();
        seq(&rdns)
    };
    let issuer = name(&[(C, printable("CN")), (CN, utf8("中国电子业务证书管理中心（测试）"))]);
    let subject = name(&[(C, printable("CN")), (O, utf8(&spec.enterprise)), (OU, utf8(&spec.enterprise)), (CN, utf8(&spec.holder))]);
    let algorithm = seq(&[object_id(SM2_WITH_SM3)]);
    let mut point = vec![0x04];
    point.extend((0u8..64).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    let spki = seq(&[seq(&[object_id(EC_PUBLIC_KEY), object_id(SM2_CURVE)]), bit_string(&point)]);
    let tbs = seq(&[
        tlv(0xA0, &integer(&[2])),
        integer(&hex(&spec.serial_hex)),
        algorithm.clone(),
        issuer,
        seq(&[time(&spec.not_before), time(&spec.not_after)]),
        subject,
        spki,
    ]);
    seq(&[tbs, algorithm, bit_string(&[0x5A; 72])])
}

/// The certificate as PEM (what `cus-sec_SpcGetSignCertAsPEM` returns).
pub fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}

fn integer(bytes: &[u8]) -> Vec<u8> {
    let mut contents = bytes.to_vec();
    if contents.first().is_some_and(|b| b & 0x80 != 0) {
        contents.insert(0, 0);
    }
    tlv(0x02, &contents)
}

fn utf8(text: &str) -> Vec<u8> {
    tlv(0x0C, text.as_bytes())
}

fn printable(text: &str) -> Vec<u8> {
    tlv(0x13, text.as_bytes())
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut contents = vec![0];
    contents.extend_from_slice(bytes);
    tlv(0x03, &contents)
}

/// UTCTime (`YYMMDDHHMMSSZ`) through 2049, GeneralizedTime (`YYYYMMDDHHMMSSZ`) after, as RFC 5280 says.
fn time(yyyymmddhhmmss: &str) -> Vec<u8> {
    let year: u32 = yyyymmddhhmmss.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    if (1950..2050).contains(&year) {
        tlv(0x17, format!("{}Z", &yyyymmddhhmmss[2..]).as_bytes())
    } else {
        tlv(0x18, format!("{yyyymmddhhmmss}Z").as_bytes())
    }
}

fn object_id(arcs: &[u64]) -> Vec<u8> {
    let mut contents = Vec::new();
    let first = arcs.first().copied().unwrap_or(0) * 40 + arcs.get(1).copied().unwrap_or(0);
    for arc in std::iter::once(first).chain(arcs.iter().skip(2).copied()) {
        let mut groups = vec![(arc & 0x7F) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7F) as u8);
            rest >>= 7;
        }
        groups.reverse();
        contents.extend(groups);
    }
    tlv(0x06, &contents)
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter_map(|c| (c as char).to_digit(16).map(|d| d as u8)).collect();
    let padded: Vec<u8> = if digits.len() % 2 == 1 { std::iter::once(0).chain(digits).collect() } else { digits };
    padded.chunks(2).map(|pair| pair[0] << 4 | pair[1]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_long_form_past_127() {
        assert_eq!(tlv(0x04, &[7; 3]), vec![0x04, 3, 7, 7, 7]);
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2C]);
        assert_eq!(long.len(), 304);
    }

    #[test]
    fn object_ids_encode_base_128() {
        // 1.2.840.10045.2.1 is the textbook example: 2A 86 48 CE 3D 02 01.
        assert_eq!(object_id(&[1, 2, 840, 10045, 2, 1]), vec![0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]);
    }

    #[test]
    fn a_certificate_is_one_sequence_and_its_serial_keeps_leading_zeros() {
        let der = build(&CertSpec::default());
        assert_eq!(der[0], 0x30);
        assert_eq!(hex("03000000000cde6f"), vec![0x03, 0, 0, 0, 0, 0x0c, 0xde, 0x6f]);
        assert!(pem(&der).starts_with("-----BEGIN CERTIFICATE-----\nMII"));
    }
}
