//! cors-check: the plugin's own validation and decisions, natively, for CI
//! pipelines and for "why did the browser block this?".
//!
//!   cors-check validate FILE...
//!   cors-check explain FILE [--origin O] [--method M] [--header H]... [--host H] [--path P]
//!                           [--preflight] [--private-network]
//!   cors-check import FILE... [--as envoy|istio|gateway] [--format json] [--output FILE]
//!   cors-check audit FILE... [--format json] [--output FILE]
//!
//! FILE is the plugin's JSON, an Envoy configuration (YAML or JSON, with the
//! envoy.filters.http.wasm filter) or an Istio WasmPlugin manifest.

// `cargo build --target wasm32-wasip1` without `--lib` builds every target;
// the tool reads files and needs the native-only modules, so there it only
// says so.
#[cfg(not(target_arch = "wasm32"))]
mod native;
// `import` and `audit`: other platforms' CORS policies, read and judged.
#[cfg(not(target_arch = "wasm32"))]
mod audit;
#[cfg(not(target_arch = "wasm32"))]
mod from_envoy;
#[cfg(not(target_arch = "wasm32"))]
mod from_gateway;
#[cfg(not(target_arch = "wasm32"))]
mod from_istio;
#[cfg(not(target_arch = "wasm32"))]
mod import;
#[cfg(not(target_arch = "wasm32"))]
mod import_audit;
#[cfg(not(target_arch = "wasm32"))]
mod input;
#[cfg(not(target_arch = "wasm32"))]
mod probe;
#[cfg(not(target_arch = "wasm32"))]
mod source;
#[cfg(not(target_arch = "wasm32"))]
mod translate;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {
    eprintln!("cors-check is a native tool: build it without --target wasm32-wasip1");
    std::process::exit(2);
}
