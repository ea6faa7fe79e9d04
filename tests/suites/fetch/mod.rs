//! The browser's half of CORS, from the Fetch standard, as a test oracle: given
//! what a script asks `fetch()` for, it sends the requests a browser would send
//! to a server and returns what the script would see. It follows §4.8
//! (CORS-preflight fetch), §4.10 (CORS check) and the definitions they use
//! (CORS-safelisted methods, request headers with the 128-byte and 1,024-byte
//! rules, `*` and the `authorization` exception, exposed response headers).
//! The preflight cache (§4.9) is left out: every request here is a first one.
//! The browser suite checks the same rules against Chromium itself.
#![allow(dead_code)]

use crate::common::http::{Request, Response};

/// What a script passes to `fetch()`, from a page of `origin`.
#[derive(Debug, Clone)]
pub struct ScriptRequest {
    /// The page's serialized origin; `null` for sandboxed or `file:` pages.
    pub origin: String,
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// `credentials: 'include'`.
    pub credentials: bool,
}

/// Where a request was blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The preflight failed, so the request itself was never sent.
    Preflight,
    /// The request was sent (and ran), but the script cannot read the answer.
    Actual,
}

/// What the script sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `fetch` resolves: the status and every header name JS can read, sorted.
    Resolved { status: u16, readable: Vec<String> },
    /// `fetch` throws a TypeError; `reason` says which check failed.
    Blocked { at: Step, reason: String },
}

impl Verdict {
    /// Verdicts agree when the script sees the same thing; why a request is
    /// blocked (which header was missing) is invisible to it.
    pub fn same_as(&self, other: &Verdict) -> bool {
        match (self, other) {
            (Verdict::Blocked { at: a, .. }, Verdict::Blocked { at: b, .. }) => a == b,
            (a, b) => a == b,
        }
    }
}

/// One request sent and its response, for failure messages.
pub struct Exchange {
    pub request: String,
    pub response: Response,
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cors: Vec<String> = self
            .response
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        write!(
            f,
            "{} -> {} [{}]",
            self.request,
            self.response.status,
            cors.join("; ")
        )
    }
}

/// Runs `fetch()` as a browser would against the server on `port`.
pub fn fetch(port: u16, script: &ScriptRequest) -> (Verdict, Vec<Exchange>) {
    let method = normalize_method(&script.method);
    let headers = combine(&script.headers);
    let unsafe_names = cors_unsafe_request_header_names(&headers);
    let mut exchanges = Vec::new();

    if !is_safelisted_method(&method) || !unsafe_names.is_empty() {
        let mut preflight = Request::new("OPTIONS", &script.path)
            .header("origin", &script.origin)
            .header("access-control-request-method", &method)
            .header("accept", "*/*");
        if !unsafe_names.is_empty() {
            preflight = preflight.header("access-control-request-headers", &unsafe_names.join(","));
        }
        let response = preflight.send(port);
        let check = check_preflight(script, &method, &headers, &unsafe_names, &response);
        exchanges.push(Exchange {
            request: format!("OPTIONS (request-method {method}, request-headers {unsafe_names:?})"),
            response,
        });
        if let Err(reason) = check {
            return (
                Verdict::Blocked {
                    at: Step::Preflight,
                    reason,
                },
                exchanges,
            );
        }
    }

    let mut actual = Request::new(&method, &script.path).header("origin", &script.origin);
    for (name, value) in &headers {
        actual = actual.header(name, value);
    }
    if method != "GET" && method != "HEAD" {
        actual = actual.header("content-length", "0");
    }
    let response = actual.send(port);
    let verdict = match cors_check(script, &response) {
        Err(reason) => Verdict::Blocked {
            at: Step::Actual,
            reason,
        },
        Ok(()) => Verdict::Resolved {
            status: response.status,
            readable: readable_names(script, &response),
        },
    };
    exchanges.push(Exchange {
        request: format!("{method} {}", script.path),
        response,
    });
    (verdict, exchanges)
}

/// Fetch uppercases these methods only; `patch` stays `patch`.
fn normalize_method(method: &str) -> String {
    const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    NORMALIZED
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_string(), |m| m.to_string())
}

fn is_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// A `Headers` object: names lowercased, repeated names joined with ", ".
fn combine(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => out.push((name, value.clone())),
        }
    }
    out
}

/// "CORS-unsafe request-header byte".
fn is_unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b"\"():<>?@[\\]{}\x7f".contains(&b)
}

/// "CORS-safelisted request-header" (name lowercase).
fn is_safelisted_request_header(name: &str, value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() > 128 {
        return false;
    }
    match name {
        "accept" => !bytes.iter().any(|&b| is_unsafe_byte(b)),
        "accept-language" | "content-language" => bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)),
        "content-type" => {
            if bytes.iter().any(|&b| is_unsafe_byte(b)) {
                return false;
            }
            let essence = value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            matches!(
                essence.as_str(),
                "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
            )
        }
        "range" => is_simple_range(value),
        _ => false,
    }
}

/// `bytes=N-` or `bytes=N-M` (M ≥ N): the only ranges that need no preflight.
fn is_simple_range(value: &str) -> bool {
    let Some(spec) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((start, end)) = spec.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (digits(start), end.is_empty(), digits(end)) {
        (true, true, _) => true,
        (true, false, true) => start.parse::<u64>().ok() <= end.parse::<u64>().ok(),
        _ => false,
    }
}

/// "CORS-unsafe request-header names": sorted, lowercase, as the browser puts
/// them in `access-control-request-headers`.
fn cors_unsafe_request_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut unsafe_names = Vec::new();
    let mut potentially_unsafe = Vec::new();
    let mut safelist_value_size = 0;
    for (name, value) in headers {
        if is_safelisted_request_header(name, value) {
            potentially_unsafe.push(name.clone());
            safelist_value_size += value.len();
        } else {
            unsafe_names.push(name.clone());
        }
    }
    if safelist_value_size > 1024 {
        unsafe_names.extend(potentially_unsafe);
    }
    unsafe_names.sort();
    unsafe_names.dedup();
    unsafe_names
}

/// §4.10 CORS check: `access-control-allow-origin` (all lines joined, so two
/// values fail) and, with credentials, `access-control-allow-credentials: true`.
fn cors_check(script: &ScriptRequest, response: &Response) -> Result<(), String> {
    let Some(origin) = response.get("access-control-allow-origin") else {
        return Err("no access-control-allow-origin".to_string());
    };
    if !script.credentials && origin == "*" {
        return Ok(());
    }
    if origin != script.origin {
        return Err(format!(
            "access-control-allow-origin {origin:?} is not {:?}{}",
            script.origin,
            if origin == "*" {
                " (* with credentials)"
            } else {
                ""
            }
        ));
    }
    if !script.credentials {
        return Ok(());
    }
    match response.get("access-control-allow-credentials").as_deref() {
        Some("true") => Ok(()),
        other => Err(format!(
            "access-control-allow-credentials {other:?} is not \"true\""
        )),
    }
}

/// "Extracting header list values" for `#method` / `#field-name` lists; a
/// missing header is an empty list, a malformed one a failure.
fn header_list(response: &Response, name: &str) -> Result<Vec<String>, String> {
    let Some(value) = response.get(name) else {
        return Ok(Vec::new());
    };
    let mut items = Vec::new();
    for item in value.split(',').map(|s| s.trim_matches([' ', '\t'])) {
        if item.is_empty() {
            continue;
        }
        if !item.bytes().all(is_token_byte) {
            return Err(format!("{name} {value:?} is not a list of tokens"));
        }
        items.push(item.to_string());
    }
    Ok(items)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// §4.8 CORS-preflight fetch, steps after the response arrives.
fn check_preflight(
    script: &ScriptRequest,
    method: &str,
    headers: &[(String, String)],
    unsafe_names: &[String],
    response: &Response,
) -> Result<(), String> {
    cors_check(script, response).map_err(|e| format!("preflight: {e}"))?;
    if !(200..=299).contains(&response.status) {
        return Err(format!("preflight status {} is not ok", response.status));
    }
    let methods = header_list(response, "access-control-allow-methods")?;
    let header_names = header_list(response, "access-control-allow-headers")?;
    let star = |list: &[String]| list.iter().any(|m| m == "*");
    // Methods compare byte for byte; names case-insensitively.
    if !methods.iter().any(|m| m == method)
        && !is_safelisted_method(method)
        && (script.credentials || !star(&methods))
    {
        return Err(format!(
            "method {method} not in access-control-allow-methods {methods:?}"
        ));
    }
    let listed = |name: &str| header_names.iter().any(|h| h.eq_ignore_ascii_case(name));
    // `authorization` is a "CORS non-wildcard request-header name".
    if headers.iter().any(|(n, _)| n == "authorization") && !listed("authorization") {
        return Err(format!(
            "authorization not listed by name in access-control-allow-headers {header_names:?}"
        ));
    }
    for name in unsafe_names {
        if !listed(name) && (script.credentials || !star(&header_names)) {
            return Err(format!(
                "header {name} not in access-control-allow-headers {header_names:?}"
            ));
        }
    }
    Ok(())
}

/// "CORS-safelisted response-header names" plus the exposed ones (all of
/// them for `*` without credentials), never `set-cookie`.
fn readable_names(script: &ScriptRequest, response: &Response) -> Vec<String> {
    const SAFELISTED: [&str; 7] = [
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    ];
    let exposed = header_list(response, "access-control-expose-headers").unwrap_or_default();
    let all = !script.credentials && exposed.iter().any(|e| e == "*");
    let mut names: Vec<String> = response
        .headers
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n != "set-cookie" && n != "set-cookie2")
        // Only there because this client asks for `connection: close`.
        .filter(|n| n != "connection")
        .filter(|n| {
            all || SAFELISTED.contains(&n.as_str())
                || exposed.iter().any(|e| e.eq_ignore_ascii_case(n))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// Script headers and the names that need a preflight.
    type HeaderCase<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

    #[test]
    fn unsafe_header_names_follow_the_standard() {
        let (a128, a129) = ("a".repeat(128), "a".repeat(129));
        let cases: [HeaderCase; 11] = [
            (&[("accept", &a128)], &[]),
            (&[("accept", &a129)], &["accept"]),
            (&[("accept", "a(b")], &["accept"]),
            (&[("content-type", "text/plain;charset=utf-8")], &[]),
            (&[("content-type", "application/json")], &["content-type"]),
            (&[("accept-language", "en-US,en;q=0.9")], &[]),
            (&[("content-language", "de(x)")], &["content-language"]),
            (&[("range", "bytes=0-")], &[]),
            (&[("range", "bytes=5-1")], &["range"]),
            (&[("range", "bytes=0-1, 3-4")], &["range"]),
            (&[("X-B", "1"), ("x-a", "1")], &["x-a", "x-b"]),
        ];
        for (list, want) in cases {
            assert_eq!(
                cors_unsafe_request_header_names(&combine(&headers(list))),
                want,
                "{list:?}"
            );
        }
        // Over 1,024 bytes of safelisted values, all of them need a preflight.
        // (Five names of at most 128 bytes never get there through `Headers`,
        // which joins repeated names; the rule is checked on a raw list.)
        let value = "a".repeat(120);
        let nine: Vec<(&str, &str)> = vec![("accept", value.as_str()); 9];
        assert_eq!(
            cors_unsafe_request_header_names(&headers(&nine)),
            vec!["accept"]
        );
        let eight: Vec<(&str, &str)> = vec![("accept", value.as_str()); 8];
        assert!(cors_unsafe_request_header_names(&headers(&eight)).is_empty());
    }

    #[test]
    fn methods_are_normalized_as_fetch_does() {
        assert_eq!(normalize_method("put"), "PUT");
        assert_eq!(normalize_method("patch"), "patch");
        assert_eq!(normalize_method("Delete"), "DELETE");
    }
}
