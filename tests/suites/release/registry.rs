//! A container registry on loopback (Debian's docker-registry, the CNCF
//! Distribution registry), the release's images pushed to it with skopeo as
//! .github/workflows/release.yml publishes them, and pulled from it over the
//! registry API as go-containerregistry (Istio's and Envoy Gateway's image
//! fetchers) does.

use super::fetcher::{Image, DOCKER_MANIFEST, OCI_MANIFEST};
use super::run;
use crate::common::envoy::Scratch;
use crate::common::examples::free_port;
use serde_json::Value;
use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What go-containerregistry's remote.Get accepts for a manifest.
const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

pub struct Registry {
    child: Child,
    pub port: u16,
    scratch: Scratch,
}

impl Registry {
    pub fn start() -> Registry {
        let scratch = Scratch::new("registry");
        let port = free_port();
        let config = scratch.path("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                scratch.path("store").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(fs::File::create(scratch.path("registry.log")).unwrap())
            .spawn()
            .expect("docker-registry is missing: apt-get install docker-registry (make test installs it)");
        let registry = Registry {
            child,
            port,
            scratch,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while registry.get("/v2/", "*/*").map(|r| r.status) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "the registry did not answer on 127.0.0.1:{port}: {}",
                fs::read_to_string(registry.scratch.path("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }

    /// `skopeo copy` of an archive to REPOSITORY:TAG here; the digest the
    /// registry holds it under (skopeo's --digestfile).
    pub fn push(&self, source: &str, tag: &str, extra: &[&str]) -> String {
        let digest_file = self.scratch.path("digest");
        let (code, out, err) = run(Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .args(extra)
            .arg("--digestfile")
            .arg(&digest_file)
            .arg(source)
            .arg(format!(
                "docker://127.0.0.1:{}/proxy-wasm-cors:{tag}",
                self.port
            )));
        assert_eq!(code, 0, "skopeo copy {source}: {out}{err}");
        fs::read_to_string(digest_file).unwrap().trim().to_string()
    }

    /// One GET with curl: status, headers (lowercase names), body.
    fn get(&self, path: &str, accept: &str) -> Option<Fetched> {
        let body = self.scratch.path("body");
        let head = self.scratch.path("head");
        let (code, _, _) = run(Command::new("curl")
            .args(["-s", "--max-time", "20", "-H"])
            .arg(format!("Accept: {accept}"))
            .arg("-D")
            .arg(&head)
            .arg("-o")
            .arg(&body)
            .arg(format!("http://127.0.0.1:{}{path}", self.port)));
        if code != 0 {
            return None;
        }
        let head = fs::read_to_string(&head).unwrap();
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Fetched {
            status,
            headers,
            body: fs::read(&body).unwrap_or_default(),
        })
    }

    /// The image REPOSITORY:TAG as the fetchers pull it: the manifest (by tag,
    /// with their Accept header), its digest (the registry's, checked against
    /// the bytes), then each layer's blob, checked against its digest.
    pub fn pull(&self, tag: &str) -> Pulled {
        let manifest = self
            .get(&format!("/v2/proxy-wasm-cors/manifests/{tag}"), ACCEPT)
            .expect("curl failed");
        assert_eq!(manifest.status, 200, "manifest {tag}");
        let media_type = manifest.header("content-type");
        // desc.Image(): an image manifest, not an index.
        assert!(
            [DOCKER_MANIFEST, OCI_MANIFEST].contains(&media_type.as_str()),
            "{tag}: {media_type}"
        );
        let digest = manifest.header("docker-content-digest");
        assert_eq!(digest, sha256(&manifest.body), "{tag}");
        let json: Value = serde_json::from_slice(&manifest.body).unwrap();
        assert_eq!(json["mediaType"], media_type.as_str());
        let blob = |descriptor: &Value| {
            let digest = descriptor["digest"].as_str().unwrap();
            let blob = self
                .get(&format!("/v2/proxy-wasm-cors/blobs/{digest}"), "*/*")
                .expect("curl failed");
            assert_eq!(blob.status, 200, "blob {digest}");
            assert_eq!(sha256(&blob.body), digest);
            assert_eq!(blob.body.len() as u64, descriptor["size"].as_u64().unwrap());
            blob.body
        };
        let layers = json["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["mediaType"].as_str().unwrap().to_string(), blob(d)))
            .collect();
        Pulled {
            digest,
            config: blob(&json["config"]),
            image: Image { media_type, layers },
            manifest: json,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Fetched {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

pub struct Pulled {
    /// sha256:HEX of the manifest: what a WasmPlugin's or an
    /// EnvoyExtensionPolicy's `sha256` pins (without the prefix).
    pub digest: String,
    pub manifest: Value,
    pub config: Vec<u8>,
    pub image: Image,
}

pub fn sha256(bytes: &[u8]) -> String {
    let scratch = Scratch::new("sha");
    fs::write(scratch.path("f"), bytes).unwrap();
    let (code, out, err) = run(Command::new("sha256sum").arg(scratch.path("f")));
    assert_eq!(code, 0, "{err}");
    format!("sha256:{}", out.split_whitespace().next().unwrap())
}
