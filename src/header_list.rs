//! `Access-Control-Request-Headers`: a comma-separated list of header names,
//! checked against the allowed names without allocating and with a bounded cost.

use crate::sorted_names::SortedNames;
use crate::token::is_tchar;

/// Longer than any list a browser sends (it lists only non-safelisted names).
pub const MAX_LIST_LEN: usize = 4096;
/// Names in one list; more is not a browser.
pub const MAX_NAMES: usize = 128;
/// RFC 9110 asks recipients to skip "a reasonable number" of empty elements.
pub const MAX_EMPTY: usize = 16;

/// The header names a policy allows, lowercase.
#[derive(Debug, Clone, Default)]
pub struct HeaderSet {
    /// `"*"`: any name but `authorization` (Fetch never lets `*` cover it).
    any: bool,
    names: SortedNames,
}

impl HeaderSet {
    /// `names` must be valid, lowercase tokens; `"*"` sets the wildcard.
    pub fn new(names: &[String]) -> HeaderSet {
        HeaderSet {
            any: names.iter().any(|n| n == "*"),
            names: SortedNames::new(names.iter().filter(|n| *n != "*").cloned()),
        }
    }

    /// `"*"` is in the list.
    pub fn allows_any(&self) -> bool {
        self.any
    }

    /// Whether `name` is listed exactly as it is.
    fn listed(&self, name: &[u8]) -> bool {
        self.names.contains(name)
    }

    /// Whether `name` is listed in another case.
    fn listed_in_any_case(&self, name: &[u8]) -> bool {
        self.names.contains_ignoring_case(name)
    }

    /// For a valid token that is not listed as it is: listed in another case,
    /// or covered by `*`.
    fn allows_unlisted(&self, name: &[u8]) -> bool {
        (name.iter().any(u8::is_ascii_uppercase) && self.listed_in_any_case(name))
            || (self.any && !name.eq_ignore_ascii_case(b"authorization"))
    }

    /// Whether every name in an `Access-Control-Request-Headers` value is allowed.
    /// On failure returns the offending element (bounded), for logs.
    pub fn check<'a>(&self, list: &'a [u8]) -> Result<(), &'a [u8]> {
        if list.len() > MAX_LIST_LEN {
            return Err(&list[..32]);
        }
        let (mut names, mut empty) = (0, 0);
        for element in list.split(|&b| b == b',') {
            let name = trim_ows(element);
            if name.is_empty() {
                empty += 1;
                if empty > MAX_EMPTY {
                    return Err(element);
                }
                continue;
            }
            names += 1;
            if names > MAX_NAMES {
                return Err(name);
            }
            // Browsers send listed names as they are configured, lowercase; a
            // listed name is a valid token, so the common case ends here.
            if self.listed(name) {
                continue;
            }
            if !name.iter().all(|&b| is_tchar(b)) || !self.allows_unlisted(name) {
                return Err(name);
            }
        }
        Ok(())
    }
}

fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> HeaderSet {
        HeaderSet::new(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn request_header_lists() {
        let listed = set(&["content-type", "x-b", "x-a"]);
        let any = set(&["*"]);
        let any_and_auth = set(&["*", "authorization"]);
        let many_empty = ",".repeat(MAX_EMPTY + 1);
        let few_empty = format!("x-a{}", ",".repeat(MAX_EMPTY));
        let too_many = vec!["x-a"; MAX_NAMES + 1].join(",");
        let too_long = format!("x-a,{}", " ".repeat(MAX_LIST_LEN));
        // (set, list, allowed)
        let cases: Vec<(&HeaderSet, &[u8], bool)> = vec![
            (&listed, b"", true),
            (&listed, b"content-type", true),
            (&listed, b"content-type,x-a,x-b", true),
            (&listed, b"Content-Type, X-A", true),
            (&listed, b" x-a ,\tx-b\t", true),
            (&listed, b"x-a,,x-b", true),
            (&listed, b"x-c", false),
            (&listed, b"x-a,x-c", false),
            (&listed, b"x-a x-b", false),
            (&listed, b"x-a;x-b", false),
            (&listed, b"x-\xff", false),
            (&listed, b"authorization", false),
            (&listed, few_empty.as_bytes(), true),
            (&listed, many_empty.as_bytes(), false),
            (&listed, too_many.as_bytes(), false),
            (&listed, too_long.as_bytes(), false),
            (&any, b"x-anything,x-else", true),
            (&any, b"authorization", false),
            (&any, b"x-a,Authorization", false),
            (&any, b"bad name", false),
            (&any_and_auth, b"authorization,x-y", true),
        ];
        for (set, list, want) in cases {
            assert_eq!(
                set.check(list).is_ok(),
                want,
                "{:?}",
                String::from_utf8_lossy(list)
            );
        }
    }

    #[test]
    fn reports_the_offending_name() {
        assert_eq!(
            set(&["x-a"]).check(b"x-a, x-evil ,x-b"),
            Err(&b"x-evil"[..])
        );
    }
}
