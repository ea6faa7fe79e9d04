//! The Proxy-Wasm glue: proxy-wasm contexts around the core's `Plugin`.
//! `decide` asks for the request headers it needs, which are read from Envoy
//! then, each once; the filter sends the prebuilt local reply or writes the
//! headers `response::actual` plans, and counts.
//!
//! Every host call costs far more than the decision itself (docs/benchmarks.md
//! measures each): reading a header that is present is the dearest, since the
//! host calls back into the VM to allocate its copy.

use cors_core::access_log;
use cors_core::decision::Decision;
use cors_core::plugin::{debug_line, report_line, Counter, COUNTERS};
use cors_core::policy::Outcome;
use cors_core::report::{AnswerRead, Pending};
use cors_core::request::{Header, RequestHeaders};
use cors_core::response::{self, VARY};
use cors_core::Plugin;
use log::{debug, error, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, Bytes, ContextType, MapType, MetricType};
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

#[derive(Default)]
pub struct CorsRoot {
    shared: Option<Rc<Shared>>,
}

/// What every request of this VM shares, set up once in `on_configure`.
struct Shared {
    plugin: Plugin,
    /// Counter ids, indexed by `Counter::index`.
    counters: [Option<u32>; COUNTERS],
    /// Where an allowed preflight's reply is completed: sized at configure time
    /// for the longest origin, so a preflight allocates nothing. (A VM is
    /// single-threaded: one request at a time borrows it.)
    buffer: RefCell<Vec<u8>>,
}

impl Shared {
    fn count(&self, counter: Counter) {
        if let Some(id) = self.counters[counter.index()] {
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
        match Plugin::parse(&bytes) {
            Ok(plugin) => {
                info!("{}", plugin.accepted_line());
                for record in plugin.warning_records() {
                    warn!("{record}");
                }
                // Defining a metric twice returns the same id, so every VM and
                // every reconfiguration shares the same counters.
                let counters = cors_core::plugin::counter_names()
                    .map(|name| hostcalls::define_metric(MetricType::Counter, name).ok());
                let buffer = RefCell::new(Vec::with_capacity(plugin.longest_reply()));
                self.shared = Some(Rc::new(Shared {
                    plugin,
                    counters,
                    buffer,
                }));
                true
            }
            Err(errors) => {
                // One log record per error (field, value, message), then the count.
                for record in errors.records() {
                    error!("{record}");
                }
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CorsHttp {
            shared: self.shared.clone(),
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
    /// A request with `Origin` under a policy in report mode: the response
    /// is compared with the plugin's decision, and left as it is.
    Report(Pending),
}

struct CorsHttp {
    shared: Option<Rc<Shared>>,
    state: State,
}

impl Context for CorsHttp {}

impl CorsHttp {
    /// Sends a local reply with headers already serialized: one host call.
    /// `details` is what Envoy's `%RESPONSE_CODE_DETAILS%` shows.
    fn send(&mut self, status: u32, headers: &[u8], details: &str) -> Action {
        if !send_local_response(status, headers, details) {
            // The request goes on to the upstream, which answers it instead.
            error!("could not send the local {status} reply");
            return Action::Continue;
        }
        self.state = State::Answered;
        Action::Pause
    }

    /// Answers a preflight (`decision`, a `Decision::Reply`) with the
    /// policy's prebuilt 204 or 403.
    fn reply(&mut self, shared: &Shared, decision: &Decision, details: &str) -> Action {
        let Decision::Reply {
            status,
            rule,
            origin,
            private_network,
            method,
            headers,
            ..
        } = *decision
        else {
            return Action::Continue;
        };
        let Some(replies) = shared.plugin.replies(rule) else {
            // Unreachable: every policy `decide` can choose has its replies.
            error!("no local replies for rule {rule:?}");
            return Action::Continue;
        };
        if status != 204 {
            return self.send(status, &replies.rejected, details);
        }
        match shared.buffer.try_borrow_mut() {
            Ok(mut buffer) => {
                replies.allowed(origin, private_network, method, headers, &mut buffer);
                self.send(204, &buffer, details)
            }
            // Unreachable (one request runs at a time), but never worth a panic.
            Err(_) => {
                let mut buffer = Vec::new();
                replies.allowed(origin, private_network, method, headers, &mut buffer);
                self.send(204, &buffer, details)
            }
        }
    }

    /// Report mode: the other layer's answer (this response, read, never
    /// changed) against the plugin's decision, counted; a disagreement logged.
    fn compare(&self, pending: &Pending) {
        let Some(shared) = self.shared.as_ref() else {
            return;
        };
        let mut read = AnswerRead::default();
        for name in AnswerRead::NAMES {
            if let Some(value) = self.get_http_response_header_bytes(name) {
                read.set(name.as_bytes(), &value);
            }
        }
        let debug = log::log_enabled!(log::Level::Debug);
        let Some(compared) = pending.compare(&shared.plugin.config, &read, debug) else {
            return;
        };
        for i in compared.counters.into_iter().flatten() {
            shared.count(Counter::Compared(i));
        }
        if let Some(line) = compared.line {
            debug!("{line}");
        }
    }
}

/// Request headers read from Envoy on first use, each at most once: every
/// read crosses the VM boundary, and `decide` asks only for what it needs.
#[derive(Default)]
struct HostHeaders {
    values: [OnceCell<Option<Bytes>>; 7],
}

impl HostHeaders {
    /// Takes a header's value out, if it was read.
    fn take(&mut self, header: Header) -> Option<Bytes> {
        self.values[header as usize].take().flatten()
    }
}

impl<'a> RequestHeaders<'a> for &'a HostHeaders {
    fn get(&self, header: Header) -> Option<&'a [u8]> {
        self.values[header as usize]
            .get_or_init(|| {
                // `_bytes`: values may be any bytes; an error reads as absent
                // (the SDK's getters would panic and trap the VM).
                hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, header.name())
                    .ok()
                    .flatten()
            })
            .as_deref()
    }
}

impl HttpContext for CorsHttp {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return Action::Continue;
        };
        let mut headers = HostHeaders::default();
        let decision = shared.plugin.decide(&&headers);
        // `"access_log": true` only: the host call costs about 2% of a request.
        let logs = shared.plugin.config.access_log;
        if logs {
            let entry = access_log::entry(&decision, &&headers);
            set_property(access_log::WASM_PROPERTY, entry.as_bytes());
        }
        let counter = Counter::of(&decision);
        if let Some(counter) = counter {
            shared.count(counter);
        }
        if matches!(counter, Some(Counter::Reported(_))) {
            // Report mode: say what the plugin would do, do nothing.
            if log::log_enabled!(log::Level::Debug) {
                if let Some(line) = report_line(&decision, &&headers) {
                    debug!("{line}");
                }
            }
            self.state = Pending::of(&decision, &&headers).map_or(State::Untouched, State::Report);
            return Action::Continue;
        }
        if log::log_enabled!(log::Level::Debug) {
            if let Some(line) = debug_line(&decision, &&headers) {
                debug!("{line}");
            }
        }
        match decision {
            Decision::Untouched { .. } | Decision::Forward { .. } => Action::Continue,
            Decision::Reply { .. } => {
                let details = logs
                    .then(|| access_log::reply_details(&decision, &&headers))
                    .flatten()
                    .unwrap_or_default();
                self.reply(&shared, &decision, details)
            }
            Decision::Actual { outcome, rule, .. } => {
                // The origin read for the decision is kept, not copied, for the response.
                let allowed_origin = headers
                    .take(Header::Origin)
                    .filter(|_| outcome == Outcome::ActualAllowed);
                self.state = State::Actual {
                    rule,
                    allowed_origin,
                };
                Action::Continue
            }
        }
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        if let State::Report(pending) = &self.state {
            self.compare(pending);
            return Action::Continue;
        }
        let State::Actual {
            rule,
            allowed_origin,
        } = &self.state
        else {
            return Action::Continue;
        };
        let Some(policy) = self
            .shared
            .as_ref()
            .and_then(|s| s.plugin.config.policy_at(*rule))
        else {
            return Action::Continue;
        };
        let plan = response::actual(policy, allowed_origin.as_deref());
        for (name, value) in plan.managed() {
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
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> proxy_wasm::types::Status;
}

/// Sets this request's property `path` (one segment), which Envoy keeps in
/// the stream's filter state as `wasm.<path>` for access logs. Direct: the
/// SDK's `set_property` builds a vector for the path first. A failure only
/// loses the entry; never worth failing a request.
fn set_property(path: &str, value: &[u8]) {
    // SAFETY: both pointers and lengths describe live slices; the host
    // copies them before returning.
    let _ = unsafe { proxy_set_property(path.as_ptr(), path.len(), value.as_ptr(), value.len()) };
}

/// `proxy_send_local_response` with headers already serialized: the SDK's
/// `send_http_response` would build two vectors per reply to get there.
/// No body, no gRPC status; `details` for `%RESPONSE_CODE_DETAILS%`.
fn send_local_response(status: u32, headers: &[u8], details: &str) -> bool {
    // SAFETY: the headers and details pointers and lengths describe live
    // slices; the body is null with length 0, as the ABI allows; the host
    // copies everything before returning.
    let result = unsafe {
        proxy_send_local_response(
            status,
            details.as_ptr(),
            details.len(),
            std::ptr::null(),
            0,
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    };
    matches!(result, proxy_wasm::types::Status::Ok)
}
