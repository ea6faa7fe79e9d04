//! The demo `make run` starts (envoy/envoy.yaml; `make run-native`:
//! envoy/native.yaml, the same with the dynamic module) and the README's
//! quickstart: the curl commands both print are the README's, and running them
//! against the demo of the form under test prints exactly what the README
//! shows (dates aside).

use crate::common;

use common::envoy::{Envoy, Scratch};
use common::examples::{self, free_port, readme_demo};
use common::form::Form;
use std::fs;
use std::time::{Duration, Instant};

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
    let yaml = examples::demo_on_ports(Form::current().demo_config(), front, upstream, 0);
    let scratch = Scratch::new("demo");
    let config = scratch.path("envoy.yaml");
    fs::write(&config, yaml).unwrap();
    // Access-log lines reach stdout within milliseconds, as with `make run`.
    let envoy = Envoy::start_file(scratch, &config, &["--file-flush-interval-msec", "5"])
        .unwrap_or_else(|log| panic!("demo Envoy did not start:\n{log}"));

    examples::demo_answers_as_the_readme_shows(front);

    // Its access log (stdout, among Envoy's own log lines, which start with
    // `[`) shows one line per command, as the README does, in both forms.
    let want: Vec<String> = readme_access_log().lines().map(str::to_string).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let logged = loop {
        let logged: Vec<String> = envoy
            .log()
            .lines()
            .filter(|l| l.starts_with("OPTIONS ") || l.starts_with("GET "))
            .map(str::to_string)
            .collect();
        if logged.len() >= want.len() || Instant::now() > deadline {
            break logged;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(logged, want, "README's demo access log");
}

/// The README's access-log lines of the three demo commands.
fn readme_access_log() -> String {
    let readme = fs::read_to_string(common::root().join("README.md")).unwrap();
    readme
        .split("<!-- demo-access-log:start -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n<!-- demo-access-log:end -->").next())
        .expect("README lacks the demo-access-log block")
        .to_string()
}
