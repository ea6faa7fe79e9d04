//! The whole decision from raw header bytes. Input: one byte choosing a policy,
//! then an HTTP/1.1 request head (request line, `name: value` lines) parsed as
//! Envoy hands headers to the plugin. Every decision keeps the invariants of
//! `invariants::check_decision`.
#![no_main]

mod invariants;

use invariants::{check_decision, RawHead};
use libfuzzer_sys::fuzz_target;
use proxy_wasm_cors::Config;
use std::sync::OnceLock;

/// Policies covering every branch: credentials, wildcards, matchers, `null`,
/// allow-all, forwarding, private network, rules.
const CONFIGS: [&str; 5] = [
    r#"{"allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*",
                          {"regex": "https://pr-[0-9]+\\.preview\\.example\\.com"}],
        "allow_methods": ["GET", "POST", "PUT", "DELETE"], "allow_headers": ["content-type", "authorization"],
        "expose_headers": ["x-request-id"], "max_age": 600, "allow_credentials": true}"#,
    r#"{"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]}"#,
    r#"{"allow_origins": ["null", "https://app.example.com"], "unmatched_preflights": "forward",
        "allow_private_network": true}"#,
    r#"{"allow_origins": [{"suffix": ".example.com", "ignore_case": true}, {"prefix": "http://127.0.0.1:"}]}"#,
    r#"{"allow_origins": ["https://app.example.com"], "allow_credentials": true,
        "rules": [{"hosts": ["*.internal.example.com"], "enabled": false},
                  {"hosts": ["admin.example.com"], "path_prefix": "/api/", "allow_origins": ["https://admin.example.com"]},
                  {"path_prefix": "/public/", "allow_origins": ["*"], "allow_credentials": false}]}"#,
];

fn configs() -> &'static [Config] {
    static CONFIGS_PARSED: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS_PARSED.get_or_init(|| {
        CONFIGS
            .iter()
            .map(|c| Config::parse(c.as_bytes()).expect("a valid fuzz policy"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, head)) = data.split_first() else {
        return;
    };
    let config = &configs()[usize::from(which) % CONFIGS.len()];
    check_decision(config, &RawHead::parse(head).borrow());
});
