//! What operators watch, read from a real Envoy: the plugin's counters in the
//! admin API (/stats and /stats/prometheus) after a known sequence of requests,
//! and the debug log lines that say why a request was rejected, never longer
//! than a bounded prefix of a hostile value.

use crate::common;

use common::envoy::Envoy;
use common::examples;
use common::form::Form;
use common::http::Request;
use common::upstream::Upstream;
use cors_core::Outcome;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"{
  "allow_origins": ["https://app.example.com"],
  "allow_methods": ["PUT"],
  "allow_headers": ["content-type"],
  "rules": [
    {"path_prefix": "/off/", "enabled": false},
    {"path_prefix": "/fwd/", "unmatched_preflights": "forward"}
  ]
}"#;

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

/// Envoy with the filter under test, its log at debug level.
fn start(upstream: &Upstream) -> Envoy {
    examples::start_plugin(CONFIG, upstream.port, &Form::current().debug_log_args())
}

/// 10 KiB of a pattern that never repeats within 64 bytes, so a longer prefix
/// in the log would show.
fn hostile(start: &str) -> String {
    let mut value = start.to_string();
    let mut i = 0u32;
    while value.len() < 10 * 1024 {
        value.push_str(&format!("{i:04x}"));
        i += 1;
    }
    value
}

/// The `/stats` counter of this outcome.
fn stat(envoy: &Envoy, outcome: Outcome) -> Option<u64> {
    envoy.stat(&Form::current().stat(outcome.metric()))
}

/// The counters in `/stats/prometheus`: `<name>{} N`, after its `# TYPE` line.
fn prometheus(envoy: &Envoy, outcome: Outcome) -> Option<u64> {
    let body = envoy.admin("/stats/prometheus").body;
    let text = String::from_utf8_lossy(&body);
    let name = Form::current().prometheus(outcome.metric());
    let typed = text.lines().any(|l| l == format!("# TYPE {name} counter"));
    let value = text.lines().find_map(|l| {
        l.strip_prefix(&format!("{name}{{}} "))
            .and_then(|v| v.trim().parse().ok())
    });
    value.filter(|_| typed)
}

#[test]
fn counters_count_a_known_sequence_exactly() {
    let upstream = Upstream::start();
    let envoy = start(&upstream);
    // Defined at configure time: present, at zero, before any request.
    for outcome in Outcome::ALL {
        assert_eq!(stat(&envoy, outcome), Some(0), "{}", outcome.metric());
        assert_eq!(prometheus(&envoy, outcome), Some(0), "{}", outcome.metric());
    }

    let pf = |origin: &str, method: &str| Request::preflight("/api", origin, method);
    // (request, status): distinct counts per outcome, so a swap shows.
    let with = |list: &str| pf(APP, "PUT").header("access-control-request-headers", list);
    let mut sequence: Vec<(Request, u16)> = vec![
        // preflight_allowed: 5
        (pf(APP, "PUT"), 204),
        (with("content-type"), 204),
        (pf(APP, "GET"), 204),
        (pf(APP, "POST"), 204),
        (Request::preflight("/fwd/x", APP, "PUT"), 204),
        // preflight_rejected_origin: 3, one of them forwarded (still rejected)
        (pf(EVIL, "PUT"), 403),
        (pf(&hostile("https://"), "PUT"), 403),
        (Request::preflight("/fwd/x", EVIL, "PUT"), 200),
        // preflight_rejected_method: 2
        (pf(APP, "PATCH"), 403),
        (pf(APP, &hostile("PATCH")), 403),
        // preflight_rejected_headers: 4
        (with("x-secret"), 403),
        (with("content-type,x-secret"), 403),
        (with(&hostile("x-")), 403),
        (with("authorization"), 403),
        // no_origin: 1 (a "preflight" without Origin is an actual request without Origin)
        (
            Request::new("OPTIONS", "/api").header("access-control-request-method", "PUT"),
            200,
        ),
        // actual_disallowed: 1 of 7
        (
            Request::get("/api").header("origin", &hostile("https://")),
            200,
        ),
        // Where CORS is off nothing is counted.
        (Request::preflight("/off/x", EVIL, "PUT"), 200),
        (Request::get("/off/x").header("origin", APP), 200),
    ];
    // actual_allowed: 6 (an OPTIONS without Access-Control-Request-Method is not a preflight)
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        sequence.push((Request::new(method, "/api").header("origin", APP), 200));
    }
    // actual_disallowed: 6 more
    for i in 0..6 {
        let request = Request::get(&format!("/api/{i}")).header("origin", EVIL);
        sequence.push((request, 200));
    }

    for (request, status) in &sequence {
        let response = request.send(envoy.port());
        assert_eq!(
            response.status,
            *status,
            "{} {} {:?}",
            request.method,
            request.path,
            request.headers.first().map(|h| &h.0)
        );
    }
    let want = [
        (Outcome::PreflightAllowed, 5),
        (Outcome::PreflightRejected(cors_core::Reason::Origin), 3),
        (Outcome::PreflightRejected(cors_core::Reason::Method), 2),
        (Outcome::PreflightRejected(cors_core::Reason::Headers), 4),
        (Outcome::ActualAllowed, 6),
        (Outcome::ActualDisallowed, 7),
        (Outcome::NoOrigin, 1),
    ];
    assert_eq!(want.len(), Outcome::ALL.len());
    let total: u64 = want.iter().map(|(_, n)| n).sum();
    assert_eq!(total + 2, sequence.len() as u64);
    for (outcome, n) in want {
        assert_eq!(
            stat(&envoy, outcome),
            Some(n),
            "/stats {}",
            outcome.metric()
        );
        assert_eq!(
            prometheus(&envoy, outcome),
            Some(n),
            "/stats/prometheus {}",
            outcome.metric()
        );
    }
}

/// Lines of Envoy's log from the plugin at `level`, once `want` of them are
/// there (Envoy writes its log as it goes; bounded wait).
fn plugin_lines(envoy: &Envoy, level: &str, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<String> = envoy
            .log()
            .lines()
            .filter_map(|l| Form::current().log_message(l, level))
            .collect();
        if lines.len() >= want || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn debug_logs_say_why_and_bound_hostile_values() {
    let upstream = Upstream::start();
    let envoy = start(&upstream);
    let long_origin = hostile("https://");
    let long_method = hostile("PATCH");
    let long_name = hostile("x-");
    let long_list = format!("content-type,{}", &long_name[..3000]);
    let pf = |origin: &str, method: &str| Request::preflight("/api", origin, method);
    let requests = [
        pf(EVIL, "PUT"),
        pf(&long_origin, "PUT"),
        pf(APP, "PATCH"),
        pf(APP, &long_method),
        pf(APP, "PUT").header("access-control-request-headers", "content-type,x-secret"),
        // A list longer than any browser sends: only its start is looked at.
        pf(APP, "PUT").header("access-control-request-headers", &long_name),
        // A list of normal length with one very long name.
        pf(APP, "PUT").header("access-control-request-headers", &long_list),
        Request::get("/api").header("origin", EVIL),
        Request::get("/api").header("origin", &long_origin),
        // Allowed and uncounted requests log nothing.
        pf(APP, "PUT"),
        Request::get("/api").header("origin", APP),
        Request::get("/off/x").header("origin", EVIL),
    ];
    for request in &requests {
        let response = request.send(envoy.port());
        assert!(response.status == 200 || response.status == 204 || response.status == 403);
    }
    let quoted = |value: &str| format!("{:?}…", &value[..64]);
    let want = vec![
        "preflight rejected: origin not allowed: \"https://evil.example\"".to_string(),
        format!(
            "preflight rejected: origin not allowed: {}",
            quoted(&long_origin)
        ),
        "preflight rejected: method not allowed: \"PATCH\"".to_string(),
        format!(
            "preflight rejected: method not allowed: {}",
            quoted(&long_method)
        ),
        "preflight rejected: request header not allowed: \"x-secret\"".to_string(),
        format!(
            "preflight rejected: request header not allowed: {:?}",
            &long_name[..32]
        ),
        format!(
            "preflight rejected: request header not allowed: {}",
            quoted(&long_name)
        ),
        "actual request from an origin not allowed: \"https://evil.example\"".to_string(),
        format!(
            "actual request from an origin not allowed: {}",
            quoted(&long_origin)
        ),
    ];
    let got = plugin_lines(&envoy, "debug", want.len());
    assert_eq!(
        got,
        want,
        "debug lines of the plugin; whole log:\n{}",
        envoy.log()
    );
    // No line anywhere in the log holds more of a hostile value than the prefix.
    let log = envoy.log();
    for value in [&long_origin, &long_method, &long_name] {
        assert!(log.contains(&value[..64]));
        assert!(
            !log.contains(&value[..65]),
            "a log line holds more than 64 bytes of a hostile value"
        );
    }
    assert!(
        log.lines().all(|l| l.len() < 1024),
        "a log line of 1 KiB or more"
    );
}

/// The README's counter example: the demo after `sh envoy/demo-requests.sh`.
#[test]
fn readme_counters_example_is_what_the_demo_counts() {
    let envoy = examples::start_example("envoy/envoy.yaml", &[], &[]);
    let here = |command: &str| {
        command
            .replace(
                "127.0.0.1:10000",
                &format!("127.0.0.1:{}", envoy.listener_port("cors")),
            )
            .replace("127.0.0.1:9901", &format!("127.0.0.1:{}", envoy.admin_port))
    };
    let sh = |command: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(here(command))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let script = std::fs::read_to_string(common::root().join("envoy/demo-requests.sh")).unwrap();
    let requests: Vec<&str> = script.lines().filter(|l| l.starts_with("curl ")).collect();
    assert_eq!(requests.len(), 3);
    for request in requests {
        sh(request);
    }
    let shown: Vec<(String, String)> = examples::readme_console_examples()
        .into_iter()
        .filter(|(command, _)| command.contains("127.0.0.1:9901/stats"))
        .collect();
    assert_eq!(
        shown.len(),
        2,
        "README's Counters section shows two commands"
    );
    for (command, output) in shown {
        assert_eq!(
            sh(&command),
            output,
            "README shows another output for:\n$ {command}"
        );
    }
}

/// Each form says which build accepted the configuration: the version and the
/// rule count, at info level, once Envoy loads it.
#[test]
fn accepted_configuration_is_logged_with_the_version() {
    let upstream = Upstream::start();
    let envoy = start(&upstream);
    let rules = cors_core::Config::parse(CONFIG.as_bytes())
        .unwrap()
        .rules
        .len();
    let want = format!(
        "proxy-wasm-cors {}: configuration accepted ({rules} rules)",
        env!("CARGO_PKG_VERSION")
    );
    // The configuration is accepted before Envoy is ready: its lines are there.
    let lines: Vec<String> = plugin_lines(&envoy, "info", 1)
        .into_iter()
        .filter(|m| m.contains("configuration accepted"))
        .collect();
    assert!(
        !lines.is_empty() && lines.iter().all(|m| *m == want),
        "want {want:?}, the log has {lines:?}"
    );
}
