//! The two Envoys' configurations: the upstream, and the Envoy under test with
//! one listener per contender, all routed to that upstream.

use crate::common::{self, envoy};
use crate::contenders::Contender;
use crate::settings::Settings;
use crate::workloads::PREFLIGHT_ANSWER;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// A realistic policy: a handful of exact origins, a subdomain wildcard,
/// 4 methods, 3 headers, max_age and credentials.
const PLUGIN_CONFIG: &str = include_str!("../policy.json");

/// What the upstream answers with besides its body, so each contender handles
/// a response header map of realistic size.
const UPSTREAM_HEADERS: [(&str, &str); 5] = [
    ("cache-control", "private, max-age=0"),
    ("etag", "\"33a64df551425fcc55e4d42a148795d9f25f89d4\""),
    ("strict-transport-security", "max-age=63072000; includeSubDomains; preload"),
    ("x-request-id", "9f2c1d7e-2b7c-4d8a-9a51-6b3f0c2e8d11"),
    ("content-security-policy", "default-src 'self'; script-src 'self' https://cdn.example.com; connect-src 'self' https://api.example.com; frame-ancestors 'none'"),
];

/// The upstream: a second Envoy answering every request with a `direct_response`.
pub(crate) fn upstream() -> Value {
    envoy::bootstrap(
        vec![envoy::listener(
            "upstream",
            vec![envoy::router()],
            json!({"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [{
                "match": {"prefix": "/"},
                "direct_response": {"status": 200, "body": {"inline_string": "upstream ok\n"}},
                "response_headers_to_add": UPSTREAM_HEADERS
                    .iter()
                    .map(|(k, v)| json!({"header": {"key": k, "value": v}}))
                    .collect::<Vec<_>>()
            }]}]}),
        )],
        vec![],
    )
}

/// The Envoy under test: one listener per contender, named after it.
pub(crate) fn under_test(settings: &Settings, upstream_port: u16) -> Value {
    let plugin = common::form::wasm_filter_from(&settings.plugin_wasm, PLUGIN_CONFIG);
    let module = common::form::module_filter_from(&settings.module, PLUGIN_CONFIG);
    let empty_module = common::form::module_filter_from(&settings.empty_module, "");
    let empty = common::form::wasm_filter_from(&settings.empty_wasm, "");
    let mut reply = String::from("reply 204\n");
    for (name, value) in PREFLIGHT_ANSWER {
        let _ = writeln!(reply, "{name}: {value}");
    }
    let empty_reply = common::form::wasm_filter_from(&settings.empty_wasm, &reply);
    let empty_module_reply = common::form::module_filter_from(&settings.empty_module, &reply);
    let native_filter = json!({
        "name": "envoy.filters.http.cors",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}
    });
    // The contenders that are one filter before the router, on every route.
    let filtered = [
        (Contender::Empty, empty),
        (Contender::EmptyReply, empty_reply),
        (Contender::EmptyModule, empty_module),
        (Contender::EmptyModuleReply, empty_module_reply),
        (Contender::Plugin, plugin),
        (Contender::Module, module),
    ];
    let mut listeners = vec![
        envoy::listener(
            Contender::None.name(),
            vec![envoy::router()],
            envoy::route_to("upstream"),
        ),
        envoy::listener(
            Contender::Native.name(),
            vec![native_filter, envoy::router()],
            native_route(),
        ),
    ];
    listeners.extend(filtered.map(|(contender, filter)| {
        envoy::listener(
            contender.name(),
            vec![filter, envoy::router()],
            envoy::route_to("upstream"),
        )
    }));
    envoy::bootstrap(listeners, vec![envoy::cluster("upstream", upstream_port)])
}

/// The same policy for Envoy's native filter, per route.
fn native_route() -> Value {
    let exact = [
        "https://app.example.com",
        "https://admin.example.com",
        "https://www.example.org",
        "https://partner.example.net",
        "http://localhost:3000",
    ];
    let mut origins: Vec<Value> = exact.iter().map(|o| json!({"exact": o})).collect();
    origins
        .push(json!({"safe_regex": {"regex": r"https://[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.com"}}));
    json!({"virtual_hosts": [{
        "name": "all", "domains": ["*"],
        "routes": [{
            "match": {"prefix": "/"},
            "route": {"cluster": "upstream"},
            "typed_per_filter_config": {"envoy.filters.http.cors": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
                "allow_origin_string_match": origins,
                "allow_methods": "GET, POST, PUT, DELETE",
                "allow_headers": "content-type, authorization, x-requested-with",
                "max_age": "600",
                "allow_credentials": true
            }}
        }]
    }]})
}
