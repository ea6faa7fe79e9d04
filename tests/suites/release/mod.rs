//! The release `make release` writes into dist/release/ (`make test-release`
//! makes it first): each file once with its checksum, the version it reports,
//! the glibc the native files need, the SBOMs; the images as Istio and Envoy
//! Gateway pull them (`images`); Envoy fetching cors.wasm pinned by its
//! sha256 (`envoy_remote`); the same bytes from a second clean build
//! (`reproducible`).

mod envoy_remote;
mod fetcher;
mod images;
mod registry;
mod reproducible;

use crate::common::{self, envoy::Scratch, examples};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn release_dir() -> PathBuf {
    let dir = common::root().join("dist/release");
    assert!(
        dir.join("SHA256SUMS").is_file(),
        "{} has no release: run `make release` (make test-release does)",
        dir.display()
    );
    dir
}

fn release_file(name: &str) -> PathBuf {
    release_dir().join(name)
}

/// Every file of a release, by name.
fn expected_files() -> Vec<String> {
    let mut names: Vec<String> = [
        "SHA256SUMS",
        "cors-check",
        "cors-check.cdx.json",
        "cors.wasm",
        "cors.wasm.cdx.json",
        "libcors.so",
        "libcors.so.cdx.json",
    ]
    .map(String::from)
    .to_vec();
    names.push(format!("proxy-wasm-cors-{VERSION}-docker.tar"));
    names.push(format!("proxy-wasm-cors-{VERSION}-wasm-oci.tar"));
    names.sort();
    names
}

fn run(command: &mut Command) -> (i32, String, String) {
    let out = command.output().expect("could not start the command");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the artifacts' labels must say the revision is: the commit, "-dirty"
/// when tracked files differ from it (the Makefile's rule).
fn expected_revision() -> String {
    let (_, head, _) = run(Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(common::root()));
    let (_, status, _) = run(Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(common::root()));
    let dirty = if status.trim().is_empty() {
        ""
    } else {
        "-dirty"
    };
    format!("{}{dirty}", head.trim())
}

/// The `repository` and `license` of the workspace (Cargo.toml).
fn workspace_field(field: &str) -> String {
    let text = fs::read_to_string(common::root().join("Cargo.toml")).unwrap();
    let prefix = format!("{field} = \"");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix)?.strip_suffix('"'))
        .unwrap_or_else(|| panic!("Cargo.toml has no {field}"))
        .to_string()
}

#[test]
fn release_holds_each_file_once_and_its_checksum() {
    let dir = release_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, expected_files());

    // SHA256SUMS names every other file once, and each sum is right.
    let sums = fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut listed: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").expect("a sha256sum line").1)
        .collect();
    listed.sort();
    let others: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != "SHA256SUMS")
        .collect();
    assert_eq!(listed, others);
    let (code, out, err) = run(Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dir));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().filter(|l| l.ends_with(": OK")).count(), 8);

    // The check the README gives users fails on one changed byte.
    let scratch = Scratch::new("sums");
    for name in ["SHA256SUMS", "cors.wasm"] {
        fs::copy(dir.join(name), scratch.path(name)).unwrap();
    }
    let mut wasm = fs::read(scratch.path("cors.wasm")).unwrap();
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    fs::write(scratch.path("cors.wasm"), wasm).unwrap();
    let (code, out, _) = run(Command::new("sha256sum")
        .args(["--check", "--ignore-missing", "SHA256SUMS"])
        .current_dir(&scratch.0));
    assert_eq!(code, 1);
    assert_eq!(out, "cors.wasm: FAILED\n");
}

/// (Each form's log line with the version: `observability::`, in a real Envoy.)
#[test]
fn cors_check_says_which_version_it_is() {
    let (code, out, err) = run(Command::new(release_file("cors-check")).arg("--version"));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, &*format!("cors-check {VERSION}\n"), "")
    );
    assert_eq!(VERSION, "1.0.0", "the release this suite was written for");
}

/// The glibc the native files need, as README "Install" states it.
#[test]
fn native_files_need_the_glibc_the_readme_states() {
    let readme = fs::read_to_string(common::root().join("README.md")).unwrap();
    for (name, wording) in [("libcors.so", "libcors.so"), ("cors-check", "cors-check")] {
        let (code, floor, err) = run(
            Command::new(common::root().join("scripts/glibc-floor.sh")).arg(release_file(name))
        );
        assert_eq!(code, 0, "{err}");
        let floor = floor.trim();
        assert!(floor.starts_with("2."), "{name}: {floor:?}");
        let stated = format!("`{wording}` needs glibc {floor} or newer");
        assert!(
            readme.contains(&stated),
            "README does not state {stated:?}: update it"
        );
    }
}

/// Cargo.lock's version of each registry package.
fn locked_versions() -> BTreeMap<String, String> {
    let text = fs::read_to_string(common::root().join("Cargo.lock")).unwrap();
    let mut versions = BTreeMap::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = \"") {
            name = n.strip_suffix('"').map(String::from);
        } else if let Some(v) = line.strip_prefix("version = \"") {
            if let (Some(n), Some(v)) = (name.take(), v.strip_suffix('"')) {
                versions.insert(n, v.to_string());
            }
        }
    }
    versions
}

#[test]
fn sboms_list_what_each_file_is_built_from() {
    let locked = locked_versions();
    // (SBOM, the package it describes, must list, must not list)
    let cases: [(&str, &str, &[&str], &[&str]); 3] = [
        (
            "cors.wasm.cdx.json",
            "cors-wasm",
            &["proxy-wasm", "log", "cors-core", "serde_json", "regex-lite"],
            // The YAML reader is native only: not in the plugin.
            &["serde_norway", "libc", "proptest"],
        ),
        (
            "libcors.so.cdx.json",
            "cors-module",
            &["cors-core", "serde_json", "regex-lite"],
            &["proxy-wasm", "log", "libc", "proptest"],
        ),
        (
            "cors-check.cdx.json",
            "cors-core",
            &["serde_json", "regex-lite", "serde_norway"],
            &["proxy-wasm", "proptest", "jsonschema"],
        ),
    ];
    for (file, package, present, absent) in cases {
        let sbom: Value = serde_json::from_slice(&fs::read(release_file(file)).unwrap()).unwrap();
        assert_eq!(sbom["bomFormat"], "CycloneDX", "{file}");
        assert_eq!(sbom["specVersion"], "1.5", "{file}");
        let component = &sbom["metadata"]["component"];
        assert_eq!(component["name"], package, "{file}");
        assert_eq!(component["version"], VERSION, "{file}");
        assert_eq!(
            component["licenses"][0]["expression"],
            workspace_field("license")
        );
        let listed: BTreeMap<&str, &str> = sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["version"].as_str().unwrap()))
            .collect();
        for name in present {
            assert!(listed.contains_key(name), "{file} lacks {name}: {listed:?}");
        }
        for name in absent {
            assert!(!listed.contains_key(name), "{file} lists {name}");
        }
        // Each at the version Cargo.lock pins, with a package URL and a licence.
        for component in sbom["components"].as_array().unwrap() {
            let name = component["name"].as_str().unwrap();
            assert_eq!(
                Some(component["version"].as_str().unwrap()),
                locked.get(name).map(String::as_str),
                "{file}: {name}"
            );
            assert!(
                component["purl"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("pkg:cargo/{name}@")),
                "{file}: {component}"
            );
            assert!(
                component["licenses"][0]["expression"].is_string(),
                "{file}: {name} has no licence"
            );
        }
    }
}

/// README "Install": the commands of this version, from the repository the
/// labels name, the checksum check the release suite runs, the version the
/// binaries report.
#[test]
fn readme_install_is_this_release() {
    let readme = fs::read_to_string(common::root().join("README.md")).unwrap();
    assert!(
        readme.find("\n## Install\n") < readme.find("\n## Quickstart\n"),
        "Install comes first"
    );
    let install = &examples::readme_section("Install");
    let repository = workspace_field("repository");
    for want in [
        format!("Version **{VERSION}**"),
        format!("R={repository}/releases/download/v{VERSION}\n"),
        format!("uri: {repository}/releases/download/v{VERSION}/cors.wasm\n"),
        "$ sha256sum --check --ignore-missing SHA256SUMS\ncors.wasm: OK\n".to_string(),
        "`cors.wasm: FAILED`".to_string(),
        format!("url: oci://registry.example.com/proxy-wasm-cors:{VERSION}\n"),
        format!("url: registry.example.com/proxy-wasm-cors:{VERSION}\n"),
        format!("oci-archive:proxy-wasm-cors-{VERSION}-wasm-oci.tar"),
        format!("docker load -i proxy-wasm-cors-{VERSION}-docker.tar"),
        format!("`localhost/proxy-wasm-cors:{VERSION}`"),
        format!("`cors-check --version` prints `cors-check {VERSION}`"),
        format!("`proxy-wasm-cors {VERSION}: configuration accepted (N rules)`"),
    ] {
        assert!(install.contains(&want), "README Install lacks {want:?}");
    }
    // Every file it names is one a release has.
    for name in expected_files() {
        let shown = name.replace(VERSION, "1.0.0");
        assert!(
            name == "SHA256SUMS" || install.contains(&shown) || name.ends_with(".cdx.json"),
            "README Install does not name {name}"
        );
    }
}

/// CHANGELOG.md: Keep a Changelog, an Unreleased section first for the work
/// after this release, then this version's.
#[test]
fn changelog_has_unreleased_then_this_version() {
    let text = fs::read_to_string(common::root().join("CHANGELOG.md")).unwrap();
    let sections: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(sections[0], "## [Unreleased]");
    assert!(
        sections[1].starts_with(&format!("## [{VERSION}] - 20")),
        "{}",
        sections[1]
    );
    let repository = workspace_field("repository");
    assert!(text.contains(&format!(
        "[Unreleased]: {repository}/compare/v{VERSION}...HEAD"
    )));
    assert!(text.contains(&format!(
        "[{VERSION}]: {repository}/releases/tag/v{VERSION}"
    )));
}
