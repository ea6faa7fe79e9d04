//! The platforms' own cases, imported and checked: Gateway API's HTTPRouteCORS
//! and CORSAllowCredentialsBehavior conformance cases, and the answers Envoy
//! Gateway's and Istio's documentation show for their examples. Each request
//! goes to this filter configured with what `cors-check import` wrote for the
//! fixture: through the core's `explain` (native), and through a real Envoy
//! in the form under test (CORS_FORM). Where this filter answers otherwise,
//! the case names the line of import's difference list that says so.

use super::{expected, run};
use crate::common;

use common::envoy::{self, Envoy};
use common::http::Request;
use common::upstream::Upstream;
use cors_core::explain::{self, Action};
use cors_core::Config;

/// What the source platform's case expects: the statuses it accepts, for each
/// header the values it accepts (compared without whitespace, as the
/// conformance suite does), and the headers that must be absent.
struct Expect {
    statuses: &'static [u16],
    headers: &'static [(&'static str, &'static [&'static str])],
    absent: &'static [&'static str],
}

struct Case {
    fixture: &'static str,
    name: &'static str,
    host: &'static str,
    path: &'static str,
    method: &'static str,
    origin: &'static str,
    /// The preflight's access-control-request-headers; for an actual
    /// request, headers sent as they are (cookies, authorization).
    headers: Vec<(&'static str, &'static str)>,
    preflight: bool,
    expect: Expect,
    /// Where this filter answers otherwise: a part of the difference line
    /// import writes for the fixture, which must be there.
    listed: Option<&'static str>,
}

const ANY_OK: &[u16] = &[200, 204];
const CONFORMANCE: &str = "gateway-api-conformance.yaml";
const X12: &[&str] = &["x-header-1,x-header-2", "x-header-2,x-header-1"];
const X34: &[&str] = &["x-header-3,x-header-4", "x-header-4,x-header-3"];

fn preflight(
    fixture: &'static str,
    name: &'static str,
    path: &'static str,
    origin: &'static str,
    method: &'static str,
    request_headers: &'static str,
    expect: Expect,
) -> Case {
    let headers = if request_headers.is_empty() {
        Vec::new()
    } else {
        vec![("access-control-request-headers", request_headers)]
    };
    Case {
        fixture,
        name,
        host: "www.example.com",
        path,
        method,
        origin,
        headers,
        preflight: true,
        expect,
        listed: None,
    }
}

fn actual(
    fixture: &'static str,
    name: &'static str,
    path: &'static str,
    origin: &'static str,
    method: &'static str,
    headers: &[(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        fixture,
        name,
        host: "www.example.com",
        path,
        method,
        origin,
        headers: headers.to_vec(),
        preflight: false,
        expect,
        listed: None,
    }
}

/// Gateway API's HTTPRouteCORS conformance cases, one for one, and the Envoy
/// Gateway and Istio documentation's.
fn cases() -> Vec<Case> {
    let cookie = &[("cookie", "foo=bar")];
    // The same answer from each allowed origin, naming it; kept for the test's
    // life, as the constant expectations are.
    let cors_1_allowed = |origin: &'static str| {
        let allow_origin: &'static [&'static str] = Box::leak(Box::new([origin]));
        let headers: [(&'static str, &'static [&'static str]); 6] = [
            ("access-control-allow-origin", allow_origin),
            (
                "access-control-allow-methods",
                &["GET,OPTIONS", "OPTIONS,GET"],
            ),
            ("access-control-allow-headers", X12),
            ("access-control-expose-headers", X34),
            ("access-control-max-age", &["3600"]),
            ("access-control-allow-credentials", &["true"]),
        ];
        Expect {
            statuses: ANY_OK,
            headers: Box::leak(Box::new(headers)),
            absent: &[],
        }
    };
    let acrm_acrh = &[
        ("access-control-request-method", "GET"),
        ("access-control-request-headers", "x-header-1, x-header-2"),
    ];
    let c = CONFORMANCE;
    vec![
        preflight(c, "preflight from an exact matching origin", "/cors-1", "https://www.foo.com", "GET", "x-header-1, x-header-2", cors_1_allowed("https://www.foo.com")),
        preflight(c, "preflight from a wildcard matching origin", "/cors-1", "https://www.bar.com", "GET", "x-header-1, x-header-2", cors_1_allowed("https://www.bar.com")),
        preflight(c, "preflight from a wildcard matching origin, any number of labels", "/cors-1", "https://xpto.www.bar.com", "GET", "x-header-1, x-header-2", cors_1_allowed("https://xpto.www.bar.com")),
        preflight(c, "preflight from a non-matching origin", "/cors-1", "https://foobar.com", "GET", "", Expect { statuses: &[200, 204, 403], headers: &[], absent: &["access-control-allow-origin"] }),
        actual(c, "simple request from an exact matching origin", "/cors-1", "https://www.foo.com", "GET", acrm_acrh, Expect { statuses: &[200], headers: &[("access-control-allow-origin", &["https://www.foo.com"])], absent: &[] }),
        actual(c, "simple request from a wildcard matching origin", "/cors-1", "https://www.bar.com", "GET", acrm_acrh, Expect { statuses: &[200], headers: &[("access-control-allow-origin", &["https://www.bar.com"])], absent: &[] }),
        actual(c, "simple request from a non-matching origin", "/cors-1", "https://foobar.com", "GET", &[("access-control-request-method", "GET")], Expect { statuses: &[200], headers: &[], absent: &["access-control-allow-origin"] }),
        preflight(c, "preflight for POST allowed by allowMethods *, without credentials", "/cors-2", "https://www.foo.com", "POST", "", Expect { statuses: ANY_OK, headers: &[("access-control-allow-methods", &["POST", "*"]), ("access-control-allow-origin", &["https://www.foo.com"])], absent: &["access-control-allow-credentials"] }),
        preflight(c, "preflight from a wildcard origin: * or the origin", "/cors-wildcard-origin", "https://foobar.com", "PUT", "", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["https://foobar.com", "*"]), ("access-control-allow-methods", &["PUT"])], absent: &["access-control-allow-credentials"] }),
        preflight(c, "preflight from a wildcard origin with a port", "/cors-wildcard-origin", "https://foobar.com:12345", "PUT", "", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["https://foobar.com:12345", "*"]), ("access-control-allow-methods", &["PUT"])], absent: &["access-control-allow-credentials"] }),
        actual(c, "request from a wildcard origin with a port", "/cors-wildcard-origin", "https://foobar.com:12345", "PUT", &[], Expect { statuses: &[200], headers: &[("access-control-allow-origin", &["https://foobar.com:12345", "*"])], absent: &[] }),
        actual(c, "simple request from a wildcard origin", "/cors-wildcard-origin", "https://foobar.com", "PUT", &[], Expect { statuses: &[200], headers: &[("access-control-allow-origin", &["https://foobar.com", "*"])], absent: &["access-control-allow-credentials"] }),
        preflight(c, "credentialed preflight, methods and headers *: the origin echoed", "/cors-wildcard-methods-headers", "https://other.foo.com", "PUT", "x-header-1, x-header-2", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["https://other.foo.com"]), ("access-control-allow-methods", &["PUT"]), ("access-control-allow-headers", X12), ("access-control-allow-credentials", &["true"])], absent: &[] }),
        preflight(c, "preflight on the path without credentials", "/cors-wildcard-methods-headers-unauth", "https://other.foo.com", "PUT", "x-header-1, x-header-2", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["https://other.foo.com", "*"]), ("access-control-allow-methods", &["PUT", "*"]), ("access-control-allow-headers", &["x-header-1,x-header-2", "x-header-2,x-header-1", "*"])], absent: &["access-control-allow-credentials"] }),
        actual(c, "request with a cookie: the origin echoed with credentials", "/cors-wildcard-methods-headers", "https://other.foo.com", "GET", cookie, Expect { statuses: &[200], headers: &[("access-control-allow-origin", &["https://other.foo.com"]), ("access-control-allow-credentials", &["true"])], absent: &[] }),
        actual(c, "request with a cookie on the path without credentials", "/cors-wildcard-methods-headers-unauth", "https://other.foo.com", "GET", cookie, Expect { statuses: &[200], headers: &[("access-control-allow-origin", &["https://other.foo.com"])], absent: &["access-control-allow-credentials"] }),
        // Envoy Gateway's CORS task, both forms: the answer it shows for
        // http://www.foo.com (but for access-control-max-age: 86400, which
        // its translator sets only from maxAge, absent here), and no CORS
        // headers for http://www.bar.com and http://www.foo.com:8080.
        preflight("envoy-gateway-docs.yaml", "Envoy Gateway's task: http://www.foo.com allowed", "/", "http://www.foo.com", "GET", "", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["http://www.foo.com"]), ("access-control-allow-methods", &["GET,POST"]), ("access-control-allow-headers", &["x-header-1,x-header-2"]), ("access-control-expose-headers", &["x-header-3,x-header-4"])], absent: &["access-control-allow-credentials"] }),
        preflight("envoy-gateway-docs.yaml", "Envoy Gateway's task: http://www.bar.com gets no CORS headers", "/", "http://www.bar.com", "GET", "", Expect { statuses: &[200], headers: &[], absent: &["access-control-allow-origin", "access-control-allow-methods"] }).listed("Envoy Gateway answers the preflights of origins not allowed itself, 200 without CORS headers"),
        preflight("envoy-gateway-docs.yaml", "Envoy Gateway's task: the port 8080 is not allowed", "/", "http://www.foo.com:8080", "GET", "", Expect { statuses: &[200], headers: &[], absent: &["access-control-allow-origin", "access-control-allow-methods"] }).listed("Envoy Gateway answers the preflights of origins not allowed itself, 200 without CORS headers"),
        preflight("envoy-gateway-docs-httpcorsfilter.yaml", "Envoy Gateway's task, HTTPCORSFilter: http://www.foo.com allowed", "/", "http://www.foo.com", "GET", "", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["http://www.foo.com"]), ("access-control-allow-methods", &["GET,POST"]), ("access-control-allow-headers", &["x-header-1,x-header-2"]), ("access-control-expose-headers", &["x-header-3,x-header-4"])], absent: &["access-control-allow-credentials"] }),
        preflight("envoy-gateway-docs-httpcorsfilter.yaml", "Envoy Gateway's task, HTTPCORSFilter: http://www.bar.com gets no CORS headers", "/", "http://www.bar.com", "GET", "", Expect { statuses: &[200], headers: &[], absent: &["access-control-allow-origin"] }).listed("Gateway API (its implementation) answers a refused preflight as it chooses"),
        // Istio's VirtualService example: Envoy's filter answers it with the
        // policy's lists as written (header names case-insensitive).
        preflight("istio-docs.yaml", "Istio's example: https://example.com allowed", "/ratings", "https://example.com", "POST", "x-foo-bar", Expect { statuses: ANY_OK, headers: &[("access-control-allow-origin", &["https://example.com"]), ("access-control-allow-methods", &["POST,GET"]), ("access-control-allow-headers", &["x-foo-bar"]), ("access-control-max-age", &["86400"])], absent: &["access-control-allow-credentials"] }).on("ratings.prod.svc.cluster.local"),
        preflight("istio-docs.yaml", "Istio's example: another origin", "/ratings", "https://evil.example", "POST", "", Expect { statuses: &[200], headers: &[], absent: &["access-control-allow-origin"] }).on("ratings.prod.svc.cluster.local").listed("Istio forwards the preflights of origins not allowed to the upstream (unmatchedPreflights defaults to FORWARD)"),
    ]
}

impl Case {
    fn listed(mut self, part: &'static str) -> Case {
        self.listed = Some(part);
        self
    }
    fn on(mut self, host: &'static str) -> Case {
        self.host = host;
        self
    }
}

/// The fixtures the cases use, each imported once.
const FIXTURES: [&str; 4] = [
    CONFORMANCE,
    "envoy-gateway-docs.yaml",
    "envoy-gateway-docs-httpcorsfilter.yaml",
    "istio-docs.yaml",
];

fn imported(fixture: &str) -> (String, String) {
    let (code, config, differences) = run(&["import", fixture]);
    assert_eq!(code, 0, "{fixture}: {differences}");
    (config, differences)
}

/// Status and CORS headers, against the case's expectation.
fn check(case: &Case, status: u16, headers: &[(String, String)]) -> Result<(), String> {
    let squeeze = |v: &str| {
        v.split_whitespace()
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let mut problems = Vec::new();
    if !case.expect.statuses.contains(&status) {
        problems.push(format!(
            "status {status}, expected one of {:?}",
            case.expect.statuses
        ));
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    for (name, accepted) in case.expect.headers {
        match get(name) {
            Some(v) if accepted.iter().any(|a| squeeze(a) == squeeze(v)) => {}
            got => problems.push(format!("{name}: {got:?}, expected one of {accepted:?}")),
        }
    }
    for name in case.expect.absent {
        if let Some(v) = get(name) {
            problems.push(format!("{name}: {v:?}, expected absent"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What the case expects, or the listed difference where this filter answers
/// otherwise: never both, never neither.
fn judge(case: &Case, answer: Result<(), String>, differences: &str) -> Result<(), String> {
    match (answer, case.listed) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(part)) => Err(format!(
            "the platform's answer, where the listed difference {part:?} was expected"
        )),
        (Err(e), None) => Err(format!("{e}, and no difference listed")),
        (Err(_), Some(part))
            if differences
                .lines()
                .any(|l| l.starts_with("difference: ") && l.contains(part)) =>
        {
            Ok(())
        }
        (Err(e), Some(part)) => Err(format!("{e}, and import did not list {part:?}")),
    }
}

fn explained(config: &Config, case: &Case) -> (u16, Vec<(String, String)>) {
    let request = explain::Request {
        origin: Some(case.origin.to_string()),
        method: case.method.to_string(),
        headers: case
            .headers
            .iter()
            .filter(|(n, _)| case.preflight && *n == "access-control-request-headers")
            .flat_map(|(_, v)| v.split(',').map(|h| h.trim().to_string()))
            .collect(),
        host: case.host.to_string(),
        path: case.path.to_string(),
        preflight: case.preflight,
        private_network: false,
    };
    let said = explain::explain(config, &request).unwrap();
    let own =
        |h: &[(&'static str, String)]| h.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    match &said.action {
        Action::Reply { status, headers } => (*status, own(headers)),
        // The upstream answers 200 with no CORS headers of its own.
        Action::Upstream { set, .. } => (200, own(set)),
        Action::Untouched | Action::Forwarded => (200, Vec::new()),
    }
}

/// Every case through the core's `explain`, with the imported configuration.
#[test]
fn platform_cases_answered_by_the_imported_configuration() {
    let cases = cases();
    let mut failures = Vec::new();
    for fixture in FIXTURES {
        let (text, differences) = imported(fixture);
        let config =
            Config::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{fixture}: {:?}", e.0));
        for case in cases.iter().filter(|c| c.fixture == fixture) {
            let (status, headers) = explained(&config, case);
            if let Err(e) = judge(case, check(case, status, &headers), &differences) {
                failures.push(format!(
                    "{fixture}: {}: {e}\n    got {status} {headers:?}",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(cases.len(), 23);
    assert_eq!(
        cases.iter().filter(|c| c.fixture == CONFORMANCE).count(),
        16
    );
}

/// The same cases sent to a real Envoy running this filter (CORS_FORM) with
/// each imported configuration on its own listener.
#[test]
fn platform_cases_answered_by_envoy_with_the_imported_configuration() {
    let upstream = Upstream::start();
    let mut listeners = Vec::new();
    let mut listed = Vec::new();
    for (i, fixture) in FIXTURES.iter().enumerate() {
        let (config, differences) = imported(fixture);
        listed.push(differences);
        listeners.push(envoy::listener(
            &format!("imported-{i}"),
            vec![envoy::cors_filter(&config), envoy::router()],
            envoy::route_to("upstream"),
        ));
    }
    let envoy = Envoy::start(&envoy::bootstrap(
        listeners,
        vec![envoy::cluster("upstream", upstream.port)],
    ))
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let mut failures = Vec::new();
    for case in cases() {
        let i = FIXTURES.iter().position(|f| *f == case.fixture).unwrap();
        let mut request = if case.preflight {
            Request::preflight(case.path, case.origin, case.method)
        } else {
            Request::new(case.method, case.path).header("origin", case.origin)
        };
        for (name, value) in &case.headers {
            request = request.header(name, value);
        }
        let response = request.send_as(envoy.listener_port(&format!("imported-{i}")), case.host);
        let headers = response.cors_headers();
        if let Err(e) = judge(&case, check(&case, response.status, &headers), &listed[i]) {
            failures.push(format!(
                "{}: {}: {e}\n    got {} {headers:?}",
                case.fixture, case.name, response.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// CORSAllowCredentialsBehavior: filters without allowOrigins, which the
/// conformance suite expects to answer https://app.example (echoed, with
/// credentials on one path). Import carries no origin over: it leaves the
/// choice to the user, writes nothing, and audit calls it a danger.
#[test]
fn conformance_without_origins_is_a_choice_and_a_danger() {
    let fixture = "gateway-api-conformance-credentials.yaml";
    let (code, out, err) = run(&["import", fixture]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        expected("gateway-api-conformance-credentials.import.txt")
    );
    for rule in [0, 1] {
        assert!(err.contains(&format!("choose: {fixture}: spec.rules[{rule}].filters[0].cors: no origin of this policy can be carried over (it lists none)")), "{err}");
    }
    let (code, out, _) = run(&["audit", fixture]);
    assert_eq!(code, 1);
    assert!(out.starts_with(&format!("danger: {fixture}: spec.rules[1].filters[0].cors.allowCredentials: allowCredentials: true without allowOrigins")), "{out}");
    assert!(
        out.ends_with("1 danger, 0 warnings in 2 policies\n"),
        "{out}"
    );
}
