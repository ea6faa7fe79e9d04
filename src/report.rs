//! Report mode's comparison: what the plugin would have answered, set against
//! what the CORS layer in place did answer (Envoy's native filter placed after
//! the plugin, Istio's `corsPolicy`, or the upstream's own headers), each
//! judged as a browser judges a response: would it let this origin, method
//! and these headers through, and with credentials?

use crate::config::Config;
use crate::decision::Decision;
use crate::policy::{Policy, Reason, Unmatched};
use crate::request::{Header, RequestHeaders};
use crate::response::{ALLOW_CREDENTIALS, ALLOW_HEADERS, ALLOW_METHODS, ALLOW_ORIGIN};
use crate::shown::shown;
use crate::token::is_safelisted_method;
use std::fmt;

/// What the request asked, as the comparison needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asked<'a> {
    pub origin: &'a [u8],
    /// A preflight's `access-control-request-method`; `None` for an actual request.
    pub method: Option<&'a [u8]>,
    /// A preflight's `access-control-request-headers`.
    pub headers: Option<&'a [u8]>,
}

/// What the other layer answered: the response's status and CORS headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answer<'a> {
    /// `:status`
    pub status: Option<&'a [u8]>,
    pub allow_origin: Option<&'a [u8]>,
    pub allow_credentials: Option<&'a [u8]>,
    pub allow_methods: Option<&'a [u8]>,
    pub allow_headers: Option<&'a [u8]>,
}

/// The response headers the comparison reads, as a glue collects them from
/// the host: copied (a host's views do not outlive its call), first line of
/// each name kept. Report mode only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerRead {
    /// Indexed like `AnswerRead::NAMES`.
    values: [Option<Vec<u8>>; 5],
}

impl AnswerRead {
    /// The names to read, lowercase as Envoy keeps them.
    pub const NAMES: [&'static str; 5] = [
        ":status",
        ALLOW_ORIGIN,
        ALLOW_CREDENTIALS,
        ALLOW_METHODS,
        ALLOW_HEADERS,
    ];

    /// Keeps `value` if `name` is one of `NAMES` not seen yet.
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        let slot = Self::NAMES
            .iter()
            .position(|n| n.as_bytes() == name)
            .and_then(|i| self.values.get_mut(i));
        if let Some(slot) = slot {
            slot.get_or_insert_with(|| value.to_vec());
        }
    }

    pub fn answer(&self) -> Answer<'_> {
        let [status, allow_origin, allow_credentials, allow_methods, allow_headers] = &self.values;
        Answer {
            status: status.as_deref(),
            allow_origin: allow_origin.as_deref(),
            allow_credentials: allow_credentials.as_deref(),
            allow_methods: allow_methods.as_deref(),
            allow_headers: allow_headers.as_deref(),
        }
    }
}

/// What comparing one response gives a glue: the comparison counters to
/// increment (indexes into `COMPARISON_METRICS`), and the debug line of a
/// disagreement when one was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    pub counters: [Option<usize>; 2],
    pub line: Option<String>,
}

/// The side that let a request through when the other did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Other,
    Plugin,
}

/// What a disagreement is about, in the order a browser checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    Origin,
    Method,
    Headers,
    /// Both let the request through, but only one with credentials.
    Credentials,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Agreed,
    Differs { allowed_by: Side, on: Difference },
}

/// The comparison counters, in the order `Verdict::counters` indexes them.
pub const COMPARISON_METRICS: [&str; 7] = [
    "cors.report.agreed",
    "cors.report.only_other_allowed",
    "cors.report.only_plugin_allowed",
    "cors.report.differs_origin",
    "cors.report.differs_method",
    "cors.report.differs_headers",
    "cors.report.differs_credentials",
];

impl Verdict {
    /// The comparison counters it increments, as indexes into
    /// `COMPARISON_METRICS`: `agreed`, or the side and what differs.
    pub fn counters(self) -> [Option<usize>; 2] {
        match self {
            Verdict::Agreed => [Some(0), None],
            Verdict::Differs { allowed_by, on } => {
                let side = match allowed_by {
                    Side::Other => 1,
                    Side::Plugin => 2,
                };
                let on = match on {
                    Difference::Origin => 3,
                    Difference::Method => 4,
                    Difference::Headers => 5,
                    Difference::Credentials => 6,
                };
                [Some(side), Some(on)]
            }
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Other => "the other layer",
            Side::Plugin => "the plugin",
        })
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Difference::Origin => "origin",
            Difference::Method => "method",
            Difference::Headers => "headers",
            Difference::Credentials => "credentials",
        })
    }
}

/// What one side's answer lets through, judged as a browser does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lets {
    origin: bool,
    method: bool,
    headers: bool,
    /// The request may also carry credentials.
    credentials: bool,
}

impl Lets {
    fn request(&self) -> bool {
        self.origin && self.method && self.headers
    }
}

/// The plugin's policy against the other layer's answer.
pub fn compare(policy: &Policy, asked: &Asked, other: &Answer) -> Verdict {
    let origin = policy.allows_origin(asked.origin);
    let plugin = Lets {
        origin,
        method: asked.method.is_none_or(|m| policy.allows_method(m)),
        headers: asked
            .headers
            .is_none_or(|list| policy.rejected_header(list).is_none()),
        credentials: origin && policy.credentials && !policy.allows_any_origin(),
    };
    let other = judge(asked, other);
    if plugin.request() != other.request() {
        let on = if plugin.origin != other.origin {
            Difference::Origin
        } else if plugin.method != other.method {
            Difference::Method
        } else {
            Difference::Headers
        };
        let allowed_by = if plugin.request() {
            Side::Plugin
        } else {
            Side::Other
        };
        return Verdict::Differs { allowed_by, on };
    }
    if plugin.request() && plugin.credentials != other.credentials {
        let allowed_by = if plugin.credentials {
            Side::Plugin
        } else {
            Side::Other
        };
        return Verdict::Differs {
            allowed_by,
            on: Difference::Credentials,
        };
    }
    Verdict::Agreed
}

/// Fetch's CORS check (and, for a preflight, its CORS-preflight fetch) of
/// the other layer's answer.
fn judge(asked: &Asked, answer: &Answer) -> Lets {
    let preflight = asked.method.is_some();
    let ok_status = answer
        .status
        .is_some_and(|s| s.len() == 3 && s.first() == Some(&b'2'));
    let allow_origin = answer.allow_origin.map(trim);
    let exact = allow_origin == Some(asked.origin);
    let origin = (ok_status || !preflight) && (exact || allow_origin == Some(b"*"));
    let credentials = origin && exact && answer.allow_credentials.map(trim) == Some(b"true");
    let method = asked.method.is_none_or(|method| {
        is_safelisted_method(method)
            || items(answer.allow_methods).any(|m| m == method || m == b"*")
    });
    let headers = asked.headers.is_none_or(|list| {
        items(Some(list)).all(|name| {
            items(answer.allow_headers).any(|allowed| {
                allowed.eq_ignore_ascii_case(name)
                    || (allowed == b"*" && !name.eq_ignore_ascii_case(b"authorization"))
            })
        })
    });
    Lets {
        origin,
        method,
        headers,
        credentials,
    }
}

/// The non-empty elements of a comma-separated list, trimmed.
fn items(list: Option<&[u8]>) -> impl Iterator<Item = &[u8]> {
    list.unwrap_or_default()
        .split(|&b| b == b',')
        .map(trim)
        .filter(|item| !item.is_empty())
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// A request decided by a policy in report mode, kept for its response: what
/// the comparison and its debug line need, copied (a host's views of the
/// request end with the request hook). Report mode is for the weeks of a
/// migration: this copy is its one allocation per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    rule: Option<usize>,
    origin: Vec<u8>,
    /// A preflight's `access-control-request-method` and `-headers`.
    preflight: Option<(Vec<u8>, Option<Vec<u8>>)>,
    method: Vec<u8>,
    path: Vec<u8>,
}

impl Pending {
    /// What to keep of a request whose policy reports; `None` when it
    /// enforces, where CORS is off, or without `Origin` (nothing to compare).
    pub fn of<'a>(decision: &Decision<'a>, headers: &impl RequestHeaders<'a>) -> Option<Pending> {
        if !decision.policy()?.reports() {
            return None;
        }
        let origin = headers.get(Header::Origin)?.to_vec();
        let preflight = match decision {
            Decision::Reply { .. } | Decision::Forward { .. } => Some((
                headers
                    .get(Header::RequestMethod)
                    .unwrap_or_default()
                    .to_vec(),
                headers.get(Header::RequestHeaders).map(<[u8]>::to_vec),
            )),
            _ => None,
        };
        Some(Pending {
            rule: decision.rule(),
            origin,
            preflight,
            method: headers.get(Header::Method).unwrap_or_default().to_vec(),
            path: headers.get(Header::Path).unwrap_or_default().to_vec(),
        })
    }

    fn asked(&self) -> Asked<'_> {
        Asked {
            origin: &self.origin,
            method: self.preflight.as_ref().map(|(m, _)| m.as_slice()),
            headers: self.preflight.as_ref().and_then(|(_, h)| h.as_deref()),
        }
    }

    /// The plugin's decision against the other layer's answer, and with
    /// `debug` the line of a disagreement (`None` if the policy is gone, which
    /// a configuration never allows).
    pub fn compare(&self, config: &Config, read: &AnswerRead, debug: bool) -> Option<Compared> {
        let policy = config.policy_at(self.rule)?;
        let (asked, other) = (self.asked(), read.answer());
        let verdict = compare(policy, &asked, &other);
        let line = debug
            .then(|| disagreement_line(verdict, policy, &asked, &self.method, &self.path, &other))
            .flatten();
        Some(Compared {
            counters: verdict.counters(),
            line,
        })
    }
}

/// What the plugin would have answered, in the words of the other side's.
fn plugin_answer(policy: &Policy, asked: &Asked) -> String {
    let verdict = match asked.method {
        Some(method) => policy.check_preflight(asked.origin, method, asked.headers),
        None if policy.allows_origin(asked.origin) => Ok(()),
        None => Err(Reason::Origin),
    };
    match verdict {
        Err(reason) if asked.method.is_some() => match policy.unmatched {
            Unmatched::Reject => format!("status \"403\" ({reason})"),
            Unmatched::Forward => format!("by forwarding the preflight ({reason})"),
        },
        Err(reason) => format!("without access-control-allow-origin ({reason})"),
        Ok(()) => {
            let mut answer = String::new();
            if asked.method.is_some() {
                answer.push_str("status \"204\", ");
            }
            let origin = if policy.allows_any_origin() {
                "\"*\"".to_string()
            } else {
                shown(asked.origin)
            };
            answer.push_str(&format!("access-control-allow-origin: {origin}"));
            if policy.credentials {
                answer.push_str(", access-control-allow-credentials: \"true\"");
            }
            if asked.method.is_some() {
                answer.push_str(&format!(
                    ", access-control-allow-methods: {:?}",
                    policy.allow_methods
                ));
                if let Some(headers) = &policy.allow_headers {
                    answer.push_str(&format!(", access-control-allow-headers: {headers:?}"));
                }
            }
            answer
        }
    }
}

/// The debug line of a disagreement: the request, who let it through, what
/// the plugin would have answered and what the other layer did answer
/// (values from the request cut short).
pub fn disagreement_line(
    verdict: Verdict,
    policy: &Policy,
    asked: &Asked,
    method: &[u8],
    path: &[u8],
    other: &Answer,
) -> Option<String> {
    let Verdict::Differs { allowed_by, on } = verdict else {
        return None;
    };
    let request = match asked.method {
        Some(requested) => format!("preflight of {} {}", shown(requested), shown(path)),
        None => format!("{} {}", shown(method), shown(path)),
    };
    let mut answered = format!(
        "status {}",
        other.status.map_or_else(|| "none".to_string(), shown)
    );
    for (name, value) in [
        ("access-control-allow-origin", other.allow_origin),
        ("access-control-allow-credentials", other.allow_credentials),
        ("access-control-allow-methods", other.allow_methods),
        ("access-control-allow-headers", other.allow_headers),
    ] {
        if let Some(value) = value {
            answered.push_str(&format!(", {name}: {}", shown(value)));
        }
    }
    let headers = asked
        .headers
        .map(|list| format!(", headers {}", shown(list)))
        .unwrap_or_default();
    Some(format!(
        "report: {request} from {}{headers}: allowed only by {allowed_by} (differs on {on}); the plugin would answer {}; the other layer answered {answered}",
        shown(asked.origin),
        plugin_answer(policy, asked),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const POLICY: &str = r#"{"allow_origins": ["https://app.example"], "allow_methods": ["PUT"],
        "allow_headers": ["x-a"], "allow_credentials": true, "mode": "report"}"#;

    fn answer<'a>(status: &'a str, headers: &[(&str, &'a str)]) -> Answer<'a> {
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes())
        };
        Answer {
            status: Some(status.as_bytes()),
            allow_origin: get("acao"),
            allow_credentials: get("acac"),
            allow_methods: get("acam"),
            allow_headers: get("acah"),
        }
    }

    fn differs(allowed_by: Side, on: Difference) -> Verdict {
        Verdict::Differs { allowed_by, on }
    }

    #[test]
    #[rustfmt::skip]
    fn each_kind_of_agreement_and_disagreement() {
        let config = Config::parse(POLICY.as_bytes()).unwrap();
        assert!(config.default.reports());
        let app = b"https://app.example".as_slice();
        let evil = b"https://evil.example".as_slice();
        let pf = |origin, method: &'static str, headers: Option<&'static str>| Asked {
            origin, method: Some(method.as_bytes()), headers: headers.map(str::as_bytes),
        };
        let actual = |origin| Asked { origin, method: None, headers: None };
        let full = [("acao", "https://app.example"), ("acac", "true"), ("acam", "PUT"), ("acah", "x-a")];
        // (what was asked, what the other layer answered, the verdict)
        let cases: Vec<(Asked, Answer, Verdict)> = vec![
            (pf(app, "PUT", Some("x-a")), answer("200", &full), Verdict::Agreed),
            (pf(app, "PUT", Some("X-A")), answer("204", &full), Verdict::Agreed),
            (pf(evil, "PUT", None), answer("403", &[]), Verdict::Agreed),
            (pf(app, "PUT", None), answer("403", &[]), differs(Side::Plugin, Difference::Origin)),
            (pf(app, "PUT", None), answer("500", &full), differs(Side::Plugin, Difference::Origin)),
            (pf(evil, "PUT", None), answer("200", &[("acao", "*"), ("acam", "*")]), differs(Side::Other, Difference::Origin)),
            (pf(app, "PUT", None), answer("200", &[("acao", "https://app.example"), ("acac", "true")]), differs(Side::Plugin, Difference::Method)),
            (pf(app, "DELETE", None), answer("200", &[("acao", "https://app.example"), ("acac", "true"), ("acam", "PUT, DELETE")]), differs(Side::Other, Difference::Method)),
            (pf(app, "GET", None), answer("200", &[("acao", "https://app.example"), ("acac", "true")]), Verdict::Agreed),
            (pf(app, "PUT", Some("x-a,x-b")), answer("200", &[("acao", "https://app.example"), ("acac", "true"), ("acam", "PUT"), ("acah", "x-a, x-b")]), differs(Side::Other, Difference::Headers)),
            (pf(app, "PUT", Some("x-a")), answer("200", &[("acao", "https://app.example"), ("acac", "true"), ("acam", "PUT")]), differs(Side::Plugin, Difference::Headers)),
            (pf(app, "PUT", Some("authorization")), answer("200", &[("acao", "https://app.example"), ("acam", "PUT"), ("acah", "*")]), Verdict::Agreed),
            (pf(app, "PUT", Some("x-a")), answer("200", &[("acao", "https://app.example"), ("acam", "PUT"), ("acah", "x-a")]), differs(Side::Plugin, Difference::Credentials)),
            (pf(app, "PUT", Some("x-a")), answer("200", &[("acao", "*"), ("acac", "true"), ("acam", "PUT"), ("acah", "x-a")]), differs(Side::Plugin, Difference::Credentials)),
            (actual(app), answer("200", &full), Verdict::Agreed),
            (actual(app), answer("404", &full), Verdict::Agreed),
            (actual(app), answer("200", &[]), differs(Side::Plugin, Difference::Origin)),
            (actual(evil), answer("200", &[("acao", "https://evil.example")]), differs(Side::Other, Difference::Origin)),
            (actual(evil), answer("200", &[("acao", "https://app.example")]), Verdict::Agreed),
            (actual(app), answer("200", &[("acao", "https://app.example")]), differs(Side::Plugin, Difference::Credentials)),
        ];
        for (i, (asked, other, want)) in cases.iter().enumerate() {
            assert_eq!(compare(&config.default, asked, other), *want, "case {i}: {asked:?} {other:?}");
        }
    }

    #[test]
    fn answers_read_keep_the_first_line_of_the_names_compared() {
        let mut read = AnswerRead::default();
        for (name, value) in [
            (":status", "204"),
            ("access-control-allow-origin", "https://a.example"),
            ("access-control-allow-origin", "https://b.example"),
            ("access-control-allow-methods", "PUT"),
            ("x-other", "x"),
        ] {
            read.set(name.as_bytes(), value.as_bytes());
        }
        assert_eq!(
            read.answer(),
            Answer {
                status: Some(b"204"),
                allow_origin: Some(b"https://a.example"),
                allow_credentials: None,
                allow_methods: Some(b"PUT"),
                allow_headers: None,
            }
        );
    }

    #[test]
    fn counters_and_lines() {
        assert_eq!(Verdict::Agreed.counters(), [Some(0), None]);
        let v = differs(Side::Other, Difference::Headers);
        let names: Vec<&str> = v
            .counters()
            .iter()
            .flatten()
            .map(|&i| COMPARISON_METRICS[i])
            .collect();
        assert_eq!(
            names,
            [
                "cors.report.only_other_allowed",
                "cors.report.differs_headers"
            ]
        );
        let asked = Asked {
            origin: b"https://app.example",
            method: Some(b"PUT"),
            headers: Some(b"x-b"),
        };
        let other = answer("200", &[("acao", "*"), ("acah", "x-b")]);
        let config = Config::parse(POLICY.as_bytes()).unwrap();
        let policy = &config.default;
        assert_eq!(
            disagreement_line(v, policy, &asked, b"OPTIONS", b"/api", &other).unwrap(),
            "report: preflight of \"PUT\" \"/api\" from \"https://app.example\", headers \"x-b\": \
             allowed only by the other layer (differs on headers); the plugin would answer status \"403\" \
             (request header not allowed); the other layer answered status \"200\", \
             access-control-allow-origin: \"*\", access-control-allow-headers: \"x-b\""
        );
        let agreed = disagreement_line(Verdict::Agreed, policy, &asked, b"OPTIONS", b"/", &other);
        assert_eq!(agreed, None);
        let asked = Asked {
            headers: Some(b"x-a"),
            ..asked
        };
        let v = differs(Side::Plugin, Difference::Origin);
        assert_eq!(
            disagreement_line(v, policy, &asked, b"OPTIONS", b"/api", &answer("403", &[])).unwrap(),
            "report: preflight of \"PUT\" \"/api\" from \"https://app.example\", headers \"x-a\": \
             allowed only by the plugin (differs on origin); the plugin would answer status \"204\", \
             access-control-allow-origin: \"https://app.example\", access-control-allow-credentials: \"true\", \
             access-control-allow-methods: \"PUT\", access-control-allow-headers: \"x-a\"; \
             the other layer answered status \"403\""
        );
    }
}
