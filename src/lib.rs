//! proxy-wasm-cors: a CORS filter for Envoy and Istio, loaded as a Proxy-Wasm plugin.
//!
//! Everything but `filter` is a pure core with no proxy-wasm in it: it builds
//! and tests natively. `filter` is the thin host layer: it reads the request
//! headers the core needs, asks the core, and writes what the core answers.

pub mod config;
pub mod decision;
pub mod error;
pub mod header_list;
pub mod origin;
pub mod origin_pattern;
pub mod policy;
pub mod response;
pub mod rule;
pub mod shown;
pub mod token;

#[cfg(test)]
mod properties_tests;

#[cfg(target_arch = "wasm32")]
mod filter;

// Native only, for the cors-check tool and the tests: finding the
// configuration in Envoy/Istio files, and explaining one request.
#[cfg(not(target_arch = "wasm32"))]
pub mod config_source;
#[cfg(not(target_arch = "wasm32"))]
pub mod explain;
// Native only: the invariants the property tests and the fuzz targets check.
#[cfg(not(target_arch = "wasm32"))]
pub mod invariants;

pub use config::{Config, Selection};
pub use error::{ConfigError, ConfigErrors};
pub use policy::{Outcome, Policy, Reason, Unmatched};
