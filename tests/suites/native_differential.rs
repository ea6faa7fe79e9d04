//! The plugin against Envoy's own CORS filter (`envoy.filters.http.cors`):
//! each policy is written both as a native `CorsPolicy` (per-route
//! `typed_per_filter_config`) and as the plugin's JSON, on two listeners of one
//! Envoy routed to the same loopback upstream. Every case sends the same script
//! request to both the way a browser would (see `fetch`), and compares what the
//! script would see. They must agree, except for the deliberate differences
//! named below, which the README's comparison table lists with their reasons.
//! Needs `ENVOY` (set by `make test`).

use crate::common;
use crate::fetch;

use common::envoy::{self, Envoy};
use common::run_cases;
use common::upstream::Upstream;
use fetch::{ScriptRequest, Step, Verdict};
use serde_json::{json, Value};

// The deliberate differences. Each is a row of the README's comparison table.
const AUTHORIZATION_UNDER_STAR: &str =
    "`*` in allow_headers never covers authorization (native reflects any requested header)";
const UPSTREAM_HEADERS_REMOVED: &str =
    "upstream CORS headers are removed for a disallowed origin (native passes them through)";
const FORWARD_ANY_MISMATCH: &str = "\"forward\" also passes preflights with a disallowed method or header to the upstream (native answers them itself)";
const STAR_WITH_CREDENTIALS: &str =
    "`*` with credentials is a configuration error (native reflects any origin with credentials)";

/// What the script sees, in short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    Resolved,
    BlockedAtPreflight,
    BlockedAtActual,
}

pub(crate) fn seen(verdict: &Verdict) -> Seen {
    match verdict {
        Verdict::Resolved { .. } => Seen::Resolved,
        Verdict::Blocked {
            at: Step::Preflight,
            ..
        } => Seen::BlockedAtPreflight,
        Verdict::Blocked {
            at: Step::Actual, ..
        } => Seen::BlockedAtActual,
    }
}

use Seen::{BlockedAtActual as ACTUAL, BlockedAtPreflight as PREFLIGHT, Resolved as OK};

/// One policy, both ways. `native_admin` is a second native policy on the
/// route `/admin/`, merged field by field with the virtual host's one, as the
/// plugin's `rules` entry for `/admin/` is with its top level.
pub(crate) struct Policy {
    pub(crate) name: &'static str,
    plugin: Value,
    native: Value,
    native_admin: Option<Value>,
}

pub(crate) fn policies() -> Vec<Policy> {
    let policy = |name, plugin, native| Policy {
        name,
        plugin,
        native,
        native_admin: None,
    };
    vec![
        policy(
            "credentialed",
            json!({
                "allow_origins": ["https://app.example.com", "https://*.example.com",
                                  {"regex": "https://pr-[0-9]+\\.preview\\.example\\.net"}],
                "allow_methods": ["GET", "POST", "PUT", "DELETE"],
                "allow_headers": ["content-type", "authorization", "x-api-key"],
                "expose_headers": ["x-request-id"],
                "max_age": 600,
                "allow_credentials": true
            }),
            json!({
                "allow_origin_string_match": [
                    {"exact": "https://app.example.com"},
                    // Native has no subdomain wildcard: this is the regex users write for it.
                    {"safe_regex": {"regex": "https://([a-z0-9-]+\\.)+example\\.com"}},
                    {"safe_regex": {"regex": "https://pr-[0-9]+\\.preview\\.example\\.net"}}
                ],
                "allow_methods": "GET, POST, PUT, DELETE",
                "allow_headers": "content-type, authorization, x-api-key",
                "expose_headers": "x-request-id",
                "max_age": "600",
                "allow_credentials": true
            }),
        ),
        policy(
            "star",
            json!({"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]}),
            json!({
                "allow_origin_string_match": [{"exact": "*"}],
                "allow_methods": "*", "allow_headers": "*", "expose_headers": "*"
            }),
        ),
        policy(
            "plain",
            json!({
                "allow_origins": ["https://app.example.com"],
                "allow_methods": ["PUT"],
                "allow_headers": ["x-api-key"],
                "expose_headers": ["x-request-id"]
            }),
            json!({
                "allow_origin_string_match": [{"exact": "https://app.example.com"}],
                "allow_methods": "PUT",
                "allow_headers": "x-api-key",
                "expose_headers": "x-request-id",
                // Like the plugin's default "reject": answer, do not forward.
                "forward_not_matching_preflights": false
            }),
        ),
        policy(
            "matchers",
            json!({"allow_origins": [
                {"suffix": ".example.org"}, {"prefix": "https://partner-"},
                {"exact": "https://APP.example.net", "ignore_case": true}, {"contains": "staging"}
            ]}),
            json!({"allow_origin_string_match": [
                {"suffix": ".example.org"}, {"prefix": "https://partner-"},
                {"exact": "https://APP.example.net", "ignore_case": true}, {"contains": "staging"}
            ]}),
        ),
        policy(
            "defaults",
            json!({"allow_origins": ["https://app.example.com"]}),
            json!({"allow_origin_string_match": [{"exact": "https://app.example.com"}]}),
        ),
        Policy {
            name: "rules",
            plugin: json!({
                "allow_origins": ["https://app.example.com"],
                "allow_methods": ["PUT"],
                "expose_headers": ["x-request-id"],
                "rules": [{"path_prefix": "/admin/", "allow_origins": ["https://admin.example.com"], "allow_methods": ["DELETE"]}]
            }),
            native: json!({
                "allow_origin_string_match": [{"exact": "https://app.example.com"}],
                "allow_methods": "PUT",
                "expose_headers": "x-request-id"
            }),
            native_admin: Some(json!({
                "allow_origin_string_match": [{"exact": "https://admin.example.com"}],
                "allow_methods": "DELETE"
            })),
        },
        policy(
            "forward",
            json!({"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"], "unmatched_preflights": "forward"}),
            // forward_not_matching_preflights defaults to true.
            json!({"allow_origin_string_match": [{"exact": "https://app.example.com"}], "allow_methods": "PUT"}),
        ),
    ]
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) policy: &'static str,
    pub(crate) script: ScriptRequest,
    /// What the plugin's answer lets the script see.
    plugin: Seen,
    /// `None`: native must give the very same verdict. `Some`: a named,
    /// deliberate difference, and what native's answer lets the script see.
    differs: Option<(&'static str, Seen)>,
}

fn case(name: &'static str, policy: &'static str, origin: &str, method: &str) -> Case {
    Case {
        name,
        policy,
        script: ScriptRequest {
            origin: origin.to_string(),
            method: method.to_string(),
            path: "/".to_string(),
            headers: Vec::new(),
            credentials: false,
        },
        plugin: OK,
        differs: None,
    }
}

impl Case {
    fn header(mut self, name: &str, value: &str) -> Case {
        self.script
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }
    fn credentials(mut self) -> Case {
        self.script.credentials = true;
        self
    }
    fn path(mut self, path: &str) -> Case {
        self.script.path = path.to_string();
        self
    }
    fn sees(mut self, plugin: Seen) -> Case {
        self.plugin = plugin;
        self
    }
    fn differs(mut self, difference: &'static str, native: Seen) -> Case {
        self.differs = Some((difference, native));
        self
    }
}

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

pub(crate) fn cases() -> Vec<Case> {
    let a128 = "a".repeat(128);
    let a129 = "a".repeat(129);
    vec![
        // A credentialed policy with exact, subdomain and regex origins.
        case("GET with credentials, allowed origin", "credentialed", APP, "GET").credentials(),
        case("GET without credentials, allowed origin", "credentialed", APP, "GET"),
        case("GET, disallowed origin", "credentialed", EVIL, "GET").credentials().sees(ACTUAL),
        case("GET, one-label subdomain", "credentialed", "https://api.example.com", "GET").credentials(),
        case("GET, two-label subdomain", "credentialed", "https://a.b.example.com", "GET").credentials(),
        case("GET, the bare domain of the wildcard", "credentialed", "https://example.com", "GET").sees(ACTUAL),
        case("GET, suffix trick evilexample.com", "credentialed", "https://evilexample.com", "GET").sees(ACTUAL),
        case("GET, http scheme for an https origin", "credentialed", "http://app.example.com", "GET").sees(ACTUAL),
        case("GET, example.com.evil.io", "credentialed", "https://api.example.com.evil.io", "GET").sees(ACTUAL),
        case("GET, regex origin", "credentialed", "https://pr-42.preview.example.net", "GET").credentials(),
        case("GET, regex is anchored", "credentialed", "https://pr-42.preview.example.net.evil.io", "GET").sees(ACTUAL),
        case("PUT with content-type application/json", "credentialed", APP, "PUT").credentials().header("content-type", "application/json"),
        case("DELETE with authorization listed by name", "credentialed", APP, "DELETE").credentials().header("authorization", "Bearer t"),
        case("PATCH, a method not allowed", "credentialed", APP, "PATCH").credentials().sees(PREFLIGHT),
        case("PUT with an unlisted header", "credentialed", APP, "PUT").header("x-custom", "1").sees(PREFLIGHT),
        case("PUT from a disallowed origin", "credentialed", EVIL, "PUT").credentials().sees(PREFLIGHT),
        case("GET with a 128-byte accept: no preflight", "credentialed", APP, "GET").header("accept", &a128),
        case("GET with a 129-byte accept: preflight, accept not listed", "credentialed", APP, "GET").header("accept", &a129).sees(PREFLIGHT),
        case("POST text/plain;charset=utf-8: no preflight", "credentialed", APP, "POST").header("content-type", "text/plain;charset=utf-8"),
        case("POST application/json: preflight, content-type listed", "credentialed", APP, "POST").header("content-type", "application/json"),
        case("GET with range bytes=0-: no preflight", "credentialed", APP, "GET").header("range", "bytes=0-"),
        case("GET with a multi-range: preflight, range not listed", "credentialed", APP, "GET").header("range", "bytes=0-1, 3-4").sees(PREFLIGHT),
        case("GET with accept-language: no preflight", "credentialed", APP, "GET").header("accept-language", "en-US,en;q=0.9"),
        case("GET with an unsafe content-language: preflight", "credentialed", APP, "GET").header("content-language", "de(x)").sees(PREFLIGHT),
        case("GET from the null origin", "credentialed", "null", "GET").sees(ACTUAL),
        case("upstream ACAO replaced for an allowed origin", "credentialed", APP, "GET").credentials().path("/?set=access-control-allow-origin:*"),
        case("upstream expose-headers replaced", "credentialed", APP, "GET").path("/?set=access-control-expose-headers:x-secret&set=x-secret:1&set=x-request-id:2"),
        case("upstream ACAO * for a disallowed origin", "credentialed", EVIL, "GET")
            .path("/?set=access-control-allow-origin:*")
            .sees(ACTUAL)
            .differs(UPSTREAM_HEADERS_REMOVED, OK),
        case("upstream ACAO and credentials for a disallowed origin", "credentialed", EVIL, "GET")
            .credentials()
            .path("/?set=access-control-allow-origin:https://evil.example&set=access-control-allow-credentials:true")
            .sees(ACTUAL)
            .differs(UPSTREAM_HEADERS_REMOVED, OK),
        // Everything allowed, no credentials.
        case("*: PATCH with a custom header", "star", APP, "PATCH").header("x-custom", "1"),
        case("*: a custom method", "star", APP, "PURGE"),
        case("*: GET, every header readable", "star", EVIL, "GET").path("/?set=x-secret:1"),
        case("*: GET from the null origin", "star", "null", "GET"),
        case("*: GET with credentials", "star", APP, "GET").credentials().sees(ACTUAL),
        case("*: PUT with credentials", "star", APP, "PUT").credentials().header("x-custom", "1").sees(PREFLIGHT),
        case("*: DELETE with authorization", "star", APP, "DELETE")
            .header("authorization", "Bearer t")
            .sees(PREFLIGHT)
            .differs(AUTHORIZATION_UNDER_STAR, OK),
        case("*: PUT with authorization and a custom header", "star", EVIL, "PUT")
            .header("authorization", "Bearer t")
            .header("x-custom", "1")
            .sees(PREFLIGHT)
            .differs(AUTHORIZATION_UNDER_STAR, OK),
        // No credentials allowed; native told not to forward.
        case("GET with credentials, not allowed by the policy", "plain", APP, "GET").credentials().sees(ACTUAL),
        case("PUT with a listed header", "plain", APP, "PUT").header("x-api-key", "k"),
        case("DELETE, not allowed", "plain", APP, "DELETE").sees(PREFLIGHT),
        case("PUT from a disallowed origin", "plain", EVIL, "PUT").sees(PREFLIGHT),
        case("exposed and unexposed headers", "plain", APP, "GET").path("/?set=x-request-id:1&set=x-secret:2"),
        case("lowercase patch is not PATCH", "plain", APP, "patch").sees(PREFLIGHT),
        // Envoy-style matchers, as people migrating write them.
        case("suffix matcher", "matchers", "https://a.example.org", "GET"),
        case("suffix matcher ignores the scheme", "matchers", "http://a.example.org", "GET"),
        case("prefix matcher", "matchers", "https://partner-x.example.com", "GET"),
        case("exact matcher, ignore_case", "matchers", "https://app.example.net", "GET"),
        case("contains matcher", "matchers", "https://my-staging.example.io", "GET"),
        case("no matcher matches", "matchers", "https://example.org.evil.com", "GET").sees(ACTUAL),
        case("PUT, no methods configured", "matchers", "https://a.example.org", "PUT").sees(PREFLIGHT),
        // Defaults: only safelisted methods and headers.
        case("defaults: POST text/plain", "defaults", APP, "POST").header("content-type", "text/plain"),
        case("defaults: HEAD", "defaults", APP, "HEAD"),
        case("defaults: PUT", "defaults", APP, "PUT").sees(PREFLIGHT),
        case("defaults: GET with a custom header", "defaults", APP, "GET").header("x-custom", "1").sees(PREFLIGHT),
        // Another policy for /admin/.
        case("rules: top level", "rules", APP, "PUT").path("/x"),
        case("rules: /admin/ from its origin", "rules", "https://admin.example.com", "DELETE").path("/admin/x"),
        case("rules: /admin/ refuses the top-level origin", "rules", APP, "PUT").path("/admin/x").sees(PREFLIGHT),
        case("rules: /admin/ refuses the top-level method", "rules", "https://admin.example.com", "PUT").path("/admin/x").sees(PREFLIGHT),
        case("rules: /admin/ inherits expose_headers", "rules", "https://admin.example.com", "GET").path("/admin/x?set=x-request-id:1"),
        // Unmatched preflights forwarded to an upstream that answers OPTIONS.
        case("forward: allowed PUT", "forward", APP, "PUT"),
        case("forward: PATCH, the upstream does not allow it", "forward", APP, "PATCH").sees(PREFLIGHT),
        case("forward: PATCH, the upstream allows it", "forward", APP, "PATCH")
            .path("/?set=access-control-allow-origin:https://app.example.com&set=access-control-allow-methods:PATCH")
            .differs(FORWARD_ANY_MISMATCH, PREFLIGHT),
        case("forward: disallowed origin, the upstream does not allow it", "forward", EVIL, "PUT").sees(PREFLIGHT),
        case("forward: disallowed origin, the upstream allows it", "forward", EVIL, "PUT")
            .path("/?set=access-control-allow-origin:https://evil.example&set=access-control-allow-methods:PUT")
            .sees(ACTUAL)
            .differs(UPSTREAM_HEADERS_REMOVED, OK),
    ]
}

/// The native filter on every route, its policy per virtual host (and route).
pub(crate) fn native_listener(name: &str, policy: &Policy) -> Value {
    let per_filter = |p: &Value| {
        let mut typed = p.clone();
        typed["@type"] =
            json!("type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy");
        json!({"envoy.filters.http.cors": typed})
    };
    let mut routes = Vec::new();
    if let Some(admin) = &policy.native_admin {
        routes.push(json!({
            "match": {"prefix": "/admin/"},
            "route": {"cluster": "upstream"},
            "typed_per_filter_config": per_filter(admin),
        }));
    }
    routes.push(json!({"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}));
    let route_config = json!({"virtual_hosts": [{
        "name": "all", "domains": ["*"], "routes": routes,
        "typed_per_filter_config": per_filter(&policy.native),
    }]});
    let cors = json!({
        "name": "envoy.filters.http.cors",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}
    });
    envoy::listener(name, vec![cors, envoy::router()], route_config)
}

pub(crate) fn describe(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Resolved { status, readable } => {
            format!("resolved {status}, JS reads {readable:?}")
        }
        Verdict::Blocked { at, reason } => format!("blocked at {at:?}: {reason}"),
    }
}

#[test]
fn plugin_and_native_filter_give_browsers_the_same_verdicts() {
    let policies = policies();
    let upstream = Upstream::start();
    let mut listeners = Vec::new();
    for p in &policies {
        listeners.push(native_listener(&format!("native-{}", p.name), p));
        listeners.push(envoy::listener(
            &format!("plugin-{}", p.name),
            vec![envoy::cors_filter(&p.plugin.to_string()), envoy::router()],
            envoy::route_to("upstream"),
        ));
    }
    let bootstrap = envoy::bootstrap(listeners, vec![envoy::cluster("upstream", upstream.port)]);
    let envoy =
        Envoy::start(&bootstrap).unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));

    let cases = cases();
    for c in &cases {
        assert!(
            policies.iter().any(|p| p.name == c.policy),
            "{}: no policy {}",
            c.name,
            c.policy
        );
    }
    run_cases(
        &cases,
        |c| format!("[{}] {}", c.policy, c.name),
        |c| {
            let (native, native_trace) = fetch::fetch(
                envoy.listener_port(&format!("native-{}", c.policy)),
                &c.script,
            );
            let (plugin, plugin_trace) = fetch::fetch(
                envoy.listener_port(&format!("plugin-{}", c.policy)),
                &c.script,
            );
            let mut problems = Vec::new();
            if seen(&plugin) != c.plugin {
                problems.push(format!("plugin: {:?}, want {:?}", seen(&plugin), c.plugin));
            }
            match c.differs {
                None if !plugin.same_as(&native) => {
                    problems.push("plugin and native disagree".to_string())
                }
                Some((difference, want)) if seen(&native) != want => problems.push(format!(
                    "native: {:?}, want {want:?} (the difference \"{difference}\")",
                    seen(&native)
                )),
                _ => {}
            }
            if problems.is_empty() {
                return Ok(());
            }
            let trace = |t: &[fetch::Exchange]| {
                t.iter()
                    .map(|e| format!("\n        {e}"))
                    .collect::<String>()
            };
            Err(format!(
                "{}\n      {:?}\n      plugin: {}{}\n      native: {}{}",
                problems.join("; "),
                c.script,
                describe(&plugin),
                trace(&plugin_trace),
                describe(&native),
                trace(&native_trace),
            ))
        },
    );

    // The configuration case of the test below counts as one more case.
    let differing: Vec<&Case> = cases.iter().filter(|c| c.differs.is_some()).collect();
    println!(
        "differential suite: {} cases ({} requests, 1 configuration in star_with_credentials_*): {} agree, {} deliberate differences:",
        cases.len() + 1,
        cases.len(),
        cases.len() - differing.len(),
        differing.len() + 1
    );
    for name in [
        AUTHORIZATION_UNDER_STAR,
        UPSTREAM_HEADERS_REMOVED,
        FORWARD_ANY_MISMATCH,
    ] {
        let n = differing
            .iter()
            .filter(|c| c.differs.map(|d| d.0) == Some(name))
            .count();
        assert!(n > 0, "no case shows the difference {name:?}");
        println!("  {n} x {name}");
    }
    println!("  1 x {STAR_WITH_CREDENTIALS} (configuration)");
    assert!(cases.len() + 1 >= 40);
}

/// The difference no request can show: native accepts `*` (or any matcher
/// that matches everything) with credentials and then reflects every origin
/// with `access-control-allow-credentials: true`; the plugin refuses to load.
#[test]
fn star_with_credentials_reflects_any_origin_natively_and_is_refused_by_the_plugin() {
    let upstream = Upstream::start();
    let native = Policy {
        name: "star-credentials",
        plugin: json!({}),
        native: json!({"allow_origin_string_match": [{"exact": "*"}], "allow_credentials": true}),
        native_admin: None,
    };
    let envoy = Envoy::start(&envoy::bootstrap(
        vec![native_listener("native", &native)],
        vec![envoy::cluster("upstream", upstream.port)],
    ))
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let script = ScriptRequest {
        origin: EVIL.to_string(),
        method: "GET".to_string(),
        path: "/".to_string(),
        headers: Vec::new(),
        credentials: true,
    };
    let (verdict, trace) = fetch::fetch(envoy.port(), &script);
    assert_eq!(
        seen(&verdict),
        OK,
        "native with * and credentials: {}\n{}",
        describe(&verdict),
        trace
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );

    let config = r#"{"allow_origins": ["*"], "allow_credentials": true}"#;
    let (code, log) = envoy::expect_refusal(&envoy::bootstrap(
        vec![envoy::listener(
            "plugin",
            vec![envoy::cors_filter(config), envoy::router()],
            envoy::route_to("upstream"),
        )],
        vec![envoy::cluster("upstream", upstream.port)],
    ));
    assert!(
        code.is_some_and(|c| c != 0),
        "plugin with * and credentials: exit {code:?}\n{log}"
    );
    let want = r#"allow_origins[0] = "*": is not allowed with allow_credentials: true"#;
    assert!(log.contains(want), "log lacks {want:?}:\n{log}");
    println!("differential: \"{STAR_WITH_CREDENTIALS}\": native resolves a credentialed GET from {EVIL}; the plugin's configuration is refused");
}
