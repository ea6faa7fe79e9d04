//! The release's two images: the Wasm OCI artifact (the *oci* variant of the
//! Wasm image specification, an OCI layout archive) and the Docker-format
//! image (a docker-archive), each pushed to a registry as release.yml does and
//! pulled back as Istio and Envoy Gateway do; their labels say which build.

use super::fetcher::{wasm_module, DOCKER_MANIFEST, OCI_MANIFEST, WASM_LAYER};
use super::registry::{sha256, Registry};
use super::{expected_revision, release_file, run, workspace_field, VERSION};
use crate::common::{self, envoy::Scratch};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;

const WASM_CONFIG: &str = "application/vnd.module.wasm.config.v1+json";

fn oci_archive() -> String {
    format!("proxy-wasm-cors-{VERSION}-wasm-oci.tar")
}

fn docker_archive() -> String {
    format!("proxy-wasm-cors-{VERSION}-docker.tar")
}

/// The org.opencontainers.image labels every image of the release carries.
fn assert_labels(labels: &Value, what: &str) {
    let want = [
        ("org.opencontainers.image.version", VERSION.to_string()),
        ("org.opencontainers.image.revision", expected_revision()),
        (
            "org.opencontainers.image.source",
            workspace_field("repository"),
        ),
        (
            "org.opencontainers.image.licenses",
            workspace_field("license"),
        ),
        (
            "org.opencontainers.image.title",
            "proxy-wasm-cors".to_string(),
        ),
    ];
    for (label, value) in want {
        assert_eq!(labels[label], value.as_str(), "{what}: {label} in {labels}");
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn wasm_oci_artifact_is_an_oci_layout_of_the_oci_variant() {
    let scratch = Scratch::new("layout");
    let (code, _, err) = run(Command::new("tar")
        .arg("-xf")
        .arg(release_file(&oci_archive()))
        .arg("-C")
        .arg(&scratch.0));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&scratch.path("oci-layout")),
        serde_json::json!({"imageLayoutVersion": "1.0.0"})
    );
    let index = json(&scratch.path("index.json"));
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1, "{index}");
    assert_eq!(manifests[0]["mediaType"], OCI_MANIFEST);
    assert_eq!(
        manifests[0]["annotations"]["org.opencontainers.image.ref.name"],
        VERSION
    );
    // Every blob is what its digest says.
    let blob = |descriptor: &Value| {
        let digest = descriptor["digest"].as_str().unwrap();
        let bytes = fs::read(scratch.path(&format!(
            "blobs/sha256/{}",
            digest.trim_start_matches("sha256:")
        )))
        .unwrap();
        assert_eq!(sha256(&bytes), digest);
        assert_eq!(bytes.len() as u64, descriptor["size"].as_u64().unwrap());
        bytes
    };
    let manifest: Value = serde_json::from_slice(&blob(&manifests[0])).unwrap();
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG);
    let layers = manifest["layers"].as_array().unwrap();
    let types: Vec<&str> = layers
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(types, [WASM_CONFIG, WASM_LAYER]);
    assert!(
        blob(&layers[1]) == fs::read(release_file("cors.wasm")).unwrap(),
        "the artifact's Wasm layer is not dist/release/cors.wasm"
    );
    let runtime: Value = serde_json::from_slice(&blob(&layers[0])).unwrap();
    assert_eq!(runtime["type"], "envoy_proxy");
    assert_eq!(runtime["abiVersions"][0], "proxy_abi_version_0_2_1");
    assert_eq!(blob(&manifest["config"]), blob(&layers[0]));
    assert_labels(&manifest["annotations"], "the Wasm OCI artifact");

    // Written again from the same inputs: the same bytes (sorted entries, the
    // commit's time), so its manifest digest can be published before a push.
    let created = manifest["annotations"]["org.opencontainers.image.created"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, epoch, _) = run(Command::new("date").args(["-u", "-d", &created, "+%s"]));
    let again = scratch.path("again.tar");
    let (code, out, err) = run(
        Command::new(common::root().join("scripts/oci-wasm-artifact.py"))
            .arg(release_file("cors.wasm"))
            .arg(&again)
            .args(["--version", VERSION, "--revision", &expected_revision()])
            .args(["--source", &workspace_field("repository")])
            .args(["--licenses", &workspace_field("license")])
            .args(["--created", epoch.trim()]),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        fs::read(&again).unwrap() == fs::read(release_file(&oci_archive())).unwrap(),
        "the artifact is not reproducible"
    );
    let digest = manifests[0]["digest"].as_str().unwrap();
    assert!(out.contains(&format!("manifest {digest}")), "{out}");
}

#[test]
fn images_pull_as_istio_and_envoy_gateway_pull_them() {
    let wasm = fs::read(release_file("cors.wasm")).unwrap();
    let registry = Registry::start();

    // The Wasm OCI artifact, pushed as it is: the registry keeps its digest,
    // the one the layout's index names (what a WasmPlugin's sha256 pins).
    let archive = release_file(&oci_archive());
    let pushed = registry.push(
        &format!("oci-archive:{}", archive.display()),
        VERSION,
        &["--preserve-digests"],
    );
    let (_, index, _) = run(Command::new("tar")
        .arg("-xOf")
        .arg(&archive)
        .arg("index.json"));
    let index: Value = serde_json::from_str(&index).unwrap();
    assert_eq!(pushed, index["manifests"][0]["digest"].as_str().unwrap());
    let artifact = registry.pull(VERSION);
    assert_eq!(artifact.digest, pushed);
    assert_eq!(artifact.image.media_type, OCI_MANIFEST);
    assert!(
        wasm_module(&artifact.image) == Ok(wasm.clone()),
        "the fetchers do not get cors.wasm from the Wasm OCI artifact: {:?}",
        wasm_module(&artifact.image).err()
    );
    assert_labels(&artifact.manifest["annotations"], "the pulled artifact");

    // The Docker-format image: a Docker manifest, one layer holding plugin.wasm.
    let archive = release_file(&docker_archive());
    let tag = format!("{VERSION}-docker");
    let pushed = registry.push(&format!("docker-archive:{}", archive.display()), &tag, &[]);
    let image = registry.pull(&tag);
    assert_eq!(image.digest, pushed);
    assert_eq!(image.image.media_type, DOCKER_MANIFEST);
    assert_eq!(image.image.layers.len(), 1);
    assert!(
        wasm_module(&image.image) == Ok(wasm),
        "the fetchers do not get cors.wasm from the Docker-format image: {:?}",
        wasm_module(&image.image).err()
    );
    let config: Value = serde_json::from_slice(&image.config).unwrap();
    assert_labels(&config["config"]["Labels"], "the Docker-format image");
}
