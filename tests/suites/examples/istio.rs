//! The Istio WasmPlugin (its pluginConfig through the plugin's own
//! validation and a real Envoy) and the OCI image `make image` builds for it
//! (taken apart as Istio does).

use super::compose::container_tool;
use super::*;

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
pub(super) fn istio_plugin_json() -> String {
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
        [
            "FROM scratch",
            "ARG WASM=dist/cors.wasm",
            "COPY ${WASM} ./plugin.wasm"
        ]
    );
    let ignore = fs::read_to_string(common::root().join(".dockerignore")).unwrap();
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert_eq!(
        rules,
        ["*", "!dist/cors.wasm", "!dist/release/cors.wasm"],
        "the build context must be the module only (make image's or make release's)"
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
