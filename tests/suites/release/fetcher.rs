//! How Istio (pkg/wasm/imagefetcher.go) and Envoy Gateway
//! (internal/wasm/imagefetcher.go) take the Wasm module out of an image they
//! pulled: the same rules in both, written here from their code so that the
//! release's images are tested against them, and so are images they refuse.
//!
//! - a Docker manifest (application/vnd.docker.distribution.manifest.v2+json):
//!   the last layer must be a Docker tar+gzip layer holding a file whose base
//!   name is plugin.wasm;
//! - otherwise the *compat* variant: the last layer an OCI tar+gzip layer
//!   holding plugin.wasm;
//! - otherwise the *oci* variant: exactly two layers, one of them
//!   application/vnd.module.wasm.content.layer.v1+wasm, whose bytes are the
//!   module as they are;
//! - then (Istio's cache) the bytes must start with the Wasm magic.

use super::run;
use crate::common::envoy::Scratch;
use std::fs;
use std::process::Command;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const WASM_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";

/// An image as the fetchers see it: its manifest's media type and its layers
/// (media type, the bytes as the registry stores them), in order.
pub struct Image {
    pub media_type: String,
    pub layers: Vec<(String, Vec<u8>)>,
}

/// The module the fetchers would load from `image`, or their error.
pub fn wasm_module(image: &Image) -> Result<Vec<u8>, String> {
    let module = if image.media_type == DOCKER_MANIFEST {
        plugin_in_last_layer(image, DOCKER_LAYER).map_err(|e| {
            format!("could not extract Wasm file from the image as Docker container {e}")
        })?
    } else {
        match plugin_in_last_layer(image, OCI_LAYER) {
            Ok(module) => module,
            Err(compat) => artifact_layer(image).map_err(|oci| {
                format!(
                    "could not parse as compat variant: {compat}; could not parse as oci variant: {oci}"
                )
            })?,
        }
    };
    if module.len() < 8 || !module.starts_with(b"\0asm") {
        return Err("fetched Wasm binary is invalid".to_string());
    }
    Ok(module)
}

fn plugin_in_last_layer(image: &Image, media_type: &str) -> Result<Vec<u8>, String> {
    let (found, bytes) = image
        .layers
        .last()
        .ok_or("number of layers must be greater than zero")?;
    if found != media_type {
        return Err(format!("invalid media type {found} (expect {media_type})"));
    }
    // The first member whose base name is plugin.wasm, read with tar (gzip).
    let scratch = Scratch::new("layer");
    let layer = scratch.path("layer.tar.gz");
    fs::write(&layer, bytes).unwrap();
    let (code, list, err) = run(Command::new("tar").arg("-tzf").arg(&layer));
    if code != 0 {
        return Err(format!("failed to parse layer as tar.gz: {err}"));
    }
    let name = list
        .lines()
        .find(|n| n.rsplit('/').next() == Some("plugin.wasm"))
        .ok_or("plugin.wasm not found in the archive")?;
    let out = Command::new("tar")
        .arg("-xzOf")
        .arg(&layer)
        .arg(name)
        .output()
        .unwrap();
    assert!(out.status.success());
    Ok(out.stdout)
}

fn artifact_layer(image: &Image) -> Result<Vec<u8>, String> {
    if image.layers.len() != 2 {
        return Err(format!(
            "number of layers must be 2 but got {}",
            image.layers.len()
        ));
    }
    image
        .layers
        .iter()
        .find(|(media_type, _)| media_type == WASM_LAYER)
        .map(|(_, bytes)| bytes.clone())
        .ok_or_else(|| format!("could not find the layer of type {WASM_LAYER}"))
}

/// The rules refuse what Istio's own tests show refused, and take the two
/// compat shapes, so a release image that passes them passes for a reason.
#[test]
fn fetcher_rules_take_and_refuse_what_istio_does() {
    let wasm = b"\0asm\x01\0\0\0 a module".to_vec();
    let config = b"{}".to_vec();
    let artifact = |layers: Vec<(&str, Vec<u8>)>| Image {
        media_type: OCI_MANIFEST.to_string(),
        layers: layers
            .into_iter()
            .map(|(t, b)| (t.to_string(), b))
            .collect(),
    };
    let config_type = "application/vnd.module.wasm.config.v1+json";
    assert_eq!(
        wasm_module(&artifact(vec![
            (config_type, config.clone()),
            (WASM_LAYER, wasm.clone())
        ])),
        Ok(wasm.clone())
    );
    assert_eq!(
        wasm_module(&artifact(vec![(WASM_LAYER, wasm.clone())])),
        Err(format!(
            "could not parse as compat variant: invalid media type {WASM_LAYER} (expect {OCI_LAYER}); \
             could not parse as oci variant: number of layers must be 2 but got 1"
        ))
    );
    assert_eq!(
        wasm_module(&artifact(vec![
            (config_type, config.clone()),
            (config_type, config)
        ])),
        Err(format!(
            "could not parse as compat variant: invalid media type {config_type} (expect {OCI_LAYER}); \
             could not parse as oci variant: could not find the layer of type {WASM_LAYER}"
        ))
    );
    assert_eq!(
        wasm_module(&artifact(vec![
            (config_type, b"{}".to_vec()),
            (WASM_LAYER, b"not wasm at all".to_vec())
        ])),
        Err("fetched Wasm binary is invalid".to_string())
    );

    // The compat shapes: plugin.wasm in a tar+gzip last layer (any directory).
    let scratch = Scratch::new("compat");
    fs::create_dir_all(scratch.path("root/dir")).unwrap();
    fs::write(scratch.path("root/dir/plugin.wasm"), &wasm).unwrap();
    fs::write(scratch.path("root/other.txt"), "x").unwrap();
    let (code, _, err) = run(Command::new("tar")
        .arg("-czf")
        .arg(scratch.path("layer.tgz"))
        .args([
            "-C",
            &scratch.path("root").to_string_lossy(),
            "other.txt",
            "dir",
        ]));
    assert_eq!(code, 0, "{err}");
    let layer = fs::read(scratch.path("layer.tgz")).unwrap();
    let docker = Image {
        media_type: DOCKER_MANIFEST.to_string(),
        layers: vec![(DOCKER_LAYER.to_string(), layer.clone())],
    };
    assert_eq!(wasm_module(&docker), Ok(wasm.clone()));
    let oci_compat = artifact(vec![(OCI_LAYER, layer.clone())]);
    assert_eq!(wasm_module(&oci_compat), Ok(wasm));
    // A Docker manifest whose last layer has the OCI type is refused.
    let mixed = Image {
        media_type: DOCKER_MANIFEST.to_string(),
        layers: vec![(OCI_LAYER.to_string(), layer)],
    };
    assert_eq!(
        wasm_module(&mixed),
        Err(format!(
            "could not extract Wasm file from the image as Docker container invalid media type {OCI_LAYER} (expect {DOCKER_LAYER})"
        ))
    );
}
