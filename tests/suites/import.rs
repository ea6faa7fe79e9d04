//! `cors-check import` and `cors-check audit` on other platforms' CORS
//! policies (`tests/import/`): exact output and exit codes for each fixture,
//! what bad input gets, and for Envoy the real thing: Envoy's native filter
//! with the original configuration and this filter with the imported one give
//! a browser the same verdicts, except exactly where import listed a
//! difference.

use crate::common;
use crate::fetch;
use crate::native_differential::{self as differential, describe};

use common::envoy::{self, Envoy, Scratch};
use common::run_cases;
use common::upstream::Upstream;
use cors_core::Config;
use serde_json::Value;
use std::fs;
use std::process::Command;

#[path = "import_conformance.rs"]
mod conformance;

/// Runs cors-check from `tests/import/`: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cors-check"))
        .args(args)
        .current_dir(common::root().join("tests/import"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn expected(name: &str) -> String {
    let path = common::root().join("tests/import/expected").join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Each fixture, and the exit code import and audit give it.
const FIXTURES: [(&str, i32, i32); 11] = [
    ("envoy-rds.yaml", 0, 1),
    ("envoy-bootstrap-deprecated.yaml", 0, 0),
    ("istio-virtualservice.yaml", 0, 1),
    ("gateway-httproute.yaml", 0, 0),
    ("envoy-gateway.yaml", 0, 1),
    ("dangerous-list.yaml", 1, 1),
    // The platforms' own examples and conformance cases (import_conformance.rs).
    ("gateway-api-conformance.yaml", 0, 0),
    ("gateway-api-conformance-credentials.yaml", 1, 1),
    ("istio-docs.yaml", 0, 0),
    ("envoy-gateway-docs.yaml", 0, 0),
    ("envoy-gateway-docs-httpcorsfilter.yaml", 0, 0),
];

/// The whole output of import (stdout: the configuration; stderr: one line
/// per difference) and audit, byte for byte as `tests/import/expected/` holds
/// it, with the exit codes; and every configuration import writes is one the
/// plugin accepts.
#[test]
fn import_and_audit_each_fixture_exactly() {
    for (file, import_code, audit_code) in FIXTURES {
        let stem = file.trim_end_matches(".yaml");
        let (code, out, err) = run(&["import", file]);
        assert_eq!(code, import_code, "import {file}: exit\n{err}");
        assert_eq!(
            out,
            expected(&format!("{stem}.import.json")),
            "import {file}: stdout"
        );
        assert_eq!(
            err,
            expected(&format!("{stem}.import.txt")),
            "import {file}: stderr"
        );
        if code == 0 {
            let config = Config::parse(out.as_bytes())
                .unwrap_or_else(|e| panic!("import {file}: refused: {:?}", e.0));
            assert!(config.warnings.is_empty(), "{file}: {:?}", config.warnings);
        } else {
            assert_eq!(
                out, "",
                "import {file}: nothing is written when a choice is left"
            );
        }
        let (code, out, err) = run(&["audit", file]);
        assert_eq!((code, err.as_str()), (audit_code, ""), "audit {file}");
        assert_eq!(out, expected(&format!("{stem}.audit.txt")), "audit {file}");
    }
}

/// The findings the issue names, each with its concrete probing origin.
#[test]
fn audit_shows_a_concrete_origin_for_each_matcher_that_reaches_too_far() {
    let (code, out, _) = run(&["audit", "envoy-rds.yaml", "dangerous-list.yaml"]);
    assert_eq!(code, 1);
    for want in [
        "prefix \"https://partner.example.com\" with allow_credentials also matches \"https://partner.example.com.evil-cors-probe.net\"",
        "regex \"https://[a-z0-9-]+.preview.example.com\" with allow_credentials also matches \"https://evilpreviewxexample.com\"",
        "suffix \".github.io\" with allow_credentials also matches \"https://evil.github.io\"",
        "regex \"https://.*example\\\\.com\" with allow_credentials also matches \"https://evilexample.com\"",
        "exact \"http://intranet.example.com\" with allow_credentials matches \"http://intranet.example.com\", an http origin",
        "\"*\" allows every origin with allow_credentials: the implementation echoes the request's origin",
    ] {
        assert_eq!(out.lines().filter(|l| l.starts_with("danger: ") && l.contains(want)).count(), 1, "{want}\n{out}");
    }
    assert!(
        out.ends_with("7 dangers, 7 warnings in 6 policies\n"),
        "{out}"
    );
}

#[test]
fn audit_json_for_ci_tools() {
    let (code, out, err) = run(&["audit", "--format", "json", "envoy-gateway.yaml"]);
    assert_eq!((code, err.as_str()), (1, ""));
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["dangers"], 1);
    assert_eq!(report["warnings"], 0);
    assert_eq!(
        report["findings"][0],
        serde_json::json!({
            "severity": "danger",
            "file": "envoy-gateway.yaml",
            "document": 3,
            "path": "spec.cors.allowOrigins[1]",
            "message": "\"http://*.foo.com\" with allow_credentials matches \"http://evil.foo.com\", an http origin: anyone on the network path can impersonate it and read users' responses",
            "fix": "use the https origin",
            "origin": "http://evil.foo.com",
        })
    );
    let (code, out, _) = run(&["audit", "--format", "json", "gateway-httproute.yaml"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["dangers"].as_u64(), report["warnings"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        report["skipped"],
        serde_json::json!(["gateway-httproute.yaml: document 1: Namespace web"])
    );
}

#[test]
fn import_json_and_the_whole_resource_to_apply() {
    let (code, out, err) = run(&["import", "--format", "json", "istio-virtualservice.yaml"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let report: Value = serde_json::from_str(&out).unwrap();
    let (_, text, _) = run(&["import", "istio-virtualservice.yaml"]);
    assert_eq!(
        report["configuration"],
        serde_json::from_str::<Value>(&text).unwrap()
    );
    assert_eq!(report["differences"].as_array().unwrap().len(), 7);
    assert_eq!(report["choices"], serde_json::json!([]));

    // Each --as output is what `cors-check validate` finds and accepts.
    let scratch = Scratch::new("import");
    for (target, fixture, label) in [
        ("envoy", "envoy-rds.yaml", "[0].typed_config"),
        (
            "istio",
            "istio-virtualservice.yaml",
            "WasmPlugin cors: spec.pluginConfig",
        ),
        (
            "gateway",
            "gateway-httproute.yaml",
            "EnvoyExtensionPolicy cors: spec.wasm[0].config",
        ),
    ] {
        let path = scratch
            .path(&format!("{target}.yaml"))
            .to_string_lossy()
            .into_owned();
        let (code, out, _) = run(&["import", "--as", target, "--output", &path, fixture]);
        assert_eq!((code, out.as_str()), (0, ""), "--as {target}");
        let (code, out, err) = run(&["validate", &path]);
        assert_eq!(
            (code, out, err),
            (0, format!("{path}: {label}: ok\n"), String::new()),
            "--as {target}"
        );
    }
}

#[test]
fn bad_input() {
    let scratch = Scratch::new("import");
    let write = |name: &str, text: &str| {
        let path = scratch.path(name);
        fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    // No policy: said, exit 2; the kinds not read are named.
    let none = write("none.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\nstatic_resources: {listeners: []}\n");
    for command in ["import", "audit"] {
        let (code, out, err) = run(&[command, &none]);
        assert_eq!((code, out.as_str()), (2, ""), "{command}");
        assert_eq!(err, format!("cors-check: no CORS policy in {none}: expected Envoy route configurations with a CorsPolicy (typed_per_filter_config or cors), Istio VirtualServices with corsPolicy, HTTPRoutes with a CORS filter, or Envoy Gateway SecurityPolicies with spec.cors\nskipped: {none}: document 1: ConfigMap settings: not a kind import and audit read\n"));
    }
    // YAML and JSON errors: file, line, column.
    let yaml = write("broken.yaml", "spec:\n  hosts: [a\n  http: []\n");
    let (code, _, err) = run(&["audit", &yaml]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("cors-check: {yaml}:3:7: is not valid YAML: did not find expected ',' or ']'\n")
    );
    let json = write(
        "broken.json",
        "{\"virtual_hosts\": [\n  {\"domains\": [\"*\"],}\n]}",
    );
    let (code, _, err) = run(&["import", &json]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("cors-check: {json}:2:21: is not valid JSON: trailing comma\n")
    );
    // Usage.
    assert_eq!(
        run(&["import"]).2,
        "cors-check: import needs at least one FILE\n"
    );
    assert_eq!(
        run(&["import", "--as", "nginx", "envoy-rds.yaml"]).2,
        "cors-check: --as nginx: use envoy, istio or gateway\n"
    );
    assert_eq!(
        run(&["audit", "--as", "envoy", "envoy-rds.yaml"]).2,
        "cors-check: unknown option --as for audit\n"
    );
    // A choice left to the user: nothing written, not even an empty file.
    let output = scratch.path("out.json");
    let (code, out, err) = run(&[
        "import",
        "--output",
        &output.to_string_lossy(),
        "dangerous-list.yaml",
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("\nchoose: dangerous-list.yaml: items[1].spec.rules[0].filters[0].cors.allowOrigins[0]: no origin of this policy can be carried over (\"*\")"), "{err}");
    assert!(!output.exists());
}

/// Where import's difference list explains a differential case's different
/// verdict: (policy, case, a part of the difference line).
const LISTED: [(&str, &str, &str); 5] = [
    ("credentialed", "upstream ACAO * for a disallowed origin", "leaves the upstream's CORS headers on responses to origins it does not allow"),
    ("credentialed", "upstream ACAO and credentials for a disallowed origin", "leaves the upstream's CORS headers on responses to origins it does not allow"),
    ("star", "*: DELETE with authorization", "which Chromium lets cover authorization too; this filter's \"*\" never covers authorization"),
    ("star", "*: PUT with authorization and a custom header", "which Chromium lets cover authorization too; this filter's \"*\" never covers authorization"),
    ("forward", "forward: disallowed origin, the upstream allows it", "forwards the preflights of origins not allowed to the upstream (forward_not_matching_preflights defaults to true); this filter answers them 403"),
];

/// Every native policy of the differential suite, written as an Envoy
/// bootstrap, imported; then the differential suite's requests sent to
/// Envoy's native filter with the original and to this filter (the form
/// under test) with the import: the same verdicts, except exactly where the
/// import listed a difference.
#[test]
fn imported_envoy_policies_answer_browsers_as_the_native_filter_did() {
    let scratch = Scratch::new("import");
    let upstream = Upstream::start();
    let mut listeners = Vec::new();
    let mut listed: Vec<(&str, String)> = Vec::new();
    for policy in differential::policies() {
        let native = differential::native_listener(&format!("native-{}", policy.name), &policy);
        let file = scratch.path(&format!("{}.yaml", policy.name));
        let bootstrap = envoy::bootstrap(
            vec![native.clone()],
            vec![envoy::cluster("upstream", upstream.port)],
        );
        fs::write(&file, serde_norway::to_string(&bootstrap).unwrap()).unwrap();
        let (code, config, differences) = run(&["import", &file.to_string_lossy()]);
        assert_eq!(code, 0, "{}: {differences}", policy.name);
        listed.push((policy.name, differences));
        listeners.push(native);
        listeners.push(envoy::listener(
            &format!("imported-{}", policy.name),
            vec![envoy::cors_filter(&config), envoy::router()],
            envoy::route_to("upstream"),
        ));
    }
    let envoy = Envoy::start(&envoy::bootstrap(
        listeners,
        vec![envoy::cluster("upstream", upstream.port)],
    ))
    .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let cases = differential::cases();
    for (policy, case, _) in LISTED {
        assert!(
            cases.iter().any(|c| c.policy == policy && c.name == case),
            "no case {policy}/{case}"
        );
    }
    let differing = std::sync::Mutex::new(0);
    run_cases(
        &cases,
        |c| format!("[{}] {}", c.policy, c.name),
        |c| {
            let (native, native_trace) = fetch::fetch(
                envoy.listener_port(&format!("native-{}", c.policy)),
                &c.script,
            );
            let (imported, imported_trace) = fetch::fetch(
                envoy.listener_port(&format!("imported-{}", c.policy)),
                &c.script,
            );
            let expected = LISTED
                .iter()
                .find(|(p, n, _)| *p == c.policy && *n == c.name)
                .map(|l| l.2);
            let differences = &listed.iter().find(|(p, _)| *p == c.policy).unwrap().1;
            let problem = match (imported.same_as(&native), expected) {
                (true, None) => return Ok(()),
                (true, Some(_)) => {
                    "the same verdict, where a listed difference was expected".to_string()
                }
                (false, None) => {
                    "different verdicts, and no difference listed for them".to_string()
                }
                (false, Some(part))
                    if differences
                        .lines()
                        .any(|l| l.starts_with("difference: ") && l.contains(part)) =>
                {
                    *differing.lock().unwrap() += 1;
                    return Ok(());
                }
                (false, Some(part)) => {
                    format!("different verdicts, and import did not list {part:?}")
                }
            };
            let trace = |t: &[fetch::Exchange]| {
                t.iter()
                    .map(|e| format!("\n        {e}"))
                    .collect::<String>()
            };
            Err(format!(
                "{problem}\n      {:?}\n      imported: {}{}\n      native: {}{}\n      import said:\n{differences}",
                c.script, describe(&imported), trace(&imported_trace), describe(&native), trace(&native_trace),
            ))
        },
    );
    let differing = *differing.lock().unwrap();
    println!("import against the native filter: {} cases, {} the same verdict, {differing} different where import listed the difference", cases.len(), cases.len() - differing);
    assert_eq!(differing, LISTED.len());
}

/// .pre-commit-hooks.yaml's hook does what it says: its `files` pattern takes
/// YAML and JSON, and its `entry` fails on a danger and passes on warnings
/// only and on YAML that holds no CORS policy.
#[test]
fn pre_commit_hook_audits_the_files_it_is_given() {
    let text = fs::read_to_string(common::root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<Value> = serde_norway::from_str(&text).unwrap();
    let hook = hooks.iter().find(|h| h["id"] == "cors-audit").unwrap();
    let files = regex_lite::Regex::new(hook["files"].as_str().unwrap()).unwrap();
    for (path, taken) in [
        ("k8s/route.yaml", true),
        ("a.yml", true),
        ("policy.json", true),
        ("README.md", false),
    ] {
        assert_eq!(files.is_match(path), taken, "{path}");
    }
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
    assert_eq!(entry[..2], ["cors-check", "audit"]);
    // (files the hook is given, exit code)
    let cases: [(&[&str], i32); 4] = [
        (&["dangerous-list.yaml"], 1),
        (
            &["gateway-httproute.yaml", "envoy-bootstrap-deprecated.yaml"],
            0,
        ),
        (&["../../docker-compose.yaml"], 0),
        (&["gateway-httproute.yaml", "envoy-rds.yaml"], 1),
    ];
    for (given, want) in cases {
        let args: Vec<&str> = entry[1..].iter().chain(given).copied().collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, want, "{args:?}:\n{out}{err}");
    }
}
