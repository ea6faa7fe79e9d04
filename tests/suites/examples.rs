//! The files operators copy: Envoy examples (validated by Envoy, and run),
//! docker-compose.yaml (checked against the Makefile and envoy/envoy.yaml, and
//! its container layout validated by the same Envoy version), the Istio
//! WasmPlugin (its pluginConfig through the plugin's own validation and a real
//! Envoy), and the OCI image `make image` builds (taken apart as Istio does).

use crate::common;

use common::envoy::{Envoy, Scratch};
use common::examples::{self, envoy_validate, start_example, ENVOY_EXAMPLES};
use common::http::Request;
use common::tls::TestCert;
use common::upstream::Upstream;
use cors_core::config_source;
use cors_core::Config;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn yaml(file: &str) -> Value {
    let text = fs::read_to_string(common::root().join(file)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `NAME ?= value` (or `:=`) from the Makefile.
fn makefile_var(name: &str) -> String {
    let makefile = fs::read_to_string(common::root().join("Makefile")).unwrap();
    makefile
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            let key = key.trim_end_matches(['?', ':', ' ']);
            (key == name).then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| panic!("Makefile has no {name}"))
}

#[test]
fn every_example_file_is_checked() {
    let mut listed: Vec<String> = ENVOY_EXAMPLES
        .iter()
        .chain(examples::CONFIG_FILES.iter())
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

// docker-compose.yaml: cannot run here (no Docker engine), so everything it
// relies on is checked instead.

/// Each compose service: (name, its profile, the demo configuration it runs,
/// the Makefile variable naming the artifact it mounts, the make target whose
/// command it runs).
const COMPOSE_SERVICES: [(&str, Option<&str>, &str, &str, &str); 2] = [
    ("envoy", None, "envoy/envoy.yaml", "WASM", "run"),
    (
        "envoy-native",
        Some("native"),
        "envoy/native.yaml",
        "MODULE",
        "run-native",
    ),
];

fn compose_services() -> Vec<(Value, &'static str, &'static str, &'static str)> {
    let compose = yaml("docker-compose.yaml");
    let services = compose["services"].as_object().unwrap();
    assert_eq!(
        services.len(),
        COMPOSE_SERVICES.len(),
        "one service per form: Envoy with its demo upstream inside"
    );
    COMPOSE_SERVICES
        .iter()
        .map(|(name, profile, config, artifact, target)| {
            let service = services
                .get(*name)
                .unwrap_or_else(|| panic!("docker-compose.yaml has no service {name}"))
                .clone();
            let profiles = service.get("profiles").cloned().unwrap_or(Value::Null);
            match profile {
                None => assert!(
                    profiles.is_null(),
                    "{name}: no profile, `docker compose up` runs it"
                ),
                Some(p) => assert_eq!(profiles, serde_json::json!([p]), "{name}"),
            }
            (service, *config, *artifact, *target)
        })
        .collect()
}

/// The arguments a make target passes to Envoy: its `exec $(ENVOY) ...` line.
fn make_exec_line(target: &str) -> String {
    let makefile = fs::read_to_string(common::root().join("Makefile")).unwrap();
    let recipe = makefile
        .split(&format!("\n{target}:"))
        .nth(1)
        .unwrap_or_else(|| panic!("Makefile has no target {target}"));
    recipe
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.trim().strip_prefix("exec $(ENVOY) "))
        .unwrap_or_else(|| panic!("Makefile's {target} target has no `exec $(ENVOY) ...` line"))
        .to_string()
}

/// (source, target) of each bind mount.
fn compose_mounts(service: &Value) -> Vec<(String, String)> {
    service["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert_eq!(v["type"], "bind", "{v}");
            assert_eq!(v["read_only"], true, "{v}");
            assert_eq!(v["bind"]["create_host_path"], false, "{v}");
            (
                v["source"].as_str().unwrap().to_string(),
                v["target"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn compose_command(service: &Value) -> Vec<String> {
    service["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn compose_pins_the_tested_envoy_and_runs_make_runs_command() {
    let version = makefile_var("ENVOY_VERSION");
    assert_eq!(version, "1.40.0");
    for (service, _, _, target) in compose_services() {
        assert_eq!(service["image"], format!("envoyproxy/envoy:v{version}"));
        // The command is the make target's, with the image's envoy.
        let command = compose_command(&service);
        assert_eq!(command[0], "envoy");
        assert_eq!(command[1..].join(" "), make_exec_line(target), "{target}");
        // The demo listens on loopback only: the container must share the host's network.
        assert_eq!(service["network_mode"], "host");
        assert!(
            service.get("ports").is_none(),
            "ports mean nothing with network_mode: host"
        );
    }
}

#[test]
fn compose_mounts_what_the_configuration_expects() {
    for (service, config, artifact, _) in compose_services() {
        let workdir = PathBuf::from(service["working_dir"].as_str().unwrap());
        let mounts = compose_mounts(&service);
        let target_of = |source: &str| {
            mounts
                .iter()
                .find(|(s, _)| s == source)
                .map(|(_, t)| PathBuf::from(t))
                .unwrap_or_else(|| {
                    panic!("docker-compose.yaml does not mount {source}: {mounts:?}")
                })
        };
        let command = compose_command(&service);
        let config_arg = &command[command.iter().position(|a| a == "-c").unwrap() + 1];
        // The configuration Envoy reads in the container is the repository's file...
        assert_eq!(workdir.join(config_arg), target_of(&format!("./{config}")));
        // ...whose module path resolves to the mounted artifact, where `make build` writes it.
        let demo = yaml(config);
        let filename = find_key(&demo, "filename").expect("the demo names no module file");
        let artifact = makefile_var(artifact);
        assert_eq!(format!("./{filename}"), format!("./{artifact}"));
        assert_eq!(workdir.join(&filename), target_of(&format!("./{artifact}")));
        assert_eq!(mounts.len(), 2, "{mounts:?}");
        // The demo upstream is inside the same configuration: the cluster points at one of its listeners.
        let listeners: Vec<u64> = demo["static_resources"]["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                l["address"]["socket_address"]["port_value"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        for cluster in demo["static_resources"]["clusters"].as_array().unwrap() {
            let port = find_key(cluster, "port_value")
                .unwrap()
                .parse::<u64>()
                .unwrap();
            assert!(
                listeners.contains(&port),
                "cluster {} goes outside {config}",
                cluster["name"]
            );
        }
    }
}

/// The first value of `key` anywhere under `value`, as text.
fn find_key(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get(key)
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// The container's file system, rebuilt from the compose mounts, validated by
/// the same Envoy version from the compose working directory.
#[test]
fn compose_container_layout_passes_envoy_validate() {
    for (service, config, _, _) in compose_services() {
        let scratch = Scratch::new("container");
        for (source, target) in compose_mounts(&service) {
            let inside = scratch.0.join(target.trim_start_matches('/'));
            fs::create_dir_all(inside.parent().unwrap()).unwrap();
            fs::copy(common::root().join(&source), &inside)
                .unwrap_or_else(|e| panic!("{source}: {e}"));
        }
        let workdir = scratch.0.join(
            service["working_dir"]
                .as_str()
                .unwrap()
                .trim_start_matches('/'),
        );
        let (ok, output) = envoy_validate(Path::new(config), &workdir);
        assert!(ok, "the container's {config} does not validate:\n{output}");
        assert!(
            output.contains(&format!("configuration '{config}' OK")),
            "{output}"
        );
    }
}

#[test]
fn readme_docker_section_uses_compose_and_the_make_run_commands() {
    let readme = fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme
        .find("\n## Docker\n")
        .expect("README has no ## Docker section");
    let section = &readme[start..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    for want in [
        "make build",
        "docker compose up",
        "docker compose --profile native up envoy-native",
        "sh envoy/demo-requests.sh",
        "network_mode: host",
        "glibc",
    ] {
        assert!(
            section.contains(want),
            "README's Docker section lacks {want:?}"
        );
    }
}

// Istio.

const WASM_PLUGIN_FIELDS: [&str; 16] = [
    "selector",
    "targetRef",
    "targetRefs",
    "url",
    "sha256",
    "imagePullPolicy",
    "imagePullSecret",
    "verificationKey",
    "pluginConfig",
    "pluginName",
    "phase",
    "priority",
    "failStrategy",
    "vmConfig",
    "match",
    "type",
];

#[test]
fn istio_manifest_is_a_wasm_plugin_run_before_authentication() {
    let manifest = yaml("istio/wasmplugin.yaml");
    assert_eq!(manifest["apiVersion"], "extensions.istio.io/v1alpha1");
    assert_eq!(manifest["kind"], "WasmPlugin");
    let spec = manifest["spec"].as_object().unwrap();
    for key in spec.keys() {
        assert!(
            WASM_PLUGIN_FIELDS.contains(&key.as_str()),
            "spec.{key} is not a WasmPlugin field"
        );
    }
    assert_eq!(spec["phase"], "AUTHN");
    assert!(spec["url"].as_str().unwrap().starts_with("oci://"));
    let text = fs::read_to_string(common::root().join("istio/wasmplugin.yaml")).unwrap();
    for want in ["url: file://", "sha256:", "make image", "imagePullSecret"] {
        assert!(
            text.contains(want),
            "istio/wasmplugin.yaml's comments lack {want:?}"
        );
    }
}

/// The JSON Istio hands the plugin (pluginConfig as JSON in a StringValue).
fn istio_plugin_json() -> String {
    let text = fs::read_to_string(common::root().join("istio/wasmplugin.yaml")).unwrap();
    let found = config_source::find(&text).unwrap();
    assert_eq!(found.len(), 1);
    found[0].json.clone().unwrap()
}

#[test]
fn istio_plugin_config_passes_the_plugins_validation() {
    let json = istio_plugin_json();
    let config = Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.rules.len(), 2);
    assert!(config.default.credentials);
}

#[test]
fn istio_plugin_config_in_a_real_envoy() {
    let upstream = Upstream::start();
    let envoy = examples::start_plugin(&istio_plugin_json(), upstream.port, &[]);
    let shop = "https://shop.example.com";
    let cases = [
        ("shop.example.com", "/api/cart", shop, 204, Some(shop)),
        (
            "shop.example.com",
            "/api/cart",
            "https://evil.example",
            403,
            None,
        ),
        (
            "shop.example.com",
            "/static/app.js",
            "https://evil.example",
            403,
            None,
        ),
        (
            "api.shop.example.com",
            "/webhooks/pay",
            "https://evil.example",
            200,
            None,
        ),
    ];
    for (host, path, origin, status, acao) in cases {
        let response = Request::preflight(path, origin, "PATCH").send_as(envoy.port(), host);
        assert_eq!(response.status, status, "{host}{path} from {origin}");
        assert_eq!(
            response.get("access-control-allow-origin").as_deref(),
            acao,
            "{host}{path}"
        );
    }
    let public = Request::get("/static/app.js")
        .header("origin", "https://evil.example")
        .send(envoy.port());
    assert_eq!(
        public.get("access-control-allow-origin").as_deref(),
        Some("*")
    );
}

// The OCI image.

#[test]
fn dockerfile_is_one_layer_holding_plugin_wasm() {
    let dockerfile = fs::read_to_string(common::root().join("Dockerfile")).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        instructions,
        ["FROM scratch", "COPY dist/cors.wasm ./plugin.wasm"]
    );
    let ignore = fs::read_to_string(common::root().join(".dockerignore")).unwrap();
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        rules,
        ["*", "!dist/cors.wasm"],
        "the build context must be the module only"
    );
}

fn make_image(scratch: &Scratch, vars: &[&str]) -> std::process::Output {
    // A private Buildah store (vfs: no kernel features needed), gone with the scratch dir.
    let conf = scratch.path("storage.conf");
    fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\nrunroot = \"{0}/run\"\ngraphroot = \"{0}/root\"\n",
            scratch.0.display()
        ),
    )
    .unwrap();
    Command::new("make")
        .args(["-s", "image"])
        .args(vars)
        .env("CONTAINERS_STORAGE_CONF", &conf)
        .current_dir(common::root())
        .output()
        .expect("make is missing")
}

#[test]
fn make_image_without_docker_or_buildah_says_what_to_install() {
    let scratch = Scratch::new("noimage");
    let out = make_image(
        &scratch,
        &["DOCKER=/nonexistent/docker", "BUILDAH=/nonexistent/buildah"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("make image: needs a running Docker engine ('/nonexistent/docker info' failed) or Buildah ('/nonexistent/buildah' not found)."),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install buildah"), "{stderr}");
}

/// `make image` with Buildah (Docker's engine cannot run here), then the image
/// taken apart as Istio's image fetcher does: the last layer is an OCI
/// tar+gzip layer whose plugin.wasm is the module.
#[test]
fn make_image_builds_what_istio_pulls() {
    let buildah_ok = container_tool("buildah")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        buildah_ok,
        "buildah is missing: apt-get install buildah (make test installs it)"
    );
    let scratch = Scratch::new("image");
    let image = format!("localhost/proxy-wasm-cors-test:{}", std::process::id());
    // Buildah through tests/own-mount-root.sh (a chroot's root is no mount point).
    let buildah = scratch.path("buildah");
    fs::write(
        &buildah,
        format!(
            "#!/bin/sh\nexec '{}' buildah \"$@\"\n",
            common::root().join("tests/own-mount-root.sh").display()
        ),
    )
    .unwrap();
    fs::set_permissions(&buildah, fs::Permissions::from_mode(0o755)).unwrap();
    let out = make_image(
        &scratch,
        &[
            &format!("IMAGE={image}"),
            "DOCKER=/nonexistent/docker",
            &format!("BUILDAH={}", buildah.display()),
        ],
    );
    assert!(
        out.status.success(),
        "make image:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let layout = scratch.path("oci");
    let push = container_tool("buildah")
        .args(["push", &image])
        .arg(format!("oci:{}", layout.display()))
        .env("CONTAINERS_STORAGE_CONF", scratch.path("storage.conf"))
        .output()
        .unwrap();
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );

    let blob = |digest: &str| {
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest: Value = serde_json::from_slice(
        &fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let layer = blob(layers[0]["digest"].as_str().unwrap());
    let list = Command::new("tar")
        .arg("-tzf")
        .arg(&layer)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout), "plugin.wasm\n");
    let unpacked = scratch.path("unpacked");
    fs::create_dir_all(&unpacked).unwrap();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&layer)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(untar.success());
    assert!(
        fs::read(unpacked.join("plugin.wasm")).unwrap()
            == fs::read(common::root().join("dist/cors.wasm")).unwrap(),
        "the image's plugin.wasm is not dist/cors.wasm"
    );
}

/// The compose services for real, in containers: an image like the official
/// `envoyproxy/envoy` one is built locally with Buildah under the compose
/// file's tag (no registry is reachable: `FROM scratch` with the pinned Envoy
/// and the shared libraries it and the module need), then each service runs
/// with Podman as the compose file writes it (image, network, working
/// directory, read-only mounts, limits, command), its demo answers the
/// README's three commands exactly, and it is stopped and removed. The one
/// liberty: the mounted demo configuration has its ports moved to free ones.
#[test]
fn compose_services_run_in_containers_and_answer_as_the_readme_shows() {
    for tool in ["podman", "buildah"] {
        assert!(
            Command::new(tool).arg("--version").output().is_ok(),
            "{tool} is missing: apt-get install podman runc buildah"
        );
    }
    let services = compose_services();
    let image = services[0].0["image"].as_str().unwrap().to_string();
    let started = Instant::now();
    build_envoy_image(&image);
    eprintln!(
        "compose: built {image} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (service, config, _, _) in services {
        let name = format!("cors-compose-test-{}", std::process::id());
        let (front, upstream, admin) = (
            examples::free_port(),
            examples::free_port(),
            examples::free_port(),
        );
        let scratch = Scratch::new("compose");
        let moved = scratch.path("demo.yaml");
        fs::write(
            &moved,
            examples::demo_on_ports(config, front, upstream, admin),
        )
        .unwrap();
        let run_started = Instant::now();
        let container = Container::run(&name, &podman_run_args(&service, config, &moved));
        container.wait_ready(admin);
        eprintln!(
            "compose: {config} started in {:.1} s",
            run_started.elapsed().as_secs_f64()
        );
        let answers = examples::demo_answers_as_the_readme_shows(front);
        eprintln!("compose: {config} answered {answers:?}");
        drop(container);
        let left = container_tool("podman")
            .args(["ps", "-a", "-q", "--filter", &format!("name={name}")])
            .output()
            .unwrap();
        assert!(left.stdout.is_empty(), "container {name} was not removed");
        eprintln!("compose: {config} stopped and removed");
    }
    eprintln!(
        "compose: both services in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The image: the Envoy binary the tests run, at `/usr/local/bin/envoy` as in
/// the official image, with every shared library it and the module load.
fn build_envoy_image(tag: &str) {
    let envoy = common::envoy::real_binary(&common::envoy::binary());
    let version = Command::new(&envoy).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    let wanted = tag.rsplit(":v").next().unwrap();
    assert!(
        version.contains(&format!("/{wanted}/")),
        "the image {tag} must hold Envoy {wanted}: {version}"
    );
    let scratch = Scratch::new("image");
    let rootfs = scratch.path("rootfs");
    let copy = |from: &Path, to: &str| {
        let target = rootfs.join(to.trim_start_matches('/'));
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(from, &target).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    };
    copy(&envoy, "/usr/local/bin/envoy");
    let module = common::form::Form::Module.artifact();
    for binary in [&envoy, &module] {
        let ldd = Command::new("ldd").arg(binary).output().unwrap();
        for library in String::from_utf8_lossy(&ldd.stdout)
            .split_whitespace()
            .filter(|word| word.starts_with('/'))
        {
            copy(&fs::canonicalize(library).unwrap(), library);
        }
    }
    fs::write(
        scratch.path("Containerfile"),
        "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin\n",
    )
    .unwrap();
    // Podman looks a short name up as docker.io/... first: tag it so.
    let output = container_tool("buildah")
        .args(["bud", "-q", "-t", &format!("docker.io/{tag}"), "-f"])
        .arg(scratch.path("Containerfile"))
        .arg(&scratch.0)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "buildah bud failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `buildah` or `podman`, run so that "/" is a mount point (see
/// tests/own-mount-root.sh): what containers/storage needs to unpack layers.
fn container_tool(name: &str) -> Command {
    let mut command = Command::new(common::root().join("tests/own-mount-root.sh"));
    command.arg(name);
    command
}

/// `podman run` for a compose service, from its settings, with the demo
/// configuration mounted from `moved` instead of the repository's `config`.
/// Every key of the service is either translated or refused, so the file
/// cannot say something this test ignores.
fn podman_run_args(service: &Value, config: &str, moved: &Path) -> Vec<String> {
    let known = [
        "image",
        "profiles",
        "network_mode",
        "working_dir",
        "volumes",
        "ulimits",
        "command",
    ];
    for key in service.as_object().unwrap().keys() {
        assert!(
            known.contains(&key.as_str()),
            "compose key {key} is not run by this test"
        );
    }
    // This machine's kernel needs runc (crun fails on its cgroup layout).
    let mut args: Vec<String> = vec!["--runtime".into(), "runc".into()];
    if let Some(network) = service["network_mode"].as_str() {
        args.extend(["--network".into(), network.into()]);
    }
    args.extend(["-w".into(), service["working_dir"].as_str().unwrap().into()]);
    for (source, target) in compose_mounts(service) {
        let source = if source == format!("./{config}") {
            moved.to_path_buf()
        } else {
            common::root().join(&source)
        };
        args.extend([
            "--mount".into(),
            format!(
                "type=bind,source={},target={target},readonly",
                source.display()
            ),
        ]);
    }
    for (name, limit) in service["ulimits"].as_object().unwrap() {
        let (soft, hard) = match limit {
            Value::Object(l) => (l["soft"].clone(), l["hard"].clone()),
            single => (single.clone(), single.clone()),
        };
        args.extend(["--ulimit".into(), format!("{name}={soft}:{hard}")]);
    }
    args.push(service["image"].as_str().unwrap().into());
    args.extend(compose_command(service));
    args
}

/// A running container, stopped and removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn run(name: &str, args: &[String]) -> Container {
        let _ = container_tool("podman").args(["rm", "-f", name]).output();
        let output = container_tool("podman")
            .args(["run", "-d", "--name", name])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "podman run {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Container {
            name: name.to_string(),
        }
    }

    /// Waits (at most 60 s) for Envoy's admin to say it is ready.
    fn wait_ready(&self, admin: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready =
                common::http::send_raw(admin, &Request::get("/ready").to_bytes("localhost"));
            if ready.is_ok_and(|r| r.status == 200) {
                return;
            }
            if Instant::now() > deadline {
                let logs = container_tool("podman")
                    .args(["logs", &self.name])
                    .output()
                    .unwrap();
                panic!(
                    "the container {} was not ready within 60 s:\n{}",
                    self.name,
                    String::from_utf8_lossy(&logs.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = container_tool("podman")
            .args(["rm", "-f", "-t", "2", &self.name])
            .output();
    }
}

// ------------------------------------------------------------------ TLS example

/// envoy/tls.yaml (`make run-tls`): the demo over TLS, HTTP/2 chosen by ALPN.
/// The demo's three requests, rewritten as `make run-tls` prints them, answer
/// over HTTP/2 with exactly the status, CORS headers and `vary` of the
/// cleartext demo over HTTP/1.1.
#[test]
fn tls_example_answers_over_http2_as_the_cleartext_demo() {
    let cert = TestCert::new();
    let tls_port = examples::free_port();
    let cert_path = cert.cert.display().to_string();
    let key_path = cert.key.display().to_string();
    let tls = start_example(
        "envoy/tls.yaml",
        &[
            ("port_value: 10443", &format!("port_value: {tls_port}")),
            ("target/tls/cert.pem", &cert_path),
            ("target/tls/key.pem", &key_path),
        ],
        &[],
    );
    let clear = start_example("envoy/envoy.yaml", &[], &[]);
    let makefile = fs::read_to_string(common::root().join("Makefile")).unwrap();
    // What make run-tls prints: the demo's commands with these two rewrites.
    for rewrite in [
        "'s|curl -si|curl -si --cacert $(TLS_DIR)/cert.pem|'",
        "'s|http://127.0.0.1:10000|https://localhost:10443|'",
    ] {
        assert!(makefile.contains(rewrite), "make run-tls lacks {rewrite}");
    }
    let requests = fs::read_to_string(common::root().join("envoy/demo-requests.sh")).unwrap();
    let commands: Vec<&str> = requests
        .lines()
        .filter(|l| l.starts_with("curl "))
        .collect();
    assert_eq!(commands.len(), 3);
    let run = |command: &str| {
        let out = Command::new("sh").arg("-c").arg(command).output().unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::http::parse_response(&out.stdout).unwrap_or_else(|e| panic!("{command}: {e}"))
    };
    for command in commands {
        let over_tls = command
            .replace("curl -si", &format!("curl -si --cacert {cert_path}"))
            .replace(
                "http://127.0.0.1:10000",
                &format!("https://localhost:{tls_port}"),
            );
        let cleartext = command.replace(
            "127.0.0.1:10000",
            &format!("127.0.0.1:{}", clear.listener_port("cors")),
        );
        let (h2, h1) = (run(&over_tls), run(&cleartext));
        let version = Command::new("sh")
            .arg("-c")
            .arg(format!("{over_tls} -o /dev/null -w '%{{http_version}}'"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&version.stdout), "2", "{over_tls}");
        assert_eq!(
            (h2.status, h2.cors_headers(), h2.get("vary")),
            (h1.status, h1.cors_headers(), h1.get("vary")),
            "{command}"
        );
    }
    drop(tls);
}

// ------------------------------------------------------------ Envoy Gateway

const GATEWAY_POLICY: &str = "gateway/envoyextensionpolicy.yaml";

/// The fields of Envoy Gateway's EnvoyExtensionPolicy (gateway.envoyproxy.io/v1alpha1)
/// this example may use, level by level.
const EXTENSION_POLICY_SPEC: [&str; 4] = ["targetRef", "targetRefs", "targetSelectors", "wasm"];
const EXTENSION_POLICY_WASM: [&str; 6] = ["name", "rootID", "code", "config", "failOpen", "env"];
const EXTENSION_POLICY_CODE: [&str; 4] = ["type", "http", "image", "pullPolicy"];
const EXTENSION_POLICY_IMAGE: [&str; 4] = ["url", "sha256", "pullSecretRef", "tls"];

fn only_fields(value: &Value, allowed: &[&str], at: &str) {
    for key in value
        .as_object()
        .unwrap_or_else(|| panic!("{at} is not an object"))
        .keys()
    {
        assert!(
            allowed.contains(&key.as_str()),
            "{at}.{key} is not an EnvoyExtensionPolicy field"
        );
    }
}

#[test]
fn gateway_manifest_is_an_envoy_extension_policy() {
    let manifest = yaml(GATEWAY_POLICY);
    assert_eq!(manifest["apiVersion"], "gateway.envoyproxy.io/v1alpha1");
    assert_eq!(manifest["kind"], "EnvoyExtensionPolicy");
    only_fields(&manifest["metadata"], &["name", "namespace"], "metadata");
    let spec = &manifest["spec"];
    only_fields(spec, &EXTENSION_POLICY_SPEC, "spec");
    for target in spec["targetRefs"].as_array().unwrap() {
        only_fields(
            target,
            &["group", "kind", "name", "sectionName"],
            "spec.targetRefs[]",
        );
        assert_eq!(target["group"], "gateway.networking.k8s.io");
    }
    let wasm = spec["wasm"].as_array().unwrap();
    assert_eq!(wasm.len(), 1);
    let wasm = &wasm[0];
    only_fields(wasm, &EXTENSION_POLICY_WASM, "spec.wasm[0]");
    only_fields(&wasm["code"], &EXTENSION_POLICY_CODE, "spec.wasm[0].code");
    assert_eq!(wasm["code"]["type"], "Image");
    only_fields(
        &wasm["code"]["image"],
        &EXTENSION_POLICY_IMAGE,
        "spec.wasm[0].code.image",
    );
    // Envoy Gateway's image URL is registry/image:tag, without oci://.
    let url = wasm["code"]["image"]["url"].as_str().unwrap();
    assert!(!url.contains("://"), "{url}");
    assert_eq!(wasm["failOpen"], false);
    assert!(wasm["config"].is_object());
    let text = fs::read_to_string(common::root().join(GATEWAY_POLICY)).unwrap();
    for want in ["type: HTTP", "sha256:", "make image", "pullSecretRef"] {
        assert!(
            text.contains(want),
            "{GATEWAY_POLICY}'s comments lack {want:?}"
        );
    }
}

/// The JSON Envoy Gateway hands the plugin (`config` as JSON text).
fn gateway_plugin_json() -> String {
    let text = fs::read_to_string(common::root().join(GATEWAY_POLICY)).unwrap();
    let found = config_source::find(&text).unwrap();
    assert_eq!(found.len(), 1);
    found[0].json.clone().unwrap()
}

#[test]
fn gateway_plugin_config_passes_the_plugins_validation() {
    let json = gateway_plugin_json();
    Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    // The same policy as the Istio example, so one README walk-through fits both.
    assert_eq!(json, istio_plugin_json());
}

/// A loopback web server for `dir` (Python's), as Envoy Gateway serves
/// modules to its proxies; stopped when dropped.
struct FileServer {
    child: std::process::Child,
    port: u16,
}

impl FileServer {
    fn start(dir: &Path) -> FileServer {
        let port = examples::free_port();
        let mut command = Command::new("python3");
        command
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = common::dies_with_parent(&mut command).spawn().unwrap();
        let server = FileServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the file server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The policy as Envoy Gateway translates it (its xDS translator's Wasm
/// filter): the filter disabled on the listener and enabled per route with an
/// empty `FilterConfig`, the module fetched over HTTP and checked by sha256,
/// `config` as a StringValue, `failOpen` as `fail_open`. Routes of the
/// targeted Gateway get the policy; a route it does not target is untouched.
#[test]
fn gateway_policy_in_a_real_envoy_as_envoy_gateway_translates_it() {
    let manifest = yaml(GATEWAY_POLICY);
    let wasm = &manifest["spec"]["wasm"][0];
    let module = common::wasm_path();
    let sha256 = Command::new("sha256sum").arg(&module).output().unwrap();
    let sha256 = String::from_utf8_lossy(&sha256.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let files = FileServer::start(module.parent().unwrap());
    let upstream = Upstream::start();
    let filter_name = "envoy.filters.http.wasm/envoyextensionpolicy/default/cors/0";
    let filter = serde_json::json!({
        "name": filter_name,
        "disabled": true,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": wasm["name"],
                "root_id": wasm["rootID"],
                "vm_config": {
                    "vm_id": "envoyextensionpolicy/default/cors/0",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"remote": {
                        "http_uri": {
                            "uri": format!("http://127.0.0.1:{}/{}", files.port, module.file_name().unwrap().to_string_lossy()),
                            "cluster": "wasm_cluster",
                            "timeout": "10s"
                        },
                        "sha256": sha256
                    }}
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": gateway_plugin_json()
                },
                "fail_open": wasm["failOpen"]
            }
        }
    });
    let enabled = serde_json::json!({filter_name: {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "config": {}}});
    let routes = serde_json::json!({"virtual_hosts": [{
        "name": "all", "domains": ["*"],
        "routes": [
            {"match": {"prefix": "/other-gateway/"}, "route": {"cluster": "upstream"}},
            {"match": {"prefix": "/"}, "route": {"cluster": "upstream"}, "typed_per_filter_config": enabled}
        ]
    }]});
    let bootstrap = common::envoy::bootstrap(
        vec![common::envoy::listener(
            "eg",
            vec![filter, common::envoy::router()],
            routes,
        )],
        vec![
            common::envoy::cluster("upstream", upstream.port),
            common::envoy::cluster("wasm_cluster", files.port),
        ],
    );
    let envoy =
        Envoy::start(&bootstrap).unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    let shop = "https://shop.example.com";
    let evil = "https://evil.example";
    // (host, path, origin, the preflight's method, status, access-control-allow-origin)
    let cases = [
        (
            "shop.example.com",
            "/api/cart",
            shop,
            "PATCH",
            204,
            Some(shop),
        ),
        ("shop.example.com", "/api/cart", evil, "PATCH", 403, None),
        (
            "shop.example.com",
            "/static/app.js",
            evil,
            "GET",
            204,
            Some("*"),
        ),
        (
            "shop.example.com",
            "/static/app.js",
            evil,
            "PATCH",
            403,
            None,
        ),
        (
            "api.shop.example.com",
            "/webhooks/pay",
            evil,
            "PATCH",
            200,
            None,
        ),
        // Not a route of the targeted Gateway: the filter stays disabled.
        (
            "shop.example.com",
            "/other-gateway/x",
            evil,
            "PATCH",
            200,
            None,
        ),
    ];
    for (host, path, origin, method, status, acao) in cases {
        let response = Request::preflight(path, origin, method).send_as(envoy.port(), host);
        let got = response.get("access-control-allow-origin");
        assert_eq!(
            (response.status, got.as_deref()),
            (status, acao),
            "{method} preflight {host}{path} from {origin}"
        );
    }
    // The module came over HTTP, its sha256 checked, as from Envoy Gateway.
    assert_eq!(envoy.stat("wasm.remote_load_fetch_successes"), Some(1));
    assert_eq!(envoy.stat("wasm.remote_load_fetch_failures"), Some(0));
}

// -------------------------------------------------------- system packages

/// Without root and without sudo, scripts/system-packages.sh installs
/// nothing and says in one message which packages and which command (or, with
/// no apt-get, which Debian packages to look for). It runs
/// with a PATH where the test suites' tools (and Python, and sudo) are
/// missing, and an `id` that answers as user 1000.
#[test]
fn system_packages_without_root_name_the_packages_and_the_command() {
    let dir = Scratch::new("packages");
    let bin = dir.path("bin");
    fs::create_dir_all(&bin).unwrap();
    let which = |tool: &str| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let bash = which("bash");
    std::os::unix::fs::symlink(&bash, bin.join("bash")).unwrap();
    std::os::unix::fs::symlink(which("grep"), bin.join("grep")).unwrap();
    fs::write(bin.join("id"), format!("#!{bash}\necho 1000\n")).unwrap();
    fs::set_permissions(bin.join("id"), fs::Permissions::from_mode(0o755)).unwrap();
    let run = || {
        let out = Command::new(&bash)
            .arg(common::root().join("scripts/system-packages.sh"))
            .arg("test")
            .env_clear()
            .env("PATH", &bin)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        (out.status.code(), stderr)
    };
    let packages = "python3-venv chromium chromium-driver buildah podman runc wrk g++ openssl curl";
    assert_eq!(
        run(),
        (
            Some(1),
            format!(
                "make test needs these programs, from these Debian package names: {packages}\n\
                 This machine has no apt-get: install them with its package manager, then run make again.\n"
            )
        )
    );
    // apt-get exists, but must not run.
    std::os::unix::fs::symlink("/bin/false", bin.join("apt-get")).unwrap();
    assert_eq!(
        run(),
        (
            Some(1),
            format!(
                "make test needs these system packages: {packages}\n\
                 Install them as root, then run make again:\n    \
                 apt-get update && apt-get install -y -qq --no-install-recommends {packages}\n"
            )
        )
    );
}

// -------------------------------------------------- the Public Suffix List

fn public_suffix_list_script(list: &Path, source: &str) -> (Option<i32>, String, String) {
    let out = Command::new("python3")
        .arg(common::root().join("scripts/public-suffix-list.py"))
        .arg(list)
        .arg(source)
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (out.status.code(), text(out.stdout), text(out.stderr))
}

/// scripts/public-suffix-list.py turns the list as published into what the
/// core searches: comments and trailing words dropped, labels as browsers
/// send them (punycode, lowercase), sorted, each rule once.
#[test]
fn public_suffix_list_script_writes_the_form_the_core_searches() {
    let dir = Scratch::new("psl");
    let list = dir.path("public_suffix_list.dat");
    fs::write(
        &list,
        "// ===BEGIN ICANN DOMAINS===\n\ncom\n*.ck\n!www.ck\nрф\nCOM.рф\n公司.cn\n// ===END ICANN DOMAINS===\n\
         // ===BEGIN PRIVATE DOMAINS===\ngithub.io  // words after a rule\ncom\n",
    )
    .unwrap();
    let (status, out, err) = public_suffix_list_script(&list, "a test list");
    assert_eq!((status, err.as_str()), (Some(0), ""));
    let header = "// The Public Suffix List (https://publicsuffix.org/), read by src/public_suffix.rs.\n\
                  // This Source Code Form is subject to the terms of the Mozilla Public License,\n\
                  // v. 2.0. If a copy of the MPL was not distributed with this file, You can obtain\n\
                  // one at https://mozilla.org/MPL/2.0/.\n\
                  // Generated by scripts/public-suffix-list.py (make public-suffix-list) from\n\
                  // a test list: 7 rules, labels as punycode, sorted. Regenerate; do not edit.\n";
    let rules = "!www.ck\n*.ck\ncom\ncom.xn--p1ai\ngithub.io\nxn--55qx5d.cn\nxn--p1ai\n";
    assert_eq!(out, format!("{header}{rules}"));

    // The committed list is in that form: the script, given it, writes the same rules.
    let committed = fs::read_to_string(common::root().join("src/public_suffix_list.txt")).unwrap();
    let (status, again, _) =
        public_suffix_list_script(&common::root().join("src/public_suffix_list.txt"), "itself");
    assert_eq!(status, Some(0));
    let rules_of = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("//"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rules_of(&again), rules_of(&committed));
    assert!(rules_of(&committed).len() > 9_000);

    // A file with no rules is an error, not an empty list.
    fs::write(&list, "// nothing\n\n").unwrap();
    let (status, out, err) = public_suffix_list_script(&list, "empty");
    assert_eq!((status, out.as_str()), (Some(1), ""));
    assert_eq!(err, format!("{}: no rules in it\n", list.display()));
}
