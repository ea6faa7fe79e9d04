//! HTTP tokens (RFC 9110 §5.6.2) and the Fetch standard's lists of methods and headers.

/// `tchar`: the bytes allowed in a method or a header name.
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// `is_tchar` as a table: one load per byte of every requested header name.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    table
};

pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Methods a browser never lets a script send (Fetch: "forbidden method").
pub fn is_forbidden_method(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// Methods that never need a preflight (Fetch: "CORS-safelisted method").
pub fn is_safelisted_method(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"HEAD" | b"POST")
}

/// Fetch normalizes these six methods to uppercase before sending them, so a
/// configured `put` must be compared as `PUT`. Any other method is case-sensitive.
pub fn normalize_method(method: &str) -> String {
    const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    match NORMALIZED.iter().find(|m| m.eq_ignore_ascii_case(method)) {
        Some(m) => (*m).to_string(),
        None => method.to_string(),
    }
}

/// Request headers a script can never set (Fetch: "forbidden request-header"),
/// so allowing them would have no effect. Compared lowercase.
pub fn is_forbidden_request_header(name: &str) -> bool {
    const FORBIDDEN: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    FORBIDDEN.contains(&name) || name.starts_with("proxy-") || name.starts_with("sec-")
}

/// Response headers JavaScript can never read, whatever Access-Control-Expose-Headers says.
pub fn is_forbidden_response_header(name: &str) -> bool {
    name == "set-cookie" || name == "set-cookie2"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let cases: [(&[u8], bool); 8] = [
            (b"GET", true),
            (b"x-custom_1", true),
            (b"a!#$%&'*+-.^_`|~z", true),
            (b"", false),
            (b"GET POST", false),
            (b"a,b", false),
            (b"caf\xc3\xa9", false),
            (b"x:y", false),
        ];
        for (input, want) in cases {
            assert_eq!(
                is_token(input),
                want,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn tchar_table_is_rfc_9110() {
        let specials = b"!#$%&'*+-.^_`|~";
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || specials.contains(&b);
            assert_eq!(is_tchar(b), want, "byte {b}");
        }
    }

    #[test]
    fn methods() {
        assert!(is_forbidden_method("connect"));
        assert!(is_forbidden_method("TRACK"));
        assert!(!is_forbidden_method("PATCH"));
        assert_eq!(normalize_method("put"), "PUT");
        assert_eq!(normalize_method("patch"), "patch");
        assert!(is_safelisted_method(b"HEAD"));
        assert!(!is_safelisted_method(b"get"));
    }

    #[test]
    fn forbidden_headers() {
        for name in [
            "cookie",
            "host",
            "sec-fetch-mode",
            "proxy-authorization",
            "origin",
        ] {
            assert!(is_forbidden_request_header(name), "{name}");
        }
        for name in ["authorization", "content-type", "x-requested-with"] {
            assert!(!is_forbidden_request_header(name), "{name}");
        }
        assert!(is_forbidden_response_header("set-cookie"));
        assert!(!is_forbidden_response_header("x-request-id"));
    }
}
