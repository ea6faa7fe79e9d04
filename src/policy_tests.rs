// Unit tests of preflight checks: origin, method and headers, and why a preflight is rejected.

use super::*;
use crate::config::Config;

fn config(json: &str) -> Config {
    Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("rejected {json}\n{e}"))
}

fn policy(json: &str) -> Policy {
    config(json).default
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
fn outcomes_index_their_one_list() {
    for (i, (outcome, metric, report)) in OUTCOMES.iter().enumerate() {
        assert_eq!((outcome.index(), Outcome::ALL[i]), (i, *outcome));
        assert_eq!(
            (outcome.metric(), outcome.report_metric()),
            (*metric, *report)
        );
        assert_eq!(*report, metric.replacen("cors.", "cors.report.", 1));
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
