//! The exact headers the plugin writes. The Wasm glue and the `cors-check`
//! tool both use these, so what `explain` prints is what Envoy sends.

use crate::header_list::MAX_LIST_LEN;
use crate::policy::Policy;
use std::cmp::Ordering;

/// Longer than any method a browser asks for; longer ones are still echoed.
const ECHOED_METHOD_LEN: usize = 64;

pub const ALLOW_ORIGIN: &str = "access-control-allow-origin";
pub const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
pub const ALLOW_METHODS: &str = "access-control-allow-methods";
pub const ALLOW_HEADERS: &str = "access-control-allow-headers";
pub const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";
pub const EXPOSE_HEADERS: &str = "access-control-expose-headers";
pub const MAX_AGE: &str = "access-control-max-age";
pub const VARY: &str = "vary";

/// Headers of one response: a fixed array, so building it never allocates.
pub type HeaderPlan<'a> = [Option<(&'static str, &'a [u8])>; 8];

/// Headers of the local `204` answering an allowed preflight for `method`
/// and `headers` (its `access-control-request-method` and `-headers`).
/// `access-control-expose-headers` is there too: browsers ignore it on a
/// preflight, but Gateway API's conformance expects it, and it costs nothing.
pub fn preflight_allowed<'a>(
    policy: &'a Policy,
    origin: &'a [u8],
    private_network_requested: bool,
    method: &'a [u8],
    headers: Option<&'a [u8]>,
) -> HeaderPlan<'a> {
    let pna = policy.private_network && private_network_requested;
    // With credentials a `*` is read literally: the allowed method and
    // headers are echoed instead (the trust is in the listed origins).
    let methods = if policy.echoes_methods() {
        method
    } else {
        policy.allow_methods.as_bytes()
    };
    let allow_headers = if policy.echoes_headers() {
        headers.filter(|list| !list.trim_ascii().is_empty())
    } else {
        policy.allow_headers.as_ref().map(|v| v.as_bytes())
    };
    [
        Some((ALLOW_ORIGIN, allow_origin_value(policy, origin))),
        Some((ALLOW_METHODS, methods)),
        allow_headers.map(|v| (ALLOW_HEADERS, v)),
        policy
            .expose_headers
            .as_ref()
            .map(|v| (EXPOSE_HEADERS, v.as_bytes())),
        policy.max_age.as_ref().map(|v| (MAX_AGE, v.as_bytes())),
        policy
            .credentials
            .then_some((ALLOW_CREDENTIALS, &b"true"[..])),
        pna.then_some((ALLOW_PRIVATE_NETWORK, &b"true"[..])),
        Some((VARY, policy.preflight_vary.as_bytes())),
    ]
}

/// Headers of the local `403` answering a rejected preflight: no CORS headers
/// (the Fetch standard's advice), only `vary`, so caches keep answers apart.
pub fn preflight_rejected(policy: &Policy) -> HeaderPlan<'_> {
    let mut plan: HeaderPlan<'_> = [None; 8];
    plan[0] = Some((VARY, policy.preflight_vary.as_bytes()));
    plan
}

/// Writes a plan's headers, in order, into `out` (cleared first) in
/// proxy-wasm's serialized map format, which `proxy_send_local_response`
/// takes: the count, each name and value length (little-endian u32), then each
/// name and value followed by a NUL byte. With `out` reused and large enough,
/// this never allocates.
pub fn serialize(plan: &HeaderPlan<'_>, out: &mut Vec<u8>) {
    out.clear();
    let headers = plan.iter().flatten();
    let count = headers.clone().count();
    out.extend_from_slice(&len_u32(count));
    for (name, value) in headers.clone() {
        out.extend_from_slice(&len_u32(name.len()));
        out.extend_from_slice(&len_u32(value.len()));
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
        out.push(0);
    }
}

/// The bytes `serialize` writes for this plan.
pub fn serialized_len(plan: &HeaderPlan<'_>) -> usize {
    4 + plan
        .iter()
        .flatten()
        .map(|(name, value)| 8 + name.len() + value.len() + 2)
        .sum::<usize>()
}

/// A policy's local replies, serialized once at configure time. Per request,
/// only the allowed preflight's `access-control-allow-origin` value changes:
/// it is written into a hole left in the prebuilt bytes.
#[derive(Debug, Clone)]
pub struct LocalReplies {
    /// The 204, without and with `access-control-allow-private-network`.
    allowed: [Template; 2],
    /// `"*"`: the hole always takes `*`, whatever the origin.
    any_origin: bool,
    /// A policy that echoes the requested method or headers (`*` with
    /// credentials): its 204 is serialized whole per request instead.
    echoing: Option<Policy>,
    /// The 403's headers: the same for every request.
    pub rejected: Vec<u8>,
}

/// Serialized headers whose first value is missing: `head` ends where it
/// goes, `tail` starts with the NUL after it.
#[derive(Debug, Clone)]
struct Template {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl LocalReplies {
    pub fn new(policy: &Policy) -> LocalReplies {
        let template = |private_network| {
            let mut plan = preflight_allowed(policy, b"", private_network, b"", None);
            // The hole: `access-control-allow-origin` first, with an empty value.
            plan[0] = Some((ALLOW_ORIGIN, b""));
            let mut bytes = Vec::new();
            serialize(&plan, &mut bytes);
            let count = plan.iter().flatten().count();
            let hole = 4 + 8 * count + ALLOW_ORIGIN.len() + 1;
            let tail = bytes.split_off(hole);
            Template { head: bytes, tail }
        };
        let mut rejected = Vec::new();
        serialize(&preflight_rejected(policy), &mut rejected);
        LocalReplies {
            allowed: [template(false), template(true)],
            any_origin: policy.allows_any_origin(),
            echoing: (policy.echoes_methods() || policy.echoes_headers()).then(|| policy.clone()),
            rejected,
        }
    }

    /// Whether a policy whose replies have the same bytes can use these: not
    /// when they echo the request's method or headers (their policy decides).
    pub fn is_shareable(&self) -> bool {
        self.echoing.is_none()
    }

    /// Orders replies by everything they hold, so a twin is found by search.
    pub fn cmp_bytes(&self, other: &LocalReplies) -> Ordering {
        fn key(r: &LocalReplies) -> (bool, bool, [&[u8]; 5]) {
            let [a, b] = &r.allowed;
            let bytes = [&a.head, &a.tail, &b.head, &b.tail, &r.rejected];
            (r.echoing.is_some(), r.any_origin, bytes.map(Vec::as_slice))
        }
        key(self).cmp(&key(other))
    }

    /// Writes the headers of `preflight_allowed` for this request, serialized,
    /// into `out` (cleared first); with `out` large enough (`allowed_len`),
    /// this never allocates.
    pub fn allowed(
        &self,
        origin: &[u8],
        private_network: bool,
        method: &[u8],
        headers: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) {
        if let Some(policy) = &self.echoing {
            serialize(
                &preflight_allowed(policy, origin, private_network, method, headers),
                out,
            );
            return;
        }
        let template = &self.allowed[usize::from(private_network)];
        let value: &[u8] = if self.any_origin { b"*" } else { origin };
        out.clear();
        out.extend_from_slice(&template.head);
        // The first header's value length, after the count and its name length.
        if let Some(len) = out.get_mut(8..12) {
            len.copy_from_slice(&len_u32(value.len()));
        }
        out.extend_from_slice(value);
        out.extend_from_slice(&template.tail);
    }

    /// The bytes `allowed` writes for an origin of this length, at most
    /// (for an echoing policy: with a method and header list of any length a
    /// browser sends).
    pub fn allowed_len(&self, origin_len: usize) -> usize {
        let longest = self.allowed.iter().map(|t| t.head.len() + t.tail.len());
        let echoed = if self.echoing.is_some() {
            MAX_LIST_LEN + ECHOED_METHOD_LEN
        } else {
            0
        };
        longest.max().unwrap_or(0) + origin_len.max(1) + echoed
    }
}

fn len_u32(len: usize) -> [u8; 4] {
    // Header values are bounded far below 4 GiB (origins by 1 KiB, the rest by the configuration).
    u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes()
}

fn allow_origin_value<'a>(policy: &'a Policy, origin: &'a [u8]) -> &'a [u8] {
    if policy.allows_any_origin() {
        b"*"
    } else {
        origin
    }
}

/// CORS headers an upstream may send that the plugin owns on actual responses:
/// each is replaced by the policy's value or removed, so none is ever duplicated.
pub const MANAGED: [&str; 7] = [
    ALLOW_ORIGIN,
    ALLOW_CREDENTIALS,
    EXPOSE_HEADERS,
    ALLOW_METHODS,
    ALLOW_HEADERS,
    ALLOW_PRIVATE_NETWORK,
    MAX_AGE,
];

/// Where a response header name stands in `MANAGED`, if it is one: for a
/// host that reads all of a response's headers at once. Names as Envoy keeps
/// them: lowercase.
pub fn managed_index(name: &[u8]) -> Option<usize> {
    // Every managed name is `access-control-` and more: most names fail here.
    if name.len() < 22 || !name.starts_with(b"access-control-") {
        return None;
    }
    MANAGED.iter().position(|m| name == m.as_bytes())
}

/// What to do to the upstream's response to an actual (non-preflight) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActualPlan<'a> {
    /// `access-control-allow-origin`: the request's origin, `*`, or none.
    pub allow_origin: Option<&'a [u8]>,
    /// `access-control-allow-credentials: true`, with an allowed origin.
    pub allow_credentials: bool,
    /// `access-control-expose-headers`, with an allowed origin.
    pub expose_headers: Option<&'a [u8]>,
    /// Whether to add `origin` to `vary`: the answer depended on the request's origin.
    pub vary_origin: bool,
}

impl<'a> ActualPlan<'a> {
    /// Each of `MANAGED`, in its order, with the value to set, or `None` to
    /// remove it: an upstream's own are never kept.
    pub fn managed(&self) -> [(&'static str, Option<&'a [u8]>); MANAGED.len()] {
        [
            (ALLOW_ORIGIN, self.allow_origin),
            (
                ALLOW_CREDENTIALS,
                self.allow_credentials.then_some(&b"true"[..]),
            ),
            (EXPOSE_HEADERS, self.expose_headers),
            (ALLOW_METHODS, None),
            (ALLOW_HEADERS, None),
            (ALLOW_PRIVATE_NETWORK, None),
            (MAX_AGE, None),
        ]
    }
}

/// `origin`: the request's `Origin`, if it had one and the policy allows it.
pub fn actual<'a>(policy: &'a Policy, allowed_origin: Option<&'a [u8]>) -> ActualPlan<'a> {
    let any = policy.allows_any_origin();
    // With "*" the header is the same for every request, Origin or not, so a
    // shared cache can never hand one origin's answer to another.
    let acao = if any { Some(&b"*"[..]) } else { allowed_origin };
    let allowed = acao.is_some();
    ActualPlan {
        allow_origin: acao,
        allow_credentials: allowed && policy.credentials,
        expose_headers: policy
            .expose_headers
            .as_ref()
            .filter(|_| allowed)
            .map(|v| v.as_bytes()),
        vary_origin: !any,
    }
}

/// Whether an upstream `vary` value already covers `origin` (or everything).
pub fn vary_covers_origin(vary: &[u8]) -> bool {
    vary.split(|&b| b == b',').any(|item| {
        let item = item.trim_ascii();
        item == b"*" || item.eq_ignore_ascii_case(b"origin")
    })
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
