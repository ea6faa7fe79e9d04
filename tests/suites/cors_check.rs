//! The cors-check tool: exact output on good and bad files, and `explain`
//! compared with what a real Envoy running the plugin answers.

use crate::common;

use common::envoy::{Envoy, Scratch};
use common::examples;
use common::http::Request;
use common::upstream::Upstream;
use cors_core::explain::{self, Action};
use cors_core::{config_source, Config};
use std::fs;
use std::process::Command;

/// Runs cors-check from the repository root: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cors-check"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write(scratch: &Scratch, name: &str, text: &str) -> String {
    let path = scratch.path(name);
    fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const DEMO_FILTER: &str =
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config";

#[test]
fn validate_good_files() {
    let scratch = Scratch::new("check");
    let json = write(
        &scratch,
        "cors.json",
        r#"{"allow_origins": ["https://a.example"]}"#,
    );
    assert_eq!(
        run(&["validate", &json]),
        (0, "ok\n".to_string(), String::new())
    );
    let (code, out, err) = run(&[
        "validate",
        "envoy/envoy.yaml",
        "envoy/rules.yaml",
        "envoy/ecds/cors-filter.yaml",
        "istio/wasmplugin.yaml",
        "gateway/envoyextensionpolicy.yaml",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        format!(
            "envoy/envoy.yaml: {DEMO_FILTER}: ok\n\
             envoy/rules.yaml: {DEMO_FILTER}: ok\n\
             envoy/ecds/cors-filter.yaml: resources[0].typed_config: ok\n\
             istio/wasmplugin.yaml: WasmPlugin cors: spec.pluginConfig: ok\n\
             gateway/envoyextensionpolicy.yaml: EnvoyExtensionPolicy cors: spec.wasm[0].config: ok\n"
        )
    );
}

/// An accepted configuration with warnings: one line each (field, value,
/// message), then "ok", exit 0: the same records Envoy logs at warning level.
#[test]
fn validate_prints_each_warning_then_ok() {
    let scratch = Scratch::new("check");
    let json = write(
        &scratch,
        "cors.json",
        r#"{"allow_origins": ["https://*.github.io", "null"], "allow_headers": ["access-control-allow-origin"], "max_age": 600.0}"#,
    );
    let (code, out, err) = run(&["validate", &json]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "configuration warning 1 of 3: allow_origins[0] = \"https://*.github.io\": matches every site under the public suffix \"github.io\", where anyone can register a name and call this service; list the sites you mean\n\
         configuration warning 2 of 3: allow_origins[1] = \"null\": allows every sandboxed iframe, data: document and file: page: they all send Origin: null; list it only if you mean all of them\n\
         configuration warning 3 of 3: allow_headers[0] = \"access-control-allow-origin\": is a response header, which browsers never send: allowing it has no effect (allow_headers lists request headers)\n\
         ok\n"
    );
}

#[test]
fn validate_prints_every_error_with_its_field() {
    let scratch = Scratch::new("check");
    let json = write(
        &scratch,
        "cors.json",
        r#"{"allow_origin": ["*"], "allow_origins": ["https://app.example.com/", "*"], "max_age": 100000,
            "allow_credentials": true, "allow_headers": ["*"],
            "rules": [{"hosts": ["https://admin.example.com"], "enabled": false, "max_age": 5}]}"#,
    );
    let (code, out, err) = run(&["validate", &json]);
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(
        out,
        "invalid configuration: error 1 of 7: allow_origin = [\"*\"]: unknown field; did you mean \"allow_origins\"?\n\
         invalid configuration: error 2 of 7: allow_origins[0] = \"https://app.example.com/\": ends with a slash; browsers send origins without one, so it would never match\n\
         invalid configuration: error 3 of 7: allow_origins[1] = \"*\": allows every origin, so the other entries mean nothing; list \"*\" alone\n\
         invalid configuration: error 4 of 7: max_age = 100000: must be a whole number of seconds from 0 to 86400 (Chromium caps it at 7200)\n\
         invalid configuration: error 5 of 7: allow_origins[1] = \"*\": is not allowed with allow_credentials: true (at allow_credentials): every website could read responses with the user's cookies; list the origins\n\
         invalid configuration: error 6 of 7: rules[0].hosts[0] = \"https://admin.example.com\": has a scheme; rules match the host only, e.g. api.example.com\n\
         invalid configuration: error 7 of 7: rules[0].enabled = false: switches CORS off here, so max_age would have no effect; remove them\n\
         invalid configuration: 7 errors; the configuration is refused\n"
    );
}

#[test]
fn validate_names_the_place_of_each_configuration() {
    let scratch = Scratch::new("check");
    let demo = fs::read_to_string(common::root().join("envoy/envoy.yaml")).unwrap();
    let bad_yaml = write(
        &scratch,
        "envoy.yaml",
        &demo.replace("\"max_age\": 600,", "\"max_age\": \"600\","),
    );
    let struct_typed = write(
        &scratch,
        "struct.yaml",
        &demo.replace(
            "type.googleapis.com/google.protobuf.StringValue",
            "type.googleapis.com/google.protobuf.Struct",
        ),
    );
    let broken_json = write(
        &scratch,
        "broken.json",
        "{\"allow_origins\": [\"https://a.example\"]",
    );
    let (code, out, err) = run(&[
        "validate",
        "envoy/envoy.yaml",
        &bad_yaml,
        &struct_typed,
        &broken_json,
    ]);
    assert_eq!((code, err.as_str()), (1, ""));
    assert_eq!(
        out,
        format!(
            "envoy/envoy.yaml: {DEMO_FILTER}: ok\n\
             {bad_yaml}: {DEMO_FILTER}: invalid configuration: error 1 of 1: \
             max_age = \"600\": must be a whole number of seconds from 0 to 86400 (Chromium caps it at 7200)\n\
             {bad_yaml}: {DEMO_FILTER}: invalid configuration: 1 error; the configuration is refused\n\
             {struct_typed}: {DEMO_FILTER}: invalid configuration: error 1 of 1: \
             config.configuration has \"@type\": \"type.googleapis.com/google.protobuf.Struct\"; write the plugin's JSON in a type.googleapis.com/google.protobuf.StringValue (its \"value\")\n\
             {struct_typed}: {DEMO_FILTER}: invalid configuration: 1 error; the configuration is refused\n\
             {broken_json}: invalid configuration: error 1 of 1: \
             configuration: is not valid JSON: EOF while parsing an object at line 1 column 39\n\
             {broken_json}: invalid configuration: 1 error; the configuration is refused\n"
        )
    );
}

#[test]
fn unusable_input_is_a_usage_error() {
    let (code, out, err) = run(&["validate", "envoy/ecds.yaml"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "cors-check: envoy/ecds.yaml holds no configuration of this plugin itself; it reads more from envoy/ecds/cors-filter.yaml: validate that file\n"
    );
    let (code, _, err) = run(&["validate", "no/such/file.json"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "cors-check: no/such/file.json: No such file or directory (os error 2)\n"
    );
    let (code, _, err) = run(&["validate", "Makefile"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("cors-check: Makefile is neither JSON nor YAML"),
        "{err}"
    );
    let (code, _, err) = run(&["explain", "envoy/envoy.yaml", "--private-network"]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "cors-check: --private-network is a preflight header: add --preflight\n"
        )
    );
    let (code, _, err) = run(&["explain", "envoy/envoy.yaml", "--preflight"]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "cors-check: a preflight always carries Origin: give --origin, or drop --preflight\n"
        )
    );
    let (code, _, err) = run(&["explain", "envoy/envoy.yaml", "--origins", "x"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("cors-check: unknown option --origins\nusage:"),
        "{err}"
    );
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("cors-check: expected a command\nusage:"),
        "{err}"
    );
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("usage:\n  cors-check validate FILE..."),
        "{out}"
    );
    for flag in ["--version", "-V"] {
        let (code, out, err) = run(&[flag]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                0,
                &*format!("cors-check {}\n", env!("CARGO_PKG_VERSION")),
                ""
            )
        );
    }
}

#[test]
fn explain_prints_rule_decision_reason_and_headers() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["explain", "envoy/envoy.yaml", "--preflight", "--origin", "https://app.example.com",
              "--method", "PUT", "--header", "content-type", "--path", "/api/items"],
            "request:  OPTIONS /api/items on localhost, the preflight from https://app.example.com for PUT with content-type\n\
             policy:   top level\n\
             decision: allowed: answered here, never reaching the upstream\n\
             counted:  cors.preflight_allowed\n\
             logged:   preflight_allowed - top\n\
             response: 204, from the plugin\n  \
             access-control-allow-origin: https://app.example.com\n  \
             access-control-allow-methods: GET, POST, PUT, DELETE\n  \
             access-control-allow-headers: content-type, authorization\n  \
             access-control-expose-headers: x-request-id\n  \
             access-control-max-age: 600\n  \
             access-control-allow-credentials: true\n  \
             vary: origin, access-control-request-method, access-control-request-headers\n",
        ),
        (
            &["explain", "envoy/rules.yaml", "--host", "admin.example.com", "--path", "/api/users",
              "--preflight", "--origin", "https://admin.example.com", "--method", "PATCH"],
            "request:  OPTIONS /api/users on admin.example.com, the preflight from https://admin.example.com for PATCH\n\
             policy:   rules[0] (hosts admin.example.com)\n\
             decision: rejected, method not allowed: \"PATCH\"; answered here with 403 and no CORS headers, so the browser blocks the request\n\
             counted:  cors.preflight_rejected_method\n\
             logged:   preflight_rejected method_not_allowed:PATCH rules[0]\n\
             response: 403, from the plugin\n  \
             vary: origin, access-control-request-method, access-control-request-headers\n\
             hint:     to allow it, add \"PATCH\" to the allow_methods that applies here: rules[0]'s own, else the top level's\n",
        ),
        (
            &["explain", "envoy/rules.yaml", "--host", "api.example.com:8443", "--path", "/orders",
              "--origin", "https://evil.example"],
            "request:  GET /orders on api.example.com:8443 from https://evil.example\n\
             policy:   top level\n\
             decision: origin not allowed: \"https://evil.example\"; the response carries no CORS headers, so the browser hides it from the page\n\
             counted:  cors.actual_disallowed\n\
             logged:   actual_disallowed origin_not_allowed top\n\
             response: the upstream's, with\n  \
             vary: origin (appended unless the upstream's vary names origin or *)\n  \
             and without access-control-allow-origin, access-control-allow-credentials, access-control-expose-headers, access-control-allow-methods, access-control-allow-headers, access-control-allow-private-network, access-control-max-age\n\
             hint:     to allow it, add \"https://evil.example\" to allow_origins\n",
        ),
        (
            &["explain", "envoy/rules.yaml", "--host", "cdn.example.com", "--path", "/public/logo.svg",
              "--origin", "https://any.example"],
            "request:  GET /public/logo.svg on cdn.example.com from https://any.example\n\
             policy:   rules[1] (path_prefix /public/)\n\
             decision: allowed: the page may read the response\n\
             counted:  cors.actual_allowed\n\
             logged:   actual_allowed - rules[1]\n\
             response: the upstream's, with\n  \
             access-control-allow-origin: *\n  \
             access-control-expose-headers: x-request-id\n  \
             and without access-control-allow-credentials, access-control-allow-methods, access-control-allow-headers, access-control-allow-private-network, access-control-max-age\n",
        ),
        (
            &["explain", "envoy/rules.yaml", "--host", "a.internal.example.com", "--preflight",
              "--origin", "https://evil.example", "--method", "PUT"],
            "request:  OPTIONS / on a.internal.example.com, the preflight from https://evil.example for PUT\n\
             policy:   rules[3] (hosts *.internal.example.com), \"enabled\": false\n\
             decision: CORS is off here: the request and its response pass untouched\n\
             counted:  nothing\n\
             logged:   disabled - rules[3]\n\
             response: the upstream's, untouched\n",
        ),
    ];
    common::run_cases(
        &cases,
        |(args, _)| args.join(" "),
        |(args, want)| {
            let (code, out, err) = run(args);
            if (code, out.as_str(), err.as_str()) == (0, *want, "") {
                Ok(())
            } else {
                Err(format!("exit {code}, stderr {err:?}, stdout:\n{out}"))
            }
        },
    );
}

#[test]
fn explain_on_an_invalid_configuration_prints_its_errors() {
    let scratch = Scratch::new("check");
    let json = write(
        &scratch,
        "cors.json",
        r#"{"allow_origins": ["*"], "allow_credentials": true}"#,
    );
    let (code, out, _) = run(&["explain", &json, "--origin", "https://a.example"]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "invalid configuration: error 1 of 1: allow_origins[0] = \"*\": is not allowed with allow_credentials: true (at allow_credentials): every website could read responses with the user's cookies; list the origins\n\
         invalid configuration: 1 error; the configuration is refused\n"
    );
}

/// One request: what the tool says against what Envoy does, counter included.
struct Probe {
    host: &'static str,
    path: &'static str,
    origin: Option<&'static str>,
    method: &'static str,
    headers: &'static [&'static str],
    preflight: bool,
}

fn probe(
    host: &'static str,
    path: &'static str,
    origin: Option<&'static str>,
    method: &'static str,
    headers: &'static [&'static str],
    preflight: bool,
) -> Probe {
    Probe {
        host,
        path,
        origin,
        method,
        headers,
        preflight,
    }
}

fn sorted(mut headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers.sort();
    headers
}

fn compare(envoy: &Envoy, config: &Config, p: &Probe) -> Result<(), String> {
    let request = explain::Request {
        origin: p.origin.map(str::to_string),
        method: p.method.to_string(),
        headers: p.headers.iter().map(|h| h.to_string()).collect(),
        host: p.host.to_string(),
        path: p.path.to_string(),
        preflight: p.preflight,
        private_network: false,
    };
    let said = explain::explain(config, &request)?;
    // The same request on the wire; actual requests ask the upstream for CORS
    // headers of its own, which the plugin must replace or remove.
    let mut wire = if p.preflight {
        let mut r = Request::preflight(p.path, p.origin.unwrap(), p.method);
        if !p.headers.is_empty() {
            r = r.header("access-control-request-headers", &p.headers.join(","));
        }
        r
    } else {
        let mut r = Request::new(
            p.method,
            &format!(
                "{}?set=access-control-allow-origin:*&set=access-control-max-age:9",
                p.path
            ),
        );
        if let Some(origin) = p.origin {
            r = r.header("origin", origin);
        }
        r
    };
    wire = wire.header("x-probe", "1");
    let counters = |e: &Envoy| -> Vec<Option<u64>> {
        cors_core::Outcome::ALL
            .iter()
            .map(|o| e.stat(&common::form::Form::current().stat(o.metric())))
            .collect()
    };
    let before = counters(envoy);
    let response = wire.send_as(envoy.port(), p.host);
    let after = counters(envoy);
    let moved: Vec<&str> = cors_core::Outcome::ALL
        .iter()
        .zip(before.iter().zip(&after))
        .filter(|(_, (b, a))| b != a)
        .map(|(o, _)| o.metric())
        .collect();
    let mut problems = Vec::new();
    if moved
        != said
            .outcome
            .map(|o| o.metric())
            .into_iter()
            .collect::<Vec<_>>()
    {
        problems.push(format!(
            "counters moved: {moved:?}, tool says {:?}",
            said.outcome
        ));
    }
    let mut got: Vec<(String, String)> = response.cors_headers();
    if let Some(vary) = response.get("vary") {
        got.push(("vary".to_string(), vary));
    }
    let (status, want): (u16, Vec<(String, String)>) = match &said.action {
        Action::Reply { status, headers } => (
            *status,
            headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
        ),
        Action::Upstream {
            set, vary_origin, ..
        } => {
            let mut want: Vec<(String, String)> = set
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect();
            if *vary_origin {
                want.push(("vary".to_string(), "origin".to_string()));
            }
            (200, want)
        }
        // Untouched: the upstream's own headers, as it sent them.
        Action::Untouched | Action::Forwarded if p.preflight => (200, vec![]),
        Action::Untouched | Action::Forwarded => (
            200,
            vec![
                ("access-control-allow-origin".to_string(), "*".to_string()),
                ("access-control-max-age".to_string(), "9".to_string()),
            ],
        ),
    };
    if response.status != status {
        problems.push(format!("status {} (tool says {status})", response.status));
    }
    if sorted(got.clone()) != sorted(want.clone()) {
        problems.push(format!("headers {got:?}\n    tool says {want:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `explain` against the real thing, on envoy/rules.yaml's policy: for each
/// request, the status, every CORS header and `vary`, and the counter that moves.
#[test]
fn explain_says_what_envoy_does() {
    let text = fs::read_to_string(common::root().join("envoy/rules.yaml")).unwrap();
    let json = config_source::find(&text).unwrap()[0].json.clone().unwrap();
    let config = Config::parse(json.as_bytes()).unwrap();
    let upstream = Upstream::start();
    let envoy = examples::start_plugin(&json, upstream.port, &[]);
    let app = Some("https://app.example.com");
    let admin = Some("https://admin.example.com");
    let evil = Some("https://evil.example");
    let probes = [
        probe("api.example.com", "/a", app, "PUT", &["content-type"], true),
        probe(
            "api.example.com",
            "/a",
            app,
            "PUT",
            &["content-type", "x-secret"],
            true,
        ),
        probe("api.example.com", "/a", app, "TRACE", &[], true),
        probe("api.example.com", "/a", evil, "GET", &[], true),
        probe(
            "api.example.com",
            "/a",
            Some("https://x.app.example.com"),
            "PATCH",
            &["authorization"],
            true,
        ),
        probe("api.example.com", "/a", app, "GET", &[], false),
        probe("api.example.com", "/a", evil, "POST", &[], false),
        probe("api.example.com", "/a", None, "GET", &[], false),
        probe("admin.example.com", "/a", admin, "DELETE", &[], true),
        probe("admin.example.com", "/a", admin, "PUT", &[], true),
        probe("admin.example.com", "/a", app, "GET", &[], false),
        probe("admin.example.com", "/a", admin, "GET", &[], false),
        probe(
            "cdn.example.com",
            "/public/x",
            evil,
            "GET",
            &["content-type"],
            true,
        ),
        probe("cdn.example.com", "/public/x", evil, "GET", &[], false),
        probe("cdn.example.com", "/public/x", None, "GET", &[], false),
        probe("legacy.example.com", "/a", evil, "PUT", &[], true),
        probe("legacy.example.com", "/a", app, "PUT", &[], true),
        probe("b.internal.example.com", "/a", evil, "PUT", &[], true),
        probe("b.internal.example.com", "/a", evil, "GET", &[], false),
        probe("api.example.com", "/webhooks/x", evil, "POST", &[], false),
    ];
    common::run_cases(
        &probes,
        |p| {
            format!(
                "{} {} on {}{} from {:?}",
                if p.preflight { "preflight" } else { "actual" },
                p.method,
                p.host,
                p.path,
                p.origin
            )
        },
        |p| compare(&envoy, &config, p),
    );
}

/// The README's `cargo run --bin cors-check -- ...` examples print what it shows.
#[test]
fn readme_examples_are_what_the_tool_prints() {
    let examples: Vec<(String, String)> = examples::readme_console_examples()
        .into_iter()
        .filter(|(command, _)| command.contains("--bin cors-check -- "))
        .collect();
    assert!(
        examples.len() >= 3,
        "README shows too few cors-check examples: {examples:?}"
    );
    common::run_cases(
        &examples,
        |(command, _)| command.clone(),
        |(command, shown)| {
            let (_, args) = command.split_once("--bin cors-check -- ").unwrap();
            let args: Vec<&str> = args.split_whitespace().collect();
            let (_, out, err) = run(&args);
            if out == *shown {
                Ok(())
            } else {
                Err(format!("prints (stderr {err:?}):\n{out}"))
            }
        },
    );
}
