//! The core of proxy-wasm-cors, a CORS filter for Envoy and Istio: the
//! configuration, origin patterns, header lists, the decision and the
//! responses. It depends on no host API (the compiler keeps that wall: the
//! hosts' glues are the crates under `glue/`): it builds and tests natively,
//! and both forms of the product, the Proxy-Wasm plugin and the Envoy dynamic
//! module, are thin layers around `plugin::Plugin`.

pub mod access_log;
pub mod config;
pub mod decision;
pub mod error;
pub mod header_list;
pub mod host_checks;
pub mod origin;
pub mod origin_pattern;
pub mod plugin;
pub mod policy;
pub mod public_suffix;
pub mod report;
pub mod request;
pub mod response;
pub mod rule;
pub mod rule_index;
pub mod shown;
pub mod sorted_map;
pub mod sorted_names;
pub mod token;
pub mod wildcard_index;

#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod properties_tests;

// Native only, for the cors-check tool and the tests: finding the
// configuration in Envoy/Istio files, and explaining one request.
#[cfg(not(target_arch = "wasm32"))]
pub mod config_source;
#[cfg(not(target_arch = "wasm32"))]
pub mod explain;
// Native only: the invariants the property tests and the fuzz targets check.
#[cfg(not(target_arch = "wasm32"))]
pub mod invariants;

/// The product's version (the workspace's, Cargo.toml): in each form's
/// "configuration accepted" log line and `cors-check --version`, so an
/// operator can tell which build is running.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use config::{Config, Selection};
pub use error::{ConfigError, ConfigErrors};
pub use plugin::Plugin;
pub use policy::{Outcome, Policy, Reason, Unmatched};
