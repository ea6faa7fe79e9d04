//! Bad configurations never reach traffic. At start, Envoy refuses each one
//! and its log names the field and the value. At runtime, a listener update
//! (LDS from a watched file) carrying a bad policy is rejected while Envoy
//! keeps serving the old policy, and a good update then takes effect.
//! Needs `ENVOY` (set by `make test`).

use crate::common;

use common::envoy::{self, Envoy, Scratch};
use common::form::Form;
use common::health::Health;
use common::http::Request;
use common::run_cases;
use common::upstream::Upstream;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// `(configuration, a line of Envoy's log must contain this)`: the field's
/// path, `=`, the value as JSON, and the start of the message.
const REFUSED: [(&str, &str); 52] = [
    // The document.
    ("not json", "configuration: is not valid JSON"),
    ("", "configuration: is empty"),
    (
        r#"["https://a.example"]"#,
        r#"configuration = ["https://a.example"]: must be a JSON object"#,
    ),
    (r#"{"allow_methods": ["PUT"]}"#, "allow_origins: is missing"),
    (
        r#"{"allow_origin": ["https://a.example"]}"#,
        r#"allow_origin = ["https://a.example"]: unknown field; did you mean "allow_origins"?"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "": 0}"#,
        r#""" = 0: unknown field"#,
    ),
    // allow_origins.
    (
        r#"{"allow_origins": "https://a.example"}"#,
        r#"allow_origins = "https://a.example": must be a list of origins"#,
    ),
    (
        r#"{"allow_origins": []}"#,
        "allow_origins = []: lists no origin",
    ),
    (
        r#"{"allow_origins": [42]}"#,
        "allow_origins[0] = 42: must be an origin string or a matcher object",
    ),
    (
        r#"{"allow_origins": ["app.example.com"]}"#,
        r#"allow_origins[0] = "app.example.com": has no scheme"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example/"]}"#,
        r#"allow_origins[0] = "https://a.example/": ends with a slash"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example/api"]}"#,
        r#"allow_origins[0] = "https://a.example/api": has a path"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example:443"]}"#,
        r#"allow_origins[0] = "https://a.example:443": names the scheme's default port"#,
    ),
    (
        r#"{"allow_origins": ["https://App.example.com"]}"#,
        r#"allow_origins[0] = "https://App.example.com": has an uppercase host"#,
    ),
    (
        r#"{"allow_origins": ["HTTPS://a.example"]}"#,
        r#"allow_origins[0] = "HTTPS://a.example": has an uppercase scheme"#,
    ),
    (
        r#"{"allow_origins": ["https://user@a.example"]}"#,
        r#"allow_origins[0] = "https://user@a.example": contains userinfo"#,
    ),
    (
        r#"{"allow_origins": ["http://[::1"]}"#,
        r#"allow_origins[0] = "http://[::1": has an invalid IPv6 host"#,
    ),
    (
        r#"{"allow_origins": ["https://*"]}"#,
        r#"allow_origins[0] = "https://*": matches every host"#,
    ),
    (
        r#"{"allow_origins": ["https://*.com"]}"#,
        r#"allow_origins[0] = "https://*.com": matches every site under the top-level domain"#,
    ),
    (
        r#"{"allow_origins": ["https://a*.example.com"]}"#,
        r#"allow_origins[0] = "https://a*.example.com": may use * only as the whole first label"#,
    ),
    (
        r#"{"allow_origins": ["http://*.127.0.0.1"]}"#,
        r#"allow_origins[0] = "http://*.127.0.0.1": puts a subdomain wildcard on an IP address"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example", "*"]}"#,
        r#"allow_origins[1] = "*": allows every origin, so the other entries mean nothing"#,
    ),
    (
        r#"{"allow_origins": [{"regex": "https://(a"}]}"#,
        r#"allow_origins[0].regex = "https://(a": is not a valid regular expression"#,
    ),
    (
        r#"{"allow_origins": [{"prefix": "https://a", "suffix": ".example"}]}"#,
        r#"allow_origins[0] = {"prefix":"https://a","suffix":".example"}: must have exactly one of"#,
    ),
    (
        r#"{"allow_origins": [{"sufix": ".example.com"}]}"#,
        r#"allow_origins[0].sufix = ".example.com": unknown field; did you mean "suffix"?"#,
    ),
    // * and match-all matchers with credentials or private network access.
    (
        r#"{"allow_origins": ["*"], "allow_credentials": true}"#,
        r#"allow_origins[0] = "*": is not allowed with allow_credentials: true"#,
    ),
    (
        r#"{"allow_origins": [{"regex": ".*"}], "allow_credentials": true}"#,
        r#"allow_origins[0] = {"regex":".*"}: matches any origin"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "expose_headers": ["*"], "allow_credentials": true}"#,
        r#"expose_headers[0] = "*": is not allowed with allow_credentials: true"#,
    ),
    (
        r#"{"allow_origins": ["*"], "allow_private_network": true}"#,
        r#"allow_origins[0] = "*": is not allowed with allow_private_network: true"#,
    ),
    // Methods and headers.
    (
        r#"{"allow_origins": ["https://a.example"], "allow_methods": ["TRACE"]}"#,
        r#"allow_methods[0] = "TRACE": is a forbidden method"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "allow_methods": ["connect"]}"#,
        r#"allow_methods[0] = "connect": is a forbidden method"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "allow_methods": ["GET POST"]}"#,
        r#"allow_methods[0] = "GET POST": is not a method name"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "allow_methods": "PUT"}"#,
        r#"allow_methods = "PUT": must be a list of strings"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "allow_headers": ["cookie"]}"#,
        r#"allow_headers[0] = "cookie": is a forbidden request header"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "allow_headers": ["x bad"]}"#,
        r#"allow_headers[0] = "x bad": is not a header name"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "expose_headers": ["Set-Cookie"]}"#,
        r#"expose_headers[0] = "Set-Cookie": can never be exposed"#,
    ),
    // Scalars.
    (
        r#"{"allow_origins": ["https://a.example"], "max_age": 100000}"#,
        "max_age = 100000: must be a whole number of seconds",
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "max_age": -1}"#,
        "max_age = -1: must be a whole number of seconds",
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "max_age": "600"}"#,
        r#"max_age = "600": must be a whole number of seconds"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "allow_credentials": "yes"}"#,
        r#"allow_credentials = "yes": must be true or false"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "unmatched_preflights": "allow"}"#,
        r#"unmatched_preflights = "allow": must be "reject" or "forward""#,
    ),
    // Rules.
    (
        r#"{"allow_origins": ["https://a.example"], "rules": [{"allow_origins": ["https://b.example"]}]}"#,
        "rules[0]: has neither hosts nor path_prefix",
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "rules": [{"hosts": ["https://b.example"]}]}"#,
        r#"rules[0].hosts[0] = "https://b.example": has a scheme"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "rules": [{"path_prefix": "api"}]}"#,
        r#"rules[0].path_prefix = "api": must be a string starting with /"#,
    ),
    (
        r#"{"allow_origins": ["https://a.example"], "rules": [{"hosts": ["b.example"], "enabled": false, "max_age": 5}]}"#,
        "rules[0].enabled = false: switches CORS off here, so max_age would have no effect",
    ),
    // Origins trusted beyond what they can be trusted with.
    (
        r#"{"allow_origins": ["https://*.github.io"], "allow_credentials": true}"#,
        r#"allow_origins[0] = "https://*.github.io": matches every site under the public suffix "github.io""#,
    ),
    (
        r#"{"allow_origins": ["http://app.example"], "allow_credentials": true}"#,
        r#"allow_origins[0] = "http://app.example": is an insecure (http) origin trusted with allow_credentials: true"#,
    ),
    // Origins no browser can send.
    (
        r#"{"allow_origins": ["file://host"]}"#,
        r#"allow_origins[0] = "file://host": has the scheme file:, whose pages have opaque origins"#,
    ),
    (
        r#"{"allow_origins": ["https://example.123"]}"#,
        r#"allow_origins[0] = "https://example.123": ends in the number "123""#,
    ),
    (
        r#"{"allow_origins": ["http://127.0.0.1."]}"#,
        r#"allow_origins[0] = "http://127.0.0.1.": is an IPv4 address with a trailing dot"#,
    ),
    (
        r#"{"allow_origins": ["https://xn--abc-.example"]}"#,
        r#"allow_origins[0] = "https://xn--abc-.example": has the label "xn--abc-", which is not valid IDNA"#,
    ),
    (
        r#"{"allow_origins": ["https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"]}"#,
        "has a label of 64 bytes",
    ),
];

fn one_listener(config: &str, upstream_port: u16) -> Value {
    envoy::bootstrap(
        vec![envoy::listener(
            "cors",
            vec![envoy::cors_filter(config), envoy::router()],
            envoy::route_to("upstream"),
        )],
        vec![envoy::cluster("upstream", upstream_port)],
    )
}

fn refused_at_start(config: &str, want: &str) -> Result<(), String> {
    let upstream_port = 9; // never reached: Envoy must not start
    let (code, log) = envoy::expect_refusal(&one_listener(config, upstream_port));
    if code.is_none_or(|c| c == 0) {
        return Err(format!("exit code {code:?}, want non-zero"));
    }
    let records = error_records(&log);
    if !records
        .iter()
        .any(|r| r.starts_with("invalid configuration: error ") && r.contains(want))
    {
        return Err(format!("no error record contains {want:?}:\n{log}"));
    }
    one_record_per_error(&records).map_err(|e| format!("{e}:\n{log}"))
}

/// The filter's own records at error level, each without Envoy's prefix.
fn error_records(log: &str) -> Vec<String> {
    let form = Form::current();
    log.lines()
        .filter_map(|line| form.log_message(line, "error"))
        .collect()
}

/// The refusal as log pipelines need it: `error i of n` records, each whole
/// on one line with Envoy's prefix, then the summary with the count.
fn one_record_per_error(records: &[String]) -> Result<(), String> {
    let errors: Vec<&String> = records
        .iter()
        .filter(|r| r.starts_with("invalid configuration: error "))
        .collect();
    let n = errors.len();
    for (i, record) in errors.iter().enumerate() {
        let head = format!("invalid configuration: error {} of {n}: ", i + 1);
        if !record.starts_with(&head) {
            return Err(format!("record {record:?} does not start with {head:?}"));
        }
    }
    let summary = format!(
        "invalid configuration: {n} error{}; the configuration is refused",
        if n == 1 { "" } else { "s" }
    );
    if !records.contains(&summary) {
        return Err(format!("no summary record {summary:?}"));
    }
    Ok(())
}

/// Warnings: the configuration is accepted and Envoy serves, and each
/// warning is its own log record at warning level, naming field and value.
#[test]
fn warnings_are_logged_one_record_each() {
    let config =
        r#"{"allow_origins": ["https://app.example.com", "null"], "expose_headers": ["origin"]}"#;
    let upstream = Upstream::start();
    let envoy = Envoy::start(&one_listener(config, upstream.port))
        .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let form = Form::current();
    let records: Vec<String> = envoy
        .log()
        .lines()
        .filter_map(|line| form.log_message(line, "warning"))
        .collect();
    // The module logs them once; the plugin once per Wasm VM (Envoy's main
    // thread's and each worker's), each time the whole set.
    let sets = records.chunks(2).collect::<Vec<_>>();
    let vms = match form {
        Form::Module => 1,
        Form::Wasm => sets.len().max(1),
    };
    assert_eq!(sets.len(), vms, "{records:#?}");
    for set in sets {
        assert_eq!(
        set,
        [
            r#"configuration warning 1 of 2: allow_origins[1] = "null": allows every sandboxed iframe, data: document and file: page: they all send Origin: null; list it only if you mean all of them"#,
            "configuration warning 2 of 2: expose_headers[0] = \"origin\": is a request header, which responses do not carry: exposing it has no effect (expose_headers lists response headers)",
        ],
        "{}",
        envoy.log()
    );
    }
    let answer = Request::preflight("/", "https://app.example.com", "GET").send(envoy.port());
    assert_eq!(answer.status, 204);
}

/// Several errors at once: each its own log record, with Envoy's prefix, in
/// the order the configuration holds them, then the count.
#[test]
fn each_error_is_its_own_log_record() {
    let config = r#"{"allow_origin": ["*"], "allow_origins": ["https://app.example.com/"], "max_age": 100000}"#;
    let (code, log) = envoy::expect_refusal(&one_listener(config, 9));
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}:\n{log}");
    let records: Vec<String> = error_records(&log)
        .into_iter()
        .filter(|r| r.starts_with("invalid configuration"))
        .collect();
    assert_eq!(
        records,
        [
            r#"invalid configuration: error 1 of 3: allow_origin = ["*"]: unknown field; did you mean "allow_origins"?"#,
            r#"invalid configuration: error 2 of 3: allow_origins[0] = "https://app.example.com/": ends with a slash; browsers send origins without one, so it would never match"#,
            "invalid configuration: error 3 of 3: max_age = 100000: must be a whole number of seconds from 0 to 86400 (Chromium caps it at 7200)",
            "invalid configuration: 3 errors; the configuration is refused",
        ],
        "{log}"
    );
}

#[test]
fn envoy_refuses_each_bad_configuration_at_start() {
    // Two Envoys at a time: each case is one start-up, mostly V8 compiling the module.
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let halves: Vec<_> = (0..2)
            .map(|half| {
                scope.spawn(move || {
                    REFUSED
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == half)
                        .map(|(i, (config, want))| (i, refused_at_start(config, want)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = halves.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    });
    let indices: Vec<usize> = (0..REFUSED.len()).collect();
    run_cases(
        &indices,
        |&i| REFUSED[i].0.to_string(),
        |&i| results[i].clone(),
    );
}

// ------------------------------------------------------------ runtime update

const OLD: &str = r#"{"allow_origins": ["https://old.example"], "allow_methods": ["PUT"]}"#;
const BAD: &str = r#"{"allow_origins": ["https://new.example/"], "allow_methods": ["PUT"]}"#;
const NEW: &str = r#"{"allow_origins": ["https://new.example"], "allow_methods": ["PUT"]}"#;
/// What Envoy logs about the bad policy: the plugin's error, then Envoy's rejection.
const BAD_LOG: [&str; 2] = [
    r#"allow_origins[0] = "https://new.example/": ends with a slash"#,
    "lds: listener 'cors' config rejected",
];
const UPDATE_TIMEOUT: Duration = Duration::from_secs(30);

/// The LDS file content: one listener with the plugin configured by `config`.
fn lds(config: &str, version: u32) -> String {
    let mut listener = envoy::listener(
        "cors",
        vec![envoy::cors_filter(config), envoy::router()],
        envoy::route_to("upstream"),
    );
    listener["@type"] = json!("type.googleapis.com/envoy.config.listener.v3.Listener");
    json!({"version_info": version.to_string(), "resources": [listener]}).to_string()
}

/// Replaces the LDS file the way Envoy expects: written aside, then moved in.
fn publish(dir: &Scratch, config: &str, version: u32) {
    let aside = dir.path("lds.json.tmp");
    std::fs::write(&aside, lds(config, version)).unwrap();
    std::fs::rename(&aside, dir.path("lds.json")).unwrap();
}

fn wait_for_stat(envoy: &Envoy, name: &str, want: u64) {
    let deadline = Instant::now() + UPDATE_TIMEOUT;
    loop {
        let value = envoy.stat(name).unwrap_or(0);
        if value >= want {
            assert_eq!(value, want, "{name}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} stayed at {value} (want {want}):\n{}",
            envoy.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `(origin, status, access-control-allow-origin)` of a PUT preflight.
fn preflights(envoy: &Envoy) -> Vec<(&'static str, u16, Option<String>)> {
    ["https://old.example", "https://new.example"]
        .into_iter()
        .map(|origin| {
            let r = Request::preflight("/", origin, "PUT").send(envoy.port());
            (origin, r.status, r.get("access-control-allow-origin"))
        })
        .collect()
}

fn listener_port(envoy: &Envoy) -> u16 {
    let body = envoy.admin("/listeners?format=json").body;
    let listeners: Value = serde_json::from_slice(&body).unwrap();
    listeners["listener_statuses"][0]["local_address"]["socket_address"]["port_value"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .unwrap()
}

#[test]
fn runtime_update_with_a_bad_policy_keeps_the_old_one() {
    let upstream = Upstream::start();
    let lds_dir = Scratch::new("lds");
    publish(&lds_dir, OLD, 1);
    let bootstrap = json!({
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "node": {"id": "bad-config-test", "cluster": "bad-config-test"},
        "dynamic_resources": {"lds_config": {
            "resource_api_version": "V3",
            "path_config_source": {
                "path": lds_dir.path("lds.json").to_string_lossy(),
                "watched_directory": {"path": lds_dir.0.to_string_lossy()},
            },
        }},
        "static_resources": {"clusters": [envoy::cluster("upstream", upstream.port)]},
    });
    let envoy =
        Envoy::start(&bootstrap).unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let watch = Health::start(&envoy, "cors");
    let port = envoy.port();
    wait_for_stat(&envoy, "listener_manager.lds.update_success", 1);
    let old_answers = vec![
        (
            "https://old.example",
            204,
            Some("https://old.example".to_string()),
        ),
        ("https://new.example", 403, None),
    ];
    assert_eq!(preflights(&envoy), old_answers, "the first policy");

    // The bad policy: the update is rejected, logged, and the old policy still answers.
    publish(&lds_dir, BAD, 2);
    wait_for_stat(&envoy, "listener_manager.lds.update_rejected", 1);
    let log = envoy.log();
    for want in BAD_LOG {
        assert!(
            log.lines().any(|l| l.contains(want)),
            "log lacks {want:?}:\n{log}"
        );
    }
    assert_eq!(envoy.stat("listener_manager.lds.update_success"), Some(1));
    assert_eq!(listener_port(&envoy), port, "the listener kept its socket");
    assert_eq!(preflights(&envoy), old_answers, "after the rejected update");
    let actual = Request::get("/")
        .header("origin", "https://old.example")
        .send(port);
    assert_eq!(actual.status, 200);
    assert_eq!(
        actual.get("access-control-allow-origin").as_deref(),
        Some("https://old.example")
    );

    // A good policy then takes effect, on the same socket.
    publish(&lds_dir, NEW, 3);
    wait_for_stat(&envoy, "listener_manager.lds.update_success", 2);
    assert_eq!(envoy.stat("listener_manager.lds.update_rejected"), Some(1));
    assert_eq!(listener_port(&envoy), port, "the listener kept its socket");
    assert_eq!(
        preflights(&envoy),
        vec![
            ("https://old.example", 403, None),
            (
                "https://new.example",
                204,
                Some("https://new.example".to_string())
            ),
        ],
        "the new policy"
    );
    watch.assert_healthy(&envoy);
}
