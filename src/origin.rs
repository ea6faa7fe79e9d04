//! Serialized origins (`scheme://host[:port]` or `null`), as browsers send them
//! in the `Origin` header. Parsing never allocates: it runs on every request.

use std::net::Ipv6Addr;

/// Longer than any origin a browser sends; bounds the work on hostile input.
pub const MAX_ORIGIN_LEN: usize = 1024;

/// An origin split into its parts, borrowing the request's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    pub scheme: &'a [u8],
    pub host: &'a [u8],
    /// Digits of an explicit, non-default port.
    pub port: Option<&'a [u8]>,
}

/// Why a string is not a serialized origin. Each reads as the end of
/// "this origin ..." in configuration errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginError {
    Empty,
    TooLong,
    NoScheme,
    BadScheme,
    UppercaseScheme,
    Userinfo,
    Path,
    TrailingSlash,
    EmptyHost,
    UppercaseHost,
    BadHost,
    BadIpv4,
    BadIpv6,
    NonCanonicalIpv6,
    BadPort,
    DefaultPort,
}

impl OriginError {
    pub fn message(self) -> &'static str {
        match self {
            OriginError::Empty => "is empty",
            OriginError::TooLong => "is longer than 1024 bytes",
            OriginError::NoScheme => "has no scheme; write it as scheme://host[:port], e.g. https://app.example.com",
            OriginError::BadScheme => "has an invalid scheme",
            OriginError::UppercaseScheme => "has an uppercase scheme; browsers send it lowercase, so it would never match",
            OriginError::Userinfo => "contains userinfo (user@); an origin is scheme://host[:port]",
            OriginError::Path => "has a path, query or fragment; an origin is scheme://host[:port]",
            OriginError::TrailingSlash => "ends with a slash; browsers send origins without one, so it would never match",
            OriginError::EmptyHost => "has no host",
            OriginError::UppercaseHost => "has an uppercase host; browsers send it lowercase, so it would never match",
            OriginError::BadHost => "has an invalid host",
            OriginError::BadIpv4 => "has an IPv4 host browsers would write differently (e.g. 127.1 for 127.0.0.1)",
            OriginError::BadIpv6 => "has an invalid IPv6 host",
            OriginError::NonCanonicalIpv6 => "has an IPv6 host browsers would write differently (lowercase, zeros compressed, e.g. [::1])",
            OriginError::BadPort => "has an invalid port (1-65535, no leading zeros)",
            OriginError::DefaultPort => "names the scheme's default port; browsers omit it (https://host, not https://host:443)",
        }
    }
}

/// Parses a serialized origin other than `null`.
pub fn parse(input: &[u8]) -> Result<Origin<'_>, OriginError> {
    if input.is_empty() {
        return Err(OriginError::Empty);
    }
    if input.len() > MAX_ORIGIN_LEN {
        return Err(OriginError::TooLong);
    }
    let sep = find_scheme_end(input).ok_or(OriginError::NoScheme)?;
    let scheme = &input[..sep];
    check_scheme(scheme)?;
    let rest = &input[sep + 3..];
    if rest.contains(&b'@') {
        return Err(OriginError::Userinfo);
    }
    if let Some(i) = rest.iter().position(|&b| matches!(b, b'/' | b'?' | b'#')) {
        if rest[i] == b'/' && i + 1 == rest.len() {
            return Err(OriginError::TrailingSlash);
        }
        return Err(OriginError::Path);
    }
    let (host, port) = split_host_port(rest)?;
    check_host(host)?;
    if let Some(port) = port {
        check_port(scheme, port)?;
    }
    Ok(Origin { scheme, host, port })
}

/// Where `://` starts. Compared byte by byte: a slice comparison per window
/// would cost a `memcmp` call at every position.
fn find_scheme_end(input: &[u8]) -> Option<usize> {
    input
        .windows(3)
        .position(|w| w[0] == b':' && w[1] == b'/' && w[2] == b'/')
}

fn check_scheme(scheme: &[u8]) -> Result<(), OriginError> {
    let first_ok = scheme.first().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = scheme
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !first_ok || !rest_ok {
        return Err(OriginError::BadScheme);
    }
    if scheme.iter().any(u8::is_ascii_uppercase) {
        return Err(OriginError::UppercaseScheme);
    }
    Ok(())
}

/// `host[:port]` → (host, port), an IPv6 host in brackets.
pub(crate) fn split_host_port(authority: &[u8]) -> Result<(&[u8], Option<&[u8]>), OriginError> {
    let host_end = if authority.first() == Some(&b'[') {
        authority
            .iter()
            .position(|&b| b == b']')
            .map(|i| i + 1)
            .ok_or(OriginError::BadIpv6)?
    } else {
        authority
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest {
        [] => Ok((host, None)),
        [b':', port @ ..] => Ok((host, Some(port))),
        _ => Err(OriginError::BadHost),
    }
}

/// Checks a host as the URL standard serializes it: a lowercase domain,
/// a dotted-quad IPv4 address, or a bracketed canonical IPv6 address.
pub fn check_host(host: &[u8]) -> Result<(), OriginError> {
    match host {
        [] => Err(OriginError::EmptyHost),
        [b'[', inner @ .., b']'] => check_ipv6(inner),
        _ => check_domain(host),
    }
}

fn check_domain(host: &[u8]) -> Result<(), OriginError> {
    // A single trailing dot is a distinct, valid origin ("example.com.").
    let body = host.strip_suffix(b".").unwrap_or(host);
    // One pass over the host (it runs on every request's origin): labels are
    // non-empty runs of [a-z0-9-_]; an uppercase letter anywhere is reported
    // before any other fault, as its message is the more useful one.
    let (mut uppercase, mut bad, mut numeric) = (false, body.is_empty(), true);
    let mut label_len = 0usize;
    for &b in body {
        match b {
            b'.' => {
                bad |= label_len == 0;
                label_len = 0;
                continue;
            }
            b'0'..=b'9' => {}
            b'a'..=b'z' | b'-' | b'_' => numeric = false,
            b'A'..=b'Z' => (uppercase, numeric) = (true, false),
            _ => (bad, numeric) = (true, false),
        }
        label_len += 1;
    }
    bad |= label_len == 0;
    if uppercase {
        return Err(OriginError::UppercaseHost);
    }
    if bad {
        return Err(OriginError::BadHost);
    }
    if numeric && !is_canonical_ipv4(body) {
        return Err(OriginError::BadIpv4);
    }
    Ok(())
}

fn is_canonical_ipv4(host: &[u8]) -> bool {
    let mut parts = 0;
    for part in host.split(|&b| b == b'.') {
        parts += 1;
        let ok = match part {
            [b'0'] => true,
            [b'0', ..] => false,
            _ => part.len() <= 3 && parse_decimal(part).is_some_and(|n| n <= 255),
        };
        if !ok {
            return false;
        }
    }
    parts == 4
}

fn check_ipv6(inner: &[u8]) -> Result<(), OriginError> {
    let text = std::str::from_utf8(inner).map_err(|_| OriginError::BadIpv6)?;
    let addr: Ipv6Addr = text.parse().map_err(|_| OriginError::BadIpv6)?;
    let mut buf = [0u8; 40];
    if serialize_ipv6(&addr, &mut buf) != inner {
        return Err(OriginError::NonCanonicalIpv6);
    }
    Ok(())
}

/// The URL standard's IPv6 serializer: lowercase hex, no leading zeros, the
/// first longest run of two or more zero pieces compressed to `::`.
fn serialize_ipv6<'b>(addr: &Ipv6Addr, buf: &'b mut [u8; 40]) -> &'b [u8] {
    let pieces = addr.segments();
    let (mut best_start, mut best_len) = (usize::MAX, 1);
    let mut i = 0;
    while i < 8 {
        let start = i;
        while i < 8 && pieces[i] == 0 {
            i += 1;
        }
        if i - start > best_len {
            (best_start, best_len) = (start, i - start);
        }
        i += 1;
    }
    let mut len = 0;
    let mut push = |b: u8, len: &mut usize| {
        buf[*len] = b;
        *len += 1;
    };
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            if i == 0 {
                push(b':', &mut len);
            }
            push(b':', &mut len);
            i += best_len;
            continue;
        }
        let piece = pieces[i];
        let mut started = false;
        for shift in [12u16, 8, 4, 0] {
            let nibble = ((piece >> shift) & 0xf) as u8;
            if nibble != 0 || started || shift == 0 {
                started = true;
                push(b"0123456789abcdef"[nibble as usize], &mut len);
            }
        }
        if i != 7 {
            push(b':', &mut len);
        }
        i += 1;
    }
    &buf[..len]
}

fn check_port(scheme: &[u8], port: &[u8]) -> Result<(), OriginError> {
    let valid = match port {
        [] | [b'0', ..] => false,
        _ => port.len() <= 5 && parse_decimal(port).is_some_and(|n| n <= 65535),
    };
    if !valid {
        return Err(OriginError::BadPort);
    }
    let default = match scheme {
        b"http" | b"ws" => Some(&b"80"[..]),
        b"https" | b"wss" => Some(&b"443"[..]),
        _ => None,
    };
    if default == Some(port) {
        return Err(OriginError::DefaultPort);
    }
    Ok(())
}

fn parse_decimal(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit()
            .then(|| n.saturating_mul(10).saturating_add(u32::from(b - b'0')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_origins() {
        let cases: [(&str, &str, &str, Option<&str>); 9] = [
            ("https://example.com", "https", "example.com", None),
            ("http://localhost:8080", "http", "localhost", Some("8080")),
            ("https://a.b.example.com", "https", "a.b.example.com", None),
            ("http://127.0.0.1:3000", "http", "127.0.0.1", Some("3000")),
            ("http://[::1]:8080", "http", "[::1]", Some("8080")),
            ("https://[2001:db8::1]", "https", "[2001:db8::1]", None),
            ("https://example.com.", "https", "example.com.", None),
            (
                "chrome-extension://abcdef",
                "chrome-extension",
                "abcdef",
                None,
            ),
            (
                "https://xn--bcher-kva.example",
                "https",
                "xn--bcher-kva.example",
                None,
            ),
        ];
        for (input, scheme, host, port) in cases {
            let origin = parse(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!(origin.scheme, scheme.as_bytes(), "{input}");
            assert_eq!(origin.host, host.as_bytes(), "{input}");
            assert_eq!(origin.port, port.map(str::as_bytes), "{input}");
        }
    }

    #[test]
    fn invalid_origins() {
        use OriginError::*;
        let long = format!("https://{}.com", "a".repeat(1100));
        let cases: Vec<(&[u8], OriginError)> = vec![
            (b"", Empty),
            (long.as_bytes(), TooLong),
            (b"example.com", NoScheme),
            (b"//example.com", NoScheme),
            (b"://example.com", BadScheme),
            (b"1http://example.com", BadScheme),
            (b"HTTPS://example.com", UppercaseScheme),
            (b"https://user@example.com", Userinfo),
            (b"https://example.com/path", Path),
            (b"https://example.com?q", Path),
            (b"https://example.com/", TrailingSlash),
            (b"https://", EmptyHost),
            (b"https://:443", EmptyHost),
            (b"https://Example.com", UppercaseHost),
            (b"https://exa mple.com", BadHost),
            (b"https://a..b", BadHost),
            (b"https://.example.com", BadHost),
            (b"https://*.example.com", BadHost),
            (b"https://caf\xc3\xa9.com", BadHost),
            (b"https://a.com,https://b.com", Path),
            (b"https://a.com,b.com", BadHost),
            (b"http://127.1", BadIpv4),
            (b"http://1.2.3.04", BadIpv4),
            (b"http://[::1", BadIpv6),
            (b"http://[zz::1]", BadIpv6),
            (b"http://[0:0::1]", NonCanonicalIpv6),
            (b"http://[::ABCD]", NonCanonicalIpv6),
            (b"http://[::1]x", BadHost),
            (b"http://localhost:", BadPort),
            (b"http://localhost:0", BadPort),
            (b"http://localhost:080", BadPort),
            (b"http://localhost:65536", BadPort),
            (b"http://localhost:99999999999", BadPort),
            (b"http://example.com:80", DefaultPort),
            (b"https://example.com:443", DefaultPort),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse(input),
                Err(want),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    /// `check_domain` and `find_scheme_end` were rewritten for speed; these are
    /// the straightforward versions they replaced, compared on every string of
    /// up to 6 bytes over an alphabet that reaches every branch.
    fn check_domain_reference(host: &[u8]) -> Result<(), OriginError> {
        if host.iter().any(u8::is_ascii_uppercase) {
            return Err(OriginError::UppercaseHost);
        }
        let body = host.strip_suffix(b".").unwrap_or(host);
        let labels_ok = !body.is_empty()
            && body.split(|&b| b == b'.').all(|label| {
                !label.is_empty()
                    && label.iter().all(|&b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    })
            });
        if !labels_ok {
            return Err(OriginError::BadHost);
        }
        let numeric = body.iter().all(|&b| b.is_ascii_digit() || b == b'.');
        if numeric && !is_canonical_ipv4(body) {
            return Err(OriginError::BadIpv4);
        }
        Ok(())
    }

    #[test]
    fn fast_paths_match_their_reference_exhaustively() {
        const ALPHABET: &[u8] = b"aZ09.-_:/ \xc3";
        let mut input = Vec::new();
        let mut checked = 0;
        for len in 0..=6u32 {
            for mut n in 0..ALPHABET.len().pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(ALPHABET[n % ALPHABET.len()]);
                    n /= ALPHABET.len();
                }
                assert_eq!(
                    check_domain(&input),
                    check_domain_reference(&input),
                    "{input:?}"
                );
                assert_eq!(
                    find_scheme_end(&input),
                    input.windows(3).position(|w| w == b"://"),
                    "{input:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 1_948_717);
    }

    #[test]
    fn ipv6_serialization_matches_the_url_standard() {
        let cases = [
            ("::1", "::1"),
            ("::", "::"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("1:0:0:0:0:0:0:0", "1::"),
            ("fe80::abcd", "fe80::abcd"),
        ];
        for (input, want) in cases {
            let addr: Ipv6Addr = input.parse().unwrap();
            let mut buf = [0u8; 40];
            assert_eq!(serialize_ipv6(&addr, &mut buf), want.as_bytes(), "{input}");
        }
    }
}
