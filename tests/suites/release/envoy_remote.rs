//! README Install's pinned Envoy configuration: Envoy fetches the release's
//! cors.wasm over HTTP and checks it against the sha256 of SHA256SUMS itself,
//! so no other bytes run. Served here from dist/release/ on loopback.

use super::{release_dir, run};
use crate::common::envoy::{bootstrap, cluster, listener, route_to, router, Envoy};
use crate::common::examples::free_port;
use crate::common::form::wasm_filter_from;
use crate::common::http::Request;
use crate::common::upstream::Upstream;
use serde_json::{json, Value};
use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const APP: &str = "https://app.example.com";

/// dist/release/ over HTTP (Python's http.server), stopped when dropped.
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    fn start() -> FileServer {
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(release_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = FileServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (code, _, _) = run(Command::new("curl")
                .args(["-sf", "-o", "/dev/null", "--max-time", "2"])
                .arg(format!("http://127.0.0.1:{port}/SHA256SUMS")));
            if code == 0 {
                return server;
            }
            assert!(Instant::now() < deadline, "http.server did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// cors.wasm's line of SHA256SUMS.
fn published_sha256() -> String {
    let sums = fs::read_to_string(release_dir().join("SHA256SUMS")).unwrap();
    sums.lines()
        .find_map(|l| l.strip_suffix("  cors.wasm"))
        .unwrap()
        .to_string()
}

/// The plugin with its code fetched from the file server and pinned by `sha256`.
fn envoy_config(files: &FileServer, upstream: &Upstream, sha256: &str) -> Value {
    // The tests' Wasm filter, its code fetched instead of read from a file.
    let mut filter = wasm_filter_from(
        &release_dir().join("cors.wasm"),
        &format!(r#"{{"allow_origins": ["{APP}"], "allow_methods": ["PUT"]}}"#),
    );
    *filter
        .pointer_mut("/typed_config/config/vm_config/code")
        .unwrap() = json!({"remote": {
        "http_uri": {
            "uri": format!("http://127.0.0.1:{}/cors.wasm", files.port),
            "cluster": "releases",
            "timeout": "10s"
        },
        "sha256": sha256
    }});
    bootstrap(
        vec![listener(
            "main",
            vec![filter, router()],
            route_to("upstream"),
        )],
        vec![
            cluster("upstream", upstream.port),
            cluster("releases", files.port),
        ],
    )
}

#[test]
fn envoy_fetches_the_release_wasm_pinned_by_its_sha256() {
    let files = FileServer::start();
    let upstream = Upstream::start();
    let envoy = Envoy::start(&envoy_config(&files, &upstream, &published_sha256()))
        .unwrap_or_else(|log| panic!("{log}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        let response = Request::preflight("/api", APP, "PUT").send(envoy.port());
        if response.status == 204 || Instant::now() > deadline {
            break response;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(answer.status, 204);
    assert_eq!(
        answer.get("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    drop(envoy);

    // Any other bytes are refused: the same file under another checksum.
    // Envoy starts, the plugin does not load, and (fail closed, the default)
    // every request is refused instead of passing without CORS checks.
    let wrong = "0".repeat(64);
    let envoy = Envoy::start(&envoy_config(&files, &upstream, &wrong))
        .unwrap_or_else(|log| panic!("{log}"));
    let response = Request::preflight("/api", APP, "PUT").send(envoy.port());
    assert_eq!(response.status, 503, "{:?}", response.cors_headers());
    assert_eq!(response.get("access-control-allow-origin"), None);
    let log = envoy.log();
    for line in [
        "Retry limit exceeded for fetching data from remote data source",
        "Plugin cors failed to load",
    ] {
        assert!(log.contains(line), "Envoy's log lacks {line:?}:\n{log}");
    }
    assert_eq!(upstream.count(), 0, "a request reached the upstream");
}
