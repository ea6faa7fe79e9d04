//! The Envoy dynamic-module form of proxy-wasm-cors (`dist/libcors.so`): the
//! same core (`cors_core`) that the Proxy-Wasm plugin runs, loaded natively by
//! Envoy 1.40 through `envoy.filters.http.dynamic_modules`. `ffi` is the C ABI
//! edge (all the `unsafe`, and a panic net at every entry point); `filter` is
//! the filter itself, in safe Rust.

mod ffi;
mod filter;
