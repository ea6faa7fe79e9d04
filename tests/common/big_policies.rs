//! Policies as large as the README says the filter serves: one rule per
//! tenant host, and one long list of exact or wildcard origins. Shared by the
//! scale suite (they load, and answer exactly, in both forms) and by
//! `make bench`'s scale section (what a request costs at each size).

use serde_json::json;

/// The methods and max-age every big policy allows, so a preflight's answer
/// is the same at every size.
pub const METHODS: &str = "PUT";
pub const MAX_AGE: &str = "600";

/// The host of tenant `i`, and the one origin its rule allows.
pub fn tenant_host(i: usize) -> String {
    format!("tenant-{i}.example.com")
}
pub fn tenant_origin(i: usize) -> String {
    format!("https://app.tenant-{i}.example.com")
}

/// `n` rules, the i-th for `tenant_host(i)` allowing `tenant_origin(i)`; the
/// top level allows `https://app.example.com` on every other host.
pub fn rules(n: usize) -> String {
    let rules: Vec<_> = (0..n)
        .map(|i| json!({"hosts": [tenant_host(i)], "allow_origins": [tenant_origin(i)]}))
        .collect();
    json!({
        "allow_origins": ["https://app.example.com"],
        "allow_methods": [METHODS],
        "max_age": 600,
        "rules": rules
    })
    .to_string()
}

/// The i-th of a long list of exact origins.
pub fn exact_origin(i: usize) -> String {
    format!("https://app-{i}.example.com")
}

/// One policy allowing `n` exact origins.
pub fn exact_origins(n: usize) -> String {
    let origins: Vec<String> = (0..n).map(exact_origin).collect();
    json!({"allow_origins": origins, "allow_methods": [METHODS], "max_age": 600}).to_string()
}

/// The i-th of a long list of subdomain wildcards, and an origin it allows.
pub fn wildcard(i: usize) -> String {
    format!("https://*.tenant-{i}.example.com")
}
pub fn wildcard_match(i: usize) -> String {
    format!("https://app.tenant-{i}.example.com")
}

/// One policy allowing `n` subdomain wildcards.
pub fn wildcards(n: usize) -> String {
    let origins: Vec<String> = (0..n).map(wildcard).collect();
    json!({"allow_origins": origins, "allow_methods": [METHODS], "max_age": 600}).to_string()
}
