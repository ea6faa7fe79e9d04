// Unit tests of configuration parsing and validation.

use super::*;
use crate::policy::Reason;

/// One invalid configuration: `(json, path, value, message, errors)`.
/// Some error must have exactly `path` and `value` (the offending value as
/// compact JSON, `None` when the error names no value), a message containing
/// `message`, and a Display containing both; the configuration must produce
/// exactly `errors` errors in all.
type Row = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    usize,
);

fn errors_of(json: &str) -> Vec<ConfigError> {
    match Config::parse(json.as_bytes()) {
        Ok(config) => panic!("accepted {json}\nas {config:?}"),
        Err(ConfigErrors(errors)) => errors,
    }
}

fn parse_ok(json: &str) -> Config {
    Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("rejected {json}\n{e}"))
}

fn listing(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| format!("\n  {e}"))
        .collect::<String>()
}

fn check_rows(rows: &[Row]) {
    for &(json, path, value, message, count) in rows {
        let errors = errors_of(json);
        let shown = listing(&errors);
        assert_eq!(errors.len(), count, "error count for {json}:{shown}");
        let found = errors.iter().any(|e| {
            let display = e.to_string();
            e.path == path
                && e.value.as_deref() == value
                && e.message.contains(message)
                && display.starts_with(path)
                && value.is_none_or(|v| display.contains(v))
                && display.contains(message)
        });
        assert!(
            found,
            "{json}\nwant {path} = {value:?}: ...{message}...\ngot:{shown}"
        );
    }
}

#[test]
fn document_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        ("{", "configuration", None, "is not valid JSON", 1),
        (r#"{"allow_origins": ["https://a.com"],}"#, "configuration", None, "is not valid JSON", 1),
        ("allow_origins: [*]", "configuration", None, "is not valid JSON", 1),
        ("", "configuration", None, "is empty", 1),
        (" \n\t ", "configuration", None, "is empty", 1),
        ("[]", "configuration", Some("[]"), "must be a JSON object", 1),
        (r#"["https://a.com"]"#, "configuration", Some(r#"["https://a.com"]"#), "must be a JSON object", 1),
        (r#""https://a.com""#, "configuration", Some(r#""https://a.com""#), "must be a JSON object", 1),
        ("null", "configuration", Some("null"), "must be a JSON object", 1),
        ("42", "configuration", Some("42"), "must be a JSON object", 1),
    ];
    check_rows(rows);
}

#[test]
fn unknown_field_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["https://a.com"], "": 0}"#, r#""""#, Some("0"), "unknown field", 1),
        (r#"{"allow_origins": ["https://a.com"], "max\nage": 1}"#, r#""max\nage""#, Some("1"), r#"did you mean "max_age"?"#, 1),
        (r#"{"allow_origin": ["https://app.example.com"]}"#, "allow_origin", Some(r#"["https://app.example.com"]"#), r#"unknown field; did you mean "allow_origins"?"#, 2),
        (r#"{"allow_origin": ["https://app.example.com"]}"#, "allow_origins", None, "is missing", 2),
        (r#"{"allow_origins": ["https://a.com"], "allow_method": ["PUT"]}"#, "allow_method", Some(r#"["PUT"]"#), r#"did you mean "allow_methods"?"#, 1),
        (r#"{"allow_origins": ["https://a.com"], "maxAge": 600}"#, "maxAge", Some("600"), r#"did you mean "max_age"?"#, 1),
        (r#"{"allow_origins": ["https://a.com"], "foo": 1}"#, "foo", Some("1"), "unknown field; known fields: allow_origins, allow_methods, allow_headers, expose_headers, max_age, allow_credentials, allow_private_network, unmatched_preflights, mode, dangerously_allow_insecure_origins_with_credentials, rules", 1),
        // Rule-only fields are unknown at the top level.
        (r#"{"allow_origins": ["https://a.com"], "enabled": true}"#, "enabled", Some("true"), "unknown field", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "host": ["b.com"]}]}"#, "rules[0].host", Some(r#"["b.com"]"#), r#"unknown field; did you mean "hosts"?"#, 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "path_prefx": "/a"}]}"#, "rules[0].path_prefx", Some(r#""/a""#), r#"did you mean "path_prefix"?"#, 1),
        // A rule is not a top level: it cannot nest rules.
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "rules": []}]}"#, "rules[0].rules", Some("[]"), "unknown field", 1),
        (r#"{"allow_origins": [{"prefix": "https://a.example.com", "ignorecase": true}]}"#, "allow_origins[0].ignorecase", Some("true"), r#"unknown field; did you mean "ignore_case"?"#, 1),
        (r#"{"allow_origins": [{"prefx": "https://a."}]}"#, "allow_origins[0].prefx", Some(r#""https://a.""#), r#"unknown field; did you mean "prefix"?"#, 2),
        (r#"{"allow_origins": [{"prefx": "https://a."}]}"#, "allow_origins[0]", Some(r#"{"prefx":"https://a."}"#), "must have exactly one of", 2),
        (r#"{"allow_origins": [{"glob": "https://*"}]}"#, "allow_origins[0].glob", Some(r#""https://*""#), "unknown field; known fields: exact, prefix, suffix, contains, regex, ignore_case", 2),
    ];
    check_rows(rows);
}

#[test]
fn allow_origins_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{}"#, "allow_origins", None, "is missing", 1),
        (r#"{"allow_methods": ["PUT"], "max_age": 5}"#, "allow_origins", None, "is missing; list the origins allowed", 1),
        (r#"{"allow_origins": []}"#, "allow_origins", Some("[]"), "lists no origin, so CORS would allow nothing", 1),
        (r#"{"allow_origins": "https://a.com"}"#, "allow_origins", Some(r#""https://a.com""#), "must be a list of origins", 1),
        (r#"{"allow_origins": null}"#, "allow_origins", Some("null"), "must be a list of origins", 1),
        (r#"{"allow_origins": {"exact": "https://a.com"}}"#, "allow_origins", Some(r#"{"exact":"https://a.com"}"#), "must be a list of origins", 1),
        (r#"{"allow_origins": [1]}"#, "allow_origins[0]", Some("1"), "must be an origin string or a matcher object", 1),
        (r#"{"allow_origins": ["https://a.com", ["https://b.com"]]}"#, "allow_origins[1]", Some(r#"["https://b.com"]"#), "must be an origin string or a matcher object", 1),
        (r#"{"allow_origins": ["*", "https://a.com"]}"#, "allow_origins[0]", Some(r#""*""#), "allows every origin, so the other entries mean nothing", 1),
        (r#"{"allow_origins": ["https://a.com", "*"]}"#, "allow_origins[1]", Some(r#""*""#), "allows every origin, so the other entries mean nothing", 1),
        (r#"{"allow_origins": ["null", "*"]}"#, "allow_origins[1]", Some(r#""*""#), "list \"*\" alone", 1),
    ];
    check_rows(rows);
}

#[test]
fn origin_string_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["https://app.example.com/app"]}"#, "allow_origins[0]", Some(r#""https://app.example.com/app""#), "has a path, query or fragment", 1),
        (r#"{"allow_origins": ["https://a.com?x=1"]}"#, "allow_origins[0]", Some(r#""https://a.com?x=1""#), "has a path, query or fragment", 1),
        (r#"{"allow_origins": ["https://a.com#top"]}"#, "allow_origins[0]", Some(r#""https://a.com#top""#), "has a path, query or fragment", 1),
        (r#"{"allow_origins": ["https://app.example.com/"]}"#, "allow_origins[0]", Some(r#""https://app.example.com/""#), "ends with a slash", 1),
        (r#"{"allow_origins": ["app.example.com"]}"#, "allow_origins[0]", Some(r#""app.example.com""#), "has no scheme", 1),
        (r#"{"allow_origins": ["//app.example.com"]}"#, "allow_origins[0]", Some(r#""//app.example.com""#), "has no scheme", 1),
        (r#"{"allow_origins": ["1http://a.com"]}"#, "allow_origins[0]", Some(r#""1http://a.com""#), "has an invalid scheme", 1),
        (r#"{"allow_origins": ["https://a.com:443"]}"#, "allow_origins[0]", Some(r#""https://a.com:443""#), "names the scheme's default port", 1),
        (r#"{"allow_origins": ["http://a.com:80"]}"#, "allow_origins[0]", Some(r#""http://a.com:80""#), "names the scheme's default port", 1),
        (r#"{"allow_origins": ["https://App.Example.com"]}"#, "allow_origins[0]", Some(r#""https://App.Example.com""#), "has an uppercase host", 1),
        (r#"{"allow_origins": ["HTTPS://app.example.com"]}"#, "allow_origins[0]", Some(r#""HTTPS://app.example.com""#), "has an uppercase scheme", 1),
        (r#"{"allow_origins": ["https://user@a.com"]}"#, "allow_origins[0]", Some(r#""https://user@a.com""#), "contains userinfo", 1),
        (r#"{"allow_origins": ["https://user:pw@a.com"]}"#, "allow_origins[0]", Some(r#""https://user:pw@a.com""#), "contains userinfo", 1),
        (r#"{"allow_origins": [""]}"#, "allow_origins[0]", Some(r#""""#), "is empty", 1),
        (r#"{"allow_origins": ["https://"]}"#, "allow_origins[0]", Some(r#""https://""#), "has no host", 1),
        (r#"{"allow_origins": ["https://a..com"]}"#, "allow_origins[0]", Some(r#""https://a..com""#), "has an invalid host", 1),
        (r#"{"allow_origins": ["https://a.com,https://b.com"]}"#, "allow_origins[0]", Some(r#""https://a.com,https://b.com""#), "has a path, query or fragment", 1),
        (r#"{"allow_origins": ["https://a.com:0"]}"#, "allow_origins[0]", Some(r#""https://a.com:0""#), "has an invalid port", 1),
        (r#"{"allow_origins": ["https://a.com:65536"]}"#, "allow_origins[0]", Some(r#""https://a.com:65536""#), "has an invalid port", 1),
        (r#"{"allow_origins": ["http://127.1"]}"#, "allow_origins[0]", Some(r#""http://127.1""#), "has an IPv4 host browsers would write differently", 1),
        (r#"{"allow_origins": ["http://[::ABCD]"]}"#, "allow_origins[0]", Some(r#""http://[::ABCD]""#), "has an IPv6 host browsers would write differently", 1),
        (r#"{"allow_origins": ["http://[zz::1]"]}"#, "allow_origins[0]", Some(r#""http://[zz::1]""#), "has an invalid IPv6 host", 1),
        // Wildcards.
        (r#"{"allow_origins": ["https://*"]}"#, "allow_origins[0]", Some(r#""https://*""#), "matches every host; use \"*\" to allow all origins", 1),
        (r#"{"allow_origins": ["https://*:*"]}"#, "allow_origins[0]", Some(r#""https://*:*""#), "matches every host", 1),
        (r#"{"allow_origins": ["https://*.com"]}"#, "allow_origins[0]", Some(r#""https://*.com""#), "matches every site under the top-level domain \"com\"", 1),
        (r#"{"allow_origins": ["https://a*.example.com"]}"#, "allow_origins[0]", Some(r#""https://a*.example.com""#), "may use * only as the whole first label", 1),
        (r#"{"allow_origins": ["https://*.*.example.com"]}"#, "allow_origins[0]", Some(r#""https://*.*.example.com""#), "may use * only as the whole first label", 1),
        (r#"{"allow_origins": ["https://app.*.com"]}"#, "allow_origins[0]", Some(r#""https://app.*.com""#), "may use * only as the whole first label", 1),
        (r#"{"allow_origins": ["http://localhost:8*"]}"#, "allow_origins[0]", Some(r#""http://localhost:8*""#), "may use * only", 1),
        (r#"{"allow_origins": ["*.example.com"]}"#, "allow_origins[0]", Some(r#""*.example.com""#), "has no scheme", 1),
        (r#"{"allow_origins": ["https://*.example.com/"]}"#, "allow_origins[0]", Some(r#""https://*.example.com/""#), "ends with a slash", 1),
        (r#"{"allow_origins": ["https://*.Example.com"]}"#, "allow_origins[0]", Some(r#""https://*.Example.com""#), "has an uppercase host", 1),
        (r#"{"allow_origins": ["https://*.example.com:443"]}"#, "allow_origins[0]", Some(r#""https://*.example.com:443""#), "names the scheme's default port", 1),
        (r#"{"allow_origins": ["https://*.127.0.0.1"]}"#, "allow_origins[0]", Some(r#""https://*.127.0.0.1""#), "puts a subdomain wildcard on an IP address", 1),
        (r#"{"allow_origins": ["http://*.[::1]"]}"#, "allow_origins[0]", Some(r#""http://*.[::1]""#), "puts a subdomain wildcard on an IP address", 1),
        // Each bad entry is reported at its own index.
        (r#"{"allow_origins": ["https://ok.example.com", "https://b.com/"]}"#, "allow_origins[1]", Some(r#""https://b.com/""#), "ends with a slash", 1),
    ];
    check_rows(rows);
}

#[test]
fn matcher_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": [{"regex": "("}]}"#, "allow_origins[0].regex", Some(r#""(""#), "is not a valid regular expression", 1),
        (r#"{"allow_origins": [{"regex": "https://[a-"}]}"#, "allow_origins[0].regex", Some(r#""https://[a-""#), "is not a valid regular expression", 1),
        (r#"{"allow_origins": [{"prefix": ""}]}"#, "allow_origins[0].prefix", Some(r#""""#), "is empty", 1),
        (r#"{"allow_origins": [{"regex": ""}]}"#, "allow_origins[0].regex", Some(r#""""#), "is empty", 1),
        (r#"{"allow_origins": [{"exact": "https://a.com", "prefix": "https://a"}]}"#, "allow_origins[0]", Some(r#"{"exact":"https://a.com","prefix":"https://a"}"#), r#"must have exactly one of "exact", "prefix", "suffix", "contains", "regex""#, 1),
        (r#"{"allow_origins": [{}]}"#, "allow_origins[0]", Some("{}"), "must have exactly one of", 1),
        (r#"{"allow_origins": [{"ignore_case": true}]}"#, "allow_origins[0]", Some(r#"{"ignore_case":true}"#), "must have exactly one of", 1),
        (r#"{"allow_origins": [{"prefix": 1}]}"#, "allow_origins[0].prefix", Some("1"), "must be a string", 1),
        (r#"{"allow_origins": [{"suffix": ".example.com", "ignore_case": "yes"}]}"#, "allow_origins[0].ignore_case", Some(r#""yes""#), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com", {"contains": ""}]}"#, "allow_origins[1].contains", Some(r#""""#), "is empty", 1),
    ];
    check_rows(rows);
}

#[test]
fn list_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": "GET"}"#, "allow_methods", Some(r#""GET""#), "must be a list of strings", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": "x-a"}"#, "allow_headers", Some(r#""x-a""#), "must be a list of strings", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": "x-a, x-b"}"#, "expose_headers", Some(r#""x-a, x-b""#), "must be a list of strings", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": {"PUT": true}}"#, "allow_methods", Some(r#"{"PUT":true}"#), "must be a list of strings", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": [1]}"#, "allow_methods[0]", Some("1"), "must be a string", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["x-a", null]}"#, "allow_headers[1]", Some("null"), "must be a string", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": [true]}"#, "expose_headers[0]", Some("true"), "must be a string", 1),
        // Methods.
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["CONNECT"]}"#, "allow_methods[0]", Some(r#""CONNECT""#), "is a forbidden method", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["connect"]}"#, "allow_methods[0]", Some(r#""connect""#), "is a forbidden method", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["TRACE"]}"#, "allow_methods[0]", Some(r#""TRACE""#), "is a forbidden method", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["Trace"]}"#, "allow_methods[0]", Some(r#""Trace""#), "is a forbidden method", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["PUT", "TRACK"]}"#, "allow_methods[1]", Some(r#""TRACK""#), "is a forbidden method: browsers never send it", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["track"]}"#, "allow_methods[0]", Some(r#""track""#), "is a forbidden method", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["GET POST"]}"#, "allow_methods[0]", Some(r#""GET POST""#), "is not a method name", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["GET,POST"]}"#, "allow_methods[0]", Some(r#""GET,POST""#), "is not a method name", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": [""]}"#, "allow_methods[0]", Some(r#""""#), "is not a method name", 1),
        // Request headers.
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["x y"]}"#, "allow_headers[0]", Some(r#""x y""#), "is not a header name", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["x:y"]}"#, "allow_headers[0]", Some(r#""x:y""#), "is not a header name", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": [""]}"#, "allow_headers[0]", Some(r#""""#), "is not a header name", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["content-type", "x-a, x-b"]}"#, "allow_headers[1]", Some(r#""x-a, x-b""#), "is not a header name", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["cookie"]}"#, "allow_headers[0]", Some(r#""cookie""#), "is a forbidden request header", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["Cookie"]}"#, "allow_headers[0]", Some(r#""Cookie""#), "is a forbidden request header", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["sec-foo"]}"#, "allow_headers[0]", Some(r#""sec-foo""#), "is a forbidden request header: browsers never let scripts set it", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["Proxy-Authorization"]}"#, "allow_headers[0]", Some(r#""Proxy-Authorization""#), "is a forbidden request header", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["host"]}"#, "allow_headers[0]", Some(r#""host""#), "is a forbidden request header", 1),
        // Response headers.
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["set-cookie"]}"#, "expose_headers[0]", Some(r#""set-cookie""#), "can never be exposed", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["x-request-id", "Set-Cookie2"]}"#, "expose_headers[1]", Some(r#""Set-Cookie2""#), "can never be exposed", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["x y"]}"#, "expose_headers[0]", Some(r#""x y""#), "is not a header name", 1),
    ];
    check_rows(rows);
}

#[test]
fn scalar_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["https://a.com"], "max_age": "600"}"#, "max_age", Some(r#""600""#), "must be a whole number of seconds from 0 to 86400", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": -1}"#, "max_age", Some("-1"), "must be a whole number of seconds from 0 to 86400", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": 86401}"#, "max_age", Some("86401"), "must be a whole number of seconds from 0 to 86400", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": 1.5}"#, "max_age", Some("1.5"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": 600.5}"#, "max_age", Some("600.5"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": 86401.0}"#, "max_age", Some("86401.0"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": -6e2}"#, "max_age", Some("-600.0"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": 4294967296}"#, "max_age", Some("4294967296"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "max_age": null}"#, "max_age", Some("null"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_credentials": 1}"#, "allow_credentials", Some("1"), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_credentials": "true"}"#, "allow_credentials", Some(r#""true""#), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_private_network": "yes"}"#, "allow_private_network", Some(r#""yes""#), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_private_network": 0}"#, "allow_private_network", Some("0"), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com"], "unmatched_preflights": "allow"}"#, "unmatched_preflights", Some(r#""allow""#), r#"must be "reject" or "forward""#, 1),
        (r#"{"allow_origins": ["https://a.com"], "unmatched_preflights": "Reject"}"#, "unmatched_preflights", Some(r#""Reject""#), r#"must be "reject" or "forward""#, 1),
        (r#"{"allow_origins": ["https://a.com"], "unmatched_preflights": true}"#, "unmatched_preflights", Some("true"), r#"must be "reject" or "forward""#, 1),
        (r#"{"allow_origins": ["https://a.com"], "mode": "shadow"}"#, "mode", Some(r#""shadow""#), r#"must be "enforce" or "report""#, 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "mode": true}]}"#, "rules[0].mode", Some("true"), r#"must be "enforce" or "report""#, 1),
    ];
    check_rows(rows);
}

#[test]
fn combination_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["*"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""*""#), "is not allowed with allow_credentials: true (at allow_credentials): every website could read responses with the user's cookies", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["x-a", "*"], "allow_credentials": true}"#, "expose_headers[1]", Some(r#""*""#), "is not allowed with allow_credentials: true (at allow_credentials)", 1),
        (r#"{"allow_origins": [{"prefix": "https://"}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"prefix":"https://"}"#), "matches any origin (even \"https://cors-probe.invalid\"), which is not allowed with allow_credentials: true (at allow_credentials)", 1),
        (r#"{"allow_origins": [{"regex": ".*"}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"regex":".*"}"#), "matches any origin", 1),
        (r#"{"allow_origins": ["https://a.com", {"prefix": "HTTPS://", "ignore_case": true}], "allow_credentials": true}"#, "allow_origins[1]", Some(r#"{"ignore_case":true,"prefix":"HTTPS://"}"#), "matches any origin", 1),
        (r#"{"allow_origins": [{"contains": "://"}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"contains":"://"}"#), "matches any origin", 1),
        (r#"{"allow_origins": ["*"], "allow_private_network": true}"#, "allow_origins[0]", Some(r#""*""#), "is not allowed with allow_private_network: true (at allow_private_network): every website could reach this private network", 1),
        // Both at once: both reported, on the same entry.
        (r#"{"allow_origins": ["*"], "allow_credentials": true, "allow_private_network": true}"#, "allow_origins[0]", Some(r#""*""#), "(at allow_credentials)", 2),
        (r#"{"allow_origins": ["*"], "allow_credentials": true, "allow_private_network": true}"#, "allow_origins[0]", Some(r#""*""#), "(at allow_private_network)", 2),
        // "*" everywhere with credentials: methods and headers are echoed, expose_headers refused.
        (r#"{"allow_origins": ["https://a.com"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"], "allow_credentials": true}"#, "expose_headers[0]", Some(r#""*""#), "is not allowed with allow_credentials: true (at allow_credentials): browsers read \"*\" literally", 1),
    ];
    check_rows(rows);
}

/// Origins trusted beyond what they can be trusted with: wildcards over a
/// public suffix with credentials, insecure origins with credentials.
#[test]
fn trust_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["https://*.github.io"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""https://*.github.io""#), "matches every site under the public suffix \"github.io\", where anyone can register a name: with allow_credentials: true (at allow_credentials)", 1),
        (r#"{"allow_origins": ["https://*.co.uk"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""https://*.co.uk""#), "the public suffix \"co.uk\"", 1),
        (r#"{"allow_origins": ["https://*.vercel.app"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""https://*.vercel.app""#), "the public suffix \"vercel.app\"", 1),
        (r#"{"allow_origins": ["https://*.herokuapp.com:*"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""https://*.herokuapp.com:*""#), "the public suffix \"herokuapp.com\"", 1),
        // (It matches http origins too: both reported.)
        (r#"{"allow_origins": [{"suffix": ".github.io"}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"suffix":".github.io"}"#), "the public suffix \"github.io\"", 2),
        (r#"{"allow_origins": ["https://*.github.io"], "rules": [{"path_prefix": "/me", "allow_credentials": true}]}"#, "allow_origins[0]", Some(r#""https://*.github.io""#), "(at rules[0].allow_credentials)", 1),
        (r#"{"allow_origins": ["http://app.example.com"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""http://app.example.com""#), "is an insecure (http) origin trusted with allow_credentials: true (at allow_credentials): anyone on the network path can impersonate it", 1),
        (r#"{"allow_origins": ["http://*.example.com"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""http://*.example.com""#), "is an insecure (http) origin", 1),
        (r#"{"allow_origins": ["http://10.0.0.5:8080"], "allow_credentials": true}"#, "allow_origins[0]", Some(r#""http://10.0.0.5:8080""#), "is an insecure (http) origin", 1),
        (r#"{"allow_origins": [{"exact": "http://app.example.com"}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"exact":"http://app.example.com"}"#), "is an insecure (http) origin", 1),
        (r#"{"allow_origins": [{"prefix": "http://app."}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"prefix":"http://app."}"#), "is an insecure (http) origin", 1),
        (r#"{"allow_origins": [{"suffix": ".example.com"}], "allow_credentials": true}"#, "allow_origins[0]", Some(r#"{"suffix":".example.com"}"#), "is an insecure (http) origin", 1),
        (r#"{"allow_origins": ["http://app.example.com"], "rules": [{"hosts": ["a.com"], "allow_credentials": true}]}"#, "allow_origins[0]", Some(r#""http://app.example.com""#), "(at rules[0].allow_credentials)", 1),
        (r#"{"allow_origins": ["http://app.example.com"], "allow_credentials": true, "dangerously_allow_insecure_origins_with_credentials": "yes"}"#, "dangerously_allow_insecure_origins_with_credentials", Some(r#""yes""#), "must be true or false", 2),
    ];
    check_rows(rows);
}

/// Origins no browser can send: they would silently allow nothing.
#[test]
fn unsendable_origin_errors() {
    let long_label = format!("https://{}.example.com", "a".repeat(64));
    let long_host = format!("https://{}com", "abcdefghi.".repeat(26));
    let rows: Vec<(String, String, String)> = vec![
        ("file://host".into(), "allow_origins[0]".into(), "has the scheme file:, whose pages have opaque origins: browsers send Origin: null for them".into()),
        ("data://x".into(), "allow_origins[0]".into(), "has the scheme data:".into()),
        ("https://example.123".into(), "allow_origins[0]".into(), "ends in the number \"123\", so browsers read the host as an IPv4 address".into()),
        ("https://*.example.0x1f".into(), "allow_origins[0]".into(), "ends in the number \"0x1f\"".into()),
        ("http://127.0.0.1.".into(), "allow_origins[0]".into(), "is an IPv4 address with a trailing dot".into()),
        ("https://xn--abc-.example".into(), "allow_origins[0]".into(), "has the label \"xn--abc-\", which is not valid IDNA".into()),
        ("https://*.xn--abc-.example".into(), "allow_origins[0]".into(), "has the label \"xn--abc-\", which is not valid IDNA".into()),
        (long_label, "allow_origins[0]".into(), "has a label of 64 bytes".into()),
        (long_host, "allow_origins[0]".into(), "has a host of 263 bytes; hosts have at most 253".into()),
    ];
    for (origin, path, message) in rows {
        let json = serde_json::json!({"allow_origins": [origin]}).to_string();
        let errors = errors_of(&json);
        assert!(
            errors.len() == 1 && errors[0].path == path && errors[0].message.starts_with(&message),
            "{json}: want {path}: {message}...{}",
            listing(&errors)
        );
    }
}

/// Legal settings that are almost always a misunderstanding: accepted, each
/// reported as a warning naming its field and value.
#[test]
fn warnings() {
    // (json, every warning as `path = value: start of the message`)
    #[rustfmt::skip]
    let rows: &[(&str, &[&str])] = &[
        (r#"{"allow_origins": ["https://app.example.com"]}"#, &[]),
        (r#"{"allow_origins": ["https://app.example.com", "null"]}"#, &[r#"allow_origins[1] = "null": allows every sandboxed iframe, data: document and file: page"#]),
        (r#"{"allow_origins": ["https://*.github.io"]}"#, &[r#"allow_origins[0] = "https://*.github.io": matches every site under the public suffix "github.io", where anyone can register a name and call this service"#]),
        (r#"{"allow_origins": ["https://*.co.uk", "https://*.example.co.uk"]}"#, &[r#"allow_origins[0] = "https://*.co.uk": matches every site under the public suffix "co.uk""#]),
        (r#"{"allow_origins": ["https://a.com"], "allow_headers": ["content-type", "Access-Control-Allow-Origin"]}"#, &[r#"allow_headers[1] = "access-control-allow-origin": is a response header, which browsers never send"#]),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["x-id", "origin", "access-control-request-method"]}"#, &[r#"expose_headers[1] = "origin": is a request header, which responses do not carry"#, r#"expose_headers[2] = "access-control-request-method": is a request header"#]),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["b.com"], "allow_origins": ["null"]}]}"#, &[r#"rules[0].allow_origins[0] = "null": allows every sandboxed iframe"#]),
        // Inherited, reported once: at the top level.
        (r#"{"allow_origins": ["null"], "rules": [{"hosts": ["b.com"], "max_age": 5}]}"#, &[r#"allow_origins[0] = "null""#]),
    ];
    for (json, want) in rows {
        let config = parse_ok(json);
        let got: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), want.len(), "{json}: {got:#?}");
        for (got, want) in got.iter().zip(want.iter()) {
            assert!(got.starts_with(want), "{json}:\n  {got}\nwant\n  {want}...");
        }
    }
}

/// What peers accept that used to be refused, and what loopback keeps.
#[test]
fn acceptances() {
    for (json, max_age) in [
        (
            r#"{"allow_origins": ["https://a.com"], "max_age": 600.0}"#,
            Some("600"),
        ),
        (
            r#"{"allow_origins": ["https://a.com"], "max_age": 6e2}"#,
            Some("600"),
        ),
        (
            r#"{"allow_origins": ["https://a.com"], "max_age": 0.0}"#,
            Some("0"),
        ),
        (
            r#"{"allow_origins": ["https://a.com"], "max_age": 86400.0}"#,
            Some("86400"),
        ),
    ] {
        assert_eq!(parse_ok(json).default.max_age.as_deref(), max_age, "{json}");
    }
    #[rustfmt::skip]
    let accepted = [
        // `*` methods and headers with credentials: echoed (response_tests.rs).
        r#"{"allow_origins": ["https://a.com"], "allow_methods": ["*"], "allow_headers": ["*"], "allow_credentials": true}"#,
        r#"{"allow_origins": ["https://a.com"], "allow_headers": ["*", "authorization"], "allow_credentials": true}"#,
        // Loopback is potentially trustworthy over http.
        r#"{"allow_origins": ["http://localhost:*", "http://127.0.0.1:8080", "http://[::1]:3000", "http://[::1]", "http://app.localhost", "http://*.app.localhost"], "allow_credentials": true}"#,
        // The loud opt-in, at the top level or in a rule.
        r#"{"allow_origins": ["http://app.example.com"], "allow_credentials": true, "dangerously_allow_insecure_origins_with_credentials": true}"#,
        r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["intranet"], "allow_origins": ["http://intranet"], "allow_credentials": true, "dangerously_allow_insecure_origins_with_credentials": true}]}"#,
        // A registrable domain under a public suffix is fine with credentials.
        r#"{"allow_origins": ["https://*.shop.github.io", "https://*.example.co.uk"], "allow_credentials": true}"#,
        // A wildcard over a public suffix without credentials: a warning only.
        r#"{"allow_origins": ["https://*.github.io"]}"#,
        // Valid IDNA, long but legal labels and hosts.
        r#"{"allow_origins": ["https://xn--bcher-kva.example", "https://*.xn--mnchen-3ya.de"]}"#,
    ];
    for json in accepted {
        parse_ok(json);
    }
}

#[test]
fn rule_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": ["https://a.com"], "rules": {"hosts": ["a.com"]}}"#, "rules", Some(r#"{"hosts":["a.com"]}"#), "must be a list of rule objects", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": "a.com"}"#, "rules", Some(r#""a.com""#), "must be a list of rule objects", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [1]}"#, "rules[0]", Some("1"), "must be a rule object", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"]}, ["b.com"]]}"#, "rules[1]", Some(r#"["b.com"]"#), "must be a rule object", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"allow_origins": ["https://b.com"]}]}"#, "rules[0]", None, "has neither hosts nor path_prefix, so it would match every request", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{}]}"#, "rules[0]", None, "has neither hosts nor path_prefix", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": []}]}"#, "rules[0].hosts", Some("[]"), "must be a non-empty list of host names", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": "a.com"}]}"#, "rules[0].hosts", Some(r#""a.com""#), "must be a non-empty list of host names", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": [1]}]}"#, "rules[0].hosts[0]", Some("1"), "must be a string", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["https://api.example.com"]}]}"#, "rules[0].hosts[0]", Some(r#""https://api.example.com""#), "has a scheme; rules match the host only", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["api.example.com:8443"]}]}"#, "rules[0].hosts[0]", Some(r#""api.example.com:8443""#), "has a port; rules ignore the port", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["[::1]:8080"]}]}"#, "rules[0].hosts[0]", Some(r#""[::1]:8080""#), "has a port", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["api.example.com/v1"]}]}"#, "rules[0].hosts[0]", Some(r#""api.example.com/v1""#), "has a path; put it in path_prefix", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["api*.example.com"]}]}"#, "rules[0].hosts[0]", Some(r#""api*.example.com""#), "may use * only as the whole first label", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["*.*.example.com"]}]}"#, "rules[0].hosts[0]", Some(r#""*.*.example.com""#), "may use * only", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["bad host"]}]}"#, "rules[0].hosts[0]", Some(r#""bad host""#), "has an invalid host", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["ok.example.com", "a!b.com"]}]}"#, "rules[0].hosts[1]", Some(r#""a!b.com""#), "has an invalid host", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a..com"]}]}"#, "rules[0].hosts[0]", Some(r#""a..com""#), "has an invalid host", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": [""]}]}"#, "rules[0].hosts[0]", Some(r#""""#), "has no host", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"path_prefix": "api/"}]}"#, "rules[0].path_prefix", Some(r#""api/""#), "must be a string starting with /", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"path_prefix": ""}]}"#, "rules[0].path_prefix", Some(r#""""#), "must be a string starting with /", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"path_prefix": ["/a"]}]}"#, "rules[0].path_prefix", Some(r#"["/a"]"#), "must be a string starting with /", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "enabled": "false"}]}"#, "rules[0].enabled", Some(r#""false""#), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "enabled": 0}]}"#, "rules[0].enabled", Some("0"), "must be true or false", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "enabled": false, "allow_origins": ["https://b.com"]}]}"#, "rules[0].enabled", Some("false"), "switches CORS off here, so allow_origins would have no effect; remove them", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"path_prefix": "/x", "allow_credentials": true, "max_age": 5, "enabled": false}]}"#, "rules[0].enabled", Some("false"), "so max_age, allow_credentials would have no effect", 1),
        // Policy fields of a rule are checked like the top level's, at the rule's path.
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "allow_origins": []}]}"#, "rules[0].allow_origins", Some("[]"), "lists no origin", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "allow_origins": ["https://b.com/"]}]}"#, "rules[0].allow_origins[0]", Some(r#""https://b.com/""#), "ends with a slash", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "allow_origins": [{"prefx": "https://b"}]}]}"#, "rules[0].allow_origins[0].prefx", Some(r#""https://b""#), r#"did you mean "prefix"?"#, 2),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"]}, {"path_prefix": "/x", "allow_methods": ["TRACE"]}]}"#, "rules[1].allow_methods[0]", Some(r#""TRACE""#), "is a forbidden method", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "max_age": 86401}]}"#, "rules[0].max_age", Some("86401"), "must be a whole number of seconds", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "unmatched_preflights": "drop"}]}"#, "rules[0].unmatched_preflights", Some(r#""drop""#), r#"must be "reject" or "forward""#, 1),
    ];
    check_rows(rows);
}

#[test]
fn rule_combination_errors() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        // The rule turns credentials on over the top level's "*": reported at
        // the "*", naming the rule's allow_credentials.
        (r#"{"allow_origins": ["*"], "rules": [{"hosts": ["a.com"], "allow_credentials": true}]}"#, "allow_origins[0]", Some(r#""*""#), "is not allowed with allow_credentials: true (at rules[0].allow_credentials)", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["*"], "rules": [{"hosts": ["a.com"], "allow_credentials": true}]}"#, "expose_headers[0]", Some(r#""*""#), "(at rules[0].allow_credentials)", 1),
        // The rule brings the "*" under the top level's credentials.
        (r#"{"allow_origins": ["https://a.com"], "allow_credentials": true, "rules": [{"hosts": ["a.com"], "allow_origins": ["*"]}]}"#, "rules[0].allow_origins[0]", Some(r#""*""#), "is not allowed with allow_credentials: true (at allow_credentials)", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_credentials": true, "rules": [{"hosts": ["a.com"], "expose_headers": ["*"]}]}"#, "rules[0].expose_headers[0]", Some(r#""*""#), "(at allow_credentials)", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_credentials": true, "rules": [{"hosts": ["a.com"], "expose_headers": ["*"]}]}"#, "rules[0].expose_headers[0]", Some(r#""*""#), "(at allow_credentials)", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_credentials": true, "rules": [{"path_prefix": "/p", "allow_origins": [{"regex": ".*"}]}]}"#, "rules[0].allow_origins[0]", Some(r#"{"regex":".*"}"#), "matches any origin", 1),
        (r#"{"allow_origins": ["*"], "rules": [{"hosts": ["a.com"], "allow_private_network": true}]}"#, "allow_origins[0]", Some(r#""*""#), "is not allowed with allow_private_network: true (at rules[0].allow_private_network)", 1),
        (r#"{"allow_origins": ["https://a.com"], "allow_private_network": true, "rules": [{"hosts": ["a.com"], "allow_origins": ["*"]}]}"#, "rules[0].allow_origins[0]", Some(r#""*""#), "(at allow_private_network)", 1),
        // Second rule, same mistake: reported against that rule.
        (r#"{"allow_origins": ["*"], "rules": [{"hosts": ["a.com"]}, {"hosts": ["b.com"], "allow_credentials": true}]}"#, "allow_origins[0]", Some(r#""*""#), "(at rules[1].allow_credentials)", 1),
        // A top-level mistake is reported once, not again for every rule that
        // inherits it.
        (r#"{"allow_origins": ["*"], "allow_credentials": true, "rules": [{"hosts": ["a.com"]}, {"path_prefix": "/x", "allow_methods": ["PUT"], "max_age": 5}, {"hosts": ["c.com"], "enabled": false}]}"#, "allow_origins[0]", Some(r#""*""#), "(at allow_credentials)", 1),
        (r#"{"allow_origins": ["https://a.com"], "expose_headers": ["*"], "allow_credentials": true, "rules": [{"hosts": ["a.com"]}, {"hosts": ["b.com"], "allow_methods": ["PUT"]}]}"#, "expose_headers[0]", Some(r#""*""#), "(at allow_credentials)", 1),
        (r#"{"allow_origins": ["*"], "allow_private_network": true, "rules": [{"hosts": ["a.com"]}, {"hosts": ["b.com"], "max_age": 1}]}"#, "allow_origins[0]", Some(r#""*""#), "(at allow_private_network)", 1),
    ];
    check_rows(rows);
}

#[test]
fn every_mistake_is_reported_at_once() {
    let json = r#"{
        "allow_origins": ["https://a.com/", "*", {"regex": "("}],
        "allow_methods": ["CONNECT", "GET POST", 7],
        "allow_headers": ["cookie", "x y"],
        "expose_headers": ["set-cookie"],
        "max_age": 86401,
        "allow_credentials": "yes",
        "unmatched_preflights": "drop",
        "alow_methods": [],
        "rules": [
            {"hosts": [], "path_prefix": "api"},
            {"enabled": false, "max_age": 5},
            3
        ]
    }"#;
    let errors = errors_of(json);
    let mut paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    let mut want = [
        "alow_methods",
        "allow_headers[0]",
        "allow_headers[1]",
        "allow_methods[0]",
        "allow_methods[1]",
        "allow_methods[2]",
        "allow_origins[0]",
        "allow_origins[1]",
        "allow_origins[2].regex",
        "allow_credentials",
        "expose_headers[0]",
        "max_age",
        "rules[0].hosts",
        "rules[0].path_prefix",
        "rules[1]",
        "rules[1].enabled",
        "rules[2]",
        "unmatched_preflights",
    ];
    want.sort_unstable();
    assert_eq!(paths, want, "{}", listing(&errors));
    assert_eq!(errors.len(), 18);
}

#[test]
fn errors_display_paths_values_and_messages() {
    let json = r#"{"allow_origins": ["https://a.com/"], "max_age": -1, "rules": [{"hosts": ["a.com:80"]}]}"#;
    let err = Config::parse(json.as_bytes()).unwrap_err();
    assert_eq!(err.0.len(), 3);
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            r#"invalid configuration: error 1 of 3: allow_origins[0] = "https://a.com/": ends with a slash; browsers send origins without one, so it would never match"#,
            "invalid configuration: error 2 of 3: max_age = -1: must be a whole number of seconds from 0 to 86400 (Chromium caps it at 7200)",
            r#"invalid configuration: error 3 of 3: rules[0].hosts[0] = "a.com:80": has a port; rules ignore the port, so remove it"#,
            "invalid configuration: 3 errors; the configuration is refused",
        ]
    );

    let err = Config::parse(b"{}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: error 1 of 1: allow_origins: is missing; list the origins allowed to call this service, e.g. [\"https://app.example.com\"]\n\
         invalid configuration: 1 error; the configuration is refused"
    );

    let err = Config::parse(b"[1, 2]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: error 1 of 1: configuration = [1,2]: must be a JSON object\n\
         invalid configuration: 1 error; the configuration is refused"
    );
}

const FULL_EXAMPLE: &str = r#"{"allow_origins": ["https://app.example.com", "https://*.example.com", "http://localhost:*", {"regex": "https://pr-[0-9]+\\.preview\\.example\\.com"}], "allow_methods": ["GET","POST","PUT","DELETE"], "allow_headers": ["content-type","authorization"], "expose_headers": ["x-request-id"], "max_age": 600, "allow_credentials": true, "allow_private_network": false, "unmatched_preflights": "reject", "rules": [{"hosts": ["admin.example.com"], "path_prefix": "/api/", "allow_origins": ["https://admin.example.com"]}, {"hosts": ["*.internal.example.com"], "enabled": false}]}"#;

#[test]
fn full_example_parses() {
    let config = parse_ok(FULL_EXAMPLE);
    let p = &config.default;
    assert_eq!(p.allow_methods, "GET, POST, PUT, DELETE");
    assert_eq!(
        p.allow_headers.as_deref(),
        Some("content-type, authorization")
    );
    assert_eq!(p.expose_headers.as_deref(), Some("x-request-id"));
    assert_eq!(p.max_age.as_deref(), Some("600"));
    assert!(p.credentials);
    assert!(!p.private_network);
    assert_eq!(p.unmatched, Unmatched::Reject);
    assert!(!p.allows_any_origin());
    assert_eq!(
        p.preflight_vary,
        "origin, access-control-request-method, access-control-request-headers"
    );
    // (origin, allowed by the top level, allowed by rules[0])
    let origins = [
        ("https://app.example.com", true, false),
        ("https://api.example.com", true, false),
        ("https://admin.example.com", true, true),
        ("https://example.com", false, false),
        ("http://localhost:3000", true, false),
        ("http://localhost", true, false),
        ("https://localhost:3000", false, false),
        ("http://app.example.com", false, false),
        ("https://pr-1.preview.example.com.evil.io", false, false),
        ("https://evil.io", false, false),
        ("null", false, false),
    ];
    let admin = config.rules[0].policy.as_ref().expect("rules[0] policy");
    for (origin, top, rule) in origins {
        assert_eq!(p.allows_origin(origin.as_bytes()), top, "top: {origin}");
        assert_eq!(
            admin.allows_origin(origin.as_bytes()),
            rule,
            "rule: {origin}"
        );
    }
    assert!(config.has_rules());
    assert_eq!(config.rules.len(), 2);
    assert_eq!(
        config.rules[0].hosts,
        [HostPattern::Exact("admin.example.com".to_string())]
    );
    assert_eq!(config.rules[0].path_prefix.as_deref(), Some("/api/"));
    // Everything but allow_origins is inherited.
    assert_eq!(admin.allow_methods, "GET, POST, PUT, DELETE");
    assert_eq!(admin.max_age.as_deref(), Some("600"));
    assert!(admin.credentials);
    assert_eq!(
        config.rules[1].hosts,
        [HostPattern::Subdomains(".internal.example.com".to_string())]
    );
    assert_eq!(config.rules[1].path_prefix, None);
    assert!(config.rules[1].policy.is_none());
    assert!(config.policy_at(Some(1)).is_none());
    assert!(config.policy_at(Some(0)).is_some());
    assert!(config.policy_at(None).is_some());
    assert!(config.policy_at(Some(2)).is_none());
}

/// `mode` is inherited field by field like the other policy fields.
#[test]
fn mode_is_inherited_and_overridden_per_rule() {
    let config = parse_ok(
        r#"{"allow_origins": ["https://a.com"], "mode": "report",
            "rules": [{"hosts": ["a.com"]}, {"hosts": ["b.com"], "mode": "enforce"}]}"#,
    );
    let reports = |slot: Option<usize>| config.policy_at(slot).map(|p| p.reports());
    assert_eq!(
        [reports(None), reports(Some(0)), reports(Some(1))],
        [Some(true), Some(true), Some(false)]
    );
    let config = parse_ok(
        r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "mode": "report"}]}"#,
    );
    assert!(!config.default.reports());
    assert_eq!(config.policy_at(Some(0)).map(|p| p.reports()), Some(true));
}

#[test]
fn the_regex_matcher_of_the_example_is_anchored() {
    let config = parse_ok(
        r#"{"allow_origins": [{"regex": "https://pr-[0-9]+\\.preview\\.example\\.com"}], "allow_credentials": true}"#,
    );
    let cases = [
        ("https://pr-12.preview.example.com", true),
        ("https://pr-x.preview.example.com", false),
        ("https://pr-12.preview.example.com.evil.io", false),
        ("https://pr-12.previewxexample.com", false),
        ("http://pr-12.preview.example.com", false),
    ];
    for (origin, want) in cases {
        assert_eq!(
            config.default.allows_origin(origin.as_bytes()),
            want,
            "{origin}"
        );
    }
}

#[test]
fn defaults() {
    let config = parse_ok(r#"{"allow_origins": ["https://a.com"]}"#);
    let p = &config.default;
    // No methods configured: only the safelisted ones, and the header says so.
    assert_eq!(p.allow_methods, "GET, HEAD, POST");
    assert_eq!(
        p.check_preflight(b"https://a.com", b"PUT", None),
        Err(Reason::Method)
    );
    assert_eq!(p.check_preflight(b"https://a.com", b"GET", None), Ok(()));
    // No headers configured.
    assert_eq!(p.allow_headers, None);
    assert_eq!(
        p.check_preflight(b"https://a.com", b"GET", Some(b"x-a")),
        Err(Reason::Headers)
    );
    assert_eq!(p.expose_headers, None);
    assert_eq!(p.max_age, None);
    assert!(!p.credentials);
    assert!(!p.private_network);
    assert_eq!(p.unmatched, Unmatched::Reject);
    assert!(!config.has_rules());
    assert!(config.rules.is_empty());

    let object: Map<String, Value> =
        serde_json::from_str(r#"{"allow_origins": ["https://a.com"]}"#).unwrap();
    let mut errors = Vec::new();
    let fields = read_fields(&object, "", &mut errors);
    assert!(errors.is_empty());
    assert!(fields.methods.is_none());
    assert!(fields.headers.is_none());
    assert!(fields.expose.is_none());
    assert_eq!(fields.max_age, None);
    assert!(fields.credentials.is_none());
    assert!(fields.private_network.is_none());
    assert_eq!(fields.unmatched, None);
}

#[test]
fn scalar_values() {
    // (json fields besides allow_origins, max_age, credentials, private network, unmatched)
    let cases: [(&str, Option<&str>, bool, bool, Unmatched); 7] = [
        (
            r#""max_age": 0"#,
            Some("0"),
            false,
            false,
            Unmatched::Reject,
        ),
        (
            r#""max_age": 86400"#,
            Some("86400"),
            false,
            false,
            Unmatched::Reject,
        ),
        (
            r#""max_age": 7200, "allow_credentials": true"#,
            Some("7200"),
            true,
            false,
            Unmatched::Reject,
        ),
        (
            r#""allow_credentials": false, "allow_private_network": true"#,
            None,
            false,
            true,
            Unmatched::Reject,
        ),
        (
            r#""unmatched_preflights": "forward""#,
            None,
            false,
            false,
            Unmatched::Forward,
        ),
        (
            r#""unmatched_preflights": "reject""#,
            None,
            false,
            false,
            Unmatched::Reject,
        ),
        (r#""rules": []"#, None, false, false, Unmatched::Reject),
    ];
    for (fields, max_age, credentials, private_network, unmatched) in cases {
        let json = format!(r#"{{"allow_origins": ["https://a.com"], {fields}}}"#);
        let p = parse_ok(&json).default;
        assert_eq!(p.max_age.as_deref(), max_age, "{json}");
        assert_eq!(p.credentials, credentials, "{json}");
        assert_eq!(p.private_network, private_network, "{json}");
        assert_eq!(p.unmatched, unmatched, "{json}");
    }
}

#[test]
fn method_normalization() {
    // (configured, allow-methods value)
    let cases = [
        ("put", "PUT"),
        ("PUT", "PUT"),
        ("Put", "PUT"),
        ("delete", "DELETE"),
        ("options", "OPTIONS"),
        ("get", "GET"),
        ("head", "HEAD"),
        ("post", "POST"),
        // Not one of the six Fetch uppercases: kept exactly as written.
        ("patch", "patch"),
        ("PATCH", "PATCH"),
        ("Patch", "Patch"),
        ("x-custom", "x-custom"),
        ("PROPFIND", "PROPFIND"),
        ("*", "*"),
    ];
    for (configured, want) in cases {
        let json =
            format!(r#"{{"allow_origins": ["https://a.com"], "allow_methods": ["{configured}"]}}"#);
        assert_eq!(parse_ok(&json).default.allow_methods, want, "{configured}");
    }
}

#[test]
fn header_names_are_lowercased() {
    // (configured, allow-headers value, expose-headers value)
    let cases = [
        ("Content-Type", "content-type"),
        ("X-Request-ID", "x-request-id"),
        ("authorization", "authorization"),
        ("AUTHORIZATION", "authorization"),
        ("X_Custom~1", "x_custom~1"),
    ];
    for (configured, want) in cases {
        let json = format!(
            r#"{{"allow_origins": ["https://a.com"], "allow_headers": ["{configured}"], "expose_headers": ["{configured}"]}}"#
        );
        let p = parse_ok(&json).default;
        assert_eq!(p.allow_headers.as_deref(), Some(want), "{configured}");
        assert_eq!(p.expose_headers.as_deref(), Some(want), "{configured}");
    }
}

#[test]
fn duplicates_are_removed() {
    let config = parse_ok(
        r#"{"allow_origins": ["https://a.com", "https://a.com", "null", "null"],
            "allow_methods": ["PUT", "put", "patch", "PUT", "patch", "PATCH"],
            "allow_headers": ["X-A", "x-a", "content-type", "Content-Type"],
            "expose_headers": ["x-b", "X-B", "x-c"]}"#,
    );
    let p = &config.default;
    assert_eq!(p.allow_methods, "PUT, patch, PATCH");
    assert_eq!(p.allow_headers.as_deref(), Some("x-a, content-type"));
    assert_eq!(p.expose_headers.as_deref(), Some("x-b, x-c"));
    assert!(p.allows_origin(b"https://a.com"));
    assert!(p.allows_origin(b"null"));

    // The first spelling is the one kept, with its own path.
    let object: Map<String, Value> =
        serde_json::from_str(r#"{"allow_methods": ["PUT", "put", "patch", "*", "*"]}"#).unwrap();
    let mut errors = Vec::new();
    let fields = read_fields(&object, "rules[3]", &mut errors);
    assert!(errors.is_empty());
    assert_eq!(
        fields.methods,
        Some(vec![
            ("rules[3].allow_methods[0]".to_string(), "PUT".to_string()),
            ("rules[3].allow_methods[2]".to_string(), "patch".to_string()),
            ("rules[3].allow_methods[3]".to_string(), "*".to_string()),
        ])
    );
}

#[test]
fn valid_origin_entries() {
    // (allow_origins and other fields, origin, allowed)
    let cases: &[(&str, &str, bool)] = &[
        (r#""allow_origins": ["null"]"#, "null", true),
        (r#""allow_origins": ["null"]"#, "https://a.com", false),
        (
            r#""allow_origins": ["null"], "allow_credentials": true"#,
            "null",
            true,
        ),
        (r#""allow_origins": ["*"]"#, "https://any.example", true),
        (r#""allow_origins": ["*"]"#, "null", true),
        (
            r#""allow_origins": ["*"], "allow_credentials": false"#,
            "https://any.example",
            true,
        ),
        (
            r#""allow_origins": ["https://example.com."]"#,
            "https://example.com.",
            true,
        ),
        (
            r#""allow_origins": ["http://[::1]:8080"]"#,
            "http://[::1]:8080",
            true,
        ),
        (
            r#""allow_origins": ["http://127.0.0.1:3000"]"#,
            "http://127.0.0.1:3000",
            true,
        ),
        (
            r#""allow_origins": ["https://*.example.com:*"]"#,
            "https://a.example.com:8443",
            true,
        ),
        (
            r#""allow_origins": ["chrome-extension://abcdef"]"#,
            "chrome-extension://abcdef",
            true,
        ),
        // Every matcher kind, with and without ignore_case.
        (
            r#""allow_origins": [{"exact": "https://a.com"}]"#,
            "https://a.com",
            true,
        ),
        (
            r#""allow_origins": [{"exact": "https://A.com"}]"#,
            "https://a.com",
            false,
        ),
        (
            r#""allow_origins": [{"exact": "https://A.com", "ignore_case": true}]"#,
            "https://a.com",
            true,
        ),
        (
            r#""allow_origins": [{"prefix": "https://pr-"}], "allow_credentials": true"#,
            "https://pr-7.example.com",
            true,
        ),
        (
            r#""allow_origins": [{"prefix": "https://pr-"}]"#,
            "http://pr-7.example.com",
            false,
        ),
        (
            r#""allow_origins": [{"suffix": ".example.com"}]"#,
            "https://a.example.com",
            true,
        ),
        (
            r#""allow_origins": [{"suffix": ".example.com"}]"#,
            "https://a.example.com.evil.io",
            false,
        ),
        (
            r#""allow_origins": [{"suffix": ".EXAMPLE.com", "ignore_case": false}]"#,
            "https://a.example.com",
            false,
        ),
        (
            r#""allow_origins": [{"contains": "example"}]"#,
            "https://my-example.io",
            true,
        ),
        (
            r#""allow_origins": [{"contains": "EXAMPLE", "ignore_case": true}]"#,
            "https://my-example.io",
            true,
        ),
        (
            r#""allow_origins": [{"regex": "https://[a-z]+\\.example\\.com"}]"#,
            "https://app.example.com",
            true,
        ),
        (
            r#""allow_origins": [{"regex": "https://[a-z]+\\.example\\.com"}]"#,
            "https://app.example.com.evil.io",
            false,
        ),
        (
            r#""allow_origins": [{"regex": "https://A\\.com", "ignore_case": true}]"#,
            "https://a.com",
            true,
        ),
        // A matcher never matches a malformed origin.
        (
            r#""allow_origins": [{"prefix": "https://a.com"}]"#,
            "https://a.com/path",
            false,
        ),
    ];
    for &(fields, origin, want) in cases {
        let json = format!("{{{fields}}}");
        let config = parse_ok(&json);
        assert_eq!(
            config.default.allows_origin(origin.as_bytes()),
            want,
            "{json} vs {origin}"
        );
    }
}

#[test]
fn valid_rules() {
    let config = parse_ok(
        r#"{"allow_origins": ["*"],
            "rules": [
                {"hosts": ["API.Example.com", "*.Example.org", "*", "[::1]", "127.0.0.1"]},
                {"path_prefix": "/"},
                {"hosts": ["a.com"], "path_prefix": "/x", "enabled": true},
                {"hosts": ["b.com"], "enabled": false}
            ]}"#,
    );
    assert_eq!(
        config.rules[0].hosts,
        [
            HostPattern::Exact("api.example.com".to_string()),
            HostPattern::Subdomains(".example.org".to_string()),
            HostPattern::Any,
            HostPattern::Exact("[::1]".to_string()),
            HostPattern::Exact("127.0.0.1".to_string()),
        ]
    );
    assert!(config.rules[0].policy.is_some());
    assert!(config.rules[1].hosts.is_empty());
    assert_eq!(config.rules[1].path_prefix.as_deref(), Some("/"));
    assert!(config.rules[2].policy.is_some());
    assert!(config.rules[3].policy.is_none());
}

/// Like `"*"`, a matcher that matches every origin would let every website
/// reach the private network: it must be refused as `"*"` is (see
/// `combination_errors`), just as it is refused with credentials.
#[test]
fn private_network_with_a_matcher_matching_every_origin() {
    #[rustfmt::skip]
    let rows: &[Row] = &[
        (r#"{"allow_origins": [{"regex": ".*"}], "allow_private_network": true}"#, "allow_origins[0]", Some(r#"{"regex":".*"}"#), "allow_private_network: true (at allow_private_network)", 1),
        (r#"{"allow_origins": ["https://a.com", {"prefix": "https://"}], "allow_private_network": true}"#, "allow_origins[1]", Some(r#"{"prefix":"https://"}"#), "allow_private_network: true (at allow_private_network)", 1),
        (r#"{"allow_origins": ["https://a.com"], "rules": [{"hosts": ["a.com"], "allow_origins": [{"prefix": "http"}], "allow_private_network": true}]}"#, "rules[0].allow_origins[0]", Some(r#"{"prefix":"http"}"#), "allow_private_network: true (at rules[0].allow_private_network)", 1),
    ];
    check_rows(rows);
}

// Rule selection: which policy applies to a host and path.

use crate::response::{self, HeaderPlan};

const APP: &str = "https://app.example.com";
const NO_LISTS: &str = r#"{"allow_origins": ["https://app.example.com"]}"#;
const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// The headers a plan writes, in order, as text.
fn written(plan: &HeaderPlan<'_>) -> Vec<(&'static str, String)> {
    plan.iter()
        .flatten()
        .map(|(name, value)| (*name, String::from_utf8_lossy(value).into_owned()))
        .collect()
}

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
    let config = parse_ok(RULES);
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
    let config = parse_ok(RULES);
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
            false,
            b"PUT",
            None
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
    let config = parse_ok(NO_LISTS);
    assert!(!config.has_rules());
    for (authority, path) in [("a.com", "/"), ("", ""), ("admin.example.com", "/api/")] {
        let s = config.select(authority.as_bytes(), path.as_bytes());
        assert_eq!(s.rule, None);
        assert!(std::ptr::eq(s.policy.unwrap(), &config.default));
    }
}

#[test]
fn rule_without_policy_fields_shields_later_rules() {
    let config = parse_ok(
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
