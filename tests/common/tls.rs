//! A certificate made for one test run (openssl), for Envoy listeners that
//! speak TLS with ALPN h2 and http/1.1, as browsers reach Envoy.

use super::envoy::Scratch;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

pub struct TestCert {
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: Scratch,
}

impl TestCert {
    /// A self-signed P-256 certificate for `localhost`, `127.0.0.1` and the
    /// `*.test` names the browser suite maps to loopback, valid one day. Those
    /// names are also listed one by one: Firefox and WebKit match no wildcard
    /// right under a top-level domain (`*.test` for `evil.test`).
    pub fn new() -> TestCert {
        let dir = Scratch::new("tls");
        let (cert, key) = (dir.path("cert.pem"), dir.path("key.pem"));
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
            .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .args([
                "-addext",
                "subjectAltName=DNS:localhost,DNS:*.test,DNS:*.example.test,DNS:*.b.example.test,IP:127.0.0.1,\
                 DNS:evil.test,DNS:example.test,DNS:app.example.test,DNS:admin.example.test,DNS:a.b.example.test",
            ])
            // A server's own certificate, not a CA's (openssl's default for
            // -x509): Firefox refuses a CA certificate as a server's even when
            // its profile trusts it (MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY).
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl is missing: apt-get install openssl (make test installs it)");
        assert!(
            out.status.success(),
            "openssl req: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestCert {
            cert,
            key,
            _dir: dir,
        }
    }

    /// The base64 SHA-256 of the certificate's public key: what Chromium's
    /// `--ignore-certificate-errors-spki-list` trusts.
    pub fn spki_sha256(&self) -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(
                "openssl x509 -in \"$0\" -pubkey -noout | openssl pkey -pubin -outform der \
                 | openssl dgst -sha256 -binary | openssl base64 -A",
            )
            .arg(&self.cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `listener` (from `envoy::listener`) serving TLS with this certificate,
    /// offering h2 then http/1.1 by ALPN.
    pub fn listener(&self, mut listener: Value) -> Value {
        listener["filter_chains"][0]["transport_socket"] = json!({
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "common_tls_context": {
                    "tls_certificates": [{
                        "certificate_chain": {"filename": self.cert.to_string_lossy()},
                        "private_key": {"filename": self.key.to_string_lossy()},
                    }],
                    "alpn_protocols": ["h2", "http/1.1"],
                }
            }
        });
        listener
    }
}
