//! The host layer: proxy-wasm contexts around the core. Reads only the headers
//! a decision needs, each once, and writes the headers `response` plans.

use crate::config::Config;
use crate::policy::{Outcome, Policy, Reason, Unmatched};
use crate::response::{self, HeaderPlan, MANAGED, VARY};
use log::{debug, error, info};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, Bytes, ContextType, MetricType};
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
}

impl Plugin {
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
                self.plugin = Some(Rc::new(Plugin { config, counters }));
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

    fn send(&mut self, status: u32, plan: &HeaderPlan<'_>) -> Action {
        let headers: Vec<(&str, &str)> = plan
            .iter()
            .flatten()
            .filter_map(|(name, value)| std::str::from_utf8(value).ok().map(|v| (*name, v)))
            .collect();
        self.send_http_response(status, headers, None);
        self.state = State::Answered;
        Action::Pause
    }

    fn preflight(
        &mut self,
        plugin: &Plugin,
        policy: &Policy,
        origin: &[u8],
        method: &[u8],
    ) -> Action {
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
                self.send(
                    204,
                    &response::preflight_allowed(policy, origin, private_network),
                )
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
                    Unmatched::Reject => self.send(403, &response::preflight_rejected(policy)),
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
            if self.header(":method").as_deref() == Some(b"OPTIONS") {
                if let Some(method) = self.header("access-control-request-method") {
                    return self.preflight(&plugin, policy, origin, &method);
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

/// A bounded, printable prefix of a hostile value, for debug logs.
fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(LOG_PREFIX)];
    let mut text = format!("{:?}", String::from_utf8_lossy(cut));
    if bytes.len() > LOG_PREFIX {
        text.push('…');
    }
    text
}
