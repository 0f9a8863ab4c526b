//! A minimal HTTP/1.1 client for the tests and the benchmark.
//!
//! Not a general client: plain HTTP to one address, one keep-alive
//! connection, no TLS, no proxy. It sends the request target exactly as
//! given (so a test can put the scrapers' triple-encoded `decStatusInfo` in
//! the URL byte for byte), keeps a cookie jar for `JSESSIONID`, reads
//! `Content-Length`, chunked and close-delimited bodies, and never follows
//! redirects unless asked ([`Client::follow`]). Every request is bounded
//! by [`Client::timeout`].

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The headers public scrapers send with every API call (portal-api.md §1).
pub const SCRAPER_HEADERS: &[(&str, &str)] = &[
    ("Accept", "application/json, text/javascript, */*; q=0.01"),
    ("X-Requested-With", "XMLHttpRequest"),
];

/// A response.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
    }
}

/// One keep-alive connection to a simulator, with a cookie jar.
pub struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    cookies: BTreeMap<String, String>,
    /// Upper bound for one request, connect to last body byte (default 30 s).
    pub timeout: Duration,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Client {
    /// A client for the server at `addr` (not connected yet).
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            conn: None,
            cookies: BTreeMap::new(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Set a cookie.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_string(), value.to_string());
    }

    /// A cookie's value.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Forget every cookie.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// Drop the connection (the next request reconnects).
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    /// `GET target`.
    pub async fn get(&mut self, target: &str) -> io::Result<Response> {
        self.request("GET", target, &[], b"").await
    }

    /// `GET target` with the scrapers' `Accept` and `X-Requested-With`.
    pub async fn get_api(&mut self, target: &str) -> io::Result<Response> {
        self.request("GET", target, SCRAPER_HEADERS, b"").await
    }

    /// `POST target` with a JSON body and the scrapers' headers.
    pub async fn post_json(&mut self, target: &str, body: &str) -> io::Result<Response> {
        let mut h = SCRAPER_HEADERS.to_vec();
        h.push(("Content-Type", "application/json"));
        self.request("POST", target, &h, body.as_bytes()).await
    }

    /// `POST target` with an `application/x-www-form-urlencoded` body.
    pub async fn post_form(&mut self, target: &str, form: &[(&str, &str)]) -> io::Result<Response> {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::codec::encode_uri_component(k),
                    crate::codec::encode_uri_component(v)
                )
            })
            .collect();
        self.request(
            "POST",
            target,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.join("&").as_bytes(),
        )
        .await
    }

    /// Follow `resp`'s redirects with GET (as `fetch` does), at most `max` hops.
    pub async fn follow(&mut self, mut resp: Response, max: usize) -> io::Result<Response> {
        for _ in 0..max {
            if !(300..400).contains(&resp.status) {
                break;
            }
            let Some(loc) = resp.header("location").map(str::to_string) else {
                break;
            };
            resp = self.get(&loc).await?;
        }
        Ok(resp)
    }

    /// Send one request. `target` is a path with query (sent verbatim) or
    /// an absolute `http://host[:port]/…` URL on this server.
    pub async fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let path = match target.strip_prefix("http://") {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_string(),
            None => target.to_string(),
        };
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut raw = head.into_bytes();
        raw.extend_from_slice(body);

        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.exchange(&raw, method == "HEAD")).await {
            Ok(result) => result,
            Err(_) => {
                self.conn = None;
                Err(io::Error::new(io::ErrorKind::TimedOut, "request timed out"))
            }
        }
    }

    async fn exchange(&mut self, raw: &[u8], head_only: bool) -> io::Result<Response> {
        let reused = self.conn.is_some();
        match self.try_exchange(raw, head_only).await {
            Ok(r) => Ok(r),
            // The server may have closed an idle keep-alive connection.
            Err(e)
                if reused
                    && matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::BrokenPipe
                            | io::ErrorKind::ConnectionReset
                    ) =>
            {
                self.conn = None;
                self.try_exchange(raw, head_only).await
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }

    async fn try_exchange(&mut self, raw: &[u8], head_only: bool) -> io::Result<Response> {
        if self.conn.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().ok_or_else(|| bad("no connection"))?;
        conn.get_mut().write_all(raw).await?;

        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if conn.read_line(&mut line).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "eof in headers",
                ));
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                break;
            }
            let (k, v) = l
                .split_once(':')
                .ok_or_else(|| bad(format!("bad header {l:?}")))?;
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let close = get("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let mut body = Vec::new();
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
            // no body
        } else if get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            loop {
                line.clear();
                conn.read_line(&mut line).await?;
                let size_text = line.trim().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| bad(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    // Trailers until the empty line.
                    loop {
                        line.clear();
                        if conn.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                conn.read_exact(&mut body[start..]).await?;
                let mut crlf = [0u8; 2];
                conn.read_exact(&mut crlf).await?;
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
            body.resize(len, 0);
            conn.read_exact(&mut body).await?;
        } else {
            conn.read_to_end(&mut body).await?;
            self.conn = None;
        }
        if close {
            self.conn = None;
        }
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    let expired = v.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
                    if expired {
                        self.cookies.remove(name.trim());
                    } else {
                        self.cookies
                            .insert(name.trim().to_string(), value.trim().to_string());
                    }
                }
            }
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}
