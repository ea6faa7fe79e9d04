#!/usr/bin/env python3
"""Writes the plugin as a Wasm OCI artifact ("oci" variant of the Wasm image
specification) in an OCI image layout, archived as one tar file.

    oci-wasm-artifact.py WASM OUT.tar --version V --revision R --source URL
                         --licenses SPDX --created EPOCH

What Istio's and Envoy Gateway's image fetchers take as this variant (their
extractOCIArtifactImage): an image manifest with exactly two layers, one of
them of media type application/vnd.module.wasm.content.layer.v1+wasm holding
the module itself, uncompressed; the other the runtime configuration
(application/vnd.module.wasm.config.v1+json), also the manifest's config. The
org.opencontainers.image.* annotations say which build it is.

The archive is byte for byte the same for the same inputs (sorted entries, a
fixed time and owner), so a release's checksums and manifest digest can be
rebuilt. Prints the manifest's digest: the `sha256` an Istio WasmPlugin or an
Envoy Gateway EnvoyExtensionPolicy pins (a registry keeps it when the archive is
pushed as it is: `skopeo copy --preserve-digests`).
"""

import argparse
import hashlib
import io
import json
import sys
import tarfile
import time

WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"
WASM_CONFIG = "application/vnd.module.wasm.config.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
WASM_MAGIC = b"\0asm"


def canonical(value):
    """JSON as the digests are taken over: no spaces, keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def descriptor(media_type, blob, annotations=None):
    d = {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(blob).hexdigest(), "size": len(blob)}
    if annotations:
        d["annotations"] = annotations
    return d


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wasm")
    p.add_argument("out")
    for flag in ("--version", "--revision", "--source", "--licenses", "--created"):
        p.add_argument(flag, required=True)
    a = p.parse_args()

    with open(a.wasm, "rb") as f:
        wasm = f.read()
    if wasm[:4] != WASM_MAGIC:
        sys.exit(f"oci-wasm-artifact: {a.wasm} is not a Wasm module (no \\0asm magic)")
    if not a.created.isdigit():
        sys.exit(f"oci-wasm-artifact: --created {a.created!r} is not seconds since the epoch")

    # The runtime configuration of the spec's Envoy type: the Proxy-Wasm ABI the
    # module exports and the root id the examples use (any root id works).
    runtime = canonical({
        "type": "envoy_proxy",
        "abiVersions": ["proxy_abi_version_0_2_1"],
        "config": {"rootIds": ["cors"]},
    })
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(a.created)))
    labels = {
        "org.opencontainers.image.title": "proxy-wasm-cors",
        "org.opencontainers.image.description": "CORS filter for Envoy and Istio (Proxy-Wasm plugin)",
        "org.opencontainers.image.version": a.version,
        "org.opencontainers.image.revision": a.revision,
        "org.opencontainers.image.source": a.source,
        "org.opencontainers.image.licenses": a.licenses,
        "org.opencontainers.image.created": created,
    }
    manifest = canonical({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(WASM_CONFIG, runtime),
        "layers": [
            descriptor(WASM_CONFIG, runtime, {"org.opencontainers.image.title": "runtime-config.json"}),
            descriptor(WASM_LAYER, wasm, {"org.opencontainers.image.title": "plugin.wasm"}),
        ],
        "annotations": labels,
    })
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    index = canonical({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [descriptor(OCI_MANIFEST, manifest, {"org.opencontainers.image.ref.name": a.version})],
    })

    files = {"oci-layout": canonical({"imageLayoutVersion": "1.0.0"}), "index.json": index}
    for blob in (runtime, wasm, manifest):
        files["blobs/sha256/" + hashlib.sha256(blob).hexdigest()] = blob

    with tarfile.open(a.out, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            add(tar, info, None, int(a.created))
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(files[name]), 0o644
            add(tar, info, io.BytesIO(files[name]), int(a.created))
    print(f"{a.out}: manifest {manifest_digest} (the sha256 Istio and Envoy Gateway pin)")


def add(tar, info, data, mtime):
    info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
    tar.addfile(info, data)


if __name__ == "__main__":
    main()
