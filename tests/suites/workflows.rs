//! The GitHub Actions workflows (.github/workflows/): they cannot run here, so
//! actionlint checks them (`make lint-workflows` installs the pinned one), and
//! this suite checks that actionlint does find mistakes in them, that they do
//! what the README says (ci.yml: make test on Debian 12; release.yml: make
//! release on a version tag, both images pushed with skopeo), and that they
//! name no registry host.

use crate::common;

use common::envoy::Scratch;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WORKFLOWS: &str = ".github/workflows";

fn actionlint() -> PathBuf {
    let binary = common::root().join(".venv/actionlint/bin/actionlint");
    assert!(
        binary.exists(),
        "{} is missing: run `make lint-workflows` first",
        binary.display()
    );
    binary
}

/// actionlint on `files` from `dir`, as `make lint-workflows` runs it (with
/// shellcheck when it is on PATH): its exit code and everything it printed.
fn run_actionlint(dir: &Path, files: &[String]) -> (i32, String) {
    let output = Command::new(actionlint())
        .arg("-no-color")
        .args(files)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

/// Every workflow file, relative to the repository root.
fn workflow_files() -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(common::root().join(WORKFLOWS))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.ends_with(".yml") || name.ends_with(".yaml"))
        .map(|name| format!("{WORKFLOWS}/{name}"))
        .collect();
    files.sort();
    files
}

fn read(file: &str) -> String {
    fs::read_to_string(common::root().join(file)).unwrap()
}

fn workflow(name: &str) -> Value {
    let file = format!("{WORKFLOWS}/{name}");
    serde_norway::from_str(&read(&file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn actionlint_finds_nothing_in_the_workflows() {
    let files = workflow_files();
    assert_eq!(
        files,
        [
            format!("{WORKFLOWS}/ci.yml"),
            format!("{WORKFLOWS}/release.yml")
        ]
    );
    let (code, output) = run_actionlint(&common::root(), &files);
    assert_eq!((code, output.as_str()), (0, ""), "actionlint {files:?}");
}

/// One deliberate mistake in a copy of ci.yml: the text replaced, its
/// replacement, and the rule actionlint must name on that line.
struct Mistake {
    replace: &'static str,
    with: &'static str,
    rule: &'static str,
    says: &'static str,
}

const MISTAKES: &[Mistake] = &[
    Mistake {
        replace: "runs-on: ubuntu-latest",
        with: "runs-onn: ubuntu-latest",
        rule: "syntax-check",
        says: "unexpected key \"runs-onn\"",
    },
    Mistake {
        replace: "run: make test",
        with: "run: make ${{ matrix.target }}",
        rule: "expression",
        says: "property \"target\" is not defined",
    },
    Mistake {
        replace: "timeout-minutes: 90",
        with: "timeout-minutes: ${{ env.RUST_VERSION }}",
        rule: "expression",
        says: "context \"env\" is not allowed here",
    },
    // The node20 actions no longer run on GitHub's runners.
    Mistake {
        replace: "actions/checkout@v5",
        with: "actions/checkout@v4",
        rule: "action",
        says: "runtime \"node20\" is deprecated",
    },
];

#[test]
fn actionlint_names_the_file_line_and_rule_of_a_mistake() {
    let ci = read(&format!("{WORKFLOWS}/ci.yml"));
    let scratch = Scratch::new("workflows");
    common::run_cases(
        MISTAKES,
        |m| m.with.to_string(),
        |m| {
            let line = 1 + ci
                .lines()
                .position(|l| l.contains(m.replace))
                .ok_or(format!("ci.yml has no {:?}", m.replace))?;
            fs::write(scratch.path("ci.yml"), ci.replacen(m.replace, m.with, 1)).unwrap();
            let (code, output) = run_actionlint(&scratch.0, &["ci.yml".to_string()]);
            let named = output.lines().any(|l| {
                l.starts_with(&format!("ci.yml:{line}:"))
                    && l.contains(m.says)
                    && l.ends_with(&format!("[{}]", m.rule))
            });
            if code == 1 && named {
                Ok(())
            } else {
                Err(format!(
                    "exit {code}, want 1 and ci.yml:{line}: ... {} [{}] in:\n{output}",
                    m.says, m.rule
                ))
            }
        },
    );
}

fn object<'a>(value: &'a Value, path: &str) -> &'a Value {
    value
        .pointer(path)
        .unwrap_or_else(|| panic!("no {path} in {value}"))
}

/// Each step's `run:` script, continued lines joined, one command a line.
fn commands(job: &Value) -> Vec<String> {
    object(job, "/steps")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| step.get("run")?.as_str())
        .flat_map(|run| {
            run.replace("\\\n", " ")
                .replace("|\n", "| ")
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The steps that set the machine up, before the checkout: what a fresh
/// Debian 12 gets before it runs make.
fn set_up(job: &Value) -> Vec<Value> {
    object(job, "/steps")
        .as_array()
        .unwrap()
        .iter()
        .take_while(|step| step.get("uses").is_none())
        .cloned()
        .collect()
}

#[test]
fn ci_runs_make_test_in_debian_12() {
    let ci = workflow("ci.yml");
    assert_eq!(
        object(&ci, "/on/push/branches"),
        &serde_json::json!(["main"])
    );
    assert!(ci["on"].get("pull_request").is_some(), "{}", ci["on"]);
    assert_eq!(object(&ci, "/permissions/contents"), "read");
    assert_eq!(object(&ci, "/concurrency/cancel-in-progress"), true);
    assert_eq!(object(&ci, "/env/RUST_VERSION"), "1.95.0");
    assert_eq!(object(&ci, "/env/CI"), "true");
    let jobs = object(&ci, "/jobs").as_object().unwrap();
    assert_eq!(jobs.len(), 1, "one job: {:?}", jobs.keys());
    let job = jobs.values().next().unwrap();
    assert_eq!(object(job, "/container/image"), "debian:12");
    assert_eq!(object(job, "/container/options"), "--privileged");
    assert_eq!(object(job, "/timeout-minutes"), 90);
    let commands = commands(job);
    assert_eq!(commands.last().map(String::as_str), Some("make test"));
    let install = commands
        .iter()
        .find(|c| c.starts_with("apt-get install"))
        .unwrap();
    assert_eq!(
        install,
        "apt-get install -y -qq --no-install-recommends curl git make gcc libc6-dev python3 python3-venv ca-certificates"
    );
    assert!(
        commands.iter().any(|c| c.contains("--profile minimal")
            && c.contains("--default-toolchain \"$RUST_VERSION\"")),
        "{commands:#?}"
    );
}

#[test]
fn release_runs_make_release_on_a_version_tag_and_pushes_both_images() {
    let ci = workflow("ci.yml");
    let release = workflow("release.yml");
    assert_eq!(
        object(&release, "/on/push/tags"),
        &serde_json::json!(["v*.*.*"])
    );
    assert_eq!(object(&release, "/permissions/contents"), "read");
    // Built with what ci.yml tests: the same toolchain on the same machine.
    assert_eq!(object(&release, "/env"), object(&ci, "/env"));
    let build = object(&release, "/jobs/build");
    let test = object(&ci, "/jobs/test");
    assert_eq!(object(build, "/container"), object(test, "/container"));
    assert_eq!(set_up(build), set_up(test));
    assert!(!set_up(build).is_empty());
    let build_commands = commands(build);
    assert!(
        build_commands.iter().any(|c| c == "make release"),
        "{build_commands:#?}"
    );
    assert!(
        build_commands
            .iter()
            .any(|c| c.contains("\"$GITHUB_REF_NAME\" != \"v$version\"")),
        "the tag is checked against Cargo.toml: {build_commands:#?}"
    );
    assert!(
        build_commands.iter().any(|c| c
            .starts_with("echo \"::error::the repository variable IMAGE_REPOSITORY is not set")),
        "{build_commands:#?}"
    );

    // Only the publishing job may write, and it runs none of the code built.
    let publish = object(&release, "/jobs/publish");
    assert_eq!(object(publish, "/permissions/contents"), "write");
    assert_eq!(object(publish, "/needs"), "build");
    let commands = commands(publish);
    assert!(
        !commands
            .iter()
            .any(|c| c.contains("make ") || c.contains("cargo ")),
        "{commands:#?}"
    );
    let steps = object(publish, "/steps").as_array().unwrap();
    assert!(
        steps.iter().any(|s| s.pointer("/env/IMAGE_REPOSITORY")
            == Some(&Value::from("${{ vars.IMAGE_REPOSITORY }}"))),
        "{steps:#?}"
    );
    let copies: Vec<&String> = commands
        .iter()
        .filter(|c| c.starts_with("skopeo copy"))
        .collect();
    assert_eq!(
        copies,
        [
            "skopeo copy --preserve-digests --digestfile wasm.digest \"oci-archive:dist/release/proxy-wasm-cors-$v-wasm-oci.tar\" \"docker://$IMAGE_REPOSITORY:$v\"",
            "skopeo copy --digestfile docker.digest \"docker-archive:dist/release/proxy-wasm-cors-$v-docker.tar\" \"docker://$IMAGE_REPOSITORY:$v-docker\"",
        ]
    );
    assert!(
        commands.iter().any(|c| c.starts_with(
            "gh release create \"$GITHUB_REF_NAME\" dist/release/* image-digests.txt"
        ) && c.contains("--notes-file release-notes.md")),
        "{commands:#?}"
    );
}

/// The usual public registries, package and image, spelled in parts so that
/// the project never writes their names out.
const REGISTRY_HOSTS: &[&str] = &[
    concat!("gh", "cr.io"),
    concat!("docker", ".io"),
    concat!("docker", ".com"),
    concat!("quay", ".io"),
    concat!("gcr", ".io"),
    concat!("pkg", ".dev"),
    concat!("azure", "cr.io"),
    concat!("amazon", "aws.com"),
    concat!("crates", ".io"),
    concat!("py", "pi.org"),
    concat!("python", "hosted.org"),
    concat!("npm", "js.org"),
    concat!("deb.", "debian.org"),
];

fn hosts_named(text: &str) -> Vec<&'static str> {
    let text = text.to_ascii_lowercase();
    REGISTRY_HOSTS
        .iter()
        .copied()
        .filter(|host| text.contains(host))
        .collect()
}

#[test]
fn no_workflow_names_a_registry_host() {
    // The check itself finds one.
    let named = format!(
        "image: {}/owner/proxy-wasm-cors",
        REGISTRY_HOSTS[0].to_uppercase()
    );
    assert_eq!(hosts_named(&named), [REGISTRY_HOSTS[0]]);
    for file in workflow_files() {
        assert_eq!(hosts_named(&read(&file)), Vec::<&str>::new(), "{file}");
    }
}
