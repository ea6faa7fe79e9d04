// Unit tests of the response plans: the exact headers of local replies and of actual responses.

use super::*;
use crate::config::Config;
use crate::policy::Policy;

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
const NULL_ORIGIN: &str = r#"{"allow_origins": ["null"]}"#;

const APP: &str = "https://app.example.com";

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

/// Reads proxy-wasm's serialized map format back, as the host does.
fn deserialize(bytes: &[u8]) -> Vec<(String, String)> {
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    let count = u32_at(0);
    let mut at = 4 + count * 8;
    (0..count)
        .map(|n| {
            let (name_len, value_len) = (u32_at(4 + n * 8), u32_at(8 + n * 8));
            let name = String::from_utf8(bytes[at..at + name_len].to_vec()).unwrap();
            assert_eq!(bytes[at + name_len], 0);
            at += name_len + 1;
            let value = String::from_utf8(bytes[at..at + value_len].to_vec()).unwrap();
            assert_eq!(bytes[at + value_len], 0);
            at += value_len + 1;
            (name, value)
        })
        .collect()
}

#[test]
fn a_plan_covers_every_managed_header_in_order() {
    let config = Config::parse(br#"{"allow_origins": ["*"]}"#).unwrap();
    let names = actual(&config.default, None)
        .managed()
        .map(|(name, _)| name);
    assert_eq!(names, MANAGED);
}

#[test]
fn managed_names_are_found_by_index() {
    for (i, name) in MANAGED.iter().enumerate() {
        assert_eq!(managed_index(name.as_bytes()), Some(i), "{name}");
        assert_eq!(managed_index(name.to_uppercase().as_bytes()), None);
    }
    for other in [
        "vary",
        "access-control-request-method",
        "access-control-allow-originx",
        "",
        "content-type",
    ] {
        assert_eq!(managed_index(other.as_bytes()), None, "{other}");
    }
}

#[test]
fn serialized_replies_round_trip() {
    let config = Config::parse(
        br#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"],
             "allow_headers": ["x-a"], "max_age": 60, "allow_credentials": true}"#,
    )
    .unwrap();
    let policy = &config.default;
    let allowed = preflight_allowed(policy, b"https://app.example.com", false, b"PUT", None);
    let rejected = preflight_rejected(policy);
    let mut out = Vec::new();
    for plan in [allowed, rejected] {
        serialize(&plan, &mut out);
        assert_eq!(out.len(), serialized_len(&plan));
        let want: Vec<(String, String)> = plan
            .iter()
            .flatten()
            .map(|(n, v)| (n.to_string(), String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        assert_eq!(deserialize(&out), want);
    }
    serialize(&allowed, &mut out);
    assert_eq!(
        deserialize(&out),
        [
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-methods", "PUT"),
            ("access-control-allow-headers", "x-a"),
            ("access-control-max-age", "60"),
            ("access-control-allow-credentials", "true"),
            (
                "vary",
                "origin, access-control-request-method, access-control-request-headers"
            ),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
    );
    serialize(&[None; 8], &mut out);
    assert_eq!(out, 0u32.to_le_bytes());
}

#[test]
fn prebuilt_replies_match_serialized_plans() {
    let configs = [
        r#"{"allow_origins": ["https://app.example.com", "https://*.example.com"], "allow_methods": ["PUT"],
            "allow_headers": ["x-a", "x-b"], "max_age": 60, "allow_credentials": true, "allow_private_network": true}"#,
        r#"{"allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"]}"#,
        r#"{"allow_origins": ["null"], "allow_private_network": true}"#,
    ];
    let origins: [&[u8]; 4] = [
        b"https://app.example.com",
        b"https://a.b.example.com",
        b"null",
        b"",
    ];
    for json in configs {
        let config = Config::parse(json.as_bytes()).unwrap();
        let policy = &config.default;
        let replies = LocalReplies::new(policy);
        let (mut got, mut want) = (Vec::new(), Vec::new());
        for origin in origins {
            for pna in [false, true] {
                replies.allowed(origin, pna, b"PUT", Some(b"x-a"), &mut got);
                serialize(
                    &preflight_allowed(policy, origin, pna, b"PUT", Some(b"x-a")),
                    &mut want,
                );
                assert_eq!(
                    deserialize(&got),
                    deserialize(&want),
                    "{json} {origin:?} {pna}"
                );
                assert_eq!(got, want, "{json} {origin:?} {pna}");
                assert!(got.len() <= replies.allowed_len(origin.len()));
            }
        }
        serialize(&preflight_rejected(policy), &mut want);
        assert_eq!(replies.rejected, want);
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
                // On the preflight too, as Gateway API's conformance expects.
                ("access-control-expose-headers", "x-request-id"),
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
        let plan = preflight_allowed(&p, origin.as_bytes(), pna, b"PUT", None);
        let want: Vec<(&str, String)> = want.iter().map(|(n, v)| (*n, v.to_string())).collect();
        assert_eq!(written(&plan), want, "{json}\norigin {origin:?}, pna {pna}");
    }
}

/// `*` in allow_methods and allow_headers with credentials: the allowed
/// preflight echoes what was asked (never a literal `*`), as jub0bs/cors and
/// Gateway API's HTTPCORSFilter do; without credentials `*` is sent as is.
#[test]
#[rustfmt::skip]
fn credentialed_star_echoes_the_request() {
    let star = r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["*"], "allow_headers": ["*", "authorization"], "allow_credentials": true}"#;
    let plain = r#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["*"], "allow_headers": ["*"]}"#;
    // (config, access-control-request-method, -headers, allow-methods, allow-headers)
    type EchoRow<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>);
    let cases: [EchoRow; 5] = [
        (star, "PATCH", Some("x-a, authorization"), "PATCH", Some("x-a, authorization")),
        (star, "PUT", None, "PUT", None),
        (star, "DELETE", Some(" "), "DELETE", None),
        (plain, "PATCH", Some("x-a"), "*", Some("*")),
        (plain, "PUT", None, "*", Some("*")),
    ];
    for (json, method, headers, want_methods, want_headers) in cases {
        let p = policy(json);
        let plan = preflight_allowed(&p, APP.as_bytes(), false, method.as_bytes(), headers.map(str::as_bytes));
        let got = written(&plan);
        let get = |name: &str| got.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("access-control-allow-methods"), Some(want_methods), "{json} {method}");
        assert_eq!(get("access-control-allow-headers"), want_headers, "{json} {headers:?}");
        // The prebuilt replies write the same bytes.
        let (mut got_bytes, mut want_bytes) = (Vec::new(), Vec::new());
        LocalReplies::new(&p).allowed(APP.as_bytes(), false, method.as_bytes(), headers.map(str::as_bytes), &mut got_bytes);
        serialize(&plan, &mut want_bytes);
        assert_eq!(got_bytes, want_bytes, "{json}");
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
        let plan = preflight_rejected(&p);
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
        let plan = actual(&p, origin.map(str::as_bytes));
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
        assert_eq!(vary_covers_origin(vary.as_bytes()), want, "{vary:?}");
    }
}
