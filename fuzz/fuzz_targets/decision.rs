//! The whole decision from raw header bytes. Input: one byte choosing a policy,
//! then an HTTP/1.1 request head (request line, `name: value` lines) parsed as
//! Envoy hands headers to the plugin. Every decision keeps the invariants of
//! `invariants::check_decision`.
#![no_main]

mod invariants;

use cors_core::invariants::sample_configs;
use cors_core::Config;
use invariants::{check_decision, parse_raw_head};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(sample_configs)
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, head)) = data.split_first() else {
        return;
    };
    let config = &configs()[usize::from(which) % configs().len()];
    check_decision(config, &parse_raw_head(head).borrow());
});
