//! Big policies load in Envoy and answer exactly, in both forms: 10,000
//! rules (one per tenant host), 100,000 exact origins, 10,000 subdomain
//! wildcards. Requests for the first, a middle and the last entry, and ones
//! that must be refused, from one table. What they cost is `make bench`'s.

use crate::common;

use common::big_policies::{self, MAX_AGE, METHODS};
use common::cases::{case, check, Case};
use common::envoy::{self, Envoy};
use common::form::Form;
use common::http::Request;
use common::run_cases;
use common::upstream::Upstream;

const PREFLIGHT_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers";

/// A `'static` copy, as the cases table takes.
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn allowed_preflight(name: &'static str, host: &str, origin: &str) -> Case {
    case(name, Request::preflight("/api", origin, METHODS), 204)
        .host(leak(host.to_string()))
        .cors(&[
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", METHODS),
            ("access-control-max-age", MAX_AGE),
        ])
        .vary(PREFLIGHT_VARY)
        .local()
}

fn refused_preflight(name: &'static str, host: &str, origin: &str) -> Case {
    case(name, Request::preflight("/api", origin, METHODS), 403)
        .host(leak(host.to_string()))
        .vary(PREFLIGHT_VARY)
        .local()
}

fn allowed_get(name: &'static str, host: &str, origin: &str) -> Case {
    case(name, Request::get("/api").header("origin", origin), 200)
        .host(leak(host.to_string()))
        .cors(&[("access-control-allow-origin", origin)])
        .vary("origin")
}

fn refused_get(name: &'static str, host: &str, origin: &str) -> Case {
    case(name, Request::get("/api").header("origin", origin), 200)
        .host(leak(host.to_string()))
        .vary("origin")
}

/// Starts Envoy with the form's filter configured with `policy` and runs `cases`.
fn serve(policy: &str, cases: &[Case]) {
    let upstream = Upstream::start();
    let bootstrap = envoy::bootstrap(
        vec![envoy::listener(
            "cors",
            vec![Form::current().filter(policy), envoy::router()],
            envoy::route_to("upstream"),
        )],
        vec![envoy::cluster("upstream", upstream.port)],
    );
    let envoy = Envoy::start(&bootstrap).unwrap_or_else(|log| panic!("{log}"));
    run_cases(
        cases,
        |c| c.name.to_string(),
        |c| check(&envoy, &upstream, c),
    );
    assert!(envoy.is_alive());
}

#[test]
fn ten_thousand_rules_one_per_tenant() {
    use big_policies::{tenant_host as host, tenant_origin as origin};
    let app = "https://app.example.com";
    let cases = [
        allowed_preflight("first tenant", &host(0), &origin(0)),
        allowed_preflight("middle tenant", &host(5_000), &origin(5_000)),
        allowed_preflight("last tenant", &host(9_999), &origin(9_999)),
        allowed_preflight(
            "last tenant, host in capitals and a port",
            &host(9_999).to_uppercase().replace(".COM", ".com:8443"),
            &origin(9_999),
        ),
        allowed_get("GET, last tenant", &host(9_999), &origin(9_999)),
        refused_preflight("another tenant's origin", &host(9_999), &origin(9_998)),
        refused_get("GET, another tenant's origin", &host(0), &origin(1)),
        refused_preflight("the top level's origin on a tenant", &host(42), app),
        allowed_preflight("a host with no rule: the top level", "localhost", app),
        refused_preflight(
            "a host past the last tenant: the top level",
            &host(10_000),
            &origin(10_000),
        ),
    ];
    serve(&big_policies::rules(10_000), &cases);
}

#[test]
fn hundred_thousand_exact_origins() {
    use big_policies::exact_origin as origin;
    let cases = [
        allowed_preflight("first origin", "localhost", &origin(0)),
        allowed_preflight("middle origin", "localhost", &origin(50_000)),
        allowed_preflight("last origin", "localhost", &origin(99_999)),
        allowed_get("GET, last origin", "localhost", &origin(99_999)),
        refused_preflight("one past the last", "localhost", &origin(100_000)),
        refused_get("GET, one past the last", "localhost", &origin(100_000)),
        refused_preflight(
            "a listed origin over http",
            "localhost",
            &origin(7).replace("https", "http"),
        ),
    ];
    serve(&big_policies::exact_origins(100_000), &cases);
}

#[test]
fn ten_thousand_wildcard_origins() {
    use big_policies::wildcard_match as origin;
    let cases = [
        allowed_preflight("first wildcard", "localhost", &origin(0)),
        allowed_preflight("last wildcard", "localhost", &origin(9_999)),
        allowed_preflight(
            "two labels under the last wildcard",
            "localhost",
            &origin(9_999).replace("app.", "a.b."),
        ),
        allowed_get("GET, middle wildcard", "localhost", &origin(5_000)),
        refused_preflight(
            "a wildcard's bare domain",
            "localhost",
            "https://tenant-9999.example.com",
        ),
        refused_preflight("one past the last", "localhost", &origin(10_000)),
        refused_get(
            "GET, a wildcard's domain with another port",
            "localhost",
            &format!("{}:8443", origin(3)),
        ),
    ];
    serve(&big_policies::wildcards(10_000), &cases);
}
