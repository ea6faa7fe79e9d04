//! Hosts no browser can send in `Origin`, and loopback hosts: configuration-time
//! checks of the hosts in `allow_origins` (a request's origin never goes
//! through them; it simply matches nothing). Public suffixes: `public_suffix.rs`.

/// Schemes whose URLs have opaque origins: browsers send `Origin: null` for
/// them, never `scheme://...`.
const OPAQUE_SCHEMES: [&str; 7] = [
    "file",
    "data",
    "blob",
    "about",
    "javascript",
    "mailto",
    "filesystem",
];

/// DNS limits (RFC 1035), which browsers enforce on hosts.
const MAX_LABEL: usize = 63;
const MAX_HOST: usize = 253;

/// Why no browser would ever send an origin with this scheme and host (a
/// wildcard's base host included); completes "the origin ...".
pub fn unsendable(scheme: &str, host: &str) -> Option<String> {
    if OPAQUE_SCHEMES.contains(&scheme) {
        return Some(format!(
            "has the scheme {scheme}:, whose pages have opaque origins: browsers send Origin: null for them, so it would never match"
        ));
    }
    if host.starts_with('[') {
        return None;
    }
    let body = host.strip_suffix('.').unwrap_or(host);
    let labels: Vec<&str> = body.split('.').collect();
    let last = labels.last().copied().unwrap_or_default();
    if ends_in_a_number(last) {
        if host.ends_with('.') {
            return Some(
                "is an IPv4 address with a trailing dot; browsers write it without one, so it would never match"
                    .to_string(),
            );
        }
        if !is_dotted_quad(body) {
            return Some(format!(
                "ends in the number {last:?}, so browsers read the host as an IPv4 address, which it is not: it would never match"
            ));
        }
        return None;
    }
    if body.len() > MAX_HOST {
        return Some(format!(
            "has a host of {} bytes; hosts have at most {MAX_HOST}, so it would never match",
            body.len()
        ));
    }
    if let Some(label) = labels.iter().find(|l| l.len() > MAX_LABEL) {
        return Some(format!(
            "has a label of {} bytes ({}…); labels have at most {MAX_LABEL}, so it would never match",
            label.len(),
            label.chars().take(16).collect::<String>()
        ));
    }
    if let Some(label) = labels
        .iter()
        .find(|l| l.starts_with("xn--") && !is_idna_label(&l[4..]))
    {
        return Some(format!(
            "has the label {label:?}, which is not valid IDNA (its punycode does not decode to a name): it would never match"
        ));
    }
    None
}

/// The URL standard's "ends in a number": the last label is decimal digits,
/// or `0x` and hex digits; such a host goes to the IPv4 parser.
fn ends_in_a_number(label: &str) -> bool {
    let hex = label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || (!label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()))
}

/// Four decimal parts 0-255 without leading zeros: the only IPv4 form a
/// browser serializes.
fn is_dotted_quad(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// Whether the part of an `xn--` label after the prefix is punycode (RFC 3492)
/// that decodes to a name with at least one non-ASCII character and no
/// control character, as IDNA requires of such a label. (IDNA's full tables
/// refuse more; these are the mistakes a configuration makes.)
fn is_idna_label(encoded: &str) -> bool {
    decode_punycode(encoded).is_some_and(|points| {
        points.iter().any(|&c| c > 0x7f)
            && points
                .iter()
                .all(|&c| char::from_u32(c).is_some_and(|ch| !ch.is_control()))
    })
}

// RFC 3492's parameters for punycode.
const BASE: u32 = 36;
const TMIN: u32 = 1;
const TMAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;

/// RFC 3492's decoder; `None` where the input is not valid punycode.
fn decode_punycode(input: &str) -> Option<Vec<u32>> {
    let (basic, extended) = match input.rfind('-') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => ("", input),
    };
    if !basic.is_ascii() {
        return None;
    }
    let mut output: Vec<u32> = basic.chars().map(u32::from).collect();
    let (mut n, mut bias, mut i): (u32, u32, u32) = (0x80, 72, 0);
    let mut digits = extended.bytes().peekable();
    while digits.peek().is_some() {
        let old_i = i;
        let mut weight: u32 = 1;
        let mut k = BASE;
        loop {
            let digit = match digits.next()? {
                b @ b'a'..=b'z' => u32::from(b - b'a'),
                b @ b'A'..=b'Z' => u32::from(b - b'A'),
                b @ b'0'..=b'9' => u32::from(b - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(weight)?)?;
            let t = if k <= bias {
                TMIN
            } else if k >= bias + TMAX {
                TMAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            weight = weight.checked_mul(BASE - t)?;
            k += BASE;
        }
        let length = u32::try_from(output.len()).ok()? + 1;
        bias = adapt(i - old_i, length, old_i == 0);
        n = n.checked_add(i / length)?;
        i %= length;
        if n > 0x10ffff || (0xd800..=0xdfff).contains(&n) {
            return None;
        }
        output.insert(usize::try_from(i).ok()?, n);
        i += 1;
    }
    Some(output)
}

/// RFC 3492's bias adaptation.
fn adapt(delta: u32, length: u32, first: bool) -> u32 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / length;
    let mut k = 0;
    while delta > ((BASE - TMIN) * TMAX) / 2 {
        delta /= BASE - TMIN;
        k += BASE;
    }
    k + (BASE - TMIN + 1) * delta / (delta + SKEW)
}

/// Hosts browsers treat as potentially trustworthy over plain http: the
/// loopback names and addresses.
pub fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || (is_dotted_quad(host) && host.starts_with("127."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[rustfmt::skip]
    fn hosts_no_browser_sends() {
        // (scheme, host, the start of the reason; "" for sendable)
        let cases = [
            ("https", "app.example.com", ""),
            ("https", "example.com.", ""),
            ("http", "127.0.0.1", ""),
            ("http", "[::1]", ""),
            ("chrome-extension", "abcdefghijklmnop", ""),
            ("file", "host", "has the scheme file:"),
            ("data", "x", "has the scheme data:"),
            ("https", "example.123", "ends in the number \"123\""),
            ("https", "1.2.3.999", "ends in the number \"999\""),
            ("https", "example.0x1f", "ends in the number \"0x1f\""),
            ("https", "0x7f.1", "ends in the number \"1\""),
            ("http", "127.0.0.1.", "is an IPv4 address with a trailing dot"),
            ("https", "123abc.example", ""),
            ("https", &format!("{}.example.com", "a".repeat(64)), "has a label of 64 bytes"),
            ("https", &format!("{}.example.com", "a".repeat(63)), ""),
            ("https", &format!("{}com", "abcdefghi.".repeat(26)), "has a host of 263 bytes"),
            ("https", "xn--bcher-kva.example", ""),
            ("https", "xn--mnchen-3ya.de", ""),
            ("https", "xn--abc-.example", "has the label \"xn--abc-\", which is not valid IDNA"),
            ("https", "xn--a.example", "has the label \"xn--a\", which is not valid IDNA"),
            ("https", "xn--zzzzzzzzzzzzzzzzzzzz.example", "has the label"),
            ("https", "xn--.example", "has the label \"xn--\""),
        ];
        for (scheme, host, want) in cases {
            let got = unsendable(scheme, host).unwrap_or_default();
            assert!(
                if want.is_empty() { got.is_empty() } else { got.starts_with(want) },
                "{scheme}://{host}: {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn punycode_decodes_rfc_3492_samples() {
        let decoded = |s: &str| {
            decode_punycode(s).map(|p| {
                p.iter()
                    .filter_map(|&c| char::from_u32(c))
                    .collect::<String>()
            })
        };
        assert_eq!(decoded("bcher-kva").as_deref(), Some("bücher"));
        assert_eq!(decoded("mnchen-3ya").as_deref(), Some("münchen"));
        // RFC 3492 7.1 (L): 3<nen>B<gumi><kinpachi><sensei>
        assert_eq!(
            decoded("3B-ww4c5e180e575a65lsy2b").as_deref(),
            Some("3年B組金八先生")
        );
        assert_eq!(decoded("abc-").as_deref(), Some("abc"));
        assert_eq!(decoded("ü"), None);
    }

    #[test]
    #[rustfmt::skip]
    fn loopback() {
        for (host, loopback) in [("localhost", true), ("app.localhost", true), ("127.0.0.1", true), ("127.255.0.9", true),
                                 ("[::1]", true), ("128.0.0.1", false), ("localhost.example", false), ("example.com", false)] {
            assert_eq!(is_loopback(host), loopback, "{host}");
        }
    }
}
