//! The configurations users copy (envoy/, istio/, the README's JSON blocks):
//! where they are, the plugin JSON in each, and how to run an Envoy example
//! on free ports.

use super::envoy::{Envoy, Scratch};
use cors_core::config_source;
use serde_json::Value;
use std::fs;
use std::path::Path;

/// Envoy configurations Envoy can start from the repository root.
pub const ENVOY_EXAMPLES: [&str; 4] = [
    "envoy/envoy.yaml",
    "envoy/native.yaml",
    "envoy/rules.yaml",
    "envoy/ecds.yaml",
];

/// Every example file that holds a plugin configuration.
pub const CONFIG_FILES: [&str; 8] = [
    "envoy/envoy.yaml",
    "envoy/tls.yaml",
    "gateway/envoyextensionpolicy.yaml",
    "envoy/native.yaml",
    "envoy/rules.yaml",
    "envoy/ecds/cors-filter.yaml",
    "istio/wasmplugin.yaml",
    "docker-compose.yaml",
];

/// YAML at the top that is no example: the pre-commit hooks (checked by
/// `import::pre_commit_hook_audits_the_files_it_is_given`).
pub const OTHER_YAML: [&str; 1] = [".pre-commit-hooks.yaml"];

/// Files of envoy/, istio/ and gateway/ and at the top that are YAML: every one must be
/// listed above, so a new example cannot escape the checks.
pub fn yaml_files_in_repo() -> Vec<String> {
    let root = super::root();
    let mut out = Vec::new();
    let mut dirs = vec![root.join("envoy"), root.join("istio"), root.join("gateway")];
    let mut seen = 0;
    while let Some(dir) = dirs.pop() {
        seen += 1;
        assert!(
            seen < 100,
            "too many directories under envoy/, istio/ and gateway/"
        );
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(relative(&path));
            }
        }
    }
    for entry in fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(relative(&path));
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(super::root())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Every plugin configuration of the examples and the README, as
/// (where, JSON). docker-compose.yaml holds none of its own (it mounts
/// envoy/envoy.yaml), so it is skipped here.
pub fn example_configs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in CONFIG_FILES.iter().filter(|f| **f != "docker-compose.yaml") {
        let text = fs::read_to_string(super::root().join(file)).unwrap();
        let found = config_source::find(&text).unwrap_or_else(|e| panic!("{file} {e}"));
        for f in found {
            let json = f
                .json
                .unwrap_or_else(|e| panic!("{file}: {}: {e}", f.location));
            out.push((format!("{file}: {}", f.location), json));
        }
    }
    out.extend(readme_json_blocks());
    out
}

/// The README's ```json blocks, each a whole plugin configuration, as
/// ("README.md:LINE", text).
pub fn readme_json_blocks() -> Vec<(String, String)> {
    let readme = fs::read_to_string(super::root().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == "```json" => current = Some((i + 1, String::new())),
            None => {}
            Some((start, text)) => {
                if line.trim_start().starts_with("```") {
                    blocks.push((format!("README.md:{start}"), std::mem::take(text)));
                    current = None;
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    blocks
}

/// Every `$ command` of the README's ```console blocks with the lines shown
/// under it (up to the next command or the end of the block).
pub fn readme_console_examples() -> Vec<(String, String)> {
    let readme = fs::read_to_string(super::root().join("README.md")).unwrap();
    console_examples(&readme)
}

/// Every `$ command` of the ```console blocks in `markdown`, with its output.
pub fn console_examples(markdown: &str) -> Vec<(String, String)> {
    let mut examples: Vec<(String, String)> = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_block = line == "```console";
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            examples.push((command.to_string(), String::new()));
        } else if let Some((_, output)) = examples.last_mut() {
            output.push_str(line);
            output.push('\n');
        }
    }
    examples
}

pub use super::ports::free_port;

/// Starts an Envoy example (listener on 10000, demo upstream on 10001, admin
/// on 9901) on free ports instead, after the given text replacements.
pub fn start_example(file: &str, replacements: &[(&str, &str)], extra_args: &[&str]) -> Envoy {
    let (front, upstream) = (free_port(), free_port());
    let mut yaml = fs::read_to_string(super::root().join(file))
        .unwrap()
        .replace("port_value: 10000", &format!("port_value: {front}"))
        .replace("port_value: 10001", &format!("port_value: {upstream}"))
        .replace("port_value: 9901", "port_value: 0");
    for (from, to) in replacements {
        assert!(yaml.contains(from), "{file} lacks {from:?}");
        yaml = yaml.replace(from, to);
    }
    let mut bootstrap: Value =
        serde_norway::from_str(&yaml).unwrap_or_else(|e| panic!("{file}: {e}"));
    close_at_once(&mut bootstrap);
    let scratch = Scratch::new("example");
    let config = scratch.path("envoy.yaml");
    fs::write(&config, serde_json::to_string_pretty(&bootstrap).unwrap()).unwrap();
    Envoy::start_file(scratch, &config, extra_args)
        .unwrap_or_else(|log| panic!("{file}: Envoy did not start:\n{log}"))
}

/// Envoy with the plugin configured by `config_json` in front of a loopback
/// upstream, like `Envoy::with_plugin`, closing connections at once.
pub fn start_plugin(config_json: &str, upstream_port: u16, extra_args: &[&str]) -> Envoy {
    use super::envoy::{bootstrap, cluster, cors_filter, listener, route_to, router};
    let mut config = bootstrap(
        vec![listener(
            "cors",
            vec![cors_filter(config_json), router()],
            route_to("upstream"),
        )],
        vec![cluster("upstream", upstream_port)],
    );
    close_at_once(&mut config);
    Envoy::start_with_args(&config, extra_args)
        .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"))
}

/// Sets `delayed_close_timeout: 0s` on every HTTP connection manager. The raw
/// test client reads a response until the connection closes, and after a
/// local reply (the plugin's 204/403) Envoy otherwise waits up to 1 s for the
/// client to close first: a second per preflight, nothing about CORS.
pub fn close_at_once(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_hcm = map
                .get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with(".HttpConnectionManager"));
            if is_hcm {
                map.insert("delayed_close_timeout".to_string(), Value::from("0s"));
            }
            map.values_mut().for_each(close_at_once);
        }
        Value::Array(items) => items.iter_mut().for_each(close_at_once),
        _ => {}
    }
}

/// `envoy --mode validate -c FILE` from the repository root: (success, output).
pub fn envoy_validate(file: &Path, cwd: &Path) -> (bool, String) {
    let out = std::process::Command::new(super::envoy::binary())
        .args(["--mode", "validate", "--log-level", "error", "-c"])
        .arg(file)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run Envoy: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Lines whose values change on every run.
fn stable(output: &str) -> Vec<String> {
    output
        .replace('\r', "")
        .lines()
        .filter(|l| !l.starts_with("date:") && !l.starts_with("x-envoy-upstream-service-time:"))
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `$ command` lines of the README's demo section, each with the output shown under it.
pub fn readme_demo() -> Vec<(String, String)> {
    let readme = fs::read_to_string(super::root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- demo:start -->")
        .expect("README lacks <!-- demo:start -->");
    let end = readme
        .find("<!-- demo:end -->")
        .expect("README lacks <!-- demo:end -->");
    console_examples(&readme[start..end])
}

/// The README's section `## HEADING`, up to the next `## ` heading.
pub fn readme_section(heading: &str) -> String {
    let readme = fs::read_to_string(super::root().join("README.md")).unwrap();
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("README has no ## {heading} section"));
    let section = &readme[start..];
    section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)].to_string()
}

/// Runs the README's three demo commands against a demo listening on `port`
/// (instead of 10000) and asserts that each prints what the README shows
/// (dates aside); returns each command's first line, for the test's output.
pub fn demo_answers_as_the_readme_shows(port: u16) -> Vec<String> {
    let examples = readme_demo();
    assert_eq!(
        examples.len(),
        3,
        "README demo section should show 3 commands"
    );
    let mut answers = Vec::new();
    for (command, shown) in examples {
        let command_here = command.replace("127.0.0.1:10000", &format!("127.0.0.1:{port}"));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&command_here)
            .output()
            .expect("sh is missing");
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = stable(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(
            got,
            stable(&shown),
            "README shows a different output for:\n$ {command}"
        );
        answers.push(got.first().cloned().unwrap_or_default());
    }
    answers
}

/// The demo configuration `file` with its ports moved to `front`, `upstream`
/// and an admin port chosen by Envoy (0), as the tests run it.
pub fn demo_on_ports(file: &str, front: u16, upstream: u16, admin: u16) -> String {
    let yaml = fs::read_to_string(super::root().join(file)).unwrap();
    for port in ["port_value: 10000", "port_value: 10001", "port_value: 9901"] {
        assert!(yaml.contains(port), "{file} lacks {port}");
    }
    yaml.replace("port_value: 10000", &format!("port_value: {front}"))
        .replace("port_value: 10001", &format!("port_value: {upstream}"))
        .replace("port_value: 9901", &format!("port_value: {admin}"))
}
