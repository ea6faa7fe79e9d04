//! The plugin judged by real browsers, in all three engines: headless
//! Chromium (through chromedriver), Firefox (over WebDriver BiDi) and WebKit
//! (WebKitGTK's MiniBrowser through WebKitWebDriver), see `webdriver/`. Each
//! loads a page from one origin and calls `fetch()` cross-origin to Envoy
//! listeners running the plugin. Each case asserts whether `fetch` resolved or
//! threw (and the engine's exact error), what JavaScript could read, the CORS
//! error the engine's console printed (Chromium and Firefox; WebKit's driver
//! has no console), the plugin's counters (which show the preflights the
//! engine sent) and the requests that reached the upstream. One table serves
//! every engine; where an engine differs from the others, the case says so
//! with the reason and that engine's exact outcome. In Chromium it also checks
//! the Fetch model the native-filter differential relies on (`fetch/`): sent
//! the same request, it must reach Chromium's verdict.
//!
//! Origins: pages come from `http://127.0.0.1:PAGE` (and a second page port);
//! `*.test` names are mapped to 127.0.0.1 inside each browser, so a page can
//! have a subdomain origin such as `http://app.example.test:PAGE`. The plugin
//! listeners are `http://localhost:PORT`. A second pass runs every case over
//! HTTPS (pages through TLS listeners of their own, plugin listeners with ALPN
//! h2), as browsers reach Envoy.
//!
//! Needs `ENVOY` (set by `make test`) and `apt-get install chromium
//! chromium-driver firefox-esr libnss3-tools webkit2gtk-driver xvfb` (`make test`
//! installs them).

use crate::common;
use crate::fetch;
use crate::webdriver;

use common::envoy::{self, Envoy, Scratch};
use common::form::Form;
use common::run_cases;
use common::tls::TestCert;
use common::upstream::Upstream;
use fetch::{ScriptRequest, Step, Verdict};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;
use webdriver::{Browser, Engine};

/// Runs `fetch(url, init)` `times` times in a row and reports each outcome,
/// as JSON text (the one form every driver returns alike). Each fetch is
/// bounded to 10 s.
const FETCH: &str = r#"
async (argument) => {
  const [url, init, times] = JSON.parse(argument);
  const results = [];
  for (let i = 0; i < times; i++) {
    try {
      const r = await fetch(url, {...init, signal: AbortSignal.timeout(10000)});
      await r.text();
      results.push({resolved: true, status: r.status, headers: [...r.headers]});
    } catch (e) {
      results.push({resolved: false, error: String(e)});
    }
  }
  return JSON.stringify(results);
}
"#;

/// Why a browser blocks a response, each as the engines word it.
#[derive(Clone, Copy, Debug)]
enum Failure {
    /// The actual response has no `access-control-allow-origin`.
    NoAcao,
    /// The plugin rejected the preflight: `403`, no CORS headers.
    PreflightRejected,
    /// A `2xx` preflight answer without `access-control-allow-origin` (the
    /// upstream's, when the plugin lets preflights through).
    PreflightNoAcao,
    /// `credentials: 'include'` and no `access-control-allow-credentials: true`.
    NoAcac,
    /// `credentials: 'include'` and `access-control-allow-origin: *`.
    StarWithCredentials,
}

impl Failure {
    /// The console line that names this failure in `engine`, and a part of
    /// it that only this failure's line has; `None` where the engine's
    /// console cannot be read (WebKit).
    fn console(self, engine: Engine) -> Option<(&'static str, &'static str)> {
        match engine {
            Engine::Chromium => Some((
                "has been blocked by CORS policy",
                match self {
                    Failure::NoAcao => NO_ACAO,
                    Failure::PreflightRejected | Failure::PreflightNoAcao => PREFLIGHT_FAILED,
                    Failure::NoAcac => NO_ACAC,
                    Failure::StarWithCredentials => STAR_WITH_CREDENTIALS,
                },
            )),
            Engine::Firefox => Some((
                "Cross-Origin Request Blocked",
                match self {
                    Failure::NoAcao | Failure::PreflightNoAcao => FF_NO_ACAO,
                    Failure::PreflightRejected => FF_PREFLIGHT_REJECTED,
                    Failure::NoAcac => FF_NO_ACAC,
                    Failure::StarWithCredentials => FF_STAR_WITH_CREDENTIALS,
                },
            )),
            Engine::WebKit => None,
        }
    }
}

/// What JavaScript must observe.
#[derive(Clone)]
enum Expect {
    /// `fetch` resolved with this status; `readable` is every header name JS
    /// can list, exactly; `values` are header values JS reads (`None`: `get`
    /// returns null).
    Resolved {
        status: u16,
        readable: &'static [&'static str],
        values: &'static [(&'static str, Option<&'static str>)],
    },
    /// `fetch` threw the engine's network error, and its console names this
    /// CORS failure.
    Blocked(Failure),
}

/// Everything a case asserts of one engine.
#[derive(Clone)]
struct Outcome {
    expect: Expect,
    /// Every `cors.*` counter that must move, and by how much.
    counters: &'static [(&'static str, u64)],
    /// The methods the upstream received, in order.
    upstream: &'static [&'static str],
}

impl Outcome {
    fn resolves(mut self, status: u16, readable: &'static [&'static str]) -> Outcome {
        self.expect = Expect::Resolved {
            status,
            readable,
            values: &[],
        };
        self
    }
    fn reads(mut self, wanted: &'static [(&'static str, Option<&'static str>)]) -> Outcome {
        if let Expect::Resolved { values, .. } = &mut self.expect {
            *values = wanted;
        }
        self
    }
    fn blocked(mut self, failure: Failure) -> Outcome {
        self.expect = Expect::Blocked(failure);
        self
    }
    fn counters(mut self, counters: &'static [(&'static str, u64)]) -> Outcome {
        self.counters = counters;
        self
    }
    fn upstream(mut self, methods: &'static [&'static str]) -> Outcome {
        self.upstream = methods;
        self
    }
}

struct Case {
    name: &'static str,
    /// A key of `Origins`: the page the script runs in.
    page: &'static str,
    /// The plugin listener `fetch` calls.
    listener: &'static str,
    /// Path and query after `/<case number>`; `?set=` asks the upstream for headers.
    query: &'static str,
    method: &'static str,
    headers: Vec<(&'static str, String)>,
    credentials: bool,
    /// `cache: 'no-store'` (the default mode otherwise).
    no_store: bool,
    times: usize,
    /// What every engine must show, unless `engines` says otherwise.
    outcome: Outcome,
    /// Where an engine differs from the others (not from the policy): the
    /// engine, whether only over HTTPS (HTTP/2), its known behaviour with
    /// where it is recorded, and the exact outcome it must show instead.
    engines: Vec<(Engine, bool, &'static str, Outcome)>,
    /// Where Chromium knowingly departs from the Fetch standard, so the Fetch
    /// model must see something else; says how.
    chromium_deviates: Option<&'static str>,
}

fn case(
    name: &'static str,
    page: &'static str,
    listener: &'static str,
    method: &'static str,
) -> Case {
    Case {
        name,
        page,
        listener,
        query: "",
        method,
        headers: Vec::new(),
        credentials: false,
        no_store: false,
        times: 1,
        outcome: Outcome {
            expect: Expect::Blocked(Failure::NoAcao),
            counters: &[],
            upstream: &[],
        },
        engines: Vec::new(),
        chromium_deviates: None,
    }
}

impl Case {
    fn query(mut self, query: &'static str) -> Case {
        self.query = query;
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Case {
        self.headers.push((name, value.to_string()));
        self
    }
    fn credentials(mut self) -> Case {
        self.credentials = true;
        self
    }
    fn no_store(mut self) -> Case {
        self.no_store = true;
        self
    }
    fn times(mut self, times: usize) -> Case {
        self.times = times;
        self
    }
    fn resolves(mut self, status: u16, readable: &'static [&'static str]) -> Case {
        self.outcome = self.outcome.resolves(status, readable);
        self
    }
    fn reads(mut self, wanted: &'static [(&'static str, Option<&'static str>)]) -> Case {
        self.outcome = self.outcome.reads(wanted);
        self
    }
    fn blocked(mut self, failure: Failure) -> Case {
        self.outcome = self.outcome.blocked(failure);
        self
    }
    fn counters(mut self, counters: &'static [(&'static str, u64)]) -> Case {
        self.outcome = self.outcome.counters(counters);
        self
    }
    fn upstream(mut self, methods: &'static [&'static str]) -> Case {
        self.outcome = self.outcome.upstream(methods);
        self
    }
    /// In `engine` the outcome is `change` of the one above, because `why`
    /// (the engine's known behaviour and its source). Comes last in a case.
    fn except_in(
        mut self,
        engine: Engine,
        why: &'static str,
        change: impl FnOnce(Outcome) -> Outcome,
    ) -> Case {
        let outcome = change(self.outcome.clone());
        self.engines.push((engine, false, why, outcome));
        self
    }
    /// The same, only in the pass over HTTPS, where browsers speak HTTP/2.
    fn except_in_over_https(
        mut self,
        engine: Engine,
        why: &'static str,
        change: impl FnOnce(Outcome) -> Outcome,
    ) -> Case {
        let outcome = change(self.outcome.clone());
        self.engines.push((engine, true, why, outcome));
        self
    }
    /// What `engine` must show, over HTTPS or not.
    fn outcome(&self, engine: Engine, https: bool) -> &Outcome {
        let own = |https_only: bool| {
            self.engines
                .iter()
                .find(|(e, only, _, _)| *e == engine && *only == https_only)
                .map(|(_, _, _, outcome)| outcome)
        };
        https
            .then(|| own(true))
            .flatten()
            .or_else(|| own(false))
            .unwrap_or(&self.outcome)
    }
    fn chromium_deviates(mut self, how: &'static str) -> Case {
        self.chromium_deviates = Some(how);
        self
    }
}

// Counter names, as `/stats` shows them.
const PF_OK: &str = "cors.preflight_allowed";
const PF_ORIGIN: &str = "cors.preflight_rejected_origin";
const PF_METHOD: &str = "cors.preflight_rejected_method";
const PF_HEADERS: &str = "cors.preflight_rejected_headers";
const ACT_OK: &str = "cors.actual_allowed";
const ACT_NO: &str = "cors.actual_disallowed";
const R_PF_OK: &str = "cors.report.preflight_allowed";
const R_ACT_OK: &str = "cors.report.actual_allowed";
const R_AGREED: &str = "cors.report.agreed";
const R_ONLY_PLUGIN: &str = "cors.report.only_plugin_allowed";
const R_ORIGIN: &str = "cors.report.differs_origin";

// Chromium's console texts for each kind of CORS failure (Chromium 156).
// "policy: " keeps it from matching the preflight's message, which ends alike.
const NO_ACAO: &str =
    "policy: No 'Access-Control-Allow-Origin' header is present on the requested resource";
const PREFLIGHT_FAILED: &str = "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header";
const NO_ACAC: &str = "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true'";
const STAR_WITH_CREDENTIALS: &str =
    "must not be the wildcard '*' when the request's credentials mode is 'include'";

// Firefox's console texts (their "Reason:" part, Firefox 153). Firefox does not
// say whether the preflight or the actual response failed; the status it
// quotes tells the plugin's rejected preflight (403) from an answer without
// CORS headers (the upstream's 200).
const FF_NO_ACAO: &str =
    "(Reason: CORS header \u{2018}Access-Control-Allow-Origin\u{2019} missing). Status code: 200.";
const FF_PREFLIGHT_REJECTED: &str =
    "(Reason: CORS header \u{2018}Access-Control-Allow-Origin\u{2019} missing). Status code: 403.";
const FF_NO_ACAC: &str =
    "(Reason: expected \u{2018}true\u{2019} in CORS header \u{2018}Access-Control-Allow-Credentials\u{2019})";
const FF_STAR_WITH_CREDENTIALS: &str = "(Reason: Credential is not supported if the CORS header \u{2018}Access-Control-Allow-Origin\u{2019} is \u{2018}*\u{2019})";

/// The page origins, by key. Ports are known only once the page servers run.
struct Origins {
    /// `http`, or `https` for the pass over TLS (pages and listeners alike).
    scheme: &'static str,
    page: u16,
    page2: u16,
}

impl Origins {
    fn get(&self, key: &str) -> String {
        let (host, port) = match key {
            "app" => ("127.0.0.1", self.page),
            "app-port2" => ("127.0.0.1", self.page2),
            "evil" => ("evil.test", self.page),
            "sub" => ("app.example.test", self.page),
            "sub2" => ("a.b.example.test", self.page),
            "bare" => ("example.test", self.page),
            "admin" => ("admin.example.test", self.page),
            _ => panic!("unknown page {key}"),
        };
        format!("{}://{host}:{port}", self.scheme)
    }
}

/// The plugin configurations, one listener each, all routed to one upstream.
fn listeners(o: &Origins) -> Vec<(&'static str, String)> {
    let app = o.get("app");
    vec![
        (
            "credentials",
            json!({
                "allow_origins": [app],
                "allow_methods": ["PUT", "DELETE"],
                "allow_headers": ["content-type", "x-api-key"],
                "expose_headers": ["x-request-id"],
                "max_age": 0,
                "allow_credentials": true
            })
            .to_string(),
        ),
        (
            "plain",
            json!({
                "allow_origins": [app],
                "allow_methods": ["PUT", "PATCH"],
                "expose_headers": ["x-request-id"],
                "max_age": 0
            })
            .to_string(),
        ),
        (
            "star",
            json!({
                "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"],
                "expose_headers": ["*"], "max_age": 0
            })
            .to_string(),
        ),
        (
            "wildcards",
            json!({
                "allow_origins": [format!("{}://*.example.test:{}", o.scheme, o.page), format!("{}://127.0.0.1:*", o.scheme)],
                "allow_methods": ["PUT"],
                "max_age": 0
            })
            .to_string(),
        ),
        (
            "forward",
            json!({
                "allow_origins": [app],
                "allow_methods": ["PUT"],
                "unmatched_preflights": "forward",
                "max_age": 0
            })
            .to_string(),
        ),
        (
            "rules",
            json!({
                "allow_origins": [app],
                "allow_methods": ["PUT"],
                "max_age": 0,
                "rules": [{"path_prefix": "/admin/", "allow_origins": [o.get("admin")], "allow_methods": ["DELETE"]}]
            })
            .to_string(),
        ),
        (
            "cached",
            json!({"allow_origins": [app], "allow_methods": ["PUT"], "max_age": 600}).to_string(),
        ),
        (
            "report",
            json!({"allow_origins": [app], "allow_methods": ["PUT"], "max_age": 0, "mode": "report"})
                .to_string(),
        ),
    ]
}

/// Why Firefox lists one more header over HTTP/2 where everything is exposed.
const FIREFOX_SPDY: &str = "Firefox adds `x-firefox-spdy: h2` to the head of every response it \
    receives over HTTP/2 (nsHttp::X_Firefox_Spdy, netwerk/protocol/http), and scripts see it \
    as a response header: `expose_headers: *` exposes it";

fn cases() -> Vec<Case> {
    let long = |n: usize| "a".repeat(n);
    vec![
        // A policy with credentials and an exact origin.
        case("simple GET, allowed: resolves; exposed header readable, unexposed not", "app", "credentials", "GET")
            .query("?set=x-request-id:r-1&set=x-secret:s-1")
            .resolves(200, &["content-length", "x-request-id"])
            .reads(&[("x-request-id", Some("r-1")), ("x-secret", None)])
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"]),
        case("simple GET from a disallowed origin: the upstream answers, JS is blocked", "evil", "credentials", "GET")
            .blocked(Failure::NoAcao)
            .counters(&[(ACT_NO, 1)])
            .upstream(&["GET"]),
        case("the page on another port is another origin", "app-port2", "credentials", "GET")
            .blocked(Failure::NoAcao)
            .counters(&[(ACT_NO, 1)])
            .upstream(&["GET"]),
        case("PUT, preflight allowed", "app", "credentials", "PUT")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        case("DELETE, preflight allowed", "app", "credentials", "DELETE")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["DELETE"]),
        case("PATCH, preflight denied by method", "app", "credentials", "PATCH")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_METHOD, 1)]),
        case("PUT from a disallowed origin, preflight denied by origin", "evil", "credentials", "PUT")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_ORIGIN, 1)]),
        case("PUT with an unlisted header, preflight denied by header", "app", "credentials", "PUT")
            .header("x-other", "1")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_HEADERS, 1)]),
        case("PUT with a listed custom header", "app", "credentials", "PUT")
            .header("x-api-key", "k")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        case("GET with content-type application/json is preflighted, and allowed", "app", "credentials", "GET")
            .header("content-type", "application/json")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["GET"]),
        case("GET with a 128-byte accept needs no preflight", "app", "credentials", "GET")
            .header("accept", &long(128))
            .resolves(200, &["content-length"])
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"]),
        case("GET with a 129-byte accept is preflighted; accept is not listed", "app", "credentials", "GET")
            .header("accept", &long(129))
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_HEADERS, 1)]),
        case("credentials include, allow_credentials: GET resolves", "app", "credentials", "GET")
            .credentials()
            .resolves(200, &["content-length"])
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"]),
        case("credentials include, allow_credentials: PUT resolves", "app", "credentials", "PUT")
            .credentials()
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        case("max_age 0: the same PUT twice sends two preflights", "app", "credentials", "PUT")
            .times(2)
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 2), (ACT_OK, 2)])
            .upstream(&["PUT", "PUT"]),
        // No credentials allowed.
        case("credentials include without allow_credentials: throws", "app", "plain", "GET")
            .credentials()
            .blocked(Failure::NoAcac)
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"]),
        case("the same GET without credentials resolves", "app", "plain", "GET")
            .query("?set=x-request-id:r-2")
            .resolves(200, &["content-length", "x-request-id"])
            .reads(&[("x-request-id", Some("r-2"))])
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"]),
        case("PATCH, preflight allowed", "app", "plain", "PATCH")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PATCH"]),
        // Fetch uppercases only DELETE, GET, HEAD, OPTIONS, POST and PUT.
        case("lowercase 'patch' is sent as is and denied by method", "app", "plain", "patch")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_METHOD, 1)]),
        // Everything allowed, no credentials.
        case("*: PATCH with a custom header", "app", "star", "PATCH")
            .header("x-anything", "1")
            .resolves(200, &["access-control-allow-origin", "access-control-expose-headers", "content-length", "date", "server", "x-envoy-upstream-service-time"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PATCH"])
            .except_in_over_https(Engine::Firefox, FIREFOX_SPDY, |o| {
                o.resolves(200, &["access-control-allow-origin", "access-control-expose-headers", "content-length", "date", "server", "x-envoy-upstream-service-time", "x-firefox-spdy"])
            }),
        case("expose_headers *: every header readable", "evil", "star", "GET")
            .query("?set=x-secret:s-2")
            .resolves(200, &["access-control-allow-origin", "access-control-expose-headers", "content-length", "date", "server", "x-envoy-upstream-service-time", "x-secret"])
            .reads(&[("x-secret", Some("s-2")), ("access-control-allow-origin", Some("*"))])
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"])
            .except_in_over_https(Engine::Firefox, FIREFOX_SPDY, |o| {
                o.resolves(200, &["access-control-allow-origin", "access-control-expose-headers", "content-length", "date", "server", "x-envoy-upstream-service-time", "x-firefox-spdy", "x-secret"])
                    .reads(&[("x-secret", Some("s-2")), ("x-firefox-spdy", Some("h2")), ("access-control-allow-origin", Some("*"))])
            }),
        case("*: authorization is never covered, PUT with it throws", "app", "star", "PUT")
            .header("authorization", "Bearer t")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_HEADERS, 1)]),
        case("*: credentials include throws (ACAO * is refused)", "app", "star", "GET")
            .credentials()
            .blocked(Failure::StarWithCredentials)
            .counters(&[(ACT_OK, 1)])
            .upstream(&["GET"]),
        // Subdomain and port wildcards.
        case("subdomain wildcard, one label", "sub", "wildcards", "PUT")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        case("subdomain wildcard, two labels", "sub2", "wildcards", "PUT")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        case("subdomain wildcard never matches the bare domain", "bare", "wildcards", "PUT")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_ORIGIN, 1)]),
        case("port wildcard: a page on another port", "app-port2", "wildcards", "PUT")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        // "forward": preflights the policy does not allow go to the upstream.
        case("forward: an allowed PUT is still answered by the plugin", "app", "forward", "PUT")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        case("forward: PATCH goes to the upstream, which allows it", "app", "forward", "PATCH")
            .query("?set=access-control-allow-origin:{app}&set=access-control-allow-methods:PATCH")
            .resolves(200, &["content-length"])
            .counters(&[(PF_METHOD, 1), (ACT_OK, 1)])
            .upstream(&["OPTIONS", "PATCH"]),
        // Fetch says `*` never covers authorization; all three engines let it
        // through anyway, silently: Chromium 156, Firefox 153 (its pref
        // network.cors_preflight.authorization_covered_by_wildcard, on by
        // default) and WebKit 2.50. The plugin's own `*` refuses it (the
        // "star" case above), so behind the plugin users get the standard's
        // behaviour; an upstream answering for itself does not.
        case("every engine lets authorization through an upstream's allow-headers *", "app", "forward", "PATCH")
            .query("?set=access-control-allow-origin:{app}&set=access-control-allow-methods:PATCH&set=access-control-allow-headers:*")
            .header("authorization", "Bearer t")
            .resolves(200, &["content-length"])
            .counters(&[(PF_METHOD, 1), (ACT_OK, 1)])
            .upstream(&["OPTIONS", "PATCH"])
            .chromium_deviates("authorization is covered by access-control-allow-headers: *"),
        case("forward: PATCH goes to the upstream, which does not allow it", "app", "forward", "PATCH")
            .blocked(Failure::PreflightNoAcao)
            .counters(&[(PF_METHOD, 1)])
            .upstream(&["OPTIONS"]),
        // The upstream's answer to a forwarded preflight stands, but the
        // plugin still removes CORS headers from the actual response to an
        // origin it does not allow: the PATCH runs, its response is unreadable.
        case("forward: the upstream allows an origin the plugin does not", "evil", "forward", "PATCH")
            .query("?set=access-control-allow-origin:{evil}&set=access-control-allow-methods:PATCH")
            .blocked(Failure::NoAcao)
            .counters(&[(PF_ORIGIN, 1), (ACT_NO, 1)])
            .upstream(&["OPTIONS", "PATCH"]),
        // A rule with another policy for /admin/.
        case("rule: DELETE on /admin/ from the rule's origin", "admin", "rules", "DELETE")
            .query("/admin/x")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["DELETE"]),
        case("rule: the top-level origin is refused on /admin/", "app", "rules", "DELETE")
            .query("/admin/x")
            .blocked(Failure::PreflightRejected)
            .counters(&[(PF_ORIGIN, 1)]),
        case("rule: the top-level policy applies elsewhere", "app", "rules", "PUT")
            .query("/other")
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 1)])
            .upstream(&["PUT"]),
        // The preflight cache.
        case("max_age 600: the second PUT sends no preflight", "app", "cached", "PUT")
            .times(2)
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 1), (ACT_OK, 2)])
            .upstream(&["PUT", "PUT"]),
        // The Fetch standard's preflight cache does not depend on the
        // request's cache mode; Chromium and Firefox skip it for requests
        // that skip the HTTP cache, WebKit does not.
        case("max_age 600, cache: 'no-store': preflights every time, except in WebKit", "app", "cached", "PUT")
            .no_store()
            .times(2)
            .resolves(200, &["content-length"])
            .counters(&[(PF_OK, 2), (ACT_OK, 2)])
            .upstream(&["PUT", "PUT"])
            .except_in(
                Engine::WebKit,
                "WebKit consults its CrossOriginPreflightResultCache whatever the cache mode \
                 (NetworkLoadChecker::checkCORSRequestWithPreflight, Source/WebKit/NetworkProcess/\
                 NetworkLoadChecker.cpp), where Firefox skips it under LOAD_BYPASS_CACHE \
                 (nsCORSListenerProxy::StartCORSPreflight, netwerk/protocol/http/nsCORSListenerProxy.cpp) \
                 and Chromium when the HTTP cache is disabled",
                |o| o.counters(&[(PF_OK, 1), (ACT_OK, 2)]),
            ),
        // Report mode changes nothing a page sees: the upstream's answers decide.
        case("report mode: a GET the policy would allow, the upstream sends no CORS headers", "app", "report", "GET")
            .blocked(Failure::NoAcao)
            .counters(&[(R_ACT_OK, 1), (R_ONLY_PLUGIN, 1), (R_ORIGIN, 1)])
            .upstream(&["GET"]),
        case("report mode: the preflight reaches the upstream, which does not answer it", "app", "report", "PUT")
            .blocked(Failure::PreflightNoAcao)
            .counters(&[(R_PF_OK, 1), (R_ONLY_PLUGIN, 1), (R_ORIGIN, 1)])
            .upstream(&["OPTIONS"]),
        case("report mode: the upstream's own CORS headers reach the page untouched", "app", "report", "GET")
            .query("?set=access-control-allow-origin:{app}&set=x-request-id:r-1")
            .resolves(200, &["content-length"])
            .counters(&[(R_ACT_OK, 1), (R_AGREED, 1)])
            .upstream(&["GET"]),
    ]
}

/// Every `cors.*` counter of the form under test, by its metric name, in one admin call.
fn counters(envoy: &Envoy) -> BTreeMap<String, u64> {
    let prefix = Form::current().stat("cors.");
    let body = envoy.admin(&format!("/stats?filter=^{}", prefix.replace('.', "\\.")));
    String::from_utf8_lossy(&body.body)
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(": ")?;
            let metric = name.strip_prefix(&prefix)?;
            Some((format!("cors.{metric}"), value.trim().parse().ok()?))
        })
        .collect()
}

struct World {
    browser: RefCell<Browser>,
    envoy: Envoy,
    upstream: Upstream,
    origins: Origins,
    /// The page loaded now, to navigate only when a case needs another.
    current_page: RefCell<String>,
}

impl World {
    fn open(&self, page: &str) -> Result<(), String> {
        let origin = self.origins.get(page);
        if *self.current_page.borrow() == origin {
            return Ok(());
        }
        // Until the page is known to have loaded, no page is: after a failed
        // navigation the next case navigates again, out of an error page.
        self.current_page.replace(String::new());
        let mut browser = self.browser.borrow_mut();
        browser.navigate(&format!("{origin}/page?set=content-type:text/html"))?;
        let loaded = browser.call("() => location.origin", "")?;
        if loaded != origin {
            return Err(format!("the page has origin {loaded}, want {origin}"));
        }
        self.current_page.replace(origin);
        Ok(())
    }

    /// Console lines until one names `failure` (the engine may write it a
    /// moment after `fetch` settles), for at most 3 s; every line when none
    /// does. `None` where the engine's console cannot be read.
    fn console_until(&self, failure: Option<Failure>) -> Option<Vec<String>> {
        let mut browser = self.browser.borrow_mut();
        let engine = browser.engine;
        let mut lines = browser.console()?;
        let Some((marker, text)) = failure.and_then(|f| f.console(engine)) else {
            return Some(lines);
        };
        let names = |lines: &[String]| lines.iter().any(|l| l.contains(marker) && l.contains(text));
        for _ in 0..30 {
            if names(&lines) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            lines.extend(browser.console().unwrap_or_default());
        }
        Some(lines)
    }

    fn run(&self, index: usize, case: &Case) -> Result<(), String> {
        let engine = self.browser.borrow().engine;
        let want = case.outcome(engine, self.origins.scheme == "https");
        self.open(case.page)?;
        let _ = self.browser.borrow_mut().console(); // forget earlier cases' messages
        let query = case
            .query
            .replace("{app}", &self.origins.get("app"))
            .replace("{evil}", &self.origins.get("evil"));
        // A path per case, so no case meets another's cached preflight.
        let (path, query) = match query.strip_prefix('/') {
            Some(path) => (format!("/{path}/{index}"), String::new()),
            None => (format!("/case/{index}"), query),
        };
        let url = format!(
            "{}://localhost:{}{path}{query}",
            self.origins.scheme,
            self.envoy.listener_port(case.listener)
        );
        let headers: serde_json::Map<String, Value> = case
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), json!(v)))
            .collect();
        let init = json!({
            "method": case.method,
            "headers": headers,
            "credentials": if case.credentials { "include" } else { "omit" },
            "cache": if case.no_store { "no-store" } else { "default" },
        });
        let counters_before = counters(&self.envoy);
        let seen_before = self.upstream.count();
        let answer = self
            .browser
            .borrow_mut()
            .call(FETCH, &json!([url, init, case.times]).to_string())?;
        let results: Vec<Value> = serde_json::from_str(&answer)
            .map_err(|e| format!("the script answered {answer:?}: {e}"))?;
        let failure = match want.expect {
            Expect::Blocked(failure) => Some(failure),
            Expect::Resolved { .. } => None,
        };
        let console = self.console_until(failure);
        let counters_after = counters(&self.envoy);
        let upstream: Vec<String> = self.upstream.seen()[seen_before..]
            .iter()
            .map(|s| s.method.clone())
            .collect();

        let mut problems = Vec::new();
        if results.len() != case.times {
            problems.push(format!(
                "{} results for {} fetches",
                results.len(),
                case.times
            ));
        }
        for (i, result) in results.iter().enumerate() {
            let which = if case.times > 1 {
                format!("fetch {}: ", i + 1)
            } else {
                String::new()
            };
            if let Err(e) = check_result(engine, &want.expect, result) {
                problems.push(format!("{which}{e}"));
            }
        }
        if let Some(console) = &console {
            match failure.and_then(|f| f.console(engine)) {
                Some((marker, text)) => {
                    if !console
                        .iter()
                        .any(|l| l.contains(marker) && l.contains(text))
                    {
                        problems.push(format!("the console lacks a CORS error with {text:?}"));
                    }
                }
                None => {
                    let unexpected = ["CORS", "Cross-Origin"];
                    if let Some(error) = console
                        .iter()
                        .find(|l| unexpected.iter().any(|u| l.contains(u)))
                    {
                        problems.push(format!("unexpected CORS error: {error}"));
                    }
                }
            }
        }
        let moved: Vec<(String, u64)> = counters_after
            .iter()
            .map(|(name, after)| {
                (
                    name.clone(),
                    after - counters_before.get(name).copied().unwrap_or(0),
                )
            })
            .filter(|(_, delta)| *delta > 0)
            .collect();
        let mut want_counters: Vec<(String, u64)> = want
            .counters
            .iter()
            .map(|(n, d)| (n.to_string(), *d))
            .collect();
        want_counters.sort();
        if moved != want_counters {
            problems.push(format!("counters moved {moved:?}, want {want_counters:?}"));
        }
        if upstream != want.upstream {
            problems.push(format!(
                "upstream received {upstream:?}, want {:?}",
                want.upstream
            ));
        }
        let console = console.unwrap_or_else(|| vec![format!("(WebKit's console cannot be read)")]);
        let report = |problems: Vec<String>| {
            outcome(
                engine,
                problems,
                &url,
                &init,
                self.origins.get(case.page),
                &results,
                &console,
            )
        };
        // The differential suite's Fetch model must see what Chromium saw
        // (its step comes from Chromium's console). Its client speaks
        // cleartext HTTP/1.1: it runs in the HTTP pass only.
        if engine != Engine::Chromium || self.origins.scheme == "https" {
            return report(problems);
        }
        let script = ScriptRequest {
            origin: self.origins.get(case.page),
            method: case.method.to_string(),
            path: format!("{path}{query}"),
            headers: case
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
            credentials: case.credentials,
        };
        let (model, trace) = fetch::fetch(self.envoy.listener_port(case.listener), &script);
        let disagreement = model_disagrees(&model, results.first(), &console);
        if let (Some(how), None) = (case.chromium_deviates, &disagreement) {
            problems.push(format!(
                "Chromium now follows the Fetch standard here ({how}): update this case"
            ));
        }
        if let (None, Some(disagreement)) = (case.chromium_deviates, disagreement) {
            problems.push(format!(
                "the Fetch model disagrees with Chromium: {disagreement}\n      model's exchanges:{}",
                trace.iter().map(|e| format!("\n        {e}")).collect::<String>()
            ));
        }
        report(problems)
    }
}

/// `Ok`, or every problem of one case with what the browser did.
fn outcome(
    engine: Engine,
    problems: Vec<String>,
    url: &str,
    init: &Value,
    page: String,
    results: &[Value],
    console: &[String],
) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\n      fetch({url}, {init}) from {page}\n      results: {}\n      {} console:\n        {}",
        problems.join("; "),
        Value::Array(results.to_vec()),
        engine.name(),
        if console.is_empty() { "(empty)".to_string() } else { console.join("\n        ") }
    ))
}

/// `None` when the model's verdict is what Chromium showed the script: the
/// same status and readable headers, or a failure at the same step.
fn model_disagrees(
    model: &Verdict,
    chromium: Option<&Value>,
    console: &[String],
) -> Option<String> {
    let chromium = chromium?;
    match model {
        Verdict::Resolved { status, readable } => {
            let headers: Vec<(String, String)> =
                serde_json::from_value(chromium["headers"].clone()).unwrap_or_default();
            let names: Vec<String> = headers.into_iter().map(|(n, _)| n).collect();
            let same = chromium["resolved"] == json!(true)
                && chromium["status"] == json!(status)
                && names == *readable;
            (!same).then(|| {
                format!("model resolved {status} reading {readable:?}; Chromium {chromium}")
            })
        }
        Verdict::Blocked { at, reason } => {
            let cors_error = console
                .iter()
                .find(|l| l.contains("blocked by CORS policy"));
            let chromium_at = cors_error.map(|l| {
                if l.contains("preflight") {
                    Step::Preflight
                } else {
                    Step::Actual
                }
            });
            let same = chromium["resolved"] == json!(false) && chromium_at == Some(*at);
            (!same).then(|| {
                format!("model blocked at {at:?} ({reason}); Chromium {chromium}, {cors_error:?}")
            })
        }
    }
}

fn check_result(engine: Engine, expect: &Expect, result: &Value) -> Result<(), String> {
    let resolved = result["resolved"].as_bool() == Some(true);
    match expect {
        Expect::Blocked { .. } if resolved => Err(format!(
            "fetch resolved with {}, want it to throw",
            result["status"]
        )),
        Expect::Blocked { .. } => match result["error"].as_str() {
            Some(error) if error == engine.fetch_error() => Ok(()),
            other => Err(format!(
                "fetch threw {other:?}, want {}",
                engine.fetch_error()
            )),
        },
        Expect::Resolved { .. } if !resolved => Err(format!(
            "fetch threw {}, want it to resolve",
            result["error"]
        )),
        Expect::Resolved {
            status,
            readable,
            values,
        } => {
            let mut problems = Vec::new();
            if result["status"] != json!(status) {
                problems.push(format!("status {} (want {status})", result["status"]));
            }
            let headers: Vec<(String, String)> =
                serde_json::from_value(result["headers"].clone()).unwrap_or_default();
            let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
            if names != *readable {
                problems.push(format!("JS can read {names:?} (want {readable:?})"));
            }
            for (name, want) in values.iter() {
                let got = headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str());
                if got != *want {
                    problems.push(format!("headers.get({name:?}) = {got:?} (want {want:?})"));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

#[test]
fn chromium_enforces_what_the_plugin_answers() {
    run_suite(Engine::Chromium, None);
}

#[test]
fn firefox_enforces_what_the_plugin_answers() {
    run_suite(Engine::Firefox, None);
}

#[test]
fn webkit_enforces_what_the_plugin_answers() {
    run_suite(Engine::WebKit, None);
}

/// The same cases and answers with pages and listeners over HTTPS, where
/// browsers speak HTTP/2: a certificate made for the run, which each engine
/// is told to trust; every listener must have served HTTP/2 only.
#[test]
fn chromium_over_https_and_http2_sees_the_same_answers() {
    over_https(Engine::Chromium);
}

#[test]
fn firefox_over_https_and_http2_sees_the_same_answers() {
    over_https(Engine::Firefox);
}

#[test]
fn webkit_over_https_and_http2_sees_the_same_answers() {
    over_https(Engine::WebKit);
}

fn over_https(engine: Engine) {
    let cert = TestCert::new();
    let envoy = run_suite(engine, Some(&cert));
    for (name, _) in &envoy.listeners {
        let h2 = envoy.stat(&format!("http.{name}.downstream_cx_http2_total"));
        let h1 = envoy.stat(&format!("http.{name}.downstream_cx_http1_total"));
        assert!(
            h2.is_some_and(|n| n > 0) && h1 == Some(0),
            "{}: listener {name}: {h2:?} HTTP/2 and {h1:?} HTTP/1 connections, want HTTP/2 only",
            engine.name()
        );
    }
}

/// The `*.test` names of `Origins`, which every engine resolves to 127.0.0.1.
const LOCAL_NAMES: &[&str] = &[
    "evil.test",
    "app.example.test",
    "a.b.example.test",
    "example.test",
    "admin.example.test",
];

/// Runs every case in `engine`, over TLS with `cert`; returns the Envoy of
/// the plugin listeners.
fn run_suite(engine: Engine, cert: Option<&TestCert>) -> Envoy {
    let pages = Upstream::start();
    let pages2 = Upstream::start();
    let upstream = Upstream::start();
    let tls = |listener: Value| match cert {
        Some(cert) => cert.listener(listener),
        None => listener,
    };
    // Over TLS the pages come through TLS listeners of their own, in an Envoy
    // started first: their ports are in the origins the policies list.
    let page_envoy = cert.map(|cert| {
        let page = |name: &str, cluster: &str| {
            cert.listener(envoy::listener(
                name,
                vec![envoy::router()],
                envoy::route_to(cluster),
            ))
        };
        Envoy::start(&envoy::bootstrap(
            vec![page("page", "pages"), page("page2", "pages2")],
            vec![
                envoy::cluster("pages", pages.port),
                envoy::cluster("pages2", pages2.port),
            ],
        ))
        .unwrap_or_else(|log| panic!("the pages' Envoy did not start:\n{log}"))
    });
    let origins = match &page_envoy {
        Some(e) => Origins {
            scheme: "https",
            page: e.listener_port("page"),
            page2: e.listener_port("page2"),
        },
        None => Origins {
            scheme: "http",
            page: pages.port,
            page2: pages2.port,
        },
    };
    let configs = listeners(&origins);
    let bootstrap = envoy::bootstrap(
        configs
            .iter()
            .map(|(name, config)| {
                tls(envoy::listener(
                    name,
                    vec![envoy::cors_filter(config), envoy::router()],
                    envoy::route_to("upstream"),
                ))
            })
            .collect(),
        vec![envoy::cluster("upstream", upstream.port)],
    );
    let envoy =
        Envoy::start(&bootstrap).unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let profile = Scratch::new(&format!("{}-profile", engine.name().to_lowercase()));
    let started = Instant::now();
    let browser = Browser::start(engine, &profile.0, LOCAL_NAMES, cert);
    let version = format!("{} {}", engine.name(), browser.version);
    let world = World {
        browser: RefCell::new(browser),
        envoy,
        upstream,
        origins,
        current_page: RefCell::new(String::new()),
    };
    let cases = cases();
    let index = |c: &Case| cases.iter().position(|x| std::ptr::eq(x, c)).unwrap();
    let differing = cases
        .iter()
        .filter(|c| {
            c.engines
                .iter()
                .any(|(e, https_only, _, _)| *e == engine && (cert.is_some() || !https_only))
        })
        .count();
    run_cases(
        &cases,
        |c| {
            format!(
                "#{} {} ({} {} from {}, {})",
                index(c),
                c.name,
                c.listener,
                c.method,
                c.page,
                engine.name()
            )
        },
        |c| world.run(index(c), c),
    );
    println!(
        "browser suite ({}): {} cases in {version} ({differing} with an outcome of its own), {:.1} s",
        world.origins.scheme,
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(cases.len() >= 20);
    drop(world.browser);
    drop(page_envoy);
    world.envoy
}
