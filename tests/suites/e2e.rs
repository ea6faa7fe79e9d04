//! The plugin in a real Envoy: every behaviour of the README's table, asserted
//! on exact statuses and header values, the same table over HTTP/1.1, HTTP/2
//! in cleartext (h2c) and HTTP/2 over TLS (ALPN). Needs `ENVOY` (set by
//! `make test`), curl and openssl.

use crate::common;

use common::cases::{case, check_logged, Case, Transport};
use common::curl::H2;
use common::envoy::{self, Envoy};
use common::http::Request;
use common::run_cases;
use common::tls::TestCert;
use common::upstream::Upstream;
use serde_json::Value;

use crate::fixtures::{actual_ok, preflight_ok, CREDENTIALED};

const PREFLIGHT_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers";

/// Every case over each transport: `cors` (cleartext: HTTP/1.1 and h2c) and
/// `cors-tls` (TLS with ALPN h2, http/1.1) listeners, one filter configuration.
fn run(config: &str, cases: &[Case]) -> (Envoy, Upstream) {
    let upstream = Upstream::start();
    let cert = TestCert::new();
    // Each case's access-log entry is checked: the policy records them.
    let mut config: Value = serde_json::from_str(config).unwrap();
    config["access_log"] = true.into();
    let config = config.to_string();
    let listener = |name| {
        envoy::listener(
            name,
            vec![envoy::cors_filter(&config), envoy::router()],
            envoy::route_to("upstream"),
        )
    };
    let envoy = Envoy::start_logging(
        &envoy::bootstrap(
            vec![listener("cors"), cert.listener(listener("cors-tls"))],
            vec![envoy::cluster("upstream", upstream.port)],
        ),
        &[],
    )
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let runs = [
        ("cors", Transport::Http1),
        ("cors", Transport::Http2(H2::Cleartext)),
        ("cors-tls", Transport::Http2(H2::Tls(&cert.cert))),
    ];
    // Every case says what the access log shows for it.
    let unlogged: Vec<&str> = cases
        .iter()
        .filter(|c| c.logged.is_none())
        .map(|c| c.name)
        .collect();
    assert!(unlogged.is_empty(), "cases without .logged(): {unlogged:?}");
    let all: Vec<(&str, Transport, &Case)> = runs
        .iter()
        .flat_map(|&(listener, transport)| cases.iter().map(move |c| (listener, transport, c)))
        .collect();
    run_cases(
        &all,
        |(_, transport, c)| format!("{}: {}", transport.name(), c.name),
        |&(listener, transport, c)| check_logged(&envoy, listener, &upstream, c, transport),
    );
    (envoy, upstream)
}

fn cases_with(headers: Vec<(&'static str, String)>, mut case: Case) -> Case {
    case.cors = headers;
    case
}

#[test]
fn credentialed_policy() {
    let app = "https://app.example.com";
    // Longer than the 128 bytes the module keeps inline between the request and the response.
    let long = format!(
        "https://{}.{}.{}.example.com",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(20)
    );
    let pf = |o: &str, m: &str| Request::preflight("/api/items", o, m);
    let cases = vec![
        cases_with(actual_ok(&long), case("actual GET, allowed origin of 162 bytes", Request::get("/api/items").header("origin", &long), 200).logged("actual_allowed - top").vary("origin")),
        cases_with(preflight_ok(app), case("preflight, exact origin", pf(app, "PUT").header("access-control-request-headers", "content-type,x-api-key"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        cases_with(preflight_ok("https://api.example.com"), case("preflight, subdomain wildcard", pf("https://api.example.com", "DELETE"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        cases_with(preflight_ok("https://a.b.example.com"), case("preflight, two-label subdomain", pf("https://a.b.example.com", "PUT"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        cases_with(preflight_ok("http://localhost:5173"), case("preflight, port wildcard", pf("http://localhost:5173", "PUT"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        cases_with(preflight_ok("https://pr-42.preview.example.com"), case("preflight, regex origin", pf("https://pr-42.preview.example.com", "PUT"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        cases_with(preflight_ok(app), case("preflight, safelisted method, no headers", pf(app, "GET"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        cases_with(preflight_ok(app), case("preflight, header list in any case with spaces", pf(app, "PUT").header("access-control-request-headers", " Content-Type , X-API-Key ,Authorization"), 204).logged("preflight_allowed - top").vary(PREFLIGHT_VARY).local()),
        case("preflight rejected: unknown origin", pf("https://evil.com", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: bare domain of a wildcard", pf("https://example.com", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: suffix trick evilexample.com", pf("https://evilexample.com", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: example.com.evil.com", pf("https://api.example.com.evil.com", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: http scheme for an https origin", pf("http://app.example.com", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: regex is anchored", pf("https://pr-1.preview.example.com.evil.io", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: method", pf(app, "PATCH"), 403).logged("preflight_rejected method_not_allowed:PATCH top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: method case (put)", pf(app, "put"), 403).logged("preflight_rejected method_not_allowed:put top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: header", pf(app, "PUT").header("access-control-request-headers", "content-type,x-custom"), 403).logged("preflight_rejected header_not_allowed:x-custom top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: null origin not listed", pf("null", "PUT"), 403).logged("preflight_rejected origin_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: Origin is not an origin (trailing slash)", pf("https://app.example.com/", "PUT"), 403).logged("preflight_rejected origin_invalid top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: a method that is not a token is not logged", pf(app, "PUT,DELETE"), 403).logged("preflight_rejected method_not_allowed top").vary(PREFLIGHT_VARY).local(),
        case("preflight rejected: the header logged lowercase", pf(app, "PUT").header("access-control-request-headers", "Content-Type,X-Custom"), 403).logged("preflight_rejected header_not_allowed:x-custom top").vary(PREFLIGHT_VARY).local(),
        cases_with(actual_ok(app), case("actual GET, allowed origin", Request::get("/api/items").header("origin", app), 200).logged("actual_allowed - top").vary("origin")),
        cases_with(actual_ok("https://api.example.com"), case("actual POST, wildcard origin", Request::new("POST", "/api/items").header("origin", "https://api.example.com").header("content-length", "0"), 200).logged("actual_allowed - top").vary("origin")),
        case("actual GET, disallowed origin", Request::get("/api/items").header("origin", "https://evil.com"), 200).logged("actual_disallowed origin_not_allowed top").vary("origin"),
        case("actual GET, no origin", Request::get("/api/items"), 200).logged("no_origin - top").vary("origin"),
        case("actual GET, Origin is not an origin", Request::get("/api/items").header("origin", "app.example.com"), 200).logged("actual_disallowed origin_invalid top").vary("origin"),
        cases_with(actual_ok(app), case("upstream CORS headers replaced, not duplicated", Request::get("/api?set=access-control-allow-origin:*&set=access-control-allow-credentials:false&set=access-control-expose-headers:x-secret").header("origin", app), 200).logged("actual_allowed - top").vary("origin")),
        case("upstream CORS headers stripped for a disallowed origin", Request::get("/api?set=access-control-allow-origin:https://evil.com&set=access-control-allow-credentials:true&set=access-control-allow-methods:GET").header("origin", "https://evil.com"), 200).logged("actual_disallowed origin_not_allowed top").vary("origin"),
        case("upstream CORS headers stripped without origin", Request::get("/api?set=access-control-allow-origin:*"), 200).logged("no_origin - top").vary("origin"),
        cases_with(actual_ok(app), case("origin appended to the upstream's vary", Request::get("/api?set=vary:accept-encoding").header("origin", app), 200).logged("actual_allowed - top").vary("accept-encoding,origin")),
        cases_with(actual_ok(app), case("upstream vary already has origin", Request::get("/api?set=vary:Origin").header("origin", app), 200).logged("actual_allowed - top").vary("Origin")),
        cases_with(actual_ok(app), case("upstream vary *", Request::get("/api?set=vary:*").header("origin", app), 200).logged("actual_allowed - top").vary("*")),
        cases_with(actual_ok(app), case("OPTIONS without request method is an actual request", Request::new("OPTIONS", "/api").header("origin", app), 200).logged("actual_allowed - top").vary("origin")),
        case("OPTIONS without origin is an actual request", Request::new("OPTIONS", "/api").header("access-control-request-method", "PUT"), 200).logged("no_origin - top").vary("origin"),
    ];
    let (envoy, upstream) = run(CREDENTIALED, &cases);
    // Only actual requests reached the upstream, and they arrived unchanged.
    assert!(upstream.seen().iter().all(|s| s
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("access-control-allow"))));
    drop(envoy);
}

#[test]
fn allow_all_without_credentials() {
    let config = r#"{"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"], "max_age": 0}"#;
    let any = vec![
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "*"),
        ("access-control-allow-headers", "*"),
        ("access-control-expose-headers", "*"),
        ("access-control-max-age", "0"),
    ];
    let pf = |o: &str, m: &str| Request::preflight("/", o, m);
    let cases = vec![
        case("preflight from any origin gets *", pf("https://anyone.example", "PATCH").header("access-control-request-headers", "x-anything"), 204).logged("preflight_allowed - top").cors(&any).vary(PREFLIGHT_VARY).local(),
        case("preflight from null gets *", pf("null", "PUT"), 204).logged("preflight_allowed - top").cors(&any).vary(PREFLIGHT_VARY).local(),
        case("* never covers authorization", pf("https://anyone.example", "GET").header("access-control-request-headers", "x-a,authorization"), 403).logged("preflight_rejected header_not_allowed:authorization top").vary(PREFLIGHT_VARY).local(),
        case("* never covers forbidden methods", pf("https://anyone.example", "CONNECT"), 403).logged("preflight_rejected method_not_allowed:CONNECT top").vary(PREFLIGHT_VARY).local(),
        case("actual with origin: *, no vary", Request::get("/").header("origin", "https://anyone.example"), 200).logged("actual_allowed - top").cors(&[("access-control-allow-origin", "*"), ("access-control-expose-headers", "*")]),
        case("actual without origin: * too, so caches stay right", Request::get("/"), 200).logged("no_origin - top").cors(&[("access-control-allow-origin", "*"), ("access-control-expose-headers", "*")]),
        case("upstream ACAO replaced by *", Request::get("/?set=access-control-allow-origin:https://x.example&set=access-control-allow-credentials:true").header("origin", "https://anyone.example"), 200).logged("actual_allowed - top").cors(&[("access-control-allow-origin", "*"), ("access-control-expose-headers", "*")]),
    ];
    run(config, &cases);
}

/// `*` methods and headers with credentials (jub0bs/cors, Gateway API's
/// HTTPCORSFilter): a preflight from a listed origin gets the requested method
/// and headers echoed, never a literal `*`; `authorization` still only by name.
#[test]
fn credentialed_star_echoes_method_and_headers() {
    let config = r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["*"], "allow_headers": ["*"], "allow_credentials": true}"#;
    let app = "https://app.example.com";
    let echo = |method: &str, headers: Option<&str>| {
        let mut cors = vec![
            ("access-control-allow-origin", app.to_string()),
            ("access-control-allow-methods", method.to_string()),
        ];
        if let Some(h) = headers {
            cors.push(("access-control-allow-headers", h.to_string()));
        }
        cors.push(("access-control-allow-credentials", "true".to_string()));
        cors
    };
    let pf = |o: &str, m: &str| Request::preflight("/", o, m);
    let cases = vec![
        cases_with(
            echo("PATCH", Some("x-a,x-b")),
            case(
                "PATCH with two headers: both echoed",
                pf(app, "PATCH").header("access-control-request-headers", "x-a,x-b"),
                204,
            )
            .logged("preflight_allowed - top")
            .vary(PREFLIGHT_VARY)
            .local(),
        ),
        cases_with(
            echo("PURGE", None),
            case("a custom method, no headers", pf(app, "PURGE"), 204)
                .logged("preflight_allowed - top")
                .vary(PREFLIGHT_VARY)
                .local(),
        ),
        case(
            "authorization is not covered by *",
            pf(app, "PUT").header("access-control-request-headers", "authorization"),
            403,
        )
        .logged("preflight_rejected header_not_allowed:authorization top")
        .vary(PREFLIGHT_VARY)
        .local(),
        case(
            "another origin: refused",
            pf("https://evil.example", "PUT"),
            403,
        )
        .logged("preflight_rejected origin_not_allowed top")
        .vary(PREFLIGHT_VARY)
        .local(),
    ];
    run(config, &cases);
}

#[test]
fn forward_unmatched_preflights() {
    let config = r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"], "unmatched_preflights": "forward"}"#;
    let cases = vec![
        case(
            "allowed preflight still answered locally",
            Request::preflight("/", "https://app.example.com", "PUT"),
            204,
        )
        .logged("preflight_allowed - top")
        .cors(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-methods", "PUT"),
        ])
        .vary(PREFLIGHT_VARY)
        .local(),
        // The upstream answers OPTIONS itself; the plugin leaves its answer alone.
        case(
            "unmatched preflight reaches the upstream untouched",
            Request::preflight(
                "/?set=access-control-allow-origin:https://upstream.example",
                "https://other.example",
                "PUT",
            ),
            200,
        )
        .logged("preflight_forwarded origin_not_allowed top")
        .cors(&[("access-control-allow-origin", "https://upstream.example")]),
        case(
            "preflight with a disallowed method is forwarded",
            Request::preflight("/", "https://app.example.com", "PATCH"),
            200,
        )
        .logged("preflight_forwarded method_not_allowed:PATCH top"),
    ];
    run(config, &cases);
}

#[test]
fn rules_per_host_and_path() {
    let config = r#"{
      "allow_origins": ["https://app.example.com"],
      "allow_methods": ["PUT"],
      "rules": [
        {"hosts": ["admin.example.com"], "path_prefix": "/api/", "allow_origins": ["https://admin.example.com"]},
        {"hosts": ["*.internal.example.com"], "enabled": false},
        {"path_prefix": "/public/", "allow_origins": ["*"], "allow_methods": ["GET"]}
      ]
    }"#;
    let admin = "https://admin.example.com";
    let app = "https://app.example.com";
    let put = |o: &str| {
        vec![
            ("access-control-allow-origin", o.to_string()),
            ("access-control-allow-methods", "PUT".to_string()),
        ]
    };
    let cases = vec![
        cases_with(
            put(admin),
            case(
                "rule: admin origin on admin host /api/",
                Request::preflight("/api/users", admin, "PUT"),
                204,
            )
            .logged("preflight_allowed - rules[0]")
            .host("admin.example.com")
            .vary(PREFLIGHT_VARY)
            .local(),
        ),
        cases_with(
            put(admin),
            case(
                "rule: host match ignores port and case",
                Request::preflight("/api/users", admin, "PUT"),
                204,
            )
            .logged("preflight_allowed - rules[0]")
            .host("Admin.Example.com:10000")
            .vary(PREFLIGHT_VARY)
            .local(),
        ),
        case(
            "rule: top-level origin refused under the rule",
            Request::preflight("/api/users", app, "PUT"),
            403,
        )
        .logged("preflight_rejected origin_not_allowed rules[0]")
        .host("admin.example.com")
        .vary(PREFLIGHT_VARY)
        .local(),
        cases_with(
            put(app),
            case(
                "rule: other path on admin host uses top level",
                Request::preflight("/other", app, "PUT"),
                204,
            )
            .logged("preflight_allowed - top")
            .host("admin.example.com")
            .vary(PREFLIGHT_VARY)
            .local(),
        ),
        case(
            "rule: disabled host forwards preflights untouched",
            Request::preflight(
                "/x?set=access-control-allow-origin:https://mine.example",
                "https://evil.com",
                "PUT",
            ),
            200,
        )
        .logged("disabled - rules[1]")
        .host("db.internal.example.com")
        .cors(&[("access-control-allow-origin", "https://mine.example")]),
        case(
            "rule: disabled host leaves actual responses alone",
            Request::get("/x?set=access-control-allow-origin:*")
                .header("origin", "https://evil.com"),
            200,
        )
        .logged("disabled - rules[1]")
        .host("db.internal.example.com")
        .cors(&[("access-control-allow-origin", "*")]),
        case(
            "rule: path-only rule with * origins",
            Request::preflight("/public/feed", "https://anyone.example", "GET"),
            204,
        )
        .logged("preflight_allowed - rules[2]")
        .host("www.example.com")
        .cors(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET"),
        ])
        .vary(PREFLIGHT_VARY)
        .local(),
        case(
            "rule: path-only rule inherits nothing it overrides (PUT not allowed)",
            Request::preflight("/public/feed", "https://anyone.example", "PUT"),
            403,
        )
        .logged("preflight_rejected method_not_allowed:PUT rules[2]")
        .host("www.example.com")
        .vary(PREFLIGHT_VARY)
        .local(),
        cases_with(
            vec![("access-control-allow-origin", admin.to_string())],
            case(
                "rule: actual request under a rule",
                Request::get("/api/users").header("origin", admin),
                200,
            )
            .logged("actual_allowed - rules[0]")
            .host("admin.example.com")
            .vary("origin"),
        ),
    ];
    run(config, &cases);
}

#[test]
fn private_network_access() {
    let config = r#"{"allow_origins": ["https://app.example.com"], "allow_private_network": true}"#;
    let vary = "origin, access-control-request-method, access-control-request-headers, access-control-request-private-network";
    let base = [
        ("access-control-allow-origin", "https://app.example.com"),
        ("access-control-allow-methods", "GET, HEAD, POST"),
    ];
    let cases = vec![
        case(
            "private network requested and allowed",
            Request::preflight("/", "https://app.example.com", "GET")
                .header("access-control-request-private-network", "true"),
            204,
        )
        .logged("preflight_allowed - top")
        .cors(&[
            base[0],
            base[1],
            ("access-control-allow-private-network", "true"),
        ])
        .vary(vary)
        .local(),
        case(
            "private network not requested",
            Request::preflight("/", "https://app.example.com", "GET"),
            204,
        )
        .logged("preflight_allowed - top")
        .cors(&base)
        .vary(vary)
        .local(),
        case(
            "a request value other than true grants nothing and fails nothing",
            Request::preflight("/", "https://app.example.com", "GET")
                .header("access-control-request-private-network", "yes"),
            204,
        )
        .logged("preflight_allowed - top")
        .cors(&base)
        .vary(vary)
        .local(),
    ];
    run(config, &cases);
}

/// Private Network Access is legacy (Chrome 142 replaced it with the Local
/// Network Access prompt): its request header alone never fails a preflight.
#[test]
fn private_network_request_never_fails_a_preflight_on_its_own() {
    let config = r#"{"allow_origins": ["https://app.example.com"]}"#;
    let vary = "origin, access-control-request-method, access-control-request-headers";
    let cases = vec![
        case(
            "requested but not configured: allowed without the grant",
            Request::preflight("/", "https://app.example.com", "GET")
                .header("access-control-request-private-network", "true"),
            204,
        )
        .logged("preflight_allowed - top")
        .cors(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-methods", "GET, HEAD, POST"),
        ])
        .vary(vary)
        .local(),
        case(
            "refused for its origin, as without the header",
            Request::preflight("/", "https://evil.example", "GET")
                .header("access-control-request-private-network", "true"),
            403,
        )
        .logged("preflight_rejected origin_not_allowed top")
        .vary(vary)
        .local(),
    ];
    run(config, &cases);
}

/// Without `"access_log": true` (the default) the filter records nothing, so
/// nobody pays for a host call they do not log: the access log prints `-`.
#[test]
fn nothing_recorded_by_default() {
    let config = r#"{"allow_origins": ["https://app.example.com"]}"#;
    let upstream = Upstream::start();
    let envoy = Envoy::start_logging(
        &envoy::bootstrap(
            vec![envoy::listener(
                "cors",
                vec![envoy::cors_filter(config), envoy::router()],
                envoy::route_to("upstream"),
            )],
            vec![envoy::cluster("upstream", upstream.port)],
        ),
        &[],
    )
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let cases = [
        case(
            "allowed preflight",
            Request::preflight("/", "https://app.example.com", "GET"),
            204,
        )
        .cors(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-methods", "GET, HEAD, POST"),
        ])
        .vary(PREFLIGHT_VARY)
        .local(),
        case(
            "refused preflight",
            Request::preflight("/", "https://evil.example", "GET"),
            403,
        )
        .vary(PREFLIGHT_VARY)
        .local(),
        case(
            "actual request",
            Request::get("/").header("origin", "https://evil.example"),
            200,
        )
        .vary("origin"),
    ];
    for c in &cases {
        let seen = envoy.access_log().len();
        check_logged(&envoy, "cors", &upstream, c, Transport::Http1)
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let lines = envoy.access_log_after(seen, 1);
        let entries: Vec<&str> = lines.iter().filter_map(|l| l.rsplit('|').next()).collect();
        assert_eq!(entries, ["-"], "{}: {lines:?}", c.name);
    }
}
