//! CRX3: the signed extension package that enterprise policy (`ExtensionInstallForcelist` with a
//! self-hosted update URL) installs from, and the update manifest (`update.xml`) that points to it.
//!
//! # The format
//!
//! ```text
//! "Cr24"  u32 LE 3  u32 LE header_size  CrxFileHeader (protobuf, header_size bytes)  ZIP
//!
//! CrxFileHeader {                       SignedData {
//!   2: AsymmetricKeyProof sha256_with_rsa    1: bytes crx_id   (16 bytes)
//!        { 1: bytes public_key (SPKI DER),  }
//!          2: bytes signature }
//!   10000: bytes signed_header_data   (a serialized SignedData)
//! }
//! ```
//!
//! The signature is RSASSA-PKCS1-v1_5 with SHA-256 over
//! `"CRX3 SignedData\0" ‖ u32 LE len(signed_header_data) ‖ signed_header_data ‖ ZIP`.
//! `crx_id` is the first 16 bytes of SHA-256(public key DER); the extension ID is those bytes in
//! hex with the digits `0-f` written `a-p` — which is how `kkaaldpdgcikdogodnihlanlipfoeboa`
//! follows from the `key` in `extension/manifest.json`. The protobuf is four length-delimited
//! fields, so it is encoded here by hand ([`encode_header`], [`parse`]).
//!
//! # Keys
//!
//! `cargo xtask dist --key FILE` signs with the team's private key (PKCS#8 or PKCS#1 PEM, kept
//! outside the repository): its public key is the manifest's `key`, so the package's ID is the
//! real `kkaal…`. Without `--key`, a **development key** is generated once into
//! `target/dist-keys/dev-key.pem` (never committed) and reused; a package signed with it has a
//! different ID (printed), and its manifest's `key` is replaced by the development key's so the
//! package agrees with itself. Such a package is for trying the policy route, not for users: the
//! host only trusts the real ID.

use std::path::Path;

use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::sha2::{Digest, Sha256};
use rsa::{Generate, PrivateKey, PublicKey};

use crate::Result;

const MAGIC: &[u8; 4] = b"Cr24";
const SIGNED_DATA_PREFIX: &[u8] = b"CRX3 SignedData\x00";

/// The extension ID of a public key (SubjectPublicKeyInfo DER).
pub fn extension_id(spki_der: &[u8]) -> String {
    crx_id(spki_der)
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0f])
        .map(|nibble| char::from(b'a' + nibble))
        .collect()
}

fn crx_id(spki_der: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(spki_der);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    id
}

/// The extension ID of a manifest `key` (base64 SPKI).
pub fn extension_id_of_manifest_key(key: &str) -> Result<String> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|e| format!("manifest key is not base64: {e}"))?;
    Ok(extension_id(&der))
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A length-delimited protobuf field.
fn field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn signed_data(id: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::new();
    field(1, id, &mut out);
    out
}

fn to_be_signed(signed_header_data: &[u8], archive: &[u8]) -> Vec<u8> {
    let mut data =
        Vec::with_capacity(SIGNED_DATA_PREFIX.len() + 4 + signed_header_data.len() + archive.len());
    data.extend_from_slice(SIGNED_DATA_PREFIX);
    data.extend_from_slice(&(signed_header_data.len() as u32).to_le_bytes());
    data.extend_from_slice(signed_header_data);
    data.extend_from_slice(archive);
    data
}

/// The `CrxFileHeader` for one RSA proof.
pub fn encode_header(public_key: &[u8], signature: &[u8], signed_header_data: &[u8]) -> Vec<u8> {
    let mut proof = Vec::new();
    field(1, public_key, &mut proof);
    field(2, signature, &mut proof);
    let mut header = Vec::new();
    field(2, &proof, &mut header);
    field(10000, signed_header_data, &mut header);
    header
}

/// Packs `archive` (a ZIP) into a CRX3 signed with `key`.
pub fn pack(archive: &[u8], key: &PrivateKey) -> Result<Vec<u8>> {
    let public = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| format!("public key: {e}"))?;
    let signed_header_data = signed_data(&crx_id(public.as_bytes()));
    let signature = key
        .pkcs1v15_sign::<Sha256>(&to_be_signed(&signed_header_data, archive))
        .map_err(|e| format!("signing: {e}"))?;
    let header = encode_header(public.as_bytes(), &signature, &signed_header_data);
    let mut crx = Vec::with_capacity(12 + header.len() + archive.len());
    crx.extend_from_slice(MAGIC);
    crx.extend_from_slice(&3u32.to_le_bytes());
    crx.extend_from_slice(&(header.len() as u32).to_le_bytes());
    crx.extend_from_slice(&header);
    crx.extend_from_slice(archive);
    Ok(crx)
}

/// A parsed CRX3: what [`verify`] checked.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub public_key: Vec<u8>,
    pub signature: Vec<u8>,
    pub crx_id: Vec<u8>,
    pub archive: &'a [u8],
    signed_header_data: Vec<u8>,
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or("truncated varint")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

/// The length-delimited fields of a protobuf message, in order.
fn fields(bytes: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let key = read_varint(bytes, &mut at)?;
        if key & 7 != 2 {
            return Err(format!(
                "field {} has wire type {}, expected 2",
                key >> 3,
                key & 7
            ));
        }
        let len = usize::try_from(read_varint(bytes, &mut at)?).map_err(|_| "length too large")?;
        let value = bytes.get(at..at + len).ok_or("truncated field")?;
        out.push((key >> 3, value));
        at += len;
    }
    Ok(out)
}

/// Splits a CRX3 into its parts (the first RSA proof), without checking the signature.
pub fn parse(crx: &[u8]) -> Result<Parsed<'_>> {
    if crx.get(..4) != Some(MAGIC) {
        return Err("not a CRX file (no Cr24 magic)".into());
    }
    let word = |at: usize| -> Result<u32> {
        Ok(u32::from_le_bytes(
            crx.get(at..at + 4)
                .ok_or("truncated")?
                .try_into()
                .map_err(|_| "truncated")?,
        ))
    };
    if word(4)? != 3 {
        return Err(format!("CRX version {}, expected 3", word(4)?));
    }
    let header_len = word(8)? as usize;
    let header = crx.get(12..12 + header_len).ok_or("truncated header")?;
    let archive = &crx[12 + header_len..];
    let mut proof = None;
    let mut signed_header_data = None;
    for (number, value) in fields(header)? {
        match number {
            2 if proof.is_none() => proof = Some(value),
            10000 => signed_header_data = Some(value.to_vec()),
            _ => {}
        }
    }
    let proof = proof.ok_or("no sha256_with_rsa proof")?;
    let proof_fields = fields(proof)?;
    let get = |n: u64| {
        proof_fields
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_vec())
            .ok_or(format!("proof field {n} missing"))
    };
    let signed_header_data = signed_header_data.ok_or("no signed_header_data")?;
    let crx_id = fields(&signed_header_data)?
        .into_iter()
        .find(|(k, _)| *k == 1)
        .map(|(_, v)| v.to_vec())
        .ok_or("no crx_id")?;
    Ok(Parsed {
        public_key: get(1)?,
        signature: get(2)?,
        crx_id,
        archive,
        signed_header_data,
    })
}

/// Checks a CRX3 the way Chrome does for its RSA proof: the signature over the signed data and
/// the archive, and that `crx_id` belongs to the key. Returns the extension ID.
pub fn verify(crx: &[u8]) -> Result<String> {
    use rsa::pkcs8::DecodePublicKey;
    let parsed = parse(crx)?;
    let key = PublicKey::from_public_key_der(&parsed.public_key)
        .map_err(|e| format!("public key: {e}"))?;
    key.pkcs1v15_verify::<Sha256>(
        &to_be_signed(&parsed.signed_header_data, parsed.archive),
        &parsed.signature,
    )
    .map_err(|e| format!("the signature does not verify: {e}"))?;
    if parsed.crx_id != crx_id(&parsed.public_key) {
        return Err("crx_id does not belong to the signing key".into());
    }
    Ok(extension_id(&parsed.public_key))
}

/// The manifest `key` (base64 SPKI) of a private key.
pub fn manifest_key(key: &PrivateKey) -> Result<String> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| format!("public key: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
}

/// Reads a private key (PKCS#8 `BEGIN PRIVATE KEY`, as Chrome's "Pack extension" writes it, or
/// PKCS#1 `BEGIN RSA PRIVATE KEY`).
pub fn read_key(path: &Path) -> Result<PrivateKey> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    PrivateKey::from_pkcs8_pem(&text)
        .or_else(|_| PrivateKey::from_pkcs1_pem(&text))
        .map_err(|e| format!("{}: not an RSA private key in PEM ({e})", path.display()))
}

/// The development key in `path`, generated (RSA 3072) and written `0600` when missing.
pub fn dev_key(path: &Path) -> Result<(PrivateKey, bool)> {
    if path.exists() {
        return Ok((read_key(path)?, false));
    }
    let key = PrivateKey::generate();
    let pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| format!("encoding the key: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, pem.as_bytes()).map_err(|e| e.to_string())?;
    Ok((key, true))
}

/// The update manifest Chrome and Edge fetch from the URL in `ExtensionInstallForcelist`.
pub fn update_xml(id: &str, version: &str, codebase: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n\
         <gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n  \
         <app appid='{id}'>\n    <updatecheck codebase='{}' version='{version}' />\n  </app>\n</gupdate>\n",
        xml_attr(codebase)
    )
}

fn xml_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('\'', "&apos;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// One key for all the tests (generation is the slow part).
    fn key() -> &'static PrivateKey {
        static KEY: std::sync::OnceLock<PrivateKey> = std::sync::OnceLock::new();
        KEY.get_or_init(PrivateKey::generate)
    }

    #[test]
    fn the_manifest_key_gives_the_fixed_extension_id() {
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate::root().join("extension/manifest.json")).unwrap(),
        )
        .unwrap();
        let id = extension_id_of_manifest_key(manifest["key"].as_str().unwrap()).unwrap();
        assert_eq!(id, datalink_core::EXTENSION_ID);
    }

    #[test]
    fn a_packed_crx_parses_and_verifies_and_a_changed_byte_does_not() {
        let archive = b"PK\x03\x04 not really a zip, the signature covers it all the same".to_vec();
        let crx = pack(&archive, key()).unwrap();
        assert_eq!(&crx[..4], b"Cr24");
        assert_eq!(u32::from_le_bytes(crx[4..8].try_into().unwrap()), 3);
        let parsed = parse(&crx).unwrap();
        assert_eq!(parsed.archive, &archive[..]);
        assert_eq!(parsed.crx_id.len(), 16);
        assert_eq!(parsed.signature.len(), 384, "RSA-3072");
        let spki = key().to_public_key().to_public_key_der().unwrap();
        assert_eq!(parsed.public_key, spki.as_bytes());
        let id = verify(&crx).unwrap();
        assert_eq!(id, extension_id(spki.as_bytes()));
        assert_eq!(
            id,
            extension_id_of_manifest_key(&manifest_key(key()).unwrap()).unwrap()
        );
        assert!(
            id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b)),
            "{id}"
        );

        let mut tampered = crx.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(verify(&tampered).unwrap_err().contains("signature"));
        assert!(parse(b"PK\x03\x04").is_err());
    }

    #[test]
    fn protobuf_keys_and_lengths() {
        let mut out = Vec::new();
        field(10000, b"ab", &mut out);
        // (10000 << 3 | 2) = 80002 = 0x13882 → 82 f1 04
        assert_eq!(out, [0x82, 0xf1, 0x04, 2, b'a', b'b']);
        let mut long = Vec::new();
        field(1, &[7u8; 300], &mut long);
        assert_eq!(&long[..3], &[0x0a, 0xac, 0x02]);
        assert_eq!(fields(&long).unwrap(), [(1, &[7u8; 300][..])]);
    }

    #[test]
    fn keys_round_trip_through_pem_files() {
        let dir = std::env::temp_dir().join(format!("datalink-crx-test-{}", std::process::id()));
        let path = dir.join("k.pem");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            &path,
            key()
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        let read = read_key(&path).unwrap();
        assert_eq!(manifest_key(&read).unwrap(), manifest_key(key()).unwrap());
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(read_key(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_update_manifest() {
        let xml = update_xml(
            "kkaaldpdgcikdogodnihlanlipfoeboa",
            "0.1.0",
            "https://x.cn/d/datalink-0.1.0.crx?a=1&b=2",
        );
        assert!(
            xml.contains("<app appid='kkaaldpdgcikdogodnihlanlipfoeboa'>"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "codebase='https://x.cn/d/datalink-0.1.0.crx?a=1&amp;b=2' version='0.1.0'"
            ),
            "{xml}"
        );
    }
}
