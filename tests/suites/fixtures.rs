//! Policies more than one suite runs.

/// A credentialed policy with every kind of origin pattern: exact, subdomain
/// wildcard, any port of a loopback host (`localhost`, `[::1]`), and a regex
/// matcher.
pub const CREDENTIALED: &str = r#"{
  "allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*", "http://[::1]:*",
                    {"regex": "https://pr-[0-9]+\\.preview\\.example\\.com"}],
  "allow_methods": ["GET", "POST", "PUT", "DELETE"],
  "allow_headers": ["content-type", "authorization", "x-api-key"],
  "expose_headers": ["x-request-id"],
  "max_age": 600,
  "allow_credentials": true
}"#;

/// The CORS headers of an allowed preflight under `CREDENTIALED`, in order.
pub fn preflight_ok(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-origin", origin.to_string()),
        (
            "access-control-allow-methods",
            "GET, POST, PUT, DELETE".to_string(),
        ),
        (
            "access-control-allow-headers",
            "content-type, authorization, x-api-key".to_string(),
        ),
        // On the preflight too (Gateway API's conformance expects it).
        ("access-control-expose-headers", "x-request-id".to_string()),
        ("access-control-max-age", "600".to_string()),
        ("access-control-allow-credentials", "true".to_string()),
    ]
}

/// The CORS headers of an allowed actual request under `CREDENTIALED`, in order.
pub fn actual_ok(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-origin", origin.to_string()),
        ("access-control-allow-credentials", "true".to_string()),
        ("access-control-expose-headers", "x-request-id".to_string()),
    ]
}
