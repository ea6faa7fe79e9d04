//! Settings (environment): `BENCH_ROUNDS` (5), `BENCH_SECONDS` per run (3),
//! `BENCH_CONNECTIONS` (16), `BENCH_CALLGRIND_REQUESTS` (300; 0 skips
//! callgrind), `BENCH_QUIET_WAIT` seconds to wait for the other processes on
//! the machine to go quiet before starting (0), `BENCH_DOC`
//! (docs/benchmarks.md; `-` writes nothing), `ENVOY`, `CORS_WASM`, `CORS_MODULE`,
//! `BENCH_EMPTY_WASM`, `BENCH_EMPTY_MODULE`; for the scale section
//! (`cargo bench --bench envoy -- scale`), `BENCH_SCALE_ROUNDS` (3),
//! `BENCH_SCALE_SECONDS` (1) and its bound `BENCH_SCALE_MAX_SECONDS` (2400:
//! Envoy starts under callgrind with big policies take minutes). The whole run is bounded by `BENCH_MAX_SECONDS` (1200).

use crate::common;
use std::path::PathBuf;

pub(crate) struct Settings {
    pub(crate) rounds: usize,
    pub(crate) seconds: u64,
    pub(crate) connections: u32,
    pub(crate) quiet_wait: u64,
    pub(crate) max_seconds: u64,
    pub(crate) callgrind_requests: usize,
    /// The scale section (`make bench-scale`): rounds and seconds per run.
    pub(crate) scale_rounds: usize,
    pub(crate) scale_seconds: u64,
    pub(crate) scale_max_seconds: u64,
    pub(crate) doc: Option<PathBuf>,
    pub(crate) plugin_wasm: PathBuf,
    pub(crate) module: PathBuf,
    pub(crate) empty_wasm: PathBuf,
    pub(crate) empty_module: PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
        Err(_) => default,
    }
}

impl Settings {
    pub(crate) fn from_env() -> Settings {
        let root = common::root();
        let doc = std::env::var("BENCH_DOC").unwrap_or_else(|_| "docs/benchmarks.md".into());
        Settings {
            rounds: env_or("BENCH_ROUNDS", 5),
            seconds: env_or("BENCH_SECONDS", 3),
            connections: env_or("BENCH_CONNECTIONS", 16),
            quiet_wait: env_or("BENCH_QUIET_WAIT", 0),
            max_seconds: env_or("BENCH_MAX_SECONDS", 1200),
            callgrind_requests: env_or("BENCH_CALLGRIND_REQUESTS", 300),
            scale_rounds: env_or("BENCH_SCALE_ROUNDS", 3),
            scale_seconds: env_or("BENCH_SCALE_SECONDS", 1),
            scale_max_seconds: env_or("BENCH_SCALE_MAX_SECONDS", 2400),
            doc: (doc != "-").then(|| root.join(doc)),
            plugin_wasm: common::wasm_path(),
            module: common::form::Form::Module.artifact(),
            empty_wasm: std::env::var_os("BENCH_EMPTY_WASM")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    root.join(
                        "bench/empty-filter/target/wasm32-wasip1/release/cors_bench_empty_filter.wasm",
                    )
                }),
            empty_module: std::env::var_os("BENCH_EMPTY_MODULE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    root.join("bench/empty-module/target/release/libempty_module.so")
                }),
        }
    }
}
