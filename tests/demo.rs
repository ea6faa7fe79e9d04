//! The demo `make run` starts (envoy/envoy.yaml; `make run-native`:
//! envoy/native.yaml, the same with the dynamic module) and the README's
//! quickstart: the curl commands both print are the README's, and running them
//! against the demo of the form under test prints exactly what the README
//! shows (dates aside).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::envoy::{Envoy, Scratch};
use common::examples::{self, free_port};
use common::form::Form;
use std::fs;
use std::process::Command;

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
fn readme_demo() -> Vec<(String, String)> {
    let readme = fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- demo:start -->")
        .expect("README lacks <!-- demo:start -->");
    let end = readme
        .find("<!-- demo:end -->")
        .expect("README lacks <!-- demo:end -->");
    examples::console_examples(&readme[start..end])
}

#[test]
fn readme_commands_are_the_ones_make_run_prints() {
    let script = fs::read_to_string(common::root().join("envoy/demo-requests.sh")).unwrap();
    let printed: Vec<&str> = script
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let readme: Vec<String> = readme_demo().into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        readme, printed,
        "README's quickstart and envoy/demo-requests.sh differ"
    );
    assert_eq!(printed.len(), 3);
}

#[test]
fn readme_quickstart_output_is_what_the_demo_answers() {
    // The demo's own file, on free ports instead of 10000/10001/9901.
    let (front, upstream) = (free_port(), free_port());
    let yaml = fs::read_to_string(common::root().join(Form::current().demo_config()))
        .unwrap()
        .replace("port_value: 10000", &format!("port_value: {front}"))
        .replace("port_value: 10001", &format!("port_value: {upstream}"))
        .replace("port_value: 9901", "port_value: 0");
    let scratch = Scratch::new("demo");
    let config = scratch.path("envoy.yaml");
    fs::write(&config, yaml).unwrap();
    let _envoy = Envoy::start_file(scratch, &config, &[])
        .unwrap_or_else(|log| panic!("demo Envoy did not start:\n{log}"));

    let examples = readme_demo();
    assert_eq!(
        examples.len(),
        3,
        "README demo section should show 3 commands"
    );
    for (command, shown) in examples {
        let command_here = command.replace("127.0.0.1:10000", &format!("127.0.0.1:{front}"));
        let out = Command::new("sh")
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
    }
}
