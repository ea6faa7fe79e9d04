//! envoy/tls.yaml (`make run-tls`): the demo over TLS with HTTP/2.

use super::*;

// ------------------------------------------------------------------ TLS example

/// envoy/tls.yaml (`make run-tls`): the demo over TLS, HTTP/2 chosen by ALPN.
/// The demo's three requests, rewritten as `make run-tls` prints them, answer
/// over HTTP/2 with exactly the status, CORS headers and `vary` of the
/// cleartext demo over HTTP/1.1.
#[test]
fn tls_example_answers_over_http2_as_the_cleartext_demo() {
    let cert = TestCert::new();
    let tls_port = examples::free_port();
    let cert_path = cert.cert.display().to_string();
    let key_path = cert.key.display().to_string();
    let tls = start_example(
        "envoy/tls.yaml",
        &[
            ("port_value: 10443", &format!("port_value: {tls_port}")),
            ("target/tls/cert.pem", &cert_path),
            ("target/tls/key.pem", &key_path),
        ],
        &[],
    );
    let clear = start_example("envoy/envoy.yaml", &[], &[]);
    let makefile = fs::read_to_string(common::root().join("Makefile")).unwrap();
    // What make run-tls prints: the demo's commands with these two rewrites.
    for rewrite in [
        "'s|curl -si|curl -si --cacert $(TLS_DIR)/cert.pem|'",
        "'s|http://127.0.0.1:10000|https://localhost:10443|'",
    ] {
        assert!(makefile.contains(rewrite), "make run-tls lacks {rewrite}");
    }
    let requests = fs::read_to_string(common::root().join("envoy/demo-requests.sh")).unwrap();
    let commands: Vec<&str> = requests
        .lines()
        .filter(|l| l.starts_with("curl "))
        .collect();
    assert_eq!(commands.len(), 3);
    let run = |command: &str| {
        let out = Command::new("sh").arg("-c").arg(command).output().unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::http::parse_response(&out.stdout).unwrap_or_else(|e| panic!("{command}: {e}"))
    };
    for command in commands {
        let over_tls = command
            .replace("curl -si", &format!("curl -si --cacert {cert_path}"))
            .replace(
                "http://127.0.0.1:10000",
                &format!("https://localhost:{tls_port}"),
            );
        let cleartext = command.replace(
            "127.0.0.1:10000",
            &format!("127.0.0.1:{}", clear.listener_port("cors")),
        );
        let (h2, h1) = (run(&over_tls), run(&cleartext));
        let version = Command::new("sh")
            .arg("-c")
            .arg(format!("{over_tls} -o /dev/null -w '%{{http_version}}'"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&version.stdout), "2", "{over_tls}");
        assert_eq!(
            (h2.status, h2.cors_headers(), h2.get("vary")),
            (h1.status, h1.cors_headers(), h1.get("vary")),
            "{command}"
        );
    }
    drop(tls);
}
