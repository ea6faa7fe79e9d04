//! Per-route policies, which the dynamic module has and the Wasm plugin cannot:
//! `typed_per_filter_config` on a route or a virtual host holds a policy in the
//! same JSON as the filter's, and replaces the filter's policy there. The most
//! specific one wins (route over virtual host over filter); Envoy's own
//! `FilterConfig {disabled: true}` turns the filter off on a route.
//! Run with `CORS_FORM=module` (`make test-e2e` does).

use crate::common;

use common::cases::{case, check, Case};
use common::envoy::{self, Envoy};
use common::form::{module_per_route, Form};
use common::http::Request;
use common::run_cases;
use common::upstream::Upstream;
use serde_json::{json, Value};

const FILTER: &str = r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"]}"#;
const ROUTE_B: &str =
    r#"{"allow_origins": ["https://b.example.com"], "allow_methods": ["PATCH"], "max_age": 60}"#;
const VHOST: &str = r#"{"allow_origins": ["*"]}"#;
const ROUTE_STRICT: &str =
    r#"{"allow_origins": ["https://strict.example.com"], "allow_credentials": true}"#;
const ROUTE_RULED: &str = r#"{"allow_origins": ["https://app.example.com"],
  "rules": [{"path_prefix": "/ruled/off/", "enabled": false}]}"#;

const APP: &str = "https://app.example.com";
const B: &str = "https://b.example.com";
const STRICT: &str = "https://strict.example.com";
const ANY: &str = "https://any.example";
const PREFLIGHT_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers";

const FILTER_NAME: &str = "envoy.filters.http.dynamic_modules";

fn route(prefix: &str, per_route: Option<Value>) -> Value {
    let mut route = json!({"match": {"prefix": prefix}, "route": {"cluster": "upstream"}});
    if let Some(config) = per_route {
        route["typed_per_filter_config"] = json!({ FILTER_NAME: config });
    }
    route
}

fn bootstrap(upstream_port: u16, route_b: &str) -> Value {
    let disabled = json!({"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": true});
    let direct = json!({"match": {"prefix": "/direct/"},
        "direct_response": {"status": 200, "body": {"inline_string": "direct\n"}}});
    let routes = json!({"virtual_hosts": [
        {
            "name": "other", "domains": ["other.test"],
            "typed_per_filter_config": { FILTER_NAME: module_per_route(VHOST) },
            "routes": [route("/strict/", Some(module_per_route(ROUTE_STRICT))), route("/", None)]
        },
        {
            "name": "main", "domains": ["*"],
            "routes": [
                route("/b/", Some(module_per_route(route_b))),
                route("/off/", Some(disabled)),
                route("/ruled/", Some(module_per_route(ROUTE_RULED))),
                direct,
                route("/", None)
            ]
        }
    ]});
    envoy::bootstrap(
        vec![envoy::listener(
            "cors",
            vec![envoy::cors_filter(FILTER), envoy::router()],
            routes,
        )],
        vec![envoy::cluster("upstream", upstream_port)],
    )
}

fn preflight(name: &'static str, path: &str, origin: &str, method: &str, status: u16) -> Case {
    case(name, Request::preflight(path, origin, method), status)
}

fn get(name: &'static str, path: &str, origin: &str) -> Case {
    case(name, Request::get(path).header("origin", origin), 200)
}

fn cases() -> Vec<Case> {
    vec![
        // The filter's own policy where no route says otherwise.
        preflight("filter policy: allowed", "/a/1", APP, "PUT", 204)
            .cors(&[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "PUT"),
            ])
            .vary(PREFLIGHT_VARY)
            .local(),
        preflight(
            "filter policy: route B's origin refused",
            "/a/1",
            B,
            "PATCH",
            403,
        )
        .vary(PREFLIGHT_VARY)
        .local(),
        // A route's policy replaces the filter's there, whole.
        preflight("route policy: allowed", "/b/1", B, "PATCH", 204)
            .cors(&[
                ("access-control-allow-origin", B),
                ("access-control-allow-methods", "PATCH"),
                ("access-control-max-age", "60"),
            ])
            .vary(PREFLIGHT_VARY)
            .local(),
        preflight(
            "route policy: the filter's origin refused",
            "/b/1",
            APP,
            "PUT",
            403,
        )
        .vary(PREFLIGHT_VARY)
        .local(),
        get("route policy: actual allowed", "/b/1", B)
            .cors(&[("access-control-allow-origin", B)])
            .vary("origin"),
        get("route policy: actual from the filter's origin", "/b/1", APP).vary("origin"),
        // A virtual host's policy, and a route inside it overriding it.
        preflight("vhost policy: any origin", "/x", ANY, "GET", 204)
            .host("other.test")
            .cors(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "GET, HEAD, POST"),
            ])
            .vary(PREFLIGHT_VARY)
            .local(),
        get("vhost policy: actual", "/x", ANY)
            .host("other.test")
            .cors(&[("access-control-allow-origin", "*")]),
        get("route in vhost: its own policy", "/strict/1", STRICT)
            .host("other.test")
            .cors(&[
                ("access-control-allow-origin", STRICT),
                ("access-control-allow-credentials", "true"),
            ])
            .vary("origin"),
        get(
            "route in vhost: the vhost's origin refused",
            "/strict/1",
            ANY,
        )
        .host("other.test")
        .vary("origin"),
        // Envoy's generic per-route switch turns the filter off.
        preflight(
            "disabled route: forwarded untouched",
            "/off/1",
            APP,
            "PUT",
            200,
        ),
        // Unlike Envoy's native CORS filter, direct_response routes are covered.
        preflight(
            "direct_response route: preflight",
            "/direct/1",
            APP,
            "PUT",
            204,
        )
        .cors(&[
            ("access-control-allow-origin", APP),
            ("access-control-allow-methods", "PUT"),
        ])
        .vary(PREFLIGHT_VARY)
        .local(),
        get("direct_response route: actual", "/direct/1", APP)
            .cors(&[("access-control-allow-origin", APP)])
            .vary("origin")
            .local(),
        // A per-route policy has rules of its own.
        preflight(
            "route policy's rule: CORS off",
            "/ruled/off/1",
            ANY,
            "PUT",
            200,
        ),
        preflight("route policy's rule: default", "/ruled/1", ANY, "PUT", 403)
            .vary(PREFLIGHT_VARY)
            .local(),
    ]
}

fn module_only() {
    assert_eq!(
        Form::current(),
        Form::Module,
        "per-route policies are the dynamic module's: run with CORS_FORM=module"
    );
}

#[test]
fn most_specific_policy_applies() {
    module_only();
    let upstream = Upstream::start();
    let envoy = Envoy::start(&bootstrap(upstream.port, ROUTE_B))
        .unwrap_or_else(|log| panic!("Envoy did not start:\n{log}"));
    run_cases(
        &cases(),
        |c| c.name.to_string(),
        |c| check(&envoy, &upstream, c),
    );
    // Every policy counts in the filter's counters: 4 preflights allowed
    // (filter, route, vhost, direct_response), 3 refused for their origin.
    for (metric, want) in [
        ("cors.preflight_allowed", 4),
        ("cors.preflight_rejected_origin", 3),
    ] {
        assert_eq!(
            envoy.stat(&Form::Module.stat(metric)),
            Some(want),
            "{metric}"
        );
    }
}

#[test]
fn a_bad_route_policy_makes_envoy_refuse_the_configuration() {
    module_only();
    let bad = r#"{"allow_origins": ["https://b.example.com/"], "max_age": -1}"#;
    let (code, log) = envoy::expect_refusal(&bootstrap(9, bad));
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}:\n{log}");
    for want in [
        r#"cors: per-route invalid configuration: error 1 of 2: allow_origins[0] = "https://b.example.com/""#,
        "cors: per-route invalid configuration: error 2 of 2: max_age = -1",
        "cors: per-route invalid configuration: 2 errors; the configuration is refused",
    ] {
        assert!(log.contains(want), "no {want:?} in the log:\n{log}");
    }
}
