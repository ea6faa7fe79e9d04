//! Drives the three browser engines the browser suite runs in, std only:
//! the W3C WebDriver protocol over HTTP/1.1 for Chromium (chromedriver) and
//! WebKit (WebKitWebDriver with WebKitGTK's MiniBrowser), and WebDriver BiDi
//! over a WebSocket for Firefox, which speaks it itself (`firefox.rs`).
//! `engines.rs` starts each one and gives the suite one interface. The suite
//! needs a handful of commands; a full async client stack would cost more
//! than it saves.

mod engines;
mod firefox;
mod websocket;

pub use engines::{Browser, Engine};

use crate::common::http::{parse_response, read_framed};
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A process started in a process group of its own, so that dropping it
/// stops everything it started (a browser's helper processes).
pub struct ProcessGroup(pub Child);

/// Puts `command`'s process in a new process group, and makes it die if the
/// test process does.
pub fn own_process_group(command: &mut Command) {
    // SAFETY: setpgid and prctl are async-signal-safe; they only change the
    // child's own process group and death signal.
    unsafe {
        command.pre_exec(|| {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

impl Drop for ProcessGroup {
    /// SIGTERM first (Xvfb then removes its lock file and socket), for at most
    /// 3 s, then SIGKILL to whatever of the group is left.
    fn drop(&mut self) {
        let pgid = self.0.id() as i32;
        // SAFETY: kill only sends a signal, to the group this value started.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        for _ in 0..30 {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above; the group's id stays reserved while a member lives.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// A free loopback port, for a driver that cannot pick its own.
pub use crate::common::ports::free_port;

/// A running W3C WebDriver endpoint (chromedriver, WebKitWebDriver) on a
/// loopback port. Dropping it kills its process group: the driver and every
/// browser process it started.
pub struct Driver {
    _process: ProcessGroup,
    port: u16,
}

impl Driver {
    /// Runs `command`, which must make the driver listen on `port`, and
    /// waits (at most 30 s) until it answers `/status`.
    pub fn start(mut command: Command, port: u16) -> Driver {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        own_process_group(&mut command);
        let program = command.get_program().to_string_lossy().to_string();
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let driver = Driver {
            _process: ProcessGroup(child),
            port,
        };
        let mut last = String::new();
        for _ in 0..300 {
            match driver.call("GET", "/status", None) {
                Ok(status) if status["ready"] == json!(true) => return driver,
                Ok(status) => last = status.to_string(),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{program} did not answer on port {port} in 30 s: {last}");
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
            .map_err(|e| format!("connect to the driver: {e}"))?;
        // Bounds every command; scripts have their own, shorter timeout.
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("write to the driver: {e}"))?;
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

/// A W3C WebDriver session, which owns its driver: dropping it ends the
/// session, then the driver and its browser.
pub struct Session {
    driver: Driver,
    id: String,
    /// As the driver reports it, e.g. "156.0.8078.108".
    pub browser_version: String,
}

impl Session {
    /// A new session with these W3C `capabilities` (`alwaysMatch`).
    pub fn new(driver: Driver, capabilities: Value) -> Result<Session, String> {
        let value = driver.call(
            "POST",
            "/session",
            Some(&json!({"capabilities": {"alwaysMatch": capabilities}})),
        )?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no sessionId in {value}"))?
            .to_string();
        let browser_version = value["capabilities"]["browserVersion"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        Ok(Session {
            driver,
            id,
            browser_version,
        })
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

    /// Runs `script` with `args`; the script calls its last argument with
    /// its result.
    pub fn execute_async(&self, script: &str, args: Value) -> Result<Value, String> {
        self.driver.call(
            "POST",
            &format!("/session/{}/execute/async", self.id),
            Some(&json!({"script": script, "args": args})),
        )
    }

    /// Console and network messages since the last call ("LEVEL message"),
    /// from chromedriver's log endpoint.
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

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}
