//! Each decision in a few words for Envoy's access log: what the plugin
//! decided, why, and under which policy, e.g.
//! `preflight_rejected method_not_allowed:PATCH rules[1]`. Both forms record
//! exactly these bytes in the same filter state entry (`FILTER_STATE_KEY`), so
//! one access-log format serves both; `cors-check explain` prints them too.
//!
//! Three fields separated by one space, always present (`-`: none):
//! 1. the outcome (`OUTCOME_WORDS`), prefixed with `report.` under a policy in
//!    report mode (what it would have done);
//! 2. why a request was refused (`Why`), with the offending method or header
//!    name after `:` when it is a token of at most `MAX_SHOWN` bytes;
//! 3. the policy: `top`, or `rules[N]` for the rule that matched.
//!
//! Built per request into a fixed buffer: no heap allocation. The words are
//! static; only the offending name and the rule's number are copied.

use crate::decision::Decision;
use crate::origin;
use crate::policy::{Outcome, Reason};
use crate::request::{Header, RequestHeaders};
use crate::token::is_token;

/// The filter state entry both forms set. The Proxy-Wasm host stores a
/// plugin's property `cors` (`WASM_PROPERTY`) under this key; the module sets
/// the same key, so `%FILTER_STATE(wasm.cors:PLAIN)%` prints either form's.
pub const FILTER_STATE_KEY: &str = "wasm.cors";

/// The property the Wasm plugin sets: Envoy prefixes it with `wasm.`.
pub const WASM_PROPERTY: &str = "cors";

/// Longest offending method or header name copied into an entry; a longer
/// one (or one that is not a token, which could hold spaces or quotes) is
/// left out, its reason word alone says why.
pub const MAX_SHOWN: usize = 40;

/// Bytes an entry can hold: the longest outcome, reason, value and rule fit.
pub const CAPACITY: usize = 128;

/// The outcome words, by `Decision`: the counters' words (`cors.<word>_*`), plus
/// `preflight_forwarded` (counted as `preflight_rejected_*`) and `disabled`.
pub const OUTCOME_WORDS: [&str; 7] = [
    "preflight_allowed",
    "preflight_rejected",
    "preflight_forwarded",
    "actual_allowed",
    "actual_disallowed",
    "no_origin",
    "disabled",
];

/// Why a request was refused: a `Reason`, with the origin's split in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A valid origin the policy does not list.
    OriginNotAllowed,
    /// `Origin` is not a serialized origin (nor `null`): never allowed.
    OriginInvalid,
    MethodNotAllowed,
    HeaderNotAllowed,
}

impl Why {
    pub const ALL: [Why; 4] = [
        Why::OriginNotAllowed,
        Why::OriginInvalid,
        Why::MethodNotAllowed,
        Why::HeaderNotAllowed,
    ];

    /// The second field of an entry.
    pub const fn word(self) -> &'static str {
        match self {
            Why::OriginNotAllowed => "origin_not_allowed",
            Why::OriginInvalid => "origin_invalid",
            Why::MethodNotAllowed => "method_not_allowed",
            Why::HeaderNotAllowed => "header_not_allowed",
        }
    }

    /// `%RESPONSE_CODE_DETAILS%` of the 403 the plugin answers with.
    pub const fn details(self) -> &'static str {
        match self {
            Why::OriginNotAllowed => "cors_origin_not_allowed",
            Why::OriginInvalid => "cors_origin_invalid",
            Why::MethodNotAllowed => "cors_method_not_allowed",
            Why::HeaderNotAllowed => "cors_header_not_allowed",
        }
    }

    /// Why, for a refused `outcome`, reading the origin again only to tell
    /// an invalid one from one not listed (refusals only: never on the
    /// allowed path).
    fn of<'a>(outcome: Outcome, headers: &impl RequestHeaders<'a>) -> Option<Why> {
        let origin = || {
            let value = headers.get(Header::Origin).unwrap_or_default();
            if value == b"null" || origin::parse(value).is_ok() {
                Why::OriginNotAllowed
            } else {
                Why::OriginInvalid
            }
        };
        match outcome {
            Outcome::PreflightRejected(Reason::Origin) | Outcome::ActualDisallowed => {
                Some(origin())
            }
            Outcome::PreflightRejected(Reason::Method) => Some(Why::MethodNotAllowed),
            Outcome::PreflightRejected(Reason::Headers) => Some(Why::HeaderNotAllowed),
            _ => None,
        }
    }
}

/// `%RESPONSE_CODE_DETAILS%` of the plugin's 204 to an allowed preflight.
pub const DETAILS_ALLOWED: &str = "cors_preflight_allowed";

/// The details of a local reply: `Some` for a `Decision::Reply`.
pub fn reply_details<'a>(
    decision: &Decision<'a>,
    headers: &impl RequestHeaders<'a>,
) -> Option<&'static str> {
    match *decision {
        Decision::Reply { status: 204, .. } => Some(DETAILS_ALLOWED),
        Decision::Reply { outcome, .. } => Why::of(outcome, headers).map(Why::details),
        _ => None,
    }
}

/// One decision's entry, built in place.
#[derive(Clone, Copy)]
pub struct Entry {
    len: usize,
    bytes: [u8; CAPACITY],
}

impl Entry {
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The entry as text (it is ASCII: words, a token, digits).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn push(&mut self, bytes: &[u8]) {
        // Cut rather than panic: `CAPACITY` holds every entry anyway.
        let end = (self.len + bytes.len()).min(CAPACITY);
        let n = end - self.len;
        if let (Some(slot), Some(part)) = (self.bytes.get_mut(self.len..end), bytes.get(..n)) {
            slot.copy_from_slice(part);
            self.len = end;
        }
    }

    /// A method or header name from the request, if it is safe and short to show;
    /// header names lowercase (they are case-insensitive).
    fn push_value(&mut self, value: &[u8], lowercase: bool) {
        if value.len() > MAX_SHOWN || !is_token(value) {
            return;
        }
        self.push(b":");
        let start = self.len;
        self.push(value);
        if lowercase {
            if let Some(pushed) = self.bytes.get_mut(start..self.len) {
                pushed.make_ascii_lowercase();
            }
        }
    }

    fn push_number(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        self.push(digits.get(i..).unwrap_or_default());
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The entry of a decision. `headers` are those `decide` read: a refusal's
/// entry reads the offending value again (both glues keep what they read).
pub fn entry<'a>(decision: &Decision<'a>, headers: &impl RequestHeaders<'a>) -> Entry {
    let mut entry = Entry {
        len: 0,
        bytes: [0; CAPACITY],
    };
    let word = match decision {
        Decision::Reply {
            status: 204,
            outcome: Outcome::PreflightAllowed,
            ..
        } => OUTCOME_WORDS[0],
        Decision::Reply { .. } => OUTCOME_WORDS[1],
        Decision::Forward { .. } => OUTCOME_WORDS[2],
        Decision::Actual {
            outcome: Outcome::ActualAllowed,
            ..
        } => OUTCOME_WORDS[3],
        Decision::Actual {
            outcome: Outcome::ActualDisallowed,
            ..
        } => OUTCOME_WORDS[4],
        Decision::Actual { .. } => OUTCOME_WORDS[5],
        Decision::Untouched { .. } => OUTCOME_WORDS[6],
    };
    if decision.policy().is_some_and(|p| p.reports()) {
        entry.push(b"report.");
    }
    entry.push(word.as_bytes());
    entry.push(b" ");
    match decision.outcome().and_then(|o| Why::of(o, headers)) {
        None => entry.push(b"-"),
        Some(why) => {
            entry.push(why.word().as_bytes());
            match why {
                Why::MethodNotAllowed => entry.push_value(
                    headers.get(Header::RequestMethod).unwrap_or_default(),
                    false,
                ),
                Why::HeaderNotAllowed => {
                    let rejected = decision.policy().and_then(|policy| {
                        policy.rejected_header(headers.get(Header::RequestHeaders)?)
                    });
                    entry.push_value(rejected.unwrap_or_default(), true)
                }
                Why::OriginNotAllowed | Why::OriginInvalid => {}
            }
        }
    }
    entry.push(b" ");
    match decision.rule() {
        None => entry.push(b"top"),
        Some(i) => {
            entry.push(b"rules[");
            entry.push_number(i);
            entry.push(b"]");
        }
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::decision::decide;
    use crate::request::RequestHead;

    fn logged(config: &Config, head: &RequestHead<'_>) -> String {
        entry(&decide(config, head), head).as_str().to_string()
    }

    fn head<'a>(
        path: &'a str,
        method: &'a str,
        origin: Option<&'a str>,
        acrm: Option<&'a str>,
        acrh: Option<&'a str>,
    ) -> RequestHead<'a> {
        RequestHead {
            method: method.as_bytes(),
            authority: b"api.example.com",
            path: path.as_bytes(),
            origin: origin.map(str::as_bytes),
            request_method: acrm.map(str::as_bytes),
            request_headers: acrh.map(str::as_bytes),
            ..RequestHead::default()
        }
    }

    #[test]
    fn every_outcome_and_reason() {
        let config = Config::parse(
            br#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"],
                 "allow_headers": ["x-a"],
                 "rules": [{"path_prefix": "/off/", "enabled": false},
                           {"path_prefix": "/fwd/", "unmatched_preflights": "forward"},
                           {"path_prefix": "/rep/", "mode": "report"}]}"#,
        )
        .unwrap();
        let app = Some("https://app.example.com");
        let evil = Some("https://evil.example");
        let long = "X".repeat(MAX_SHOWN + 1);
        let cases: [(RequestHead<'_>, &str); 16] = [
            (
                head("/", "OPTIONS", app, Some("PUT"), Some("x-a")),
                "preflight_allowed - top",
            ),
            (
                head("/", "OPTIONS", evil, Some("PUT"), None),
                "preflight_rejected origin_not_allowed top",
            ),
            (
                head("/", "OPTIONS", Some("null"), Some("PUT"), None),
                "preflight_rejected origin_not_allowed top",
            ),
            (
                head(
                    "/",
                    "OPTIONS",
                    Some("https://app.example.com/"),
                    Some("PUT"),
                    None,
                ),
                "preflight_rejected origin_invalid top",
            ),
            (
                head("/", "OPTIONS", app, Some("PATCH"), None),
                "preflight_rejected method_not_allowed:PATCH top",
            ),
            (
                head("/", "OPTIONS", app, Some(&long), None),
                "preflight_rejected method_not_allowed top",
            ),
            (
                head("/", "OPTIONS", app, Some("GET x"), None),
                "preflight_rejected method_not_allowed top",
            ),
            (
                head("/", "OPTIONS", app, Some("PUT"), Some("x-a, X-Foo,x-b")),
                "preflight_rejected header_not_allowed:x-foo top",
            ),
            (
                head("/fwd/", "OPTIONS", app, Some("PATCH"), None),
                "preflight_forwarded method_not_allowed:PATCH rules[1]",
            ),
            (head("/", "GET", app, None, None), "actual_allowed - top"),
            (
                head("/", "GET", evil, None, None),
                "actual_disallowed origin_not_allowed top",
            ),
            (
                head("/", "GET", Some("not an origin"), None, None),
                "actual_disallowed origin_invalid top",
            ),
            (head("/", "GET", None, None, None), "no_origin - top"),
            (
                head("/off/x", "OPTIONS", evil, Some("PUT"), None),
                "disabled - rules[0]",
            ),
            (
                head("/rep/", "OPTIONS", app, Some("PUT"), Some("x-b")),
                "report.preflight_rejected header_not_allowed:x-b rules[2]",
            ),
            (
                head("/rep/", "GET", app, None, None),
                "report.actual_allowed - rules[2]",
            ),
        ];
        for (head, want) in cases {
            assert_eq!(logged(&config, &head), want, "{head:?}");
        }
    }

    #[test]
    fn details_of_local_replies() {
        let config = Config::parse(
            br#"{"allow_origins": ["https://app.example.com"], "rules": [{"path_prefix": "/fwd/", "unmatched_preflights": "forward"}]}"#,
        )
        .unwrap();
        let app = Some("https://app.example.com");
        let cases = [
            (
                head("/", "OPTIONS", app, Some("GET"), None),
                Some("cors_preflight_allowed"),
            ),
            (
                head("/", "OPTIONS", Some("https://e.example"), Some("GET"), None),
                Some("cors_origin_not_allowed"),
            ),
            (
                head("/", "OPTIONS", Some("e.example"), Some("GET"), None),
                Some("cors_origin_invalid"),
            ),
            (
                head("/", "OPTIONS", app, Some("PUT"), None),
                Some("cors_method_not_allowed"),
            ),
            (
                head("/", "OPTIONS", app, Some("GET"), Some("x-a")),
                Some("cors_header_not_allowed"),
            ),
            (head("/fwd/", "OPTIONS", app, Some("PUT"), None), None),
            (head("/", "GET", app, None, None), None),
        ];
        for (head, want) in cases {
            assert_eq!(
                reply_details(&decide(&config, &head), &head),
                want,
                "{head:?}"
            );
        }
    }

    #[test]
    fn the_switch_is_top_level_boolean_and_off_by_default() {
        let parse = |json: &str| Config::parse(json.as_bytes());
        let origins = r#""allow_origins": ["https://a.example""#;
        assert!(!parse(&format!("{{{origins}]}}")).unwrap().access_log);
        assert!(
            parse(&format!("{{{origins}], \"access_log\": true}}"))
                .unwrap()
                .access_log
        );
        let errors = |json: String| match parse(&json) {
            Ok(_) => panic!("accepted: {json}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect::<Vec<_>>(),
        };
        assert_eq!(
            errors(format!("{{{origins}], \"access_log\": \"yes\"}}")),
            ["access_log = \"yes\": must be true or false"]
        );
        let in_rule = errors(format!(
            "{{{origins}], \"rules\": [{{\"path_prefix\": \"/x/\", \"access_log\": true}}]}}"
        ));
        assert!(
            in_rule.len() == 1 && in_rule[0].starts_with("rules[0].access_log"),
            "{in_rule:?}"
        );
    }

    #[test]
    fn the_longest_entry_fits() {
        let longest_outcome = OUTCOME_WORDS.iter().map(|w| w.len()).max().unwrap();
        let longest_why = Why::ALL.iter().map(|w| w.word().len()).max().unwrap();
        let longest = "report.".len()
            + longest_outcome
            + 1
            + longest_why
            + 1
            + MAX_SHOWN
            + 1
            + "rules[]".len()
            + usize::MAX.to_string().len();
        assert!(longest <= CAPACITY, "{longest}");
        let mut e = Entry {
            len: 0,
            bytes: [0; CAPACITY],
        };
        e.push_number(usize::MAX);
        assert_eq!(e.as_str(), usize::MAX.to_string());
        e.push(&[b'x'; 2 * CAPACITY]);
        assert_eq!(e.as_bytes().len(), CAPACITY);
    }
}
