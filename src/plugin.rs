//! Everything a host glue needs, compiled once at configure time: the
//! validated configuration, each policy's local replies serialized for the
//! Wasm host, the counters' names, and the debug lines. The Wasm filter and
//! the dynamic module are then only: read headers, `decide`, write or send
//! what the core built, count.

use crate::config::Config;
use crate::decision::{decide, Decision, Header, RequestHeaders};
use crate::error::ConfigErrors;
use crate::origin::MAX_ORIGIN_LEN;
use crate::policy::{Outcome, Reason};
use crate::response::LocalReplies;
use crate::shown::shown;

/// A configuration ready to serve requests; immutable after `parse`, so
/// every worker thread (the dynamic module) or VM (Wasm) may share it.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub config: Config,
    /// Each policy's local replies, indexed by `slot` (`None` where a rule
    /// turns CORS off).
    replies: Vec<Option<LocalReplies>>,
    /// The longest allowed-preflight reply any origin can make, in bytes.
    longest_reply: usize,
}

impl Plugin {
    pub fn parse(bytes: &[u8]) -> Result<Plugin, ConfigErrors> {
        Config::parse(bytes).map(Plugin::new)
    }

    pub fn new(config: Config) -> Plugin {
        let replies: Vec<Option<LocalReplies>> = (0..=config.rules.len())
            .map(|slot| config.policy_at(slot.checked_sub(1)).map(LocalReplies::new))
            .collect();
        let longest_reply = replies
            .iter()
            .flatten()
            .map(|r| r.allowed_len(MAX_ORIGIN_LEN))
            .max()
            .unwrap_or(0);
        Plugin {
            config,
            replies,
            longest_reply,
        }
    }

    pub fn decide<'a>(&'a self, request: &impl RequestHeaders<'a>) -> Decision<'a> {
        decide(&self.config, request)
    }

    /// The prebuilt local replies of the policy `decide` chose (`rule`: its
    /// index in `rules`, `None` for the top level).
    pub fn replies(&self, rule: Option<usize>) -> Option<&LocalReplies> {
        self.replies
            .get(rule.map_or(0, |i| i + 1))
            .and_then(Option::as_ref)
    }

    /// Capacity that makes `LocalReplies::allowed` never allocate, for any
    /// policy and any origin the core accepts.
    pub fn longest_reply(&self) -> usize {
        self.longest_reply
    }

    /// One log line per configuration, when it is accepted.
    pub fn accepted_line(&self) -> String {
        format!("configuration accepted ({} rules)", self.config.rules.len())
    }
}

/// The counters every form defines, in `Outcome::ALL` order: Envoy shows them
/// in `/stats` under these names (`/stats/prometheus` with `_` for `.`).
pub fn counter_names() -> [&'static str; Outcome::ALL.len()] {
    Outcome::ALL.map(Outcome::metric)
}

/// The debug line a decision logs, if any: why a preflight was rejected, or
/// that an actual request came from an origin not allowed. Offending values
/// are cut short (`shown`). Both forms log exactly these lines.
pub fn debug_line<'a>(
    decision: &Decision<'a>,
    headers: &impl RequestHeaders<'a>,
) -> Option<String> {
    let rejection = |policy: &crate::policy::Policy, reason: Reason| {
        let value = match reason {
            Reason::Origin => headers.get(Header::Origin),
            Reason::Method => headers.get(Header::RequestMethod),
            Reason::Headers => headers
                .get(Header::RequestHeaders)
                .and_then(|list| policy.rejected_header(list)),
        };
        format!(
            "preflight rejected: {reason}: {}",
            shown(value.unwrap_or_default())
        )
    };
    match *decision {
        Decision::Forward {
            outcome: Outcome::PreflightRejected(reason),
            policy,
            ..
        } => Some(format!("{}, forwarded", rejection(policy, reason))),
        Decision::Reply {
            outcome: Outcome::PreflightRejected(reason),
            policy,
            ..
        } => Some(rejection(policy, reason)),
        Decision::Actual {
            outcome: Outcome::ActualDisallowed,
            ..
        } => Some(format!(
            "actual request from an origin not allowed: {}",
            shown(headers.get(Header::Origin).unwrap_or_default())
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::RequestHead;

    #[test]
    fn replies_by_rule_and_debug_lines() {
        let plugin = Plugin::parse(
            br#"{"allow_origins": ["https://app.example.com"],
                 "rules": [{"path_prefix": "/off/", "enabled": false}, {"path_prefix": "/fwd/", "unmatched_preflights": "forward"}]}"#,
        )
        .unwrap();
        assert!(plugin.replies(None).is_some());
        assert!(plugin.replies(Some(0)).is_none());
        assert!(plugin.replies(Some(1)).is_some());
        assert!(plugin.replies(Some(2)).is_none());
        assert!(plugin.longest_reply() > MAX_ORIGIN_LEN);
        assert_eq!(plugin.accepted_line(), "configuration accepted (2 rules)");

        let head =
            |path: &'static [u8], origin: &'static [u8], acrm: Option<&'static [u8]>| RequestHead {
                method: if acrm.is_some() { b"OPTIONS" } else { b"GET" },
                authority: b"a",
                path,
                origin: Some(origin),
                request_method: acrm,
                ..RequestHead::default()
            };
        let cases: [(RequestHead<'_>, Option<&str>); 5] = [
            (
                head(b"/", b"https://evil.example", Some(b"GET")),
                Some("preflight rejected: origin not allowed: \"https://evil.example\""),
            ),
            (
                head(b"/fwd/", b"https://app.example.com", Some(b"PUT")),
                Some("preflight rejected: method not allowed: \"PUT\", forwarded"),
            ),
            (
                head(b"/", b"https://evil.example", None),
                Some("actual request from an origin not allowed: \"https://evil.example\""),
            ),
            (head(b"/", b"https://app.example.com", Some(b"GET")), None),
            (head(b"/off/", b"https://evil.example", Some(b"GET")), None),
        ];
        for (head, want) in cases {
            let decision = plugin.decide(&head);
            assert_eq!(debug_line(&decision, &head).as_deref(), want, "{head:?}");
        }
        assert_eq!(counter_names()[0], "cors.preflight_allowed");
    }
}
