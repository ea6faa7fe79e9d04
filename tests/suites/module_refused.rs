//! An Envoy release that cannot load the dynamic module refuses it with its
//! own message and a clean exit, never a crash. `make test-matrix` runs this
//! on each release of ENVOY_MATRIX outside MODULE_ENVOYS (1.36.4: it lacks the
//! callbacks; 1.37 wants its exact ABI hash). Such Envoys only know loading
//! a module by name from ENVOY_DYNAMIC_MODULES_SEARCH_PATH.

use crate::common;

use common::envoy::{self, Scratch};
use common::form::Form;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn an_envoy_that_cannot_load_the_module_refuses_it_cleanly() {
    let module = Form::Module.artifact();
    let mut filter = common::form::module_filter_from(&module, "{\"allow_origins\": [\"*\"]}");
    filter["typed_config"]["dynamic_module_config"] = serde_json::json!({"name": "cors"});
    let bootstrap = envoy::bootstrap(
        vec![envoy::listener(
            "cors",
            vec![filter, envoy::router()],
            envoy::route_to("upstream"),
        )],
        vec![envoy::cluster("upstream", 9)],
    );
    let scratch = Scratch::new("refused");
    let config = scratch.path("envoy.yaml");
    std::fs::write(&config, serde_json::to_string(&bootstrap).unwrap()).unwrap();
    let mut command = Command::new(envoy::binary());
    command
        .args(["--disable-hot-restart", "--log-level", "info", "-c"])
        .arg(&config)
        .env(
            "ENVOY_DYNAMIC_MODULES_SEARCH_PATH",
            module.parent().unwrap(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    common::dies_with_parent(&mut command);
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Envoy neither refused the module nor exited within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
    // A crash ends by a signal and has no exit code.
    assert_eq!(status.code(), Some(1), "{status}:\n{log}");
    assert!(
        log.contains("Failed to load dynamic module"),
        "no refusal message:\n{log}"
    );
}
