//! The dynamic module's filter, in safe Rust: read the request headers the
//! core asks for, `decide`, send the local reply or write the response's
//! headers, count. Envoy calls it from every worker thread at once: what the
//! filters share (`FilterConfig`, `ConfigRef`) is immutable after configure,
//! and counters go through Envoy's thread-safe stats.

use crate::ffi::{self, EnvoyConfig, Stream};
use cors_core::decision::{Decision, Header, RequestHeaders};
use cors_core::plugin::{counter_names, debug_line};
use cors_core::policy::Outcome;
use cors_core::response::{self, MANAGED, VARY};
use cors_core::Plugin;
use std::sync::Arc;

/// `envoy_dynamic_module_type_log_level`
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Debug = 1,
    Info = 2,
    Error = 4,
    Critical = 5,
}

/// Logs one line, prefixed with the filter's name so that `grep cors` finds it.
fn log(level: Level, message: &str) {
    ffi::log(level, &format!("cors: {message}"));
}

/// A configuration as Envoy holds it: the filter's, or a route's
/// (`typed_per_filter_config`), which replaces the filter's there.
pub struct ConfigRef {
    plugin: Arc<Plugin>,
}

impl ConfigRef {
    /// Parses a configuration, logging every error (field and value) when it
    /// is refused, as the Wasm form does; `what` says where it comes from
    /// (`""`: the filter's own).
    fn parse(what: &str, name: &[u8], bytes: &[u8]) -> Option<ConfigRef> {
        if name != b"cors" {
            log(
                Level::Error,
                &format!(
                    "{what}unknown filter_name {:?}; this module has one filter, \"cors\"",
                    String::from_utf8_lossy(name)
                ),
            );
            return None;
        }
        match Plugin::parse(bytes) {
            Ok(plugin) => {
                log(Level::Info, &format!("{what}{}", plugin.accepted_line()));
                Some(ConfigRef {
                    plugin: Arc::new(plugin),
                })
            }
            Err(errors) => {
                log(Level::Error, &format!("{what}{errors}"));
                None
            }
        }
    }

    pub fn per_route(name: &[u8], bytes: &[u8]) -> Option<ConfigRef> {
        ConfigRef::parse("per-route ", name, bytes)
    }
}

/// The filter's configuration: its policy and the ids of its counters.
pub struct FilterConfig {
    config: ConfigRef,
    /// Counter ids, indexed by `Outcome::index` (`None`: Envoy refused one).
    counters: [Option<usize>; Outcome::ALL.len()],
}

impl FilterConfig {
    pub fn new(envoy: &EnvoyConfig, name: &[u8], bytes: &[u8]) -> Option<FilterConfig> {
        let config = ConfigRef::parse("", name, bytes)?;
        // Counters can be defined only now, while Envoy configures the filter.
        let counters = counter_names().map(|name| envoy.define_counter(name));
        Some(FilterConfig { config, counters })
    }
}

/// One stream's state.
pub struct Filter {
    counters: [Option<usize>; Outcome::ALL.len()],
    /// The configuration that applies: the filter's, or the route's.
    plugin: Arc<Plugin>,
    state: State,
}

enum State {
    /// CORS is off here, the request was answered locally, or a rejected
    /// preflight was forwarded: leave the response alone. (A module's own
    /// local reply does not pass through its response hook.)
    Untouched,
    /// An actual request: the response gets the policy's headers.
    Actual {
        rule: Option<usize>,
        /// Whether the request's origin was allowed.
        allowed: bool,
    },
}

/// The request's headers, read from Envoy when the core asks: views into
/// Envoy's header map, never copied.
struct Headers<'a>(&'a Stream);

impl<'a> RequestHeaders<'a> for Headers<'a> {
    fn get(&self, header: Header) -> Option<&'a [u8]> {
        self.0.request_header(header.name())
    }
}

impl Filter {
    pub fn new(config: &FilterConfig) -> Filter {
        Filter {
            counters: config.counters,
            plugin: Arc::clone(&config.config.plugin),
            state: State::Untouched,
        }
    }

    /// Returns `true` when the request was answered locally.
    pub fn on_request_headers(&mut self, stream: &Stream) -> bool {
        #[cfg(feature = "fault-injection")]
        inject_fault(stream, "request_headers");
        if let Some(route) = stream.route_config() {
            self.plugin = Arc::clone(&route.plugin);
        }
        let plugin = Arc::clone(&self.plugin);
        let headers = Headers(stream);
        let decision = plugin.decide(&headers);
        if let Some(outcome) = decision.outcome() {
            if let Some(id) = self.counters[outcome.index()] {
                stream.increment_counter(id);
            }
        }
        if ffi::log_enabled(Level::Debug) {
            if let Some(line) = debug_line(&decision, &headers) {
                log(Level::Debug, &line);
            }
        }
        match decision {
            Decision::Untouched | Decision::Forward { .. } => false,
            Decision::Actual { outcome, rule, .. } => {
                self.state = State::Actual {
                    rule,
                    allowed: outcome == Outcome::ActualAllowed,
                };
                false
            }
            Decision::Reply { status, .. } => {
                let headers = decision.reply_headers().unwrap_or([None; 8]);
                let details = if status == 204 {
                    "cors_preflight_allowed"
                } else {
                    "cors_preflight_rejected"
                };
                stream.send_response(status, headers.into_iter().flatten(), details);
                true
            }
        }
    }

    pub fn on_response_headers(&mut self, stream: &Stream) {
        #[cfg(feature = "fault-injection")]
        inject_fault(stream, "response_headers");
        let State::Actual { rule, allowed } = self.state else {
            return;
        };
        let Some(policy) = self.plugin.config.policy_at(rule) else {
            return;
        };
        // Read again rather than kept: a view from the request hook may not
        // outlive it. Checked again, so only an allowed origin is ever echoed.
        let origin = stream.request_header(Header::Origin.name());
        let allowed_origin = origin.filter(|o| allowed && policy.allows_origin(o));
        let plan = response::actual(policy, allowed_origin);
        for (name, value) in MANAGED.iter().zip(plan.managed) {
            stream.set_response_header(name, value);
        }
        if plan.vary_origin {
            let covered = stream.response_header_is(VARY, response::vary_covers_origin);
            if !covered {
                stream.add_response_header(VARY, b"origin");
            }
        }
    }
}

/// The `fault-injection` feature's panic (see Cargo.toml): tests only.
#[cfg(feature = "fault-injection")]
#[allow(clippy::panic)]
fn inject_fault(stream: &Stream, hook: &str) {
    if stream.request_header("x-cors-fault") == Some(hook.as_bytes()) {
        panic!("fault injected in {hook}");
    }
}
