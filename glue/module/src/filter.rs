//! The dynamic module's filter, in safe Rust: read the request headers the
//! core asks for, `decide`, send the local reply or write the response's
//! headers, count. Envoy calls it from every worker thread at once: what the
//! filters share (`FilterConfig`, `ConfigRef`) is immutable after configure,
//! and counters go through Envoy's thread-safe stats.

use crate::ffi::{self, EnvoyConfig, Stream};
use cors_core::access_log;
use cors_core::decision::Decision;
use cors_core::plugin::{counter_names, debug_line, report_line, Counter, COUNTERS};
use cors_core::report::{AnswerRead, Pending};
use cors_core::request::{Header, RequestHead, RequestHeaders};
use cors_core::response::{self, MANAGED, VARY};
use cors_core::Plugin;
use std::cell::OnceCell;
use std::sync::Arc;

/// `envoy_dynamic_module_type_log_level`
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Debug = 1,
    Info = 2,
    Warn = 3,
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
                for record in plugin.warning_records() {
                    log(Level::Warn, &format!("{what}{record}"));
                }
                Some(ConfigRef {
                    plugin: Arc::new(plugin),
                })
            }
            Err(errors) => {
                // One log record per error (field, value, message), then the count.
                for record in errors.records() {
                    log(Level::Error, &format!("{what}{record}"));
                }
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
    /// Counter ids, indexed by `Counter::index` (`None`: Envoy refused one).
    counters: [Option<usize>; COUNTERS],
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
    counters: [Option<usize>; COUNTERS],
    /// The configuration that applies: the filter's, or the route's.
    plugin: Arc<Plugin>,
    state: State,
}

enum State {
    /// CORS is off here, the request was answered locally, or a rejected
    /// preflight was forwarded: leave the response alone.
    Untouched,
    /// An actual request: the response gets the policy's headers.
    Actual {
        rule: Option<usize>,
        /// The request's origin if the policy allows it (and does not allow
        /// every origin), copied: Envoy's views end with the request hook.
        allowed_origin: Option<Origin>,
    },
    /// A request with `Origin` under a policy in report mode: the response
    /// is compared with the plugin's decision, and left as it is.
    Report(Pending),
}

/// An allowed origin, kept inline: no allocation per request. Longer ones
/// (rare: origins are at most `MAX_ORIGIN_LEN`) are read again from Envoy.
pub struct Origin {
    len: usize,
    bytes: [u8; 128],
}

impl Origin {
    fn copy(origin: &[u8]) -> Origin {
        let mut copy = Origin {
            len: origin.len(),
            bytes: [0; 128],
        };
        if let Some(slot) = copy.bytes.get_mut(..origin.len()) {
            slot.copy_from_slice(origin);
        }
        copy
    }

    /// The bytes, or `None` if they did not fit.
    fn get(&self) -> Option<&[u8]> {
        self.bytes.get(..self.len)
    }
}

/// The request's headers as the core asks for them: views into Envoy's
/// header map, never copied. `Origin`, asked first and alone for most
/// requests, is looked up by name; once anything else is asked, every header
/// is read in one call, which costs less than a second lookup by name.
struct Headers<'a> {
    stream: &'a Stream,
    origin: OnceCell<Option<&'a [u8]>>,
    all: OnceCell<RequestHead<'a>>,
}

impl<'a> Headers<'a> {
    fn new(stream: &'a Stream) -> Headers<'a> {
        Headers {
            stream,
            origin: OnceCell::new(),
            all: OnceCell::new(),
        }
    }

    fn all(&self) -> &RequestHead<'a> {
        self.all.get_or_init(|| {
            let mut head = RequestHead::default();
            let (mut method, mut authority, mut path) = (None, None, None);
            // The first line of a name, as a lookup by name gives (Envoy has
            // already joined repeated lines of the CORS headers).
            self.stream.visit_request_headers(|name, value| {
                let slot = match name {
                    b"origin" => &mut head.origin,
                    b"access-control-request-method" => &mut head.request_method,
                    b"access-control-request-headers" => &mut head.request_headers,
                    b"access-control-request-private-network" => &mut head.private_network,
                    b":method" => &mut method,
                    b":authority" => &mut authority,
                    b":path" => &mut path,
                    _ => return,
                };
                slot.get_or_insert(value);
            });
            RequestHead {
                method: method.unwrap_or_default(),
                authority: authority.unwrap_or_default(),
                path: path.unwrap_or_default(),
                ..head
            }
        })
    }
}

impl<'a> RequestHeaders<'a> for Headers<'a> {
    fn get(&self, header: Header) -> Option<&'a [u8]> {
        if header == Header::Origin && self.all.get().is_none() {
            return *self
                .origin
                .get_or_init(|| self.stream.request_header(header.name()));
        }
        self.all().get(header)
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
        let headers = Headers::new(stream);
        let decision = self.plugin.decide(&headers);
        if self.plugin.config.access_log {
            // A failure only loses the entry; never worth failing a request.
            let entry = access_log::entry(&decision, &headers);
            stream.set_filter_state(access_log::FILTER_STATE_KEY, entry.as_bytes());
        }
        let counter = Counter::of(&decision);
        if let Some(counter) = counter {
            self.count(stream, counter);
        }
        if matches!(counter, Some(Counter::Reported(_))) {
            // Report mode: say what the plugin would do, do nothing.
            if ffi::log_enabled(Level::Debug) {
                if let Some(line) = report_line(&decision, &headers) {
                    log(Level::Debug, &line);
                }
            }
            self.state = Pending::of(&decision, &headers).map_or(State::Untouched, State::Report);
            return false;
        }
        // Only refusals have a debug line: ask Envoy's log level only then.
        if decision.is_refusal() && ffi::log_enabled(Level::Debug) {
            if let Some(line) = debug_line(&decision, &headers) {
                log(Level::Debug, &line);
            }
        }
        match decision {
            Decision::Untouched { .. } | Decision::Forward { .. } => false,
            Decision::Actual {
                rule,
                allowed_origin,
                policy,
                ..
            } => {
                let allowed_origin = allowed_origin
                    .filter(|_| !policy.allows_any_origin())
                    .map(Origin::copy);
                self.state = State::Actual {
                    rule,
                    allowed_origin,
                };
                false
            }
            Decision::Reply { status, .. } => {
                let reply = decision.reply_headers().unwrap_or([None; 8]);
                let details = access_log::reply_details(&decision, &headers)
                    .filter(|_| self.plugin.config.access_log);
                match details {
                    // With the access log asked for, through Envoy's local-reply
                    // path, which records `%RESPONSE_CODE_DETAILS%` (and costs
                    // a few thousand instructions more per reply).
                    Some(details) => {
                        stream.send_response(status, reply.into_iter().flatten(), details)
                    }
                    None => {
                        let status = if status == 204 { "204" } else { "403" };
                        stream.send_headers(status, reply.into_iter().flatten());
                    }
                }
                true
            }
        }
    }

    fn count(&self, stream: &Stream, counter: Counter) {
        if let Some(id) = self.counters[counter.index()] {
            stream.increment_counter(id);
        }
    }

    /// Report mode: the other layer's answer (this response, read, never
    /// changed) against the plugin's decision, counted; a disagreement logged.
    fn compare(&self, stream: &Stream, pending: &Pending) {
        let mut read = AnswerRead::default();
        stream.visit_response_headers(|name, value| read.set(name, value));
        let debug = ffi::log_enabled(Level::Debug);
        let Some(compared) = pending.compare(&self.plugin.config, &read, debug) else {
            return;
        };
        for i in compared.counters.into_iter().flatten() {
            self.count(stream, Counter::Compared(i));
        }
        if let Some(line) = compared.line {
            log(Level::Debug, &line);
        }
    }

    pub fn on_response_headers(&mut self, stream: &Stream) {
        #[cfg(feature = "fault-injection")]
        inject_fault(stream, "response_headers");
        if let State::Report(pending) = &self.state {
            self.compare(stream, pending);
            return;
        }
        let State::Actual {
            rule,
            ref allowed_origin,
        } = self.state
        else {
            return;
        };
        let Some(policy) = self.plugin.config.policy_at(rule) else {
            return;
        };
        let allowed_origin = allowed_origin.as_ref().and_then(|origin| {
            origin.get().or_else(|| {
                // Too long to keep: read again, and checked again, so only an
                // allowed origin is ever echoed.
                stream
                    .request_header(Header::Origin.name())
                    .filter(|o| policy.allows_origin(o))
            })
        });
        let plan = response::actual(policy, allowed_origin);
        // One look at the upstream's headers: which managed ones it sent (to
        // remove), and whether its `vary` already covers `origin`.
        let mut sent = [false; MANAGED.len()];
        let mut covered = false;
        let looked = stream.visit_response_headers(|name, value| {
            // Envoy keeps header names lowercase.
            if name == VARY.as_bytes() {
                covered |= response::vary_covers_origin(value);
            } else if let Some(i) = response::managed_index(name) {
                sent[i] = true;
            }
        });
        if !looked {
            // Unknown: remove every managed header the plan does not set.
            sent = [true; MANAGED.len()];
        }
        for ((name, value), sent) in plan.managed().into_iter().zip(sent) {
            match value {
                // Adding is cheaper for Envoy than replacing: no lookup first.
                Some(value) if !sent => stream.add_response_header(name, value),
                _ if sent => stream.set_response_header(name, value),
                _ => true,
            };
        }
        if plan.vary_origin && !covered {
            stream.add_response_header(VARY, b"origin");
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
