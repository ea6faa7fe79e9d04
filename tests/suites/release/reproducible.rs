//! Two clean builds, the same bytes: the release's binaries built again from
//! a copy of the sources at another path, with an empty target directory,
//! as `make release` builds them (`make release-binaries`).

use super::{release_file, run};
use crate::common::{self, envoy::Scratch};
use std::fs;
use std::process::Command;

#[test]
fn a_second_clean_build_gives_the_same_bytes() {
    let scratch = Scratch::new("second-build");
    // The working tree's files (tracked and new, not ignored), not a clone of
    // HEAD: the release under test may have been built before a commit.
    let copy = scratch.path("elsewhere/proxy-wasm-cors");
    fs::create_dir_all(&copy).unwrap();
    let (code, _, err) = run(Command::new("sh")
        .arg("-c")
        .arg(
            "git ls-files -z --cached --others --exclude-standard \
             | xargs -0 tar -cf - --no-recursion | tar -xf - -C \"$1\"",
        )
        .arg("sh")
        .arg(&copy)
        .current_dir(common::root()));
    assert_eq!(code, 0, "copying the sources: {err}");
    assert!(!copy.join("target").exists());
    let out = scratch.path("out");
    let (code, stdout, stderr) = run(Command::new("make")
        .args(["-s", "release-binaries"])
        .arg(format!("RELEASE_DIR={}", out.display()))
        .current_dir(&copy));
    assert_eq!(code, 0, "make release-binaries:\n{stdout}{stderr}");
    let mut differ = Vec::new();
    for name in ["cors.wasm", "libcors.so", "cors-check"] {
        let first = fs::read(release_file(name)).unwrap();
        let second = fs::read(out.join(name)).unwrap();
        assert!(first.len() > 100_000, "{name}");
        if first != second {
            differ.push(format!(
                "{name} ({} vs {} bytes)",
                first.len(),
                second.len()
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "not byte-identical to dist/release: {differ:?}"
    );
}
