//! The Envoy examples in envoy/: each passes `envoy --mode validate` (which
//! runs the plugin's own check), and the rules and ECDS examples run and do
//! what their comments say.

use super::*;

#[test]
fn every_example_file_is_checked() {
    let mut listed: Vec<String> = ENVOY_EXAMPLES
        .iter()
        .chain(examples::CONFIG_FILES.iter())
        .chain(examples::OTHER_YAML.iter())
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    listed.dedup();
    assert_eq!(
        examples::yaml_files_in_repo(),
        listed,
        "a YAML file in envoy/, istio/, gateway/ or the top directory is not in tests/common/examples.rs"
    );
}

#[test]
fn envoy_examples_pass_envoy_validate() {
    for file in ENVOY_EXAMPLES {
        let (ok, output) = envoy_validate(Path::new(file), &common::root());
        assert!(ok, "envoy --mode validate -c {file}:\n{output}");
        assert!(
            output.contains(&format!("configuration '{file}' OK")),
            "{file}: {output}"
        );
    }
}

/// Validation loads the plugin and runs its configuration check, so "OK" above
/// means the policy was accepted, not only the YAML. (For ecds.yaml Envoy does
/// not read the ECDS file when validating: the tests below start it.)
#[test]
fn envoy_validate_runs_the_plugins_own_check() {
    for file in ["envoy/envoy.yaml", "envoy/rules.yaml"] {
        let text = fs::read_to_string(common::root().join(file)).unwrap();
        assert!(text.contains("\"max_age\": 600,"), "{file}");
        let scratch = Scratch::new("validate");
        let broken = scratch.path("broken.yaml");
        fs::write(
            &broken,
            text.replace("\"max_age\": 600,", "\"max_age\": 600000,"),
        )
        .unwrap();
        let (ok, output) = envoy_validate(&broken, &common::root());
        assert!(
            !ok,
            "{file} with max_age 600000 passed validation:\n{output}"
        );
        assert!(
            output.contains("max_age = 600000: must be a whole number of seconds from 0 to 86400"),
            "{file}: {output}"
        );
    }
}

fn preflight(origin: &str, method: &str) -> Request {
    Request::preflight("/api/items", origin, method)
}

/// (host, request, status, access-control-allow-origin)
type Expect = (&'static str, Request, u16, Option<&'static str>);

fn check_all(envoy: &Envoy, cases: Vec<Expect>) {
    let port = envoy.listener_port("cors");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(host, request, status, acao)| {
            let response = request.send_as(port, host);
            let got = response.get("access-control-allow-origin");
            (response.status != *status || got.as_deref() != *acao).then(|| {
                format!(
                    "{} {} on {host}: {} {got:?} (want {status} {acao:?})",
                    request.method, request.path, response.status
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rules_example_does_what_its_comments_say() {
    let envoy = start_example("envoy/rules.yaml", &[], &[]);
    let app = "https://app.example.com";
    let admin = "https://admin.example.com";
    check_all(
        &envoy,
        vec![
            // Top level.
            ("api.example.com", preflight(app, "PATCH"), 204, Some(app)),
            (
                "api.example.com",
                preflight("https://x.app.example.com", "PUT"),
                204,
                Some("https://x.app.example.com"),
            ),
            ("api.example.com", preflight(admin, "GET"), 403, None),
            // rules[0]: admin.example.com, its own origin and fewer methods.
            (
                "admin.example.com",
                preflight(admin, "DELETE"),
                204,
                Some(admin),
            ),
            ("admin.example.com", preflight(admin, "PATCH"), 403, None),
            ("admin.example.com", preflight(app, "GET"), 403, None),
            // rules[1]: /public/, any origin, read-only.
            (
                "api.example.com",
                Request::get("/public/logo.svg").header("origin", "https://any.example"),
                200,
                Some("*"),
            ),
            (
                "api.example.com",
                Request::preflight("/public/x", "https://any.example", "PUT"),
                403,
                None,
            ),
            // rules[2]: legacy.example.com forwards what it does not allow.
            (
                "legacy.example.com",
                preflight("https://evil.example", "GET"),
                200,
                None,
            ),
            ("legacy.example.com", preflight(app, "PUT"), 204, Some(app)),
            // rules[3], rules[4]: CORS off.
            (
                "a.internal.example.com",
                preflight("https://evil.example", "PUT"),
                200,
                None,
            ),
            (
                "api.example.com",
                Request::preflight("/webhooks/pay", "https://evil.example", "PUT"),
                200,
                None,
            ),
        ],
    );
}

#[test]
fn ecds_example_serves_the_filter_from_its_file_and_takes_updates() {
    // A private copy of the ECDS file, so the test can replace it.
    let scratch = Scratch::new("ecds");
    let filter_file = scratch.path("cors-filter.yaml");
    let original = fs::read_to_string(common::root().join("envoy/ecds/cors-filter.yaml")).unwrap();
    fs::write(&filter_file, &original).unwrap();
    let filter_path = filter_file.to_string_lossy().into_owned();
    let envoy = start_example(
        "envoy/ecds.yaml",
        &[(
            "path: envoy/ecds/cors-filter.yaml",
            &format!("path: {filter_path}"),
        )],
        &[],
    );
    let app = "https://app.example.com";
    check_all(
        &envoy,
        vec![
            ("localhost", preflight(app, "PUT"), 204, Some(app)),
            (
                "localhost",
                preflight("https://evil.example", "PUT"),
                403,
                None,
            ),
        ],
    );
    assert_eq!(
        envoy.stat("extension_config_discovery.http_filter.cors.update_success"),
        Some(1)
    );

    // As the example says: write the new file beside it, then move it over.
    let replace = |text: &str| {
        let next = scratch.path("next.yaml");
        fs::write(&next, text).unwrap();
        fs::rename(&next, &filter_file).unwrap();
    };
    let wait_for = |stat: &str, want: u64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while envoy.stat(stat) != Some(want) {
            assert!(
                Instant::now() < deadline,
                "{stat} never reached {want}:\n{}",
                envoy.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // A policy the plugin refuses: Envoy keeps the old one and says so.
    replace(&original.replace("\"max_age\": 600,", "\"max_age\": 600000,"));
    wait_for(
        "extension_config_discovery.http_filter.cors.update_rejected",
        1,
    );
    check_all(
        &envoy,
        vec![("localhost", preflight(app, "PUT"), 204, Some(app))],
    );
    assert!(
        envoy
            .log()
            .contains("max_age = 600000: must be a whole number"),
        "{}",
        envoy.log()
    );
    // A good one takes effect.
    let only_admin = original.replace(
        "\"allow_origins\": [\"https://app.example.com\", \"https://*.example.com\"]",
        "\"allow_origins\": [\"https://admin.example.com\"]",
    );
    assert_ne!(only_admin, original);
    replace(&only_admin);
    wait_for(
        "extension_config_discovery.http_filter.cors.update_success",
        2,
    );
    check_all(
        &envoy,
        vec![
            ("localhost", preflight(app, "PUT"), 403, None),
            (
                "localhost",
                preflight("https://admin.example.com", "PUT"),
                204,
                Some("https://admin.example.com"),
            ),
        ],
    );
}
