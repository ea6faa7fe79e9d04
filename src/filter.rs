//! The host layer: proxy-wasm contexts around the core. Reads only the headers
//! a decision needs, each once, and writes the headers `response` plans.
//!
//! Every host call costs far more than the decision itself (docs/benchmarks.md
//! measures each): reading a header that is present is the dearest, since the
//! host calls back into the VM to allocate its copy. So requests read as few
//! headers as the decision allows, absent ones first where that decides.

use crate::config::Config;
use crate::policy::{Outcome, Policy, Reason, Unmatched};
use crate::response::{self, LocalReplies, MANAGED, VARY};
use log::{debug, error, info};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, Bytes, ContextType, MetricType};
use std::cell::RefCell;
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(CorsRoot { plugin: None }) });
}}

/// Logged values of hostile requests are cut to this many bytes.
const LOG_PREFIX: usize = 64;

struct CorsRoot {
    plugin: Option<Rc<Plugin>>,
}

/// What every request of this plugin shares: the configuration and the ids of
/// the counters, both set up once in `on_configure`.
struct Plugin {
    config: Config,
    /// Counter ids, indexed by `Outcome::index`.
    counters: [Option<u32>; Outcome::ALL.len()],
    /// Each policy's local replies, serialized at configure time, indexed by
    /// `slot` (`None` where a rule turns CORS off).
    replies: Vec<Option<LocalReplies>>,
    /// Where an allowed preflight's reply is completed: sized at configure time
    /// for the longest origin, so a preflight allocates nothing. (A VM is
    /// single-threaded: one request at a time borrows it.)
    buffer: RefCell<Vec<u8>>,
}

impl Plugin {
    fn new(config: Config, counters: [Option<u32>; Outcome::ALL.len()]) -> Plugin {
        let replies: Vec<Option<LocalReplies>> = (0..=config.rules.len())
            .map(|slot| config.policy_at(rule_of(slot)).map(LocalReplies::new))
            .collect();
        let longest = replies
            .iter()
            .flatten()
            .map(|r| r.allowed_len(crate::origin::MAX_ORIGIN_LEN))
            .max()
            .unwrap_or(0);
        Plugin {
            config,
            counters,
            replies,
            buffer: RefCell::new(Vec::with_capacity(longest)),
        }
    }

    fn replies(&self, rule: Option<usize>) -> Option<&LocalReplies> {
        self.replies.get(slot_of(rule)).and_then(Option::as_ref)
    }

    fn count(&self, outcome: Outcome) {
        if let Some(id) = self.counters[outcome.index()] {
            // A failed increment loses one sample; never worth failing a request.
            let _ = hostcalls::increment_metric(id, 1);
        }
    }
}

impl Context for CorsRoot {}

impl RootContext for CorsRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        // Follow Envoy's own level for the wasm component, so debug lines cost
        // nothing unless someone asked for them.
        if let Ok(level) = hostcalls::get_log_level() {
            proxy_wasm::set_log_level(level);
        }
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match Config::parse(&bytes) {
            Ok(config) => {
                info!("configuration accepted ({} rules)", config.rules.len());
                // Defining a metric twice returns the same id, so every VM and
                // every reconfiguration shares the same counters.
                let counters = Outcome::ALL
                    .map(|o| hostcalls::define_metric(MetricType::Counter, o.metric()).ok());
                self.plugin = Some(Rc::new(Plugin::new(config, counters)));
                true
            }
            Err(errors) => {
                // One line per error: each names the field and the value.
                error!("{errors}");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CorsHttp {
            plugin: self.plugin.clone(),
            state: State::Untouched,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

enum State {
    /// CORS is off here, or a rejected preflight was forwarded: leave the response alone.
    Untouched,
    /// The plugin sent a local reply; it passes through `on_http_response_headers` too.
    Answered,
    /// An actual request: the response gets the policy's headers.
    Actual {
        rule: Option<usize>,
        /// The request's origin, when the policy allows it.
        allowed_origin: Option<Bytes>,
    },
}

struct CorsHttp {
    plugin: Option<Rc<Plugin>>,
    state: State,
}

impl Context for CorsHttp {}

impl CorsHttp {
    fn header(&self, name: &str) -> Option<Bytes> {
        self.get_http_request_header_bytes(name)
    }

    /// Sends a local reply with headers already serialized: one host call.
    fn send(&mut self, status: u32, headers: &[u8]) -> Action {
        if !send_local_response(status, headers) {
            // The request goes on to the upstream, which answers it instead.
            error!("could not send the local {status} reply");
            return Action::Continue;
        }
        self.state = State::Answered;
        Action::Pause
    }

    /// Sends the allowed preflight's 204, completed in the plugin's buffer.
    fn send_allowed(
        &mut self,
        plugin: &Plugin,
        replies: &LocalReplies,
        origin: &[u8],
        private_network: bool,
    ) -> Action {
        match plugin.buffer.try_borrow_mut() {
            Ok(mut buffer) => {
                replies.allowed(origin, private_network, &mut buffer);
                self.send(204, &buffer)
            }
            // Unreachable (one request runs at a time), but never worth a panic.
            Err(_) => {
                let mut buffer = Vec::new();
                replies.allowed(origin, private_network, &mut buffer);
                self.send(204, &buffer)
            }
        }
    }

    fn preflight(
        &mut self,
        plugin: &Plugin,
        rule: Option<usize>,
        policy: &Policy,
        origin: &[u8],
        method: &[u8],
    ) -> Action {
        // Built with the plugin for every policy; built here only if that ever failed.
        let built;
        let replies = match plugin.replies(rule) {
            Some(replies) => replies,
            None => {
                built = LocalReplies::new(policy);
                &built
            }
        };
        let requested_headers = self.header("access-control-request-headers");
        let verdict = policy.check_preflight(origin, method, requested_headers.as_deref());
        plugin.count(match verdict {
            Ok(()) => Outcome::PreflightAllowed,
            Err(reason) => Outcome::PreflightRejected(reason),
        });
        match verdict {
            Ok(()) => {
                let private_network = policy.private_network
                    && self
                        .header("access-control-request-private-network")
                        .as_deref()
                        == Some(b"true");
                self.send_allowed(plugin, replies, origin, private_network)
            }
            Err(reason) => {
                if log::log_enabled!(log::Level::Debug) {
                    let detail = match reason {
                        Reason::Origin => shown(origin),
                        Reason::Method => shown(method),
                        Reason::Headers => shown(
                            requested_headers
                                .as_deref()
                                .and_then(|list| policy.rejected_header(list))
                                .unwrap_or_default(),
                        ),
                    };
                    debug!("preflight rejected: {reason}: {detail}");
                }
                match policy.unmatched {
                    Unmatched::Reject => self.send(403, &replies.rejected),
                    Unmatched::Forward => Action::Continue,
                }
            }
        }
    }
}

impl HttpContext for CorsHttp {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        let Some(plugin) = self.plugin.clone() else {
            return Action::Continue;
        };
        let config = &plugin.config;
        let selection = if config.has_rules() {
            let authority = self.header(":authority").unwrap_or_default();
            let path = self.header(":path").unwrap_or_default();
            config.select(&authority, &path)
        } else {
            config.select(b"", b"")
        };
        let Some(policy) = selection.policy else {
            return Action::Continue;
        };
        let origin = self.header("origin");
        if let Some(origin) = &origin {
            // A preflight is an OPTIONS request with Origin and
            // Access-Control-Request-Method. The latter is read first: actual
            // requests lack it, and an absent header costs a lookup where a
            // present one (like :method, always there) costs a copy into the VM.
            if let Some(method) = self.header("access-control-request-method") {
                if self.header(":method").as_deref() == Some(b"OPTIONS") {
                    return self.preflight(&plugin, selection.rule, policy, origin, &method);
                }
            }
        }
        let outcome = match &origin {
            None => Outcome::NoOrigin,
            Some(o) if policy.allows_origin(o) => Outcome::ActualAllowed,
            Some(o) => {
                debug!("actual request from an origin not allowed: {}", shown(o));
                Outcome::ActualDisallowed
            }
        };
        plugin.count(outcome);
        let allowed_origin = origin.filter(|_| outcome == Outcome::ActualAllowed);
        self.state = State::Actual {
            rule: selection.rule,
            allowed_origin,
        };
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        let State::Actual {
            rule,
            allowed_origin,
        } = &self.state
        else {
            return Action::Continue;
        };
        let Some(policy) = self.plugin.as_ref().and_then(|p| p.config.policy_at(*rule)) else {
            return Action::Continue;
        };
        let plan = response::actual(policy, allowed_origin.as_deref());
        for (name, value) in MANAGED.iter().zip(plan.managed) {
            self.set_http_response_header_bytes(name, value);
        }
        if plan.vary_origin {
            let covered = self
                .get_http_response_header_bytes(VARY)
                .is_some_and(|vary| response::vary_covers_origin(&vary));
            if !covered {
                self.add_http_response_header(VARY, "origin");
            }
        }
        Action::Continue
    }
}

/// Where a policy's replies sit in `Plugin::replies`: the top-level policy
/// first, then one per rule.
fn slot_of(rule: Option<usize>) -> usize {
    rule.map_or(0, |i| i + 1)
}

fn rule_of(slot: usize) -> Option<usize> {
    slot.checked_sub(1)
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> proxy_wasm::types::Status;
}

/// `proxy_send_local_response` with headers already serialized: the SDK's
/// `send_http_response` would build two vectors per reply to get there.
/// Same arguments as the SDK: no details, no body, no gRPC status.
fn send_local_response(status: u32, headers: &[u8]) -> bool {
    // SAFETY: the headers pointer and length describe a live slice; the other
    // pointers are null with length 0, as the ABI allows; the host copies
    // everything before returning.
    let result = unsafe {
        proxy_send_local_response(
            status,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    };
    matches!(result, proxy_wasm::types::Status::Ok)
}

/// A bounded, printable prefix of a hostile value, for debug logs.
fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(LOG_PREFIX)];
    let mut text = format!("{:?}", String::from_utf8_lossy(cut));
    if bytes.len() > LOG_PREFIX {
        text.push('…');
    }
    text
}
