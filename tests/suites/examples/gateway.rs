//! Envoy Gateway: the EnvoyExtensionPolicy example, checked field by field
//! and run in Envoy as Envoy Gateway's translator configures it.

use super::istio::istio_plugin_json;
use super::*;

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
