//! Small, pure text codecs the portal's wire formats need.
//!
//! * Percent-decoding, with or without `+` → space. A query string is decoded
//!   once with `+` as space (the form/query layer); the inner layers of
//!   `decStatusInfo` were made with JavaScript's `encodeURI` (or Python's
//!   `quote`), which never produce `+`, so they are decoded without it.
//! * JavaScript's `encodeURI` and `encodeURIComponent`, so tests and the
//!   benchmark build URLs byte-for-byte as the public scrapers do.
//! * Query-string and `Cookie` header splitting, HTML escaping and base64
//!   (the direct PDF endpoint answers the PDF as base64 inside JSON).

/// Percent-decode `input`. Invalid escapes are kept literally (lenient, like
/// most servers); bytes that are not UTF-8 after decoding become U+FFFD.
pub fn percent_decode(input: &str, plus_as_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn encode_with(input: &str, keep: impl Fn(u8) -> bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() * 3);
    for b in input.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

fn js_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// JavaScript `encodeURIComponent` (UTF-8, uppercase hex).
pub fn encode_uri_component(input: &str) -> String {
    encode_with(input, js_unreserved)
}

/// JavaScript `encodeURI`: like `encodeURIComponent` but keeps the URI
/// delimiters `;,/?:@&=+$#`. WLX builds `decStatusInfo` with it, twice.
pub fn encode_uri(input: &str) -> String {
    encode_with(input, |b| js_unreserved(b) || b";,/?:@&=+$#".contains(&b))
}

/// Python 3 `urllib.parse.quote(s)` (safe = `/`), as PYSEL/PYFLASK/NEMS use.
pub fn python_quote(input: &str) -> String {
    encode_with(input, |b| {
        b.is_ascii_alphanumeric() || b"_.-~/".contains(&b)
    })
}

/// Split a raw query string into `(name, value)` pairs, each decoded once
/// with `+` as space (what a servlet container does).
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// The first value of `name` in decoded query pairs.
pub fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The value of cookie `name` in a `Cookie:` header value.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == name).then_some(v.trim())
    })
}

/// Escape text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = |shift: u32| char::from(ALPHABET[((n >> shift) & 63) as usize]);
        out.push(idx(18));
        out.push(idx(12));
        out.push(if chunk.len() > 1 { idx(6) } else { '=' });
        out.push(if chunk.len() > 2 { idx(0) } else { '=' });
    }
    out
}

/// Decode standard base64 (padding optional). `None` on invalid input.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = text.bytes().filter(|b| *b != b'=').collect();
    if clean.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i as u32);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_layers() {
        assert_eq!(percent_decode("%25257B", false), "%257B");
        assert_eq!(percent_decode("%257B", false), "%7B");
        assert_eq!(percent_decode("%7B", false), "{");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%E7%BB%93%E5%85%B3", false), "结关");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%4", false), "%4");
    }

    #[test]
    fn js_encoders_match_browsers() {
        // Values checked against a browser console.
        assert_eq!(encode_uri(r#"{"a":"b c"}"#), "%7B%22a%22:%22b%20c%22%7D");
        assert_eq!(
            encode_uri_component(r#"{"a":"b c"}"#),
            "%7B%22a%22%3A%22b%20c%22%7D"
        );
        assert_eq!(encode_uri("结关"), "%E7%BB%93%E5%85%B3");
        assert_eq!(encode_uri_component("a+b/c"), "a%2Bb%2Fc");
        assert_eq!(python_quote(r#"{"a": 1}"#), "%7B%22a%22%3A%201%7D");
        // Three layers, as in the raw URLs of PYSEL/PYFLASK.
        let three = encode_uri_component(&encode_uri(&encode_uri("{\"")));
        assert_eq!(three, "%25257B%252522");
    }

    #[test]
    fn query_and_cookies() {
        let q = parse_query("limit=10&offset=0&x=a%2Bb+c&flag&=v");
        assert_eq!(query_value(&q, "limit"), Some("10"));
        assert_eq!(query_value(&q, "x"), Some("a+b c"));
        assert_eq!(query_value(&q, "flag"), Some(""));
        assert_eq!(query_value(&q, "nope"), None);
        let c = "route1sw_portal=abc; JSESSIONID=XYZ; clientlanguage=zh_CN";
        assert_eq!(cookie_value(c, "JSESSIONID"), Some("XYZ"));
        assert_eq!(cookie_value(c, "TGC"), None);
    }

    #[test]
    fn html_and_base64() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm9v!"), None);
    }
}
