//! The exact headers the plugin writes. The Wasm glue and the `cors-check`
//! tool both use these, so what `explain` prints is what Envoy sends.

use crate::policy::Policy;

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

/// Headers of the local `204` answering an allowed preflight.
pub fn preflight_allowed<'a>(
    policy: &'a Policy,
    origin: &'a [u8],
    private_network_requested: bool,
) -> HeaderPlan<'a> {
    let pna = policy.private_network && private_network_requested;
    [
        Some((ALLOW_ORIGIN, allow_origin_value(policy, origin))),
        Some((ALLOW_METHODS, policy.allow_methods.as_bytes())),
        policy
            .allow_headers
            .as_ref()
            .map(|v| (ALLOW_HEADERS, v.as_bytes())),
        policy.max_age.as_ref().map(|v| (MAX_AGE, v.as_bytes())),
        policy
            .credentials
            .then_some((ALLOW_CREDENTIALS, &b"true"[..])),
        pna.then_some((ALLOW_PRIVATE_NETWORK, &b"true"[..])),
        Some((VARY, policy.preflight_vary.as_bytes())),
        None,
    ]
}

/// Headers of the local `403` answering a rejected preflight: no CORS headers
/// (the Fetch standard's advice), only `vary`, so caches keep answers apart.
pub fn preflight_rejected(policy: &Policy) -> HeaderPlan<'_> {
    let mut plan: HeaderPlan<'_> = [None; 8];
    plan[0] = Some((VARY, policy.preflight_vary.as_bytes()));
    plan
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

/// What to do to the upstream's response to an actual (non-preflight) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActualPlan<'a> {
    /// For each of `MANAGED`, in order: the value to set, or `None` to remove it.
    pub managed: [Option<&'a [u8]>; 7],
    /// Whether to add `origin` to `vary`: the answer depended on the request's origin.
    pub vary_origin: bool,
}

/// `origin`: the request's `Origin`, if it had one and the policy allows it.
pub fn actual<'a>(policy: &'a Policy, allowed_origin: Option<&'a [u8]>) -> ActualPlan<'a> {
    let any = policy.allows_any_origin();
    // With "*" the header is the same for every request, Origin or not, so a
    // shared cache can never hand one origin's answer to another.
    let acao = if any { Some(&b"*"[..]) } else { allowed_origin };
    let allowed = acao.is_some();
    ActualPlan {
        managed: [
            acao,
            (allowed && policy.credentials).then_some(&b"true"[..]),
            policy
                .expose_headers
                .as_ref()
                .filter(|_| allowed)
                .map(|v| v.as_bytes()),
            None,
            None,
            None,
            None,
        ],
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
