//! A raw HTTP/1.1 client: it sends exactly the bytes a test gives (several
//! Origin lines, non-UTF-8 values, any case) and parses what comes back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The values of every line of this header.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The header's value; several lines are joined with ", " (RFC 9110 §5.3).
    pub fn get(&self, name: &str) -> Option<String> {
        let values = self.all(name);
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Every `access-control-*` header, for "none of them" assertions.
    pub fn cors_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with("access-control-"))
            .cloned()
            .collect()
    }
}

/// A request to build: method, path, and header lines as given.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
        }
    }

    pub fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    /// A preflight: OPTIONS with Origin and Access-Control-Request-Method.
    pub fn preflight(path: &str, origin: &str, method: &str) -> Request {
        Request::new("OPTIONS", path)
            .header("origin", origin)
            .header("access-control-request-method", method)
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_string(), value.as_bytes().to_vec()));
        self
    }

    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Request {
        self.headers.push((name.to_string(), value.to_vec()));
        self
    }

    /// The request on a connection that closes after it.
    pub fn to_bytes(&self, host: &str) -> Vec<u8> {
        let mut out = self.to_keep_alive_bytes(host);
        out.truncate(out.len() - 2);
        out.extend_from_slice(b"connection: close\r\n\r\n");
        out
    }

    /// The request on a connection that stays open for the next one.
    pub fn to_keep_alive_bytes(&self, host: &str) -> Vec<u8> {
        let mut out =
            format!("{} {} HTTP/1.1\r\nhost: {host}\r\n", self.method, self.path).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    pub fn send(&self, port: u16) -> Response {
        self.send_as(port, "localhost")
    }

    /// Sends with this `host` (the `:authority` rules match on).
    pub fn send_as(&self, port: u16, host: &str) -> Response {
        send_raw(port, &self.to_bytes(host))
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.method, self.path))
    }
}

/// Sends raw bytes on a new connection and reads one response by its framing
/// (not until close: Envoy waits up to a second for the client to close first).
pub fn send_raw(port: u16, bytes: &[u8]) -> Result<Response, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(15))).ok();
    stream.set_write_timeout(Some(Duration::from_secs(15))).ok();
    stream.write_all(bytes).map_err(|e| format!("write: {e}"))?;
    let data = read_framed(&mut stream, bytes.starts_with(b"HEAD "))?;
    parse_response(&data)
}

pub fn parse_response(data: &[u8]) -> Result<Response, String> {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| {
            format!(
                "no complete response in {} bytes: {:?}",
                data.len(),
                String::from_utf8_lossy(data)
            )
        })?;
    let head = String::from_utf8_lossy(&data[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let raw = &data[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Decodes a chunked body (Envoy's admin API answers this way).
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("bad chunk size {size_text:?}: {e}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = raw.get(..size).ok_or("truncated chunk")?;
        body.extend_from_slice(chunk);
        raw = raw.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

/// Reads one HTTP/1.1 response: its head, then a `content-length` body, a
/// chunked body, or none (HEAD, 1xx, 204, 304); without framing, until close.
pub fn read_framed(stream: &mut impl Read, head_request: bool) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let status = head.split_whitespace().nth(1).unwrap_or("");
            let no_body =
                head_request || status.starts_with('1') || status == "204" || status == "304";
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let chunked = head
                .lines()
                .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
            let body = &data[end + 4..];
            let complete = if no_body {
                true
            } else if let Some(length) = length {
                body.len() >= length
            } else if chunked {
                body.ends_with(b"0\r\n\r\n")
            } else {
                false
            };
            if complete {
                return Ok(data);
            }
        }
        let n = stream.read(&mut buffer).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Ok(data);
        }
        data.extend_from_slice(&buffer[..n]);
    }
}
