// Unit tests of decisions: preflight checks, response plans, rule selection.

use super::*;
use crate::config::Config;
use crate::response::{self, HeaderPlan, MANAGED};

fn config(json: &str) -> Config {
    Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("rejected {json}\n{e}"))
}

fn policy(json: &str) -> Policy {
    config(json).default
}

/// The headers a plan writes, in order, as text.
fn written(plan: &HeaderPlan<'_>) -> Vec<(&'static str, String)> {
    plan.iter()
        .flatten()
        .map(|(name, value)| (*name, String::from_utf8_lossy(value).into_owned()))
        .collect()
}

const LISTED: &str = r#"{"allow_origins": ["https://app.example.com", "https://*.example.org"], "allow_methods": ["PUT", "patch"], "allow_headers": ["content-type", "X-Requested-With"]}"#;
const NO_LISTS: &str = r#"{"allow_origins": ["https://app.example.com"]}"#;
const ANY_METHOD: &str =
    r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["*"]}"#;
const ANY_HEADER: &str =
    r#"{"allow_origins": ["https://app.example.com"], "allow_headers": ["*"]}"#;
const ANY_HEADER_AND_AUTH: &str =
    r#"{"allow_origins": ["https://app.example.com"], "allow_headers": ["*", "Authorization"]}"#;
const ALL_ORIGINS: &str = r#"{"allow_origins": ["*"], "allow_methods": ["DELETE"]}"#;
const NULL_ORIGIN: &str = r#"{"allow_origins": ["null"]}"#;

const APP: &str = "https://app.example.com";

/// (config, origin, access-control-request-method, access-control-request-headers, decision)
type PreflightRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Result<(), Reason>,
);
/// (config, origin, private network requested, headers written in order)
type AllowedRow = (
    &'static str,
    &'static str,
    bool,
    &'static [(&'static str, &'static str)],
);
/// (config, allowed origin, value per MANAGED header, vary on origin)
type ActualRow = (
    &'static str,
    Option<&'static str>,
    [Option<&'static str>; 7],
    bool,
);
/// (rule, allow-methods, allow-headers, max-age, credentials, origin allowed, origin refused)
type OverrideRow = (
    Option<usize>,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static str,
    &'static str,
);

#[test]
fn check_preflight_decisions() {
    // (config, origin, access-control-request-method, access-control-request-headers, decision)
    let cases: &[PreflightRow] = &[
        (LISTED, APP, "PUT", None, Ok(())),
        (LISTED, APP, "PUT", Some("content-type"), Ok(())),
        (LISTED, "https://a.example.org", "PUT", None, Ok(())),
        // Origin.
        (
            LISTED,
            "https://evil.example",
            "PUT",
            None,
            Err(Reason::Origin),
        ),
        (
            LISTED,
            "https://example.org",
            "PUT",
            None,
            Err(Reason::Origin),
        ),
        (
            LISTED,
            "http://app.example.com",
            "PUT",
            None,
            Err(Reason::Origin),
        ),
        (
            LISTED,
            "https://APP.example.com",
            "PUT",
            None,
            Err(Reason::Origin),
        ),
        (
            LISTED,
            "https://app.example.com/",
            "PUT",
            None,
            Err(Reason::Origin),
        ),
        (
            LISTED,
            "https://app.example.com:443",
            "PUT",
            None,
            Err(Reason::Origin),
        ),
        (LISTED, "null", "GET", None, Err(Reason::Origin)),
        (LISTED, "", "GET", None, Err(Reason::Origin)),
        // The origin is checked first, then the method, then the headers.
        (
            LISTED,
            "https://evil.example",
            "DELETE",
            Some("x-bad"),
            Err(Reason::Origin),
        ),
        (LISTED, APP, "DELETE", Some("x-bad"), Err(Reason::Method)),
        // Methods: case-sensitive; browsers already uppercased the standard ones.
        (LISTED, APP, "put", None, Err(Reason::Method)),
        (LISTED, APP, "Put", None, Err(Reason::Method)),
        (LISTED, APP, "patch", None, Ok(())),
        (LISTED, APP, "PATCH", None, Err(Reason::Method)),
        (LISTED, APP, "DELETE", None, Err(Reason::Method)),
        (LISTED, APP, "OPTIONS", None, Err(Reason::Method)),
        (LISTED, APP, "CONNECT", None, Err(Reason::Method)),
        (LISTED, APP, "", None, Err(Reason::Method)),
        (LISTED, APP, "PUT ", None, Err(Reason::Method)),
        (LISTED, APP, "PUT,DELETE", None, Err(Reason::Method)),
        // Safelisted methods are always allowed, listed or not, but only as browsers send them.
        (LISTED, APP, "GET", None, Ok(())),
        (LISTED, APP, "HEAD", None, Ok(())),
        (LISTED, APP, "POST", None, Ok(())),
        (LISTED, APP, "get", None, Err(Reason::Method)),
        (NO_LISTS, APP, "GET", None, Ok(())),
        (NO_LISTS, APP, "HEAD", None, Ok(())),
        (NO_LISTS, APP, "POST", None, Ok(())),
        (NO_LISTS, APP, "PUT", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "GET", None, Ok(())),
        // "*" methods: any token but the forbidden ones, in any case.
        (ANY_METHOD, APP, "PUT", None, Ok(())),
        (ANY_METHOD, APP, "PATCH", None, Ok(())),
        (ANY_METHOD, APP, "patch", None, Ok(())),
        (ANY_METHOD, APP, "PROPFIND", None, Ok(())),
        (ANY_METHOD, APP, "x-custom", None, Ok(())),
        (ANY_METHOD, APP, "CONNECT", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "connect", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "TRACE", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "trace", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "TRACK", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "Track", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "GET POST", None, Err(Reason::Method)),
        (ANY_METHOD, APP, "", None, Err(Reason::Method)),
        // Header lists.
        (LISTED, APP, "PUT", Some(""), Ok(())),
        (
            LISTED,
            APP,
            "PUT",
            Some("content-type,x-requested-with"),
            Ok(()),
        ),
        (
            LISTED,
            APP,
            "PUT",
            Some("Content-Type, X-REQUESTED-WITH"),
            Ok(()),
        ),
        (
            LISTED,
            APP,
            "PUT",
            Some(" content-type ,\tx-requested-with\t"),
            Ok(()),
        ),
        (
            LISTED,
            APP,
            "PUT",
            Some("content-type,,x-requested-with,"),
            Ok(()),
        ),
        (LISTED, APP, "PUT", Some(", ,"), Ok(())),
        (
            LISTED,
            APP,
            "PUT",
            Some("content-type,x-other"),
            Err(Reason::Headers),
        ),
        (LISTED, APP, "PUT", Some("x-other"), Err(Reason::Headers)),
        (
            LISTED,
            APP,
            "PUT",
            Some("content-type x-requested-with"),
            Err(Reason::Headers),
        ),
        (
            LISTED,
            APP,
            "PUT",
            Some("content-type;x-requested-with"),
            Err(Reason::Headers),
        ),
        (
            LISTED,
            APP,
            "PUT",
            Some("authorization"),
            Err(Reason::Headers),
        ),
        (LISTED, APP, "GET", Some("x-other"), Err(Reason::Headers)),
        (
            NO_LISTS,
            APP,
            "GET",
            Some("content-type"),
            Err(Reason::Headers),
        ),
        (NO_LISTS, APP, "GET", Some(""), Ok(())),
        // "*" headers: anything but authorization, unless it is listed too.
        (ANY_HEADER, APP, "GET", Some("x-anything, X-Else"), Ok(())),
        (ANY_HEADER, APP, "GET", Some("content-type"), Ok(())),
        (
            ANY_HEADER,
            APP,
            "GET",
            Some("authorization"),
            Err(Reason::Headers),
        ),
        (
            ANY_HEADER,
            APP,
            "GET",
            Some("x-a, Authorization"),
            Err(Reason::Headers),
        ),
        (
            ANY_HEADER,
            APP,
            "GET",
            Some("AUTHORIZATION"),
            Err(Reason::Headers),
        ),
        (
            ANY_HEADER,
            APP,
            "GET",
            Some("bad name"),
            Err(Reason::Headers),
        ),
        (
            ANY_HEADER_AND_AUTH,
            APP,
            "GET",
            Some("authorization, x-a"),
            Ok(()),
        ),
        (
            ANY_HEADER_AND_AUTH,
            APP,
            "GET",
            Some("Authorization"),
            Ok(()),
        ),
        // "*" origins.
        (
            ALL_ORIGINS,
            "https://anything.example",
            "DELETE",
            None,
            Ok(()),
        ),
        (ALL_ORIGINS, "null", "GET", None, Ok(())),
        (ALL_ORIGINS, "http://[::1]:8080", "GET", None, Ok(())),
        (
            ALL_ORIGINS,
            "not an origin",
            "GET",
            None,
            Err(Reason::Origin),
        ),
        (
            ALL_ORIGINS,
            "https://a.example/",
            "GET",
            None,
            Err(Reason::Origin),
        ),
        (
            ALL_ORIGINS,
            "https://anything.example",
            "PUT",
            None,
            Err(Reason::Method),
        ),
        (
            ALL_ORIGINS,
            "https://anything.example",
            "GET",
            Some("x-a"),
            Err(Reason::Headers),
        ),
        // "null" origins.
        (NULL_ORIGIN, "null", "GET", None, Ok(())),
        (NULL_ORIGIN, "NULL", "GET", None, Err(Reason::Origin)),
        (NULL_ORIGIN, APP, "GET", None, Err(Reason::Origin)),
    ];
    for &(json, origin, method, headers, want) in cases {
        let p = policy(json);
        assert_eq!(
            p.check_preflight(
                origin.as_bytes(),
                method.as_bytes(),
                headers.map(str::as_bytes)
            ),
            want,
            "{json}\norigin {origin:?}, method {method:?}, headers {headers:?}"
        );
    }
}

#[test]
fn rejected_header_names_the_first_offender() {
    // (config, access-control-request-headers, rejected name)
    let cases: &[(&str, &str, Option<&str>)] = &[
        (LISTED, "content-type, x-evil , x-other", Some("x-evil")),
        (LISTED, "Content-Type", None),
        (LISTED, "", None),
        (ANY_HEADER, "x-a,authorization", Some("authorization")),
        (ANY_HEADER_AND_AUTH, "x-a,authorization", None),
        (NO_LISTS, "x-a", Some("x-a")),
    ];
    for &(json, list, want) in cases {
        let got = policy(json).rejected_header(list.as_bytes());
        assert_eq!(got, want.map(str::as_bytes), "{json}\n{list:?}");
    }
}

#[test]
fn reasons_display() {
    let cases = [
        (Reason::Origin, "origin not allowed"),
        (Reason::Method, "method not allowed"),
        (Reason::Headers, "request header not allowed"),
    ];
    for (reason, want) in cases {
        assert_eq!(reason.to_string(), want);
    }
}

const VARY: &str = "origin, access-control-request-method, access-control-request-headers";
const VARY_PNA: &str = "origin, access-control-request-method, access-control-request-headers, access-control-request-private-network";

#[test]
fn preflight_allowed_headers() {
    // (config, origin, private network requested, headers written in order)
    let cases: &[AllowedRow] = &[
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT", "DELETE"], "allow_headers": ["content-type", "authorization"], "expose_headers": ["x-request-id"], "max_age": 600, "allow_credentials": true}"#,
            APP,
            false,
            &[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "PUT, DELETE"),
                (
                    "access-control-allow-headers",
                    "content-type, authorization",
                ),
                ("access-control-max-age", "600"),
                ("access-control-allow-credentials", "true"),
                ("vary", VARY),
            ],
        ),
        // Nothing optional configured: the safelisted methods are named.
        (
            NO_LISTS,
            APP,
            false,
            &[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("vary", VARY),
            ],
        ),
        // Credential-less allow-all answers "*", whatever the origin.
        (
            r#"{"allow_origins": ["*"]}"#,
            "https://anything.example",
            false,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("vary", VARY),
            ],
        ),
        (
            r#"{"allow_origins": ["*"], "allow_credentials": false, "allow_methods": ["*"], "allow_headers": ["*"], "max_age": 0}"#,
            "null",
            false,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "*"),
                ("access-control-allow-headers", "*"),
                ("access-control-max-age", "0"),
                ("vary", VARY),
            ],
        ),
        (
            NULL_ORIGIN,
            "null",
            false,
            &[
                ("access-control-allow-origin", "null"),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("vary", VARY),
            ],
        ),
        // Credentials with a wildcard origin: the request's origin is echoed.
        (
            r#"{"allow_origins": ["https://*.example.com"], "allow_credentials": true, "allow_headers": ["Authorization", "x-a"]}"#,
            "https://api.example.com",
            false,
            &[
                ("access-control-allow-origin", "https://api.example.com"),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("access-control-allow-headers", "authorization, x-a"),
                ("access-control-allow-credentials", "true"),
                ("vary", VARY),
            ],
        ),
        // Private network access: enabled and requested.
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_private_network": true}"#,
            APP,
            true,
            &[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("access-control-allow-private-network", "true"),
                ("vary", VARY_PNA),
            ],
        ),
        // Enabled, not requested: no header, but the answer still varies on it.
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_private_network": true}"#,
            APP,
            false,
            &[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("vary", VARY_PNA),
            ],
        ),
        // Requested, not enabled.
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_private_network": false}"#,
            APP,
            true,
            &[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "GET, HEAD, POST"),
                ("vary", VARY),
            ],
        ),
        // Everything at once.
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["patch"], "allow_headers": ["X-A"], "max_age": 86400, "allow_credentials": true, "allow_private_network": true}"#,
            APP,
            true,
            &[
                ("access-control-allow-origin", APP),
                ("access-control-allow-methods", "patch"),
                ("access-control-allow-headers", "x-a"),
                ("access-control-max-age", "86400"),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-private-network", "true"),
                ("vary", VARY_PNA),
            ],
        ),
    ];
    for &(json, origin, pna, want) in cases {
        let p = policy(json);
        let plan = response::preflight_allowed(&p, origin.as_bytes(), pna);
        let want: Vec<(&str, String)> = want.iter().map(|(n, v)| (*n, v.to_string())).collect();
        assert_eq!(written(&plan), want, "{json}\norigin {origin:?}, pna {pna}");
        assert_eq!(plan[7], None, "{json}");
    }
}

#[test]
fn preflight_rejected_has_only_vary() {
    // (config, vary)
    let cases = [
        (NO_LISTS, VARY),
        (LISTED, VARY),
        (r#"{"allow_origins": ["*"]}"#, VARY),
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_credentials": true, "max_age": 5, "allow_headers": ["x-a"], "expose_headers": ["x-b"]}"#,
            VARY,
        ),
        (
            r#"{"allow_origins": ["https://app.example.com"], "allow_private_network": true}"#,
            VARY_PNA,
        ),
    ];
    for (json, vary) in cases {
        let p = policy(json);
        let plan = response::preflight_rejected(&p);
        assert_eq!(written(&plan), [("vary", vary.to_string())], "{json}");
        assert_eq!(plan[0], Some(("vary", vary.as_bytes())), "{json}");
        assert!(plan[1..].iter().all(Option::is_none), "{json}");
    }
}

const EXPOSING: &str = r#"{"allow_origins": ["https://app.example.com"], "expose_headers": ["x-request-id", "X-Trace"], "allow_methods": ["PUT"], "allow_headers": ["x-a"], "max_age": 600}"#;
const EXPOSING_CREDENTIALS: &str = r#"{"allow_origins": ["https://app.example.com"], "expose_headers": ["x-request-id"], "allow_credentials": true, "allow_private_network": true}"#;
const ALL_EXPOSING: &str =
    r#"{"allow_origins": ["*"], "expose_headers": ["*"], "allow_private_network": false}"#;

#[test]
fn actual_response_plans() {
    assert_eq!(
        MANAGED,
        [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "access-control-expose-headers",
            "access-control-allow-methods",
            "access-control-allow-headers",
            "access-control-allow-private-network",
            "access-control-max-age",
        ]
    );
    const NONE: [Option<&str>; 7] = [None; 7];
    // (config, allowed origin, value per MANAGED header, vary on origin)
    let cases: &[ActualRow] = &[
        (
            EXPOSING_CREDENTIALS,
            Some(APP),
            [
                Some(APP),
                Some("true"),
                Some("x-request-id"),
                None,
                None,
                None,
                None,
            ],
            true,
        ),
        (
            EXPOSING,
            Some(APP),
            [
                Some(APP),
                None,
                Some("x-request-id, x-trace"),
                None,
                None,
                None,
                None,
            ],
            true,
        ),
        (
            NO_LISTS,
            Some(APP),
            [Some(APP), None, None, None, None, None, None],
            true,
        ),
        (
            NULL_ORIGIN,
            Some("null"),
            [Some("null"), None, None, None, None, None, None],
            true,
        ),
        // Disallowed, or no Origin at all: every managed header removed.
        (EXPOSING_CREDENTIALS, None, NONE, true),
        (EXPOSING, None, NONE, true),
        (NO_LISTS, None, NONE, true),
        // Allow-all: always "*", allowed origin or not, and no vary on origin.
        (
            r#"{"allow_origins": ["*"]}"#,
            Some("https://anything.example"),
            [Some("*"), None, None, None, None, None, None],
            false,
        ),
        (
            r#"{"allow_origins": ["*"]}"#,
            None,
            [Some("*"), None, None, None, None, None, None],
            false,
        ),
        (
            ALL_EXPOSING,
            Some("null"),
            [Some("*"), None, Some("*"), None, None, None, None],
            false,
        ),
        (
            ALL_EXPOSING,
            None,
            [Some("*"), None, Some("*"), None, None, None, None],
            false,
        ),
    ];
    for &(json, origin, want, vary_origin) in cases {
        let p = policy(json);
        let plan = response::actual(&p, origin.map(str::as_bytes));
        assert_eq!(
            plan.managed().map(|(_, value)| value),
            want.map(|v| v.map(str::as_bytes)),
            "{json}\norigin {origin:?}"
        );
        assert_eq!(plan.vary_origin, vary_origin, "{json}\norigin {origin:?}");
    }
}

#[test]
fn vary_covers_origin_table() {
    let cases = [
        ("origin", true),
        ("Origin", true),
        ("ORIGIN", true),
        ("*", true),
        (" * ", true),
        ("accept-encoding, origin", true),
        ("accept-encoding,Origin,accept", true),
        ("\torigin\t", true),
        ("accept, *", true),
        ("", false),
        ("accept-encoding", false),
        ("origins", false),
        ("x-origin", false),
        ("origin-x", false),
        ("access-control-request-method", false),
        ("accept-encoding origin", false),
        ("**", false),
        (",", false),
    ];
    for (vary, want) in cases {
        assert_eq!(
            response::vary_covers_origin(vary.as_bytes()),
            want,
            "{vary:?}"
        );
    }
}

const RULES: &str = r#"{
    "allow_origins": ["https://app.example.com"],
    "allow_methods": ["PUT"],
    "allow_headers": ["x-a"],
    "max_age": 600,
    "allow_credentials": true,
    "rules": [
        {"hosts": ["admin.example.com"], "path_prefix": "/api/", "allow_origins": ["https://admin.example.com"]},
        {"hosts": ["*.internal.example.com"], "enabled": false},
        {"hosts": ["Admin.Example.com"], "allow_methods": ["DELETE"], "max_age": 5},
        {"path_prefix": "/public/", "allow_origins": ["*"], "allow_credentials": false},
        {"hosts": ["*.example.com", "[::1]"], "path_prefix": "/api/", "allow_headers": ["x-b"]},
        {"hosts": ["*.example.com"], "path_prefix": "/api/", "allow_headers": ["x-c"]}
    ]
}"#;

#[test]
fn select_rules() {
    let config = config(RULES);
    assert!(config.has_rules());
    // (authority, path, rule chosen, CORS handled)
    let cases: &[(&str, &str, Option<usize>, bool)] = &[
        ("admin.example.com", "/api/users", Some(0), true),
        ("Admin.Example.COM:8443", "/api/x", Some(0), true),
        ("admin.example.com.", "/api/", Some(0), true),
        ("admin.example.com:443", "/api/?q=1", Some(0), true),
        // Path prefixes are case-sensitive and need the trailing slash written.
        ("admin.example.com", "/api", Some(2), true),
        ("admin.example.com", "/API/x", Some(2), true),
        ("admin.example.com", "/", Some(2), true),
        ("xadmin.example.com", "/", None, true),
        ("a.internal.example.com", "/api/", Some(1), false),
        ("X.Y.Internal.Example.com:80", "/", Some(1), false),
        ("internal.example.com", "/", None, true),
        ("internal.example.com", "/api/v1", Some(4), true),
        ("app.example.com", "/public/x", Some(3), true),
        ("other.org", "/public/", Some(3), true),
        ("other.org", "/public", None, true),
        ("other.org", "/api/", None, true),
        ("example.com", "/api/", None, true),
        ("evilexample.com", "/api/", None, true),
        ("[::1]:8080", "/api/a", Some(4), true),
        ("[::1]", "/public/a", Some(3), true),
        ("", "/", None, true),
        ("", "", None, true),
    ];
    for &(authority, path, rule, handled) in cases {
        let selection = config.select(authority.as_bytes(), path.as_bytes());
        assert_eq!(selection.rule, rule, "{authority} {path}");
        assert_eq!(selection.policy.is_some(), handled, "{authority} {path}");
        let again = config.policy_at(selection.rule);
        match (selection.policy, again) {
            (Some(a), Some(b)) => assert!(std::ptr::eq(a, b), "{authority} {path}"),
            (None, None) => {}
            other => panic!("{authority} {path}: select and policy_at differ: {other:?}"),
        }
        if rule.is_none() {
            assert!(
                std::ptr::eq(selection.policy.unwrap(), &config.default),
                "{authority} {path}"
            );
        }
    }
}

#[test]
fn rules_override_field_by_field() {
    let config = config(RULES);
    // (rule, allow-methods, allow-headers, max-age, credentials, origin allowed, origin refused)
    let cases: &[OverrideRow] = &[
        (
            None,
            "PUT",
            "x-a",
            "600",
            true,
            APP,
            "https://admin.example.com",
        ),
        // Only allow_origins overridden: the rest is the top level's.
        (
            Some(0),
            "PUT",
            "x-a",
            "600",
            true,
            "https://admin.example.com",
            APP,
        ),
        (
            Some(2),
            "DELETE",
            "x-a",
            "5",
            true,
            APP,
            "https://admin.example.com",
        ),
        (
            Some(3),
            "PUT",
            "x-a",
            "600",
            false,
            "https://anything.example",
            "bad origin",
        ),
        (
            Some(4),
            "PUT",
            "x-b",
            "600",
            true,
            APP,
            "https://api.example.com",
        ),
        (
            Some(5),
            "PUT",
            "x-c",
            "600",
            true,
            APP,
            "https://admin.example.com",
        ),
    ];
    for &(rule, methods, headers, max_age, credentials, allowed, refused) in cases {
        let p = config
            .policy_at(rule)
            .unwrap_or_else(|| panic!("no policy at {rule:?}"));
        assert_eq!(p.allow_methods, methods, "{rule:?}");
        assert_eq!(p.allow_headers.as_deref(), Some(headers), "{rule:?}");
        assert_eq!(p.max_age.as_deref(), Some(max_age), "{rule:?}");
        assert_eq!(p.credentials, credentials, "{rule:?}");
        assert!(p.allows_origin(allowed.as_bytes()), "{rule:?} {allowed}");
        assert!(!p.allows_origin(refused.as_bytes()), "{rule:?} {refused}");
    }
    assert!(config.policy_at(Some(1)).is_none());
    assert!(config.policy_at(Some(6)).is_none());

    // Rule 3 allows every origin without credentials: the preflight answers "*".
    let public = config.policy_at(Some(3)).unwrap();
    assert!(public.allows_any_origin());
    assert_eq!(
        written(&response::preflight_allowed(
            public,
            b"https://x.example",
            false
        )),
        [
            ("access-control-allow-origin", "*".to_string()),
            ("access-control-allow-methods", "PUT".to_string()),
            ("access-control-allow-headers", "x-a".to_string()),
            ("access-control-max-age", "600".to_string()),
            ("vary", VARY.to_string()),
        ]
    );
}

#[test]
fn select_without_rules_is_the_top_level() {
    let config = config(NO_LISTS);
    assert!(!config.has_rules());
    for (authority, path) in [("a.com", "/"), ("", ""), ("admin.example.com", "/api/")] {
        let s = config.select(authority.as_bytes(), path.as_bytes());
        assert_eq!(s.rule, None);
        assert!(std::ptr::eq(s.policy.unwrap(), &config.default));
    }
}

#[test]
fn rule_without_policy_fields_shields_later_rules() {
    let config = config(
        r#"{"allow_origins": ["https://app.example.com"],
            "rules": [
                {"path_prefix": "/health"},
                {"path_prefix": "/", "allow_origins": ["https://other.example.com"]}
            ]}"#,
    );
    // (path, rule, origin allowed)
    let cases = [
        ("/health", Some(0), APP),
        ("/healthz", Some(0), APP),
        ("/x", Some(1), "https://other.example.com"),
    ];
    for (path, rule, origin) in cases {
        let s = config.select(b"any.host", path.as_bytes());
        assert_eq!(s.rule, rule, "{path}");
        assert!(
            s.policy.unwrap().allows_origin(origin.as_bytes()),
            "{path} {origin}"
        );
    }
    // The shielding rule is a copy of the top-level policy, not the second rule's.
    assert!(!config
        .policy_at(Some(0))
        .unwrap()
        .allows_origin(b"https://other.example.com"));
}

/// A trailing dot names the same host (`rule::host_of` drops it from the
/// request), so a rule host written with one must either match that host or
/// be refused at configure time; it must never be accepted and match nothing.
#[test]
fn rule_hosts_with_a_trailing_dot() {
    // (hosts entry, authorities it must match)
    let cases = [
        (
            "api.example.com.",
            ["api.example.com", "api.example.com.", "API.example.com:443"],
        ),
        (
            "*.example.org.",
            ["a.example.org", "a.example.org.", "b.a.example.org:80"],
        ),
    ];
    for (host, authorities) in cases {
        let json = format!(
            r#"{{"allow_origins": ["https://a.com"], "rules": [{{"hosts": ["{host}"], "enabled": false}}]}}"#
        );
        match Config::parse(json.as_bytes()) {
            Ok(config) => {
                for authority in authorities {
                    let s = config.select(authority.as_bytes(), b"/");
                    assert_eq!(
                        s.rule,
                        Some(0),
                        "{host} accepted but {authority} not matched"
                    );
                    assert!(s.policy.is_none(), "{host} vs {authority}");
                }
            }
            Err(e) => assert!(
                e.0.iter().any(|e| e.path == "rules[0].hosts[0]"),
                "{host}: {e}"
            ),
        }
    }
}
