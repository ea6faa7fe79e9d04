//! A table of requests and exactly what must come back (status, every
//! `access-control-*` header in order, the whole `vary`, whether the upstream
//! was reached), checked against a real Envoy.

use super::curl::{self, H2};
use super::envoy::Envoy;
use super::http::{send_raw, Request};
use super::upstream::Upstream;

/// One request and what must come back.
pub struct Case {
    pub name: &'static str,
    pub request: Request,
    pub host: &'static str,
    pub status: u16,
    /// Every `access-control-*` header of the response, exactly, in order.
    pub cors: Vec<(&'static str, String)>,
    /// The whole `vary` value (lines joined), or `None` for no `vary` at all.
    pub vary: Option<&'static str>,
    /// Whether the request must reach the upstream.
    pub upstream: bool,
    /// The filter's access-log entry (README "Access log"), if checked.
    pub logged: Option<&'static str>,
}

pub fn case(name: &'static str, request: Request, status: u16) -> Case {
    Case {
        name,
        request,
        host: "localhost",
        status,
        cors: Vec::new(),
        vary: None,
        upstream: true,
        logged: None,
    }
}

impl Case {
    pub fn cors(mut self, headers: &[(&'static str, &str)]) -> Case {
        self.cors = headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
        self
    }
    pub fn vary(mut self, vary: &'static str) -> Case {
        self.vary = Some(vary);
        self
    }
    pub fn local(mut self) -> Case {
        self.upstream = false;
        self
    }
    pub fn host(mut self, host: &'static str) -> Case {
        self.host = host;
        self
    }
    /// The entry the filter records for this request (`FILTER_STATE(wasm.cors)`).
    pub fn logged(mut self, entry: &'static str) -> Case {
        self.logged = Some(entry);
        self
    }
}

/// How a case's request reaches Envoy.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    /// The raw HTTP/1.1 client: exactly the bytes the case gives.
    Http1,
    /// HTTP/2 through curl, cleartext or TLS.
    Http2(H2<'a>),
}

impl Transport<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Transport::Http1 => "HTTP/1.1",
            Transport::Http2(H2::Cleartext) => "h2c",
            Transport::Http2(H2::Tls(_)) => "h2 over TLS",
        }
    }
}

/// The case over HTTP/1.1 on Envoy's first listener.
pub fn check(envoy: &Envoy, upstream: &Upstream, case: &Case) -> Result<(), String> {
    check_on(envoy.port(), upstream, case, Transport::Http1)
}

/// The case on the listener at `port`, over `transport`.
pub fn check_on(
    port: u16,
    upstream: &Upstream,
    case: &Case,
    transport: Transport,
) -> Result<(), String> {
    let before = upstream.count();
    let response = match transport {
        Transport::Http1 => send_raw(port, &case.request.to_bytes(case.host))?,
        Transport::Http2(via) => curl::send(&case.request, port, case.host, via)?,
    };
    let reached = upstream.count() > before;
    let mut problems = Vec::new();
    if response.status != case.status {
        problems.push(format!("status {} (want {})", response.status, case.status));
    }
    let cors = response.cors_headers();
    let want: Vec<(String, String)> = case
        .cors
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    if cors != want {
        problems.push(format!("CORS headers {cors:?} (want {want:?})"));
    }
    let vary = response.get("vary");
    if vary.as_deref() != case.vary {
        problems.push(format!("vary {vary:?} (want {:?})", case.vary));
    }
    if reached != case.upstream {
        problems.push(format!(
            "reached upstream: {reached} (want {})",
            case.upstream
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `check_on`, then the request's one line in `envoy`'s access log, written
/// by the listener `listener`: its method, path and status, the response code
/// details (`details`), and the case's entry.
pub fn check_logged(
    envoy: &Envoy,
    listener: &str,
    upstream: &Upstream,
    case: &Case,
    transport: Transport,
) -> Result<(), String> {
    let seen = envoy.access_log().len();
    let answered = check_on(envoy.listener_port(listener), upstream, case, transport);
    let Some(entry) = case.logged else {
        return answered;
    };
    let lines = envoy.access_log_after(seen, 1);
    let details = details(case.upstream, case.status, entry);
    let want = format!(
        "{listener}|{}|{}|{}|{details}|{entry}",
        case.request.method, case.request.path, case.status
    );
    let logged = match lines.as_slice() {
        [line] if *line == want => Ok(()),
        _ => Err(format!("access log {lines:?} (want [{want:?}])")),
    };
    match (answered, logged) {
        (Ok(()), logged) => logged,
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(l)) => Err(format!("{e}; {l}")),
    }
}

/// `%RESPONSE_CODE_DETAILS%` for a request the filter logged `entry`
/// for: `via_upstream` when the upstream answered; for the filter's own
/// reply, `cors_` and the entry's reason word (both forms alike).
fn details(upstream: bool, status: u16, entry: &str) -> String {
    if upstream {
        return "via_upstream".to_string();
    }
    if status == 204 {
        return "cors_preflight_allowed".to_string();
    }
    let reason = entry.split(' ').nth(1).unwrap_or("");
    let word = reason.split(':').next().unwrap_or("");
    format!("cors_{word}")
}
