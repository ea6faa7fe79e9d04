//! Headless Firefox driven over WebDriver BiDi, the protocol Firefox speaks
//! itself on `--remote-debugging-port` (no geckodriver is packaged). Five
//! commands serve the suite: session.new, browsingContext.getTree and
//! .navigate, script.callFunction, session.end; log.entryAdded events carry
//! the console, where Firefox writes why it blocked a request.

use super::websocket::WebSocket;
use super::{own_process_group, ProcessGroup};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A fresh profile's `user.js`: no first-run pages, and nothing that reaches
/// the network by itself (updates, telemetry, experiments, remote settings,
/// captive portal and connectivity checks, Safe Browsing, DNS over HTTPS,
/// prefetching, push, add-on and plugin updates), and no HTTP/3 (as
/// Chromium's `--disable-quic`). `network.dns.localDomains` is added per run.
const USER_JS: &str = r#"
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.page", 0);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("startup.homepage_welcome_url", "about:blank");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.server", "");
user_pref("browser.ping-centre.telemetry", false);
user_pref("app.update.disabledForTesting", true);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("messaging-system.rsexperimentloader.enabled", false);
user_pref("services.settings.server", "");
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.blockedURIs.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("network.trr.mode", 5);
user_pref("network.prefetch-next", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.http.speculative-parallel-limit", 0);
user_pref("network.http.http3.enable", false);
user_pref("network.proxy.type", 0);
user_pref("dom.push.connection.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("extensions.blocklist.enabled", false);
user_pref("extensions.systemAddon.update.enabled", false);
user_pref("media.gmp-manager.url", "");
user_pref("media.gmp-gmpopenh264.enabled", false);
user_pref("browser.search.update", false);
user_pref("browser.region.update.enabled", false);
user_pref("browser.region.network.url", "");
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.topsites.contile.enabled", false);
user_pref("browser.translations.enable", false);
user_pref("geo.provider.network.url", "");
user_pref("identity.fxaccounts.enabled", false);
user_pref("security.OCSP.enabled", 0);
user_pref("security.remote_settings.crlite_filters.enabled", false);
user_pref("security.remote_settings.intermediates.enabled", false);
"#;

/// A running headless Firefox and its BiDi session. Dropping it ends the
/// session and kills Firefox's process group.
pub struct Firefox {
    socket: WebSocket,
    next_id: u64,
    context: String,
    /// Console lines since the last `console()` ("level text").
    console: Vec<String>,
    pub version: String,
    _process: ProcessGroup,
}

impl Firefox {
    /// Starts `binary` with a fresh profile in `profile` (a scratch
    /// directory); `local_names` resolve to 127.0.0.1; the profile trusts
    /// `certificate` (a PEM file), the run's self-signed one.
    pub fn start(
        binary: &Path,
        profile: &Path,
        local_names: &[&str],
        certificate: Option<&Path>,
    ) -> Result<Firefox, String> {
        let user_js = format!(
            "{USER_JS}user_pref(\"network.dns.localDomains\", \"{}\");\n",
            local_names.join(",")
        );
        std::fs::write(profile.join("user.js"), user_js).map_err(|e| e.to_string())?;
        if let Some(certificate) = certificate {
            trust(profile, certificate)?;
        }
        let mut command = Command::new(binary);
        command
            .args(["--headless", "--no-remote", "--profile"])
            .arg(profile)
            .args(["--remote-debugging-port=0", "about:blank"])
            .env("MOZ_CRASHREPORTER_DISABLE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        own_process_group(&mut command);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let stderr = child.stderr.take();
        let process = ProcessGroup(child);
        // Firefox prints "WebDriver BiDi listening on ws://127.0.0.1:PORT".
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            let mut seen = String::new();
            // Reads to the end, so Firefox never blocks on a full pipe.
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if seen.len() < 4096 {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                let port = line
                    .split("WebDriver BiDi listening on ws://127.0.0.1:")
                    .nth(1)
                    .and_then(|p| p.trim().parse::<u16>().ok());
                if let Some(port) = port {
                    let _ = tx.send(Ok(port));
                }
            }
            let _ = tx.send(Err(seen));
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(port)) => port,
            Ok(Err(output)) => return Err(format!("Firefox exited before listening:\n{output}")),
            Err(_) => return Err("Firefox did not open WebDriver BiDi in 60 s".to_string()),
        };
        // Every command answers within a second here; a script has its own
        // 15 s bound (see `call`), so 60 s means the browser is stuck.
        let socket = WebSocket::connect(port, "/session", Duration::from_secs(60))?;
        let mut firefox = Firefox {
            socket,
            next_id: 0,
            context: String::new(),
            console: Vec::new(),
            version: String::new(),
            _process: process,
        };
        let session = firefox.command(
            "session.new",
            json!({"capabilities": {"alwaysMatch": {"acceptInsecureCerts": false}}}),
        )?;
        firefox.version = session["capabilities"]["browserVersion"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        firefox.command("session.subscribe", json!({"events": ["log.entryAdded"]}))?;
        let tree = firefox.command("browsingContext.getTree", json!({"maxDepth": 0}))?;
        firefox.context = tree["contexts"][0]["context"]
            .as_str()
            .ok_or_else(|| format!("no browsing context in {tree}"))?
            .to_string();
        Ok(firefox)
    }

    pub fn navigate(&mut self, url: &str) -> Result<(), String> {
        let context = self.context.clone();
        self.command(
            "browsingContext.navigate",
            json!({"context": context, "url": url, "wait": "complete"}),
        )
        .map(|_| ())
    }

    /// Calls `function` (JavaScript source of a function taking one string
    /// and returning a string or a promise of one) with `argument`.
    pub fn call(&mut self, function: &str, argument: &str) -> Result<String, String> {
        let context = self.context.clone();
        let result = self.command(
            "script.callFunction",
            json!({
                "functionDeclaration": function,
                "arguments": [{"type": "string", "value": argument}],
                "awaitPromise": true,
                "target": {"context": context},
            }),
        )?;
        match (result["type"].as_str(), result["result"]["value"].as_str()) {
            (Some("success"), Some(value)) => Ok(value.to_string()),
            _ => Err(format!("script failed: {result}")),
        }
    }

    /// Console lines since the last call. A round trip first, so events sent
    /// before it have arrived.
    pub fn console(&mut self) -> Vec<String> {
        if let Err(e) = self.command("session.status", json!({})) {
            self.console.push(format!("(no console: {e})"));
        }
        std::mem::take(&mut self.console)
    }

    /// One BiDi command; its `result`, or the error as text. Events read on
    /// the way are kept (console lines) or dropped.
    fn command(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        self.socket
            .send(&json!({"id": id, "method": method, "params": params}).to_string())?;
        // Bounded: every message either answers or is an event of the page.
        for _ in 0..10_000 {
            let text = self.socket.receive()?;
            let message: Value =
                serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
            if message["method"] == "log.entryAdded" {
                let entry = &message["params"];
                self.console.push(format!(
                    "{} {}",
                    entry["level"].as_str().unwrap_or("?"),
                    entry["text"].as_str().unwrap_or("")
                ));
                continue;
            }
            if message["id"] != json!(id) {
                continue;
            }
            return match message["type"].as_str() {
                Some("success") => Ok(message["result"].clone()),
                _ => Err(format!(
                    "{method}: {} {}",
                    message["error"], message["message"]
                )),
            };
        }
        Err(format!("{method}: no answer among 10000 messages"))
    }
}

/// Makes the profile's certificate database (NSS's cert9.db, with certutil)
/// trust `certificate` to identify servers, as a user importing it would.
fn trust(profile: &Path, certificate: &Path) -> Result<(), String> {
    let database = format!("sql:{}", profile.display());
    let certutil = |args: &[&str]| -> Result<(), String> {
        let out = Command::new("certutil")
            .args(args)
            .args(["-d", &database])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                format!("cannot run certutil ({e}): apt-get install libnss3-tools (make test installs it)")
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "certutil {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    certutil(&["-N", "--empty-password"])?;
    let path = certificate.to_string_lossy();
    certutil(&["-A", "-n", "cors-test-run", "-t", "C,,", "-i", &path])
}

impl Drop for Firefox {
    fn drop(&mut self) {
        let _ = self.command("session.end", json!({}));
    }
}
