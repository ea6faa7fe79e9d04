//! A small WebDriver client (the W3C protocol over HTTP/1.1, std only) that
//! drives Debian's headless Chromium through chromedriver. The browser suite
//! needs five commands: new session, navigate, execute an async script, read
//! the console log, end the session; a full async client stack would cost more
//! than it saves.

use crate::common::http::{parse_response, read_framed};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const INSTALL_HINT: &str = "apt-get install chromium chromium-driver";

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

/// `CHROMIUM`/`CHROMEDRIVER` override the binaries; by default both come from
/// `PATH`. A missing one fails the suite, naming the install command.
pub fn binaries() -> (PathBuf, PathBuf) {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path)).filter(|p| p.is_file());
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .find(|candidate| candidate.is_file())
    };
    let chromium = find("CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = find("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => (c, d),
        (c, d) => panic!(
            "the browser suite needs Chromium and chromedriver (found chromium: {c:?}, chromedriver: {d:?}).\n\
             Install them with: {INSTALL_HINT}\n\
             (or set CHROMIUM=/path/to/chromium CHROMEDRIVER=/path/to/chromedriver)"
        ),
    }
}

/// A running chromedriver, on a port it picked itself (`--port=0`). Dropping
/// it ends the session's browser and kills chromedriver's process group.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start(chromedriver: &Path) -> Driver {
        let mut command = Command::new(chromedriver);
        command
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // Its own process group, so Drop can stop chromedriver and every
        // Chromium process it started; and it dies if the test process does.
        unsafe {
            command.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromedriver.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // chromedriver prints "ChromeDriver was started successfully on port N."
        std::thread::spawn(move || {
            let mut seen = String::new();
            // Reads to the end: a closed pipe would break chromedriver's own logging.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if seen.len() < 4096 {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                let port = line
                    .split("on port ")
                    .nth(1)
                    .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok());
                if let Some(port) = port.filter(|p| *p != 0) {
                    let _ = tx.send(Ok(port));
                }
            }
            let _ = tx.send(Err(seen));
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(port)) => port,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromedriver did not report its port: {other:?}");
            }
        };
        Driver { child, port }
    }

    /// One WebDriver command; returns the `value` of the answer, or the
    /// WebDriver error as text.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("connect to chromedriver: {e}"))?;
        // Bounds every command; scripts have their own, shorter timeout.
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("write to chromedriver: {e}"))?;
        // chromedriver keeps the connection open despite `connection: close`.
        let data = read_framed(&mut stream, false)?;
        let response = parse_response(&data)?;
        let answer: Value = serde_json::from_slice(&response.body).map_err(|e| {
            format!(
                "{method} {path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&response.body)
            )
        })?;
        if response.status != 200 {
            return Err(format!(
                "{method} {path}: HTTP {}: {} {}",
                response.status, answer["value"]["error"], answer["value"]["message"]
            ));
        }
        Ok(answer["value"].clone())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with a fresh profile.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
    /// As chromedriver reports it, e.g. "156.0.8078.108".
    pub browser_version: String,
}

impl<'a> Session<'a> {
    /// `extra_args` are added to the headless flags (for example
    /// `--host-resolver-rules`); `profile` is a fresh `--user-data-dir`.
    pub fn new(
        driver: &'a Driver,
        chromium: &Path,
        profile: &Path,
        extra_args: &[String],
    ) -> Session<'a> {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra_args.iter().cloned());
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
            // Keeps console messages (CORS errors land there) for `console()`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"script": 15_000, "pageLoad": 15_000},
        }}});
        let value = driver
            .call("POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("Chromium did not start: {e}"));
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {value}"))
            .to_string();
        let browser_version = value["capabilities"]["browserVersion"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        Session {
            driver,
            id,
            browser_version,
        }
    }

    pub fn navigate(&self, url: &str) -> Result<(), String> {
        self.driver
            .call(
                "POST",
                &format!("/session/{}/url", self.id),
                Some(&json!({"url": url})),
            )
            .map(|_| ())
    }

    pub fn execute(&self, script: &str, args: Value) -> Result<Value, String> {
        self.driver.call(
            "POST",
            &format!("/session/{}/execute/sync", self.id),
            Some(&json!({"script": script, "args": args})),
        )
    }

    /// Runs `script` with `args`; the script calls its last argument with
    /// its result.
    pub fn execute_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.driver.call(
            "POST",
            &format!("/session/{}/execute/async", self.id),
            Some(&json!({"script": script, "args": args})),
        )
    }

    /// Console and network messages since the last call ("LEVEL message").
    pub fn console(&self) -> Vec<String> {
        match self.driver.call(
            "POST",
            &format!("/session/{}/se/log", self.id),
            Some(&json!({"type": "browser"})),
        ) {
            Ok(Value::Array(entries)) => entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["level"].as_str().unwrap_or("?"),
                        e["message"].as_str().unwrap_or("")
                    )
                })
                .collect(),
            Ok(other) => vec![format!("(unexpected log answer {other})")],
            Err(e) => vec![format!("(no console log: {e})")],
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}
