//! Configuration JSON → validated policy. Any bytes: never a panic; an accepted
//! configuration holds no forbidden combination and decides every request
//! within the invariants; a refused one reports each error on its own line,
//! naming its field.
#![no_main]

mod invariants;

use cors_core::Config;
use invariants::{check_decision, check_policy, parse_raw_head};
use libfuzzer_sys::fuzz_target;

/// Requests every accepted configuration is asked about.
const REQUESTS: [&[u8]; 6] = [
    b"OPTIONS /api/x\nhost: admin.example.com\norigin: https://app.example.com\naccess-control-request-method: PUT\naccess-control-request-headers: content-type, authorization",
    b"OPTIONS /\norigin: null\naccess-control-request-method: PATCH\naccess-control-request-private-network: true",
    b"OPTIONS /\norigin: https://evil.example\naccess-control-request-method: GET",
    b"GET /public/x\nhost: a.b.example.com\norigin: https://a.b.example.com",
    b"GET /\norigin: http://localhost:5173",
    b"POST /\nhost: x",
];

fuzz_target!(|data: &[u8]| {
    match Config::parse(data) {
        Ok(config) => {
            let document: serde_json::Value =
                serde_json::from_slice(data).expect("accepted, so JSON");
            assert!(
                document.is_object(),
                "accepted a configuration that is not an object"
            );
            check_policy(&config.default, data);
            for rule in &config.rules {
                if let Some(policy) = &rule.policy {
                    check_policy(policy, data);
                }
            }
            for raw in REQUESTS {
                check_decision(&config, &parse_raw_head(raw).borrow());
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "refused without a reason");
            for error in &errors.0 {
                assert!(!error.path.is_empty(), "an error without a field: {error}");
            }
            // Envoy logs the refusal as is: one header line, then one line per error.
            let text = errors.to_string();
            assert_eq!(text.lines().count(), errors.0.len() + 1, "{text}");
        }
    }
});
