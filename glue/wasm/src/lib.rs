//! The Proxy-Wasm form of proxy-wasm-cors (`dist/cors.wasm`): the entry point
//! Envoy calls when it loads the module. Everything else is `filter`, a thin
//! layer over the core (`cors_core`).

#[cfg(target_arch = "wasm32")]
mod filter;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    // Also installs the SDK's panic hook: a panic traps the VM (Envoy answers
    // 503), and the hook logs its message at critical first.
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(filter::CorsRoot::default())
    });
}}
