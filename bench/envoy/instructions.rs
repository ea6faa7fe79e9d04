//! Instructions per request in the Envoy under test, counted by callgrind:
//! unlike req/s and CPU time, this does not move with whatever else the
//! machine runs, so small differences between contenders show reliably.
//!
//! A second Envoy under test runs under `valgrind --tool=callgrind` with the
//! same listeners. For each workload and contender, one keep-alive connection
//! sends a warm-up (so V8 has compiled the plugin's hot code), the counters are
//! zeroed, a fixed number of requests is sent, and the counters are dumped.

use crate::common::envoy::Scratch;
use crate::common::ports::free_port;
use crate::contenders::Contender;
use crate::settings::Settings;
use crate::workloads::Workload;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Instructions per request of every workload on every contender; none when
/// `BENCH_CALLGRIND_REQUESTS` is 0.
pub(crate) fn count(
    settings: &Settings,
    upstream_port: u16,
    deadline: Instant,
) -> BTreeMap<(Workload, Contender), f64> {
    let mut instructions = BTreeMap::new();
    if settings.callgrind_requests > 0 {
        assert!(
            available(),
            "valgrind is missing: install it with `apt-get install valgrind` (or set BENCH_CALLGRIND_REQUESTS=0)"
        );
        println!(
            "counting instructions per request under callgrind ({} requests per run)",
            settings.callgrind_requests
        );
        let counted = Callgrind::start(
            &crate::common::envoy::binary(),
            crate::bootstrap::under_test(settings, upstream_port),
        );
        for workload in Workload::ALL {
            let raw = workload.request().to_keep_alive_bytes("localhost");
            for contender in workload.contenders() {
                assert!(
                    Instant::now() < deadline,
                    "out of time: BENCH_MAX_SECONDS reached"
                );
                let n = counted.per_request(
                    counted.port(contender.name()),
                    &raw,
                    settings.callgrind_requests,
                    settings.callgrind_requests,
                );
                instructions.insert((workload, contender), n);
            }
        }
    }
    instructions
}

pub(crate) struct Callgrind {
    child: Child,
    scratch: Scratch,
    /// Listener ports by name, chosen before start.
    ports: Vec<(String, u16)>,
}

impl Drop for Callgrind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether valgrind and callgrind_control can run here.
pub(crate) fn available() -> bool {
    ["valgrind", "callgrind_control"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

impl Callgrind {
    /// Starts Envoy under callgrind with `bootstrap`, its listeners moved to
    /// fixed free ports, and waits (bounded) until every listener accepts.
    pub(crate) fn start(envoy: &Path, mut bootstrap: Value) -> Callgrind {
        let mut ports = Vec::new();
        for listener in bootstrap["static_resources"]["listeners"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            let port = free_port();
            listener["address"]["socket_address"]["port_value"] = port.into();
            ports.push((listener["name"].as_str().unwrap_or("").to_string(), port));
        }
        let scratch = Scratch::new("callgrind");
        let config = scratch.path("envoy.yaml");
        fs::write(&config, serde_json::to_string_pretty(&bootstrap).unwrap()).unwrap();
        let log = fs::File::create(scratch.path("envoy.log")).unwrap();
        let mut command = Command::new("valgrind");
        command
            .args([
                "--tool=callgrind",
                "--smc-check=all",
                "--collect-atstart=yes",
            ])
            .arg(format!(
                "--callgrind-out-file={}",
                scratch.path("callgrind.out").display()
            ))
            .arg(crate::common::envoy::real_binary(envoy))
            .arg("-c")
            .arg(&config)
            .args([
                "--concurrency",
                "1",
                "--disable-hot-restart",
                "--log-level",
                "warn",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        crate::common::dies_with_parent(&mut command);
        let child = command.spawn().expect("run valgrind");
        let mut callgrind = Callgrind {
            child,
            scratch,
            ports,
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        for (name, port) in callgrind.ports.clone() {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Ok(Some(status)) = callgrind.child.try_wait() {
                    panic!(
                        "Envoy under callgrind exited ({status}):\n{}",
                        callgrind.log()
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "listener {name} of Envoy under callgrind not up in time:\n{}",
                    callgrind.log()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        callgrind
    }

    fn log(&self) -> String {
        fs::read_to_string(self.scratch.path("envoy.log")).unwrap_or_default()
    }

    pub(crate) fn port(&self, name: &str) -> u16 {
        self.ports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("no listener {name}"))
    }

    /// Instructions per request for `count` requests of `raw` on `port`,
    /// after `warm_up` unmeasured ones.
    pub(crate) fn per_request(&self, port: u16, raw: &[u8], warm_up: usize, count: usize) -> f64 {
        let mut connection = Connection::open(port);
        connection.send(raw, warm_up);
        self.control(&["-z"]);
        connection.send(raw, count);
        let before: Vec<PathBuf> = self.dumps();
        self.control(&["-d"]);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let new: Vec<PathBuf> = self
                .dumps()
                .into_iter()
                .filter(|d| !before.contains(d))
                .collect();
            if let Some(total) = new.first().and_then(|d| dump_total(d)) {
                return total as f64 / count as f64;
            }
            assert!(Instant::now() < deadline, "callgrind wrote no dump");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn control(&self, args: &[&str]) {
        let status = Command::new("callgrind_control")
            .args(args)
            .arg(self.child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run callgrind_control");
        assert!(status.success(), "callgrind_control {args:?} failed");
    }

    fn dumps(&self) -> Vec<PathBuf> {
        fs::read_dir(&self.scratch.0)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("callgrind.out."))
            })
            .collect()
    }
}

/// The total of a complete dump (its `summary:` or `totals:` line).
fn dump_total(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("summary: ")
            .or_else(|| l.strip_prefix("totals: "))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    })
}

/// One keep-alive HTTP/1.1 connection, reading each response to its end.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    fn open(port: u16) -> Connection {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
        Connection {
            stream,
            buffer: Vec::new(),
        }
    }

    fn send(&mut self, raw: &[u8], count: usize) {
        for _ in 0..count {
            self.stream.write_all(raw).expect("send");
            self.read_response();
        }
    }

    fn read_response(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if self.buffer.len() >= end + 4 + length {
                    self.buffer.drain(..end + 4 + length);
                    return;
                }
            }
            let n = self.stream.read(&mut chunk).expect("read");
            assert!(n > 0, "connection closed mid-response");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}
