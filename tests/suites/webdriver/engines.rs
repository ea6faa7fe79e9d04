//! The three browser engines, each started headless with a fresh profile and
//! behind one interface: navigate, call a script, read the console.
//!
//! - Chromium: Debian's `chromium` through `chromedriver`.
//! - Firefox: Debian's `firefox-esr` over WebDriver BiDi (`firefox.rs`).
//! - WebKit: WebKitGTK's `MiniBrowser --automation` through `WebKitWebDriver`
//!   (Debian's `webkit2gtk-driver`), on an Xvfb display of its own.
//!
//! Every engine resolves the suite's `*.test` names to 127.0.0.1 (Chromium's
//! `--host-resolver-rules`, Firefox's `network.dns.localDomains`, and for
//! WebKit, which has no such setting, an `/etc/hosts` bind-mounted in a mount
//! namespace of the driver's own). Over TLS each trusts the run's self-signed
//! certificate, and only it: Chromium by its key
//! (`--ignore-certificate-errors-spki-list`), Firefox in its profile's
//! certificate database (certutil), WebKit as the only certificate of the
//! system's CA bundle, bind-mounted in the same mount namespace. None uses
//! WebDriver's `acceptInsecureCerts`, which would accept any certificate.

use super::firefox::Firefox;
use super::{free_port, own_process_group, Driver, ProcessGroup, Session};
use crate::common::tls::TestCert;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The packages, for the message when a binary is missing.
pub const INSTALL_HINT: &str =
    "apt-get install chromium chromium-driver firefox-esr libnss3-tools webkit2gtk-driver xvfb";

/// Chromium flags that work headless in a container as root, with nothing
/// phoning home during the tests.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// Script and page-load bounds of the WebDriver sessions (milliseconds).
const TIMEOUTS: u64 = 15_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "Chromium",
            Engine::Firefox => "Firefox",
            Engine::WebKit => "WebKit",
        }
    }

    /// What `String(error)` is when `fetch` fails for CORS: each engine has
    /// one message for every network error, so scripts learn nothing more.
    pub fn fetch_error(self) -> &'static str {
        match self {
            Engine::Chromium => "TypeError: Failed to fetch",
            Engine::Firefox => "TypeError: NetworkError when attempting to fetch resource.",
            Engine::WebKit => "TypeError: Load failed",
        }
    }
}

/// A running headless browser of one engine, with one page open.
pub struct Browser {
    pub engine: Engine,
    /// The engine's own version, e.g. "156.0.8078.108".
    pub version: String,
    inner: Inner,
}

enum Inner {
    /// Dropped in this order: the session (and its driver), then the display.
    WebDriver {
        session: Session,
        _display: Option<ProcessGroup>,
    },
    Firefox(Firefox),
}

impl Browser {
    /// Starts `engine` with a fresh profile in `profile` (a scratch
    /// directory), `local_names` resolving to 127.0.0.1, trusting `cert`.
    pub fn start(
        engine: Engine,
        profile: &Path,
        local_names: &[&str],
        cert: Option<&TestCert>,
    ) -> Browser {
        let started = match engine {
            Engine::Chromium => chromium(profile, local_names, cert),
            Engine::Firefox => {
                let binary = find("FIREFOX", &["firefox-esr", "firefox"]);
                let trusted = cert.map(|c| c.cert.as_path());
                Firefox::start(&binary, profile, local_names, trusted).map(|f| Browser {
                    engine,
                    version: f.version.clone(),
                    inner: Inner::Firefox(f),
                })
            }
            Engine::WebKit => webkit(profile, local_names, cert),
        };
        started.unwrap_or_else(|e| panic!("{} did not start: {e}", engine.name()))
    }

    pub fn navigate(&mut self, url: &str) -> Result<(), String> {
        match &mut self.inner {
            Inner::WebDriver { session, .. } => session.navigate(url),
            Inner::Firefox(firefox) => firefox.navigate(url),
        }
    }

    /// Calls `function`, JavaScript source of a function that takes one
    /// string and returns a string or a promise of one, with `argument`.
    pub fn call(&mut self, function: &str, argument: &str) -> Result<String, String> {
        match &mut self.inner {
            Inner::WebDriver { session, .. } => {
                let script = format!(
                    "const [argument, done] = arguments;\n\
                     Promise.resolve(argument).then({function})\n\
                     .then(done, e => done({{scriptFailed: String(e)}}));"
                );
                match session.execute_async(&script, json!([argument]))? {
                    Value::String(result) => Ok(result),
                    other => Err(format!("script failed: {other}")),
                }
            }
            Inner::Firefox(firefox) => firefox.call(function, argument),
        }
    }

    /// Console lines since the last call, where the engine says why it
    /// blocked a request; `None` for WebKit, whose driver has no console
    /// (WebKitWebDriver implements no log command).
    pub fn console(&mut self) -> Option<Vec<String>> {
        match &mut self.inner {
            Inner::WebDriver { session, .. } if self.engine == Engine::Chromium => {
                Some(session.console())
            }
            Inner::WebDriver { .. } => None,
            Inner::Firefox(firefox) => Some(firefox.console()),
        }
    }
}

/// `var` names the binary, or else the first of `names` on `PATH`; a missing
/// one fails the suite with the install command.
fn find(var: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "the browser suite needs {} (none on PATH; or set {var}=/path/to/it).\n\
                 Install the browsers with: {INSTALL_HINT}",
                names.join(" or ")
            )
        })
}

fn chromium(
    profile: &Path,
    local_names: &[&str],
    cert: Option<&TestCert>,
) -> Result<Browser, String> {
    let binary = find("CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find("CHROMEDRIVER", &["chromedriver"]);
    let port = free_port();
    let mut command = Command::new(chromedriver);
    command.arg(format!("--port={port}"));
    let driver = Driver::start(command, port);
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let rules: Vec<String> = local_names
        .iter()
        .map(|n| format!("MAP {n} 127.0.0.1"))
        .collect();
    args.push(format!("--host-resolver-rules={}", rules.join(",")));
    if let Some(cert) = cert {
        args.push(format!(
            "--ignore-certificate-errors-spki-list={}",
            cert.spki_sha256()
        ));
    }
    let session = Session::new(
        driver,
        json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary.to_string_lossy(), "args": args},
            // Keeps console messages (CORS errors land there) for `console()`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"script": TIMEOUTS, "pageLoad": TIMEOUTS},
        }),
    )?;
    Ok(Browser {
        engine: Engine::Chromium,
        version: session.browser_version.clone(),
        inner: Inner::WebDriver {
            session,
            _display: None,
        },
    })
}

/// MiniBrowser ships in the WebKitGTK library's own folder, not on `PATH`.
fn minibrowser() -> PathBuf {
    if let Some(path) = std::env::var_os("WEBKIT_MINIBROWSER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let folders = ["/usr/lib", "/usr/lib64", "/usr/libexec"];
    let apis = ["webkit2gtk-4.1", "webkitgtk-6.0", "webkit2gtk-4.0"];
    let mut candidates = Vec::new();
    for folder in folders {
        for api in apis {
            candidates.push(Path::new(folder).join(api).join("MiniBrowser"));
            if let Ok(entries) = std::fs::read_dir(folder) {
                // Multiarch folders: /usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/.
                for entry in entries.flatten() {
                    candidates.push(entry.path().join(api).join("MiniBrowser"));
                }
            }
        }
    }
    candidates
        .into_iter()
        .find(|c| c.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the browser suite needs WebKitGTK's MiniBrowser (in the webkit2gtk library's folder; \
                 or set WEBKIT_MINIBROWSER=/path/to/it).\nInstall it with: {INSTALL_HINT}"
            )
        })
}

fn webkit(
    profile: &Path,
    local_names: &[&str],
    cert: Option<&TestCert>,
) -> Result<Browser, String> {
    let driver_binary = find("WEBKIT_WEBDRIVER", &["WebKitWebDriver"]);
    let minibrowser = minibrowser();
    let (display, number) = xvfb()?;
    // The driver and its browser see a hosts file of their own: WebKit
    // resolves names through the system (getaddrinfo), with no override.
    // Over TLS they also see a system CA bundle of one certificate, the
    // run's: WebKitGTK trusts the system's store (GnuTLS's default file).
    let hosts = profile.join("hosts");
    let names = local_names.join(" ");
    std::fs::write(&hosts, format!("127.0.0.1 localhost {names}\n")).map_err(|e| e.to_string())?;
    let mut mounts = format!("mount --bind {} /etc/hosts", quoted(&hosts));
    if let Some(cert) = cert {
        mounts.push_str(&format!(
            " && mount --bind {} {CA_BUNDLE}",
            quoted(&cert.cert)
        ));
    }
    let port = free_port();
    // unshare makes "/" private first, so nothing mounted here reaches the
    // machine; inside a chroot, where "/" is no mount point and that fails,
    // own-mount-root.sh gives it one (as for Buildah and Podman).
    let mut command = Command::new(crate::common::root().join("tests/own-mount-root.sh"));
    command.args(["unshare", "--mount", "--propagation", "private"]);
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        // Not root: a user namespace of its own grants the mount.
        command.arg("--map-root-user");
    }
    command
        .args(["--", "sh", "-c", &format!("{mounts} && exec \"$0\" \"$@\"")])
        .arg(driver_binary)
        .arg(format!("--port={port}"))
        .env("DISPLAY", format!(":{number}"));
    let driver = Driver::start(command, port);
    let capabilities = json!({
        "webkitgtk:browserOptions": {
            "binary": minibrowser.to_string_lossy(),
            "args": ["--automation"],
        },
        "acceptInsecureCerts": false,
        "timeouts": {"script": TIMEOUTS, "pageLoad": TIMEOUTS},
    });
    let session = Session::new(driver, capabilities)?;
    Ok(Browser {
        engine: Engine::WebKit,
        version: session.browser_version.clone(),
        inner: Inner::WebDriver {
            session,
            _display: Some(display),
        },
    })
}

/// Where Debian's GnuTLS (WebKitGTK's TLS, through glib-networking) reads
/// the system's trusted certificates.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// `path` as one shell word.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "'\\''"))
}

/// An Xvfb server on a display number it picks itself (`-displayfd`), for
/// MiniBrowser, a GTK program that needs a display even when nothing looks.
fn xvfb() -> Result<(ProcessGroup, u32), String> {
    let binary = find("XVFB", &["Xvfb"]);
    let mut command = Command::new(binary);
    command
        .args([
            "-displayfd",
            "1",
            "-nolisten",
            "tcp",
            "-screen",
            "0",
            "1280x1024x24",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    own_process_group(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run Xvfb: {e}"))?;
    let stdout = child.stdout.take();
    let process = ProcessGroup(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Some(stdout) = stdout else { return };
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next().and_then(Result::ok));
        // Reads on to the end, so Xvfb never writes to a closed pipe.
        for _ in lines {}
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(line)) => match line.trim().parse::<u32>() {
            Ok(number) => Ok((process, number)),
            Err(_) => Err(format!("Xvfb printed {line:?}, not a display number")),
        },
        _ => Err("Xvfb did not report its display in 30 s".to_string()),
    }
}
