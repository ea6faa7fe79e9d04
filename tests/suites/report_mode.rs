//! Report mode in a real Envoy: the filter decides and counts every request
//! (`cors.report.*`), compares its decision with the answer of the CORS layer
//! in place, and changes nothing. Two layers are compared: Envoy's native CORS
//! filter placed after the filter, and an upstream that sets its own CORS
//! headers. Each request goes to a listener with the filter in report mode and
//! to the same chain without it: the responses must be byte for byte the same
//! (the date aside), the counters and debug lines exactly those listed.
//! Needs `ENVOY` (set by `make test`).

use crate::common;

use common::envoy::{self, Envoy};
use common::form::Form;
use common::http::{read_framed, Request};
use common::upstream::Upstream;
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// The policy being introduced, in report mode: another origin, DELETE, and
/// x-api-key are new; /public/ drops credentials.
const NEW_POLICY: &str = r#"{
  "mode": "report",
  "access_log": true,
  "allow_origins": ["https://app.example.com", "https://new.example.com"],
  "allow_methods": ["PUT", "DELETE"],
  "allow_headers": ["content-type", "x-api-key"],
  "allow_credentials": true,
  "rules": [{"path_prefix": "/public/", "allow_credentials": false}]
}"#;

/// The policy in place, as Envoy's native filter has it.
fn old_policy() -> Value {
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": "https://app.example.com"}, {"exact": "https://old.example.com"}],
        "allow_methods": "GET,PUT",
        "allow_headers": "content-type,x-old",
        "allow_credentials": true
    })
}

const APP: &str = "https://app.example.com";

/// `with` (the filter in report mode, then `rest`) and `without` (`rest`
/// alone), one route to the upstream; `policy` on the virtual host for the
/// native filter.
fn pair(rest: Vec<Value>, policy: Option<Value>) -> Vec<Value> {
    let routes = |_: &str| {
        let mut vhost = json!({
            "name": "all", "domains": ["*"],
            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}]
        });
        if let Some(policy) = &policy {
            vhost["typed_per_filter_config"] = json!({"envoy.filters.http.cors": policy});
        }
        json!({"virtual_hosts": [vhost]})
    };
    let mut with = vec![envoy::cors_filter(NEW_POLICY)];
    with.extend(rest.iter().cloned());
    vec![
        envoy::listener("with", with, routes("with")),
        envoy::listener("without", rest, routes("without")),
    ]
}

fn native_filter() -> Value {
    json!({
        "name": "envoy.filters.http.cors",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}
    })
}

/// The raw response, without the lines that change on every request.
fn raw(port: u16, request: &Request) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(&request.to_bytes("localhost")).unwrap();
    let data = read_framed(&mut stream, false).unwrap();
    String::from_utf8_lossy(&data)
        .split("\r\n")
        .filter(|l| !l.starts_with("date:") && !l.starts_with("x-envoy-upstream-service-time:"))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Sends each request to both listeners: the responses must be identical.
fn send_all(envoy: &Envoy, requests: &[(&str, Request)]) {
    let mut problems = Vec::new();
    for (name, request) in requests {
        let with = raw(envoy.listener_port("with"), request);
        let without = raw(envoy.listener_port("without"), request);
        if with != without {
            problems.push(format!(
                "{name}: the filter in report mode changed the response:\n--- with\n{with}\n--- without\n{without}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every `cors.*` counter that is not zero, by metric name.
fn counters(envoy: &Envoy) -> Vec<(String, u64)> {
    let prefix = Form::current().stat("cors.");
    let mut moved: Vec<(String, u64)> = envoy
        .stats_containing(&prefix)
        .into_iter()
        .filter(|(_, v)| *v > 0)
        .map(|(name, v)| (format!("cors.{}", &name[prefix.len()..]), v))
        .collect();
    moved.sort();
    moved
}

fn debug_lines(envoy: &Envoy) -> Vec<String> {
    envoy
        .log()
        .lines()
        .filter_map(|l| Form::current().log_message(l, "debug"))
        .collect()
}

/// The filter's access-log entry for each request, in order, once all
/// `requests` are logged: what it would have done (`report.*`). The listener
/// without the filter logs `-`.
fn entries(envoy: &Envoy, requests: usize) -> Vec<String> {
    let lines = envoy.access_log_after(0, 2 * requests);
    let entry = |line: &str| line.splitn(6, '|').nth(5).unwrap_or("").to_string();
    let without: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("without|"))
        .map(|l| entry(l))
        .collect();
    assert_eq!(without, vec!["-"; requests], "{lines:#?}");
    lines
        .iter()
        .filter(|l| l.starts_with("with|"))
        .map(|l| entry(l))
        .collect()
}

fn preflight(path: &str, origin: &str, method: &str) -> Request {
    Request::preflight(path, origin, method)
}

fn get(path: &str, origin: &str) -> Request {
    Request::get(path).header("origin", origin)
}

fn start(listeners: Vec<Value>, upstream: &Upstream) -> Envoy {
    Envoy::start_logging(
        &envoy::bootstrap(listeners, vec![envoy::cluster("upstream", upstream.port)]),
        &Form::current().debug_log_args(),
    )
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"))
}

fn want(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut want: Vec<(String, u64)> = pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    want.sort();
    want
}

#[test]
fn in_front_of_envoys_native_filter() {
    let upstream = Upstream::start();
    let envoy = start(
        pair(vec![native_filter(), envoy::router()], Some(old_policy())),
        &upstream,
    );
    #[rustfmt::skip]
    let requests = [
        ("1 preflight both allow", preflight("/a", APP, "PUT").header("access-control-request-headers", "content-type")),
        ("2 preflight both refuse the origin", preflight("/a", "https://evil.example", "PUT")),
        ("3 preflight only the new policy allows the origin", preflight("/a", "https://new.example.com", "PUT")),
        ("4 preflight only the new policy allows DELETE", preflight("/a", APP, "DELETE")),
        ("5 preflight for a safelisted method", preflight("/a", APP, "GET")),
        ("6 preflight only the new policy allows x-api-key", preflight("/a", APP, "PUT").header("access-control-request-headers", "x-api-key")),
        ("7 preflight only the old policy allows x-old", preflight("/a", APP, "PUT").header("access-control-request-headers", "x-old")),
        ("8 GET both allow", get("/a", APP)),
        ("9 GET only the new policy allows the origin", get("/a", "https://new.example.com")),
        ("10 GET without Origin", Request::get("/a")),
        ("11 GET /public/: only the old policy allows credentials", get("/public/x", APP)),
        ("12 GET only the old policy allows the origin", get("/a", "https://old.example.com")),
    ];
    send_all(&envoy, &requests);
    assert_eq!(
        counters(&envoy),
        want(&[
            ("cors.report.preflight_allowed", 5),
            ("cors.report.preflight_rejected_origin", 1),
            ("cors.report.preflight_rejected_headers", 1),
            ("cors.report.actual_allowed", 3),
            ("cors.report.actual_disallowed", 1),
            ("cors.report.no_origin", 1),
            ("cors.report.agreed", 4),
            ("cors.report.only_plugin_allowed", 4),
            ("cors.report.only_other_allowed", 3),
            ("cors.report.differs_origin", 3),
            ("cors.report.differs_method", 1),
            ("cors.report.differs_headers", 2),
            ("cors.report.differs_credentials", 1),
        ]),
        "nothing else may count, the enforcing counters least of all"
    );
    assert_eq!(debug_lines(&envoy), NATIVE_LINES);
    assert_eq!(entries(&envoy, requests.len()), NATIVE_ENTRIES);
    // The README's worked example shows these counters, as /stats lists them.
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let block = readme
        .split("<!-- report-counters:start -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n<!-- report-counters:end -->").next())
        .expect("README lacks the report-counters block");
    let mut stats: Vec<String> = counters(&envoy)
        .iter()
        .map(|(name, value)| format!("wasmcustom.{name}: {value}"))
        .collect();
    stats.sort();
    assert_eq!(block, stats.join("\n") + "\n", "README's worked example");
    assert!(
        NATIVE_LINES
            .iter()
            .any(|line| readme.contains(&format!("\n{line}\n"))),
        "README's sample debug line is not one the filter logs"
    );
}

/// The access-log entries of the requests above, in order.
const NATIVE_ENTRIES: [&str; 12] = [
    "report.preflight_allowed - top",
    "report.preflight_rejected origin_not_allowed top",
    "report.preflight_allowed - top",
    "report.preflight_allowed - top",
    "report.preflight_allowed - top",
    "report.preflight_allowed - top",
    "report.preflight_rejected header_not_allowed:x-old top",
    "report.actual_allowed - top",
    "report.actual_allowed - top",
    "report.no_origin - top",
    "report.actual_allowed - rules[0]",
    "report.actual_disallowed origin_not_allowed top",
];

/// What the filter logs at debug for the requests above, in order: what it
/// would do, then each disagreement with what the native filter answered.
const NATIVE_LINES: [&str; 18] = [
    r#"report: would answer the preflight from "https://app.example.com" with 204"#,
    r#"report: would answer 403: preflight rejected: origin not allowed: "https://evil.example""#,
    r#"report: would answer the preflight from "https://new.example.com" with 204"#,
    r#"report: preflight of "PUT" "/a" from "https://new.example.com": allowed only by the plugin (differs on origin); the plugin would answer status "204", access-control-allow-origin: "https://new.example.com", access-control-allow-credentials: "true", access-control-allow-methods: "PUT, DELETE", access-control-allow-headers: "content-type, x-api-key"; the other layer answered status "200""#,
    r#"report: would answer the preflight from "https://app.example.com" with 204"#,
    r#"report: preflight of "DELETE" "/a" from "https://app.example.com": allowed only by the plugin (differs on method); the plugin would answer status "204", access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true", access-control-allow-methods: "PUT, DELETE", access-control-allow-headers: "content-type, x-api-key"; the other layer answered status "200", access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true", access-control-allow-methods: "GET,PUT", access-control-allow-headers: "content-type,x-old""#,
    r#"report: would answer the preflight from "https://app.example.com" with 204"#,
    r#"report: would answer the preflight from "https://app.example.com" with 204"#,
    r#"report: preflight of "PUT" "/a" from "https://app.example.com", headers "x-api-key": allowed only by the plugin (differs on headers); the plugin would answer status "204", access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true", access-control-allow-methods: "PUT, DELETE", access-control-allow-headers: "content-type, x-api-key"; the other layer answered status "200", access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true", access-control-allow-methods: "GET,PUT", access-control-allow-headers: "content-type,x-old""#,
    r#"report: would answer 403: preflight rejected: request header not allowed: "x-old""#,
    r#"report: preflight of "PUT" "/a" from "https://app.example.com", headers "x-old": allowed only by the other layer (differs on headers); the plugin would answer status "403" (request header not allowed); the other layer answered status "200", access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true", access-control-allow-methods: "GET,PUT", access-control-allow-headers: "content-type,x-old""#,
    r#"report: would allow the actual request from "https://app.example.com""#,
    r#"report: would allow the actual request from "https://new.example.com""#,
    r#"report: "GET" "/a" from "https://new.example.com": allowed only by the plugin (differs on origin); the plugin would answer access-control-allow-origin: "https://new.example.com", access-control-allow-credentials: "true"; the other layer answered status "200""#,
    r#"report: would allow the actual request from "https://app.example.com""#,
    r#"report: "GET" "/public/x" from "https://app.example.com": allowed only by the other layer (differs on credentials); the plugin would answer access-control-allow-origin: "https://app.example.com"; the other layer answered status "200", access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true""#,
    r#"report: would not allow the actual request from "https://old.example.com""#,
    r#"report: "GET" "/a" from "https://old.example.com": allowed only by the other layer (differs on origin); the plugin would answer without access-control-allow-origin (origin not allowed); the other layer answered status "200", access-control-allow-origin: "https://old.example.com", access-control-allow-credentials: "true""#,
];

#[test]
fn in_front_of_an_upstream_that_sets_its_own_cors_headers() {
    let upstream = Upstream::start();
    let envoy = start(pair(vec![envoy::router()], None), &upstream);
    #[rustfmt::skip]
    let requests = [
        ("A both allow, with credentials", get("/a?set=access-control-allow-origin:https://app.example.com&set=access-control-allow-credentials:true", APP)),
        ("B the upstream allows any origin, without credentials", get("/a?set=access-control-allow-origin:*", APP)),
        ("C the upstream sends no CORS headers", get("/a", APP)),
        ("D a preflight the upstream answers", preflight("/a?set=access-control-allow-origin:https://app.example.com&set=access-control-allow-methods:PUT&set=access-control-allow-credentials:true", APP, "PUT")),
        ("E the upstream allows an origin the new policy does not", get("/a?set=access-control-allow-origin:https://evil.example", "https://evil.example")),
    ];
    send_all(&envoy, &requests);
    assert_eq!(
        counters(&envoy),
        want(&[
            ("cors.report.preflight_allowed", 1),
            ("cors.report.actual_allowed", 3),
            ("cors.report.actual_disallowed", 1),
            ("cors.report.agreed", 2),
            ("cors.report.only_plugin_allowed", 2),
            ("cors.report.only_other_allowed", 1),
            ("cors.report.differs_origin", 2),
            ("cors.report.differs_credentials", 1),
        ])
    );
    assert_eq!(debug_lines(&envoy), UPSTREAM_LINES);
    assert_eq!(
        entries(&envoy, requests.len()),
        [
            "report.actual_allowed - top",
            "report.actual_allowed - top",
            "report.actual_allowed - top",
            "report.preflight_allowed - top",
            "report.actual_disallowed origin_not_allowed top",
        ]
    );
}

const UPSTREAM_LINES: [&str; 8] = [
    r#"report: would allow the actual request from "https://app.example.com""#,
    r#"report: would allow the actual request from "https://app.example.com""#,
    r#"report: "GET" "/a?set=access-control-allow-origin:*" from "https://app.example.com": allowed only by the plugin (differs on credentials); the plugin would answer access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true"; the other layer answered status "200", access-control-allow-origin: "*""#,
    r#"report: would allow the actual request from "https://app.example.com""#,
    r#"report: "GET" "/a" from "https://app.example.com": allowed only by the plugin (differs on origin); the plugin would answer access-control-allow-origin: "https://app.example.com", access-control-allow-credentials: "true"; the other layer answered status "200""#,
    r#"report: would answer the preflight from "https://app.example.com" with 204"#,
    r#"report: would not allow the actual request from "https://evil.example""#,
    r#"report: "GET" "/a?set=access-control-allow-origin:https://evil.example" from "https://evil.example": allowed only by the other layer (differs on origin); the plugin would answer without access-control-allow-origin (origin not allowed); the other layer answered status "200", access-control-allow-origin: "https://evil.example""#,
];
