//! HTTP/2 requests through curl: cleartext with prior knowledge (h2c), or TLS
//! with ALPN, where the raw client in `http.rs` speaks HTTP/1.1 only. The
//! answer is parsed like an HTTP/1.1 one, so the same checks apply.

use super::http::{parse_response, Request, Response};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::process::Command;

/// How the request reaches Envoy over HTTP/2.
#[derive(Debug, Clone, Copy)]
pub enum H2<'a> {
    /// Cleartext, prior knowledge (Envoy's `AUTO` codec sees the preface).
    Cleartext,
    /// TLS, verified against this CA certificate; h2 chosen by ALPN.
    Tls(&'a Path),
}

/// Sends `request` with `:authority` `host` over HTTP/2; fails unless curl
/// really spoke HTTP/2.
pub fn send(request: &Request, port: u16, host: &str, via: H2) -> Result<Response, String> {
    let mut curl = Command::new("curl");
    curl.args(["-sS", "--max-time", "15", "-o", "/dev/null", "-D", "-"]);
    curl.args(["-w", "%{http_version}"]);
    let url = match via {
        H2::Cleartext => {
            curl.arg("--http2-prior-knowledge");
            format!("http://localhost:{port}{}", request.path)
        }
        H2::Tls(ca) => {
            curl.arg("--http2").arg("--cacert").arg(ca);
            format!("https://localhost:{port}{}", request.path)
        }
    };
    if request.method == "HEAD" {
        curl.arg("--head");
    } else {
        curl.args(["-X", &request.method]);
    }
    // curl turns a host header into :authority.
    curl.args(["-H", &format!("host: {host}")]);
    for (name, value) in &request.headers {
        // `name;` is curl's way to send an empty value (`name:` removes the header).
        let mut line = name.as_bytes().to_vec();
        if value.is_empty() {
            line.push(b';');
        } else {
            line.extend_from_slice(b": ");
            line.extend_from_slice(value);
        }
        curl.arg("-H").arg(OsString::from_vec(line));
    }
    let out = curl.arg(&url).output().map_err(|e| format!("curl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "curl {url}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = &out.stdout;
    let end = text
        .windows(4)
        .rposition(|w| w == b"\r\n\r\n")
        .ok_or("curl printed no response head")?;
    let version = String::from_utf8_lossy(&text[end + 4..]);
    if version != "2" {
        return Err(format!("curl spoke HTTP/{version}, not HTTP/2"));
    }
    parse_response(&text[..end + 4])
}
