//! The FFI edge, and the only `unsafe` of the dynamic module: the event hooks
//! Envoy calls (`envoy_dynamic_module_on_*`) and the callbacks they call back
//! (`envoy_dynamic_module_callback_*`), declared here for Envoy 1.40's ABI
//! (version string "v0.2.0"), only those this filter uses. Each declaration
//! was checked against that release's header text and its binary.
//!
//! Every hook that runs filter code catches panics: a panic that crossed this
//! boundary would abort the whole Envoy process, not just one request.
//!
//! Only callbacks that Envoy 1.38 and later all export are used (`log`, not
//! 1.40's `log_v2`; no `get_log_level`): Rust links the module with BIND_NOW,
//! so one missing symbol would make an older Envoy refuse to load it.

use crate::filter::{ConfigRef, Filter, FilterConfig, Level};
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Per-route policies Envoy holds now. Envoy creates them on its main thread
/// before any request can use them; a request sees the count of its time.
static PER_ROUTE_CONFIGS: AtomicUsize = AtomicUsize::new(0);

/// The ABI version of Envoy 1.40, whose header these declarations follow.
const ABI_VERSION: &std::ffi::CStr = c"v0.2.0";

/// `envoy_dynamic_module_type_module_buffer`: bytes the module owns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ModuleBuffer {
    ptr: *const u8,
    length: usize,
}

impl ModuleBuffer {
    fn of(bytes: &[u8]) -> ModuleBuffer {
        ModuleBuffer {
            ptr: bytes.as_ptr(),
            length: bytes.len(),
        }
    }

    const EMPTY: ModuleBuffer = ModuleBuffer {
        ptr: ptr::null(),
        length: 0,
    };
}

/// `envoy_dynamic_module_type_envoy_buffer`: bytes Envoy owns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EnvoyBuffer {
    ptr: *const u8,
    length: usize,
}

/// `envoy_dynamic_module_type_module_http_header`
#[repr(C)]
#[derive(Clone, Copy)]
struct ModuleHttpHeader {
    key_ptr: *const u8,
    key_length: usize,
    value_ptr: *const u8,
    value_length: usize,
}

/// `envoy_dynamic_module_type_envoy_http_header`
#[repr(C)]
#[derive(Clone, Copy)]
struct EnvoyHttpHeader {
    key_ptr: *const u8,
    key_length: usize,
    value_ptr: *const u8,
    value_length: usize,
}

/// `envoy_dynamic_module_type_http_header_type`
const REQUEST_HEADER: u32 = 0;
const RESPONSE_HEADER: u32 = 2;

/// `envoy_dynamic_module_type_on_http_filter_{request,response}_headers_status`
/// and the body and trailers statuses: 0 is Continue in each.
const CONTINUE: u32 = 0;
const STOP_ITERATION: u32 = 1;

/// `envoy_dynamic_module_type_metrics_result_Success`
const METRICS_SUCCESS: u32 = 0;

extern "C" {
    fn envoy_dynamic_module_callback_http_get_header(
        filter_envoy_ptr: *mut c_void,
        header_type: u32,
        key: ModuleBuffer,
        result_buffer: *mut EnvoyBuffer,
        index: usize,
        optional_size: *mut usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_headers_size(
        filter_envoy_ptr: *mut c_void,
        header_type: u32,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_headers(
        filter_envoy_ptr: *mut c_void,
        header_type: u32,
        result_headers: *mut EnvoyHttpHeader,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_set_header(
        filter_envoy_ptr: *mut c_void,
        header_type: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_add_header(
        filter_envoy_ptr: *mut c_void,
        header_type: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_send_response(
        filter_envoy_ptr: *mut c_void,
        status_code: u32,
        headers_vector: *mut ModuleHttpHeader,
        headers_vector_size: usize,
        body: ModuleBuffer,
        details: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_send_response_headers(
        filter_envoy_ptr: *mut c_void,
        headers_vector: *mut ModuleHttpHeader,
        headers_vector_size: usize,
        end_stream: bool,
    );
    fn envoy_dynamic_module_callback_http_filter_config_define_counter(
        filter_config_envoy_ptr: *mut c_void,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        counter_id_ptr: *mut usize,
    ) -> u32;
    fn envoy_dynamic_module_callback_http_filter_increment_counter(
        filter_envoy_ptr: *mut c_void,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> u32;
    fn envoy_dynamic_module_callback_get_most_specific_route_config(
        filter_envoy_ptr: *mut c_void,
    ) -> *const c_void;
    fn envoy_dynamic_module_callback_http_set_filter_state_bytes(
        filter_envoy_ptr: *mut c_void,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_log(level: u32, message: ModuleBuffer);
    fn envoy_dynamic_module_callback_log_enabled(level: u32) -> bool;
}

// ------------------------------------------------------------------ safe handles

/// Writes one line to Envoy's log (component `dynamic_modules`).
pub fn log(level: Level, message: &str) {
    // SAFETY: the buffer describes a live string; Envoy copies it before returning.
    unsafe { envoy_dynamic_module_callback_log(level as u32, ModuleBuffer::of(message.as_bytes())) }
}

/// Whether Envoy would print a line at `level`: debug lines are only built then.
pub fn log_enabled(level: Level) -> bool {
    // SAFETY: takes a plain integer; no memory is shared.
    unsafe { envoy_dynamic_module_callback_log_enabled(level as u32) }
}

/// Envoy's filter configuration while `config_new` runs: where counters are defined.
pub struct EnvoyConfig {
    ptr: *mut c_void,
}

impl EnvoyConfig {
    /// A counter's id, or `None` if Envoy refused to define it.
    pub fn define_counter(&self, name: &str) -> Option<usize> {
        let mut id = 0usize;
        // SAFETY: `ptr` is the live config Envoy passed to `config_new`, which
        // is running; the name is a live slice Envoy copies; no labels (null,
        // 0); `id` is a valid place for Envoy to write the id.
        let result = unsafe {
            envoy_dynamic_module_callback_http_filter_config_define_counter(
                self.ptr,
                ModuleBuffer::of(name.as_bytes()),
                ptr::null_mut(),
                0,
                &mut id,
            )
        };
        (result == METRICS_SUCCESS).then_some(id)
    }
}

/// One stream's filter in Envoy, valid for the duration of one hook call:
/// request header values it returns borrow from it and so cannot outlive that
/// call. The filter only ever changes response headers, so those views stay
/// valid; response headers are only looked at inside `visit_response_headers`.
pub struct Stream {
    ptr: *mut c_void,
}

impl Stream {
    /// A request header's value (repeated lines joined with `,` by Envoy).
    pub fn request_header(&self, name: &str) -> Option<&[u8]> {
        let mut value = EnvoyBuffer {
            ptr: ptr::null(),
            length: 0,
        };
        // SAFETY: `ptr` is the filter Envoy passed to the running hook; the
        // key is a live slice; `value` is a valid place to write; the count
        // is optional (null). On success Envoy points `value` into its own
        // header map, valid until this hook returns (`&self` ties the borrow
        // to it) or a header of that map is set: this filter sets response
        // headers only, and never while it holds a view of one.
        let found = unsafe {
            envoy_dynamic_module_callback_http_get_header(
                self.ptr,
                REQUEST_HEADER,
                ModuleBuffer::of(name.as_bytes()),
                &mut value,
                0,
                ptr::null_mut(),
            )
        };
        if !found || value.ptr.is_null() {
            return None;
        }
        // SAFETY: Envoy returned a pointer and length into its header map,
        // valid as said above.
        Some(unsafe { std::slice::from_raw_parts(value.ptr, value.length) })
    }

    /// Shows `visit` every request header line (name, value), read in one
    /// call: cheaper than asking for several names, since Envoy copies and
    /// lowercases every name it is asked for. The views borrow `self`: valid
    /// while this hook runs (this filter never sets request headers).
    pub fn visit_request_headers<'a>(&'a self, visit: impl FnMut(&'a [u8], &'a [u8])) -> bool {
        self.visit_headers(REQUEST_HEADER, visit)
    }

    /// Shows `visit` every response header line (name, value), read in one
    /// call. The views cannot outlive the call, so no later setter can
    /// invalidate them. `false` if Envoy has no response headers to show.
    pub fn visit_response_headers(&self, visit: impl FnMut(&[u8], &[u8])) -> bool {
        self.visit_headers(RESPONSE_HEADER, visit)
    }

    fn visit_headers<'a>(&'a self, kind: u32, mut visit: impl FnMut(&'a [u8], &'a [u8])) -> bool {
        // SAFETY: live filter of the running hook; no memory is shared.
        let count = unsafe { envoy_dynamic_module_callback_http_get_headers_size(self.ptr, kind) };
        // Rarely more than 64 lines: those use the stack, and only the
        // entries Envoy will fill are cleared.
        let mut inline = [MaybeUninit::<EnvoyHttpHeader>::uninit(); 64];
        let mut spilled = Vec::new();
        let entries: &mut [MaybeUninit<EnvoyHttpHeader>] = if count <= inline.len() {
            &mut inline[..count]
        } else {
            spilled.resize(count, MaybeUninit::uninit());
            &mut spilled
        };
        for entry in entries.iter_mut() {
            entry.write(EMPTY_ENVOY_HEADER);
        }
        // SAFETY: live filter of the running hook; `entries` has room for the
        // `count` headers Envoy just reported, and nothing runs in between.
        let ok = unsafe {
            envoy_dynamic_module_callback_http_get_headers(
                self.ptr,
                kind,
                entries.as_mut_ptr().cast(),
            )
        };
        if !ok {
            return false;
        }
        for entry in entries.iter() {
            // SAFETY: every entry was written above (and then by Envoy).
            let entry = unsafe { entry.assume_init_ref() };
            if entry.key_ptr.is_null() {
                continue;
            }
            // SAFETY: Envoy filled each entry with views into its header map,
            // valid until this hook returns or a setter of that map runs:
            // request views borrow `self` (the hook's handle) and this filter
            // sets no request header; response views are only lent to
            // `visit`, during which no setter runs.
            let (name, value) = unsafe {
                (
                    std::slice::from_raw_parts(entry.key_ptr, entry.key_length),
                    bytes_of(EnvoyBuffer {
                        ptr: entry.value_ptr,
                        length: entry.value_length,
                    }),
                )
            };
            visit(name, value);
        }
        true
    }

    /// Replaces a response header, or removes it (`None`).
    pub fn set_response_header(&self, name: &str, value: Option<&[u8]>) -> bool {
        let value = value.map_or(ModuleBuffer::EMPTY, ModuleBuffer::of);
        // SAFETY: live filter of the running hook; key and value are live
        // slices (or null, 0: remove) that Envoy copies.
        unsafe {
            envoy_dynamic_module_callback_http_set_header(
                self.ptr,
                RESPONSE_HEADER,
                ModuleBuffer::of(name.as_bytes()),
                value,
            )
        }
    }

    /// Appends a response header line (Envoy joins it to an existing one with `,`).
    pub fn add_response_header(&self, name: &str, value: &[u8]) -> bool {
        // SAFETY: as in `set_response_header`.
        unsafe {
            envoy_dynamic_module_callback_http_add_header(
                self.ptr,
                RESPONSE_HEADER,
                ModuleBuffer::of(name.as_bytes()),
                ModuleBuffer::of(value),
            )
        }
    }

    /// Answers the request with these headers and no body, as Envoy's own
    /// CORS filter answers a preflight: straight to the encoders, without
    /// the local-reply machinery (`send_response`), which costs several
    /// thousand instructions more per reply. `status` has three digits.
    pub fn send_headers<'h>(
        &self,
        status: &'h str,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
    ) {
        let lines = std::iter::once((":status", status.as_bytes())).chain(headers);
        let (mut vector, n) = header_vector(lines);
        // SAFETY: live filter of the running hook; `vector[..n]` holds
        // pointers to live slices, which Envoy copies before returning.
        unsafe {
            envoy_dynamic_module_callback_http_send_response_headers(
                self.ptr,
                vector.as_mut_ptr(),
                n,
                true,
            )
        }
    }

    /// Sends a local reply with these headers and no body through Envoy's
    /// local-reply path (access logs see `details`); the request goes no further.
    pub fn send_response<'h>(
        &self,
        status: u32,
        headers: impl Iterator<Item = (&'h str, &'h [u8])>,
        details: &str,
    ) {
        let (mut vector, n) = header_vector(headers);
        // SAFETY: live filter of the running hook; `vector[..n]` holds
        // pointers to live slices, and the empty body and the details are
        // live slices: Envoy copies them all before returning.
        unsafe {
            envoy_dynamic_module_callback_http_send_response(
                self.ptr,
                status,
                vector.as_mut_ptr(),
                n,
                ModuleBuffer::EMPTY,
                ModuleBuffer::of(details.as_bytes()),
            )
        }
    }

    /// Sets a string in this stream's filter state, which access logs print
    /// with `%FILTER_STATE(key:PLAIN)%`. `false` if Envoy could not.
    pub fn set_filter_state(&self, key: &str, value: &[u8]) -> bool {
        // SAFETY: live filter of the running hook; key and value are live
        // slices that Envoy copies before returning.
        unsafe {
            envoy_dynamic_module_callback_http_set_filter_state_bytes(
                self.ptr,
                ModuleBuffer::of(key.as_bytes()),
                ModuleBuffer::of(value),
            )
        }
    }

    /// Adds one to a counter defined in `config_new`.
    pub fn increment_counter(&self, id: usize) {
        // SAFETY: live filter of the running hook; no labels (null, 0).
        // A failure loses one sample; never worth failing a request.
        let _ = unsafe {
            envoy_dynamic_module_callback_http_filter_increment_counter(
                self.ptr,
                id,
                ptr::null_mut(),
                0,
                1,
            )
        };
    }

    /// The per-route policy of the route or virtual host this request took,
    /// if any. Asked only once Envoy has configured a per-route policy: the
    /// lookup walks the route table.
    pub fn route_config(&self) -> Option<&ConfigRef> {
        if PER_ROUTE_CONFIGS.load(Ordering::Relaxed) == 0 {
            return None;
        }
        // SAFETY: live filter of the running hook. The pointer is null or one
        // `per_route_config_new` returned (a boxed `ConfigRef`), which Envoy
        // keeps alive with the route, at least while this stream runs.
        unsafe {
            let config = envoy_dynamic_module_callback_get_most_specific_route_config(self.ptr);
            config.cast::<ConfigRef>().as_ref()
        }
    }
}

const EMPTY_ENVOY_HEADER: EnvoyHttpHeader = EnvoyHttpHeader {
    key_ptr: ptr::null(),
    key_length: 0,
    value_ptr: ptr::null(),
    value_length: 0,
};

const EMPTY_HEADER: ModuleHttpHeader = ModuleHttpHeader {
    key_ptr: ptr::null(),
    key_length: 0,
    value_ptr: ptr::null(),
    value_length: 0,
};

/// A reply's header lines as the ABI's vector: `:status` and at most 8
/// headers (`response::HeaderPlan`), so a fixed array, no allocation; and how
/// many slots hold a line. The slices must outlive the call that takes it.
fn header_vector<'h>(
    lines: impl Iterator<Item = (&'h str, &'h [u8])>,
) -> ([ModuleHttpHeader; 9], usize) {
    let mut vector = [EMPTY_HEADER; 9];
    let mut n = 0;
    for ((name, value), slot) in lines.zip(vector.iter_mut()) {
        *slot = ModuleHttpHeader {
            key_ptr: name.as_ptr(),
            key_length: name.len(),
            value_ptr: value.as_ptr(),
            value_length: value.len(),
        };
        n += 1;
    }
    (vector, n)
}

// ------------------------------------------------------------------ the panic net

/// Runs `f`; a panic is caught, logged, and answered with `fallback`.
fn guarded<T>(hook: &str, fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(payload) => {
            let why = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("a panic");
            log(
                Level::Critical,
                &format!("cors: panic caught in {hook}: {why}; the request fails safely"),
            );
            fallback
        }
    }
}

/// The bytes of an Envoy buffer passed to a hook.
///
/// # Safety
/// `buffer` must describe bytes Envoy keeps alive for the returned lifetime.
unsafe fn bytes_of<'a>(buffer: EnvoyBuffer) -> &'a [u8] {
    if buffer.ptr.is_null() {
        &[]
    } else {
        // SAFETY: the caller's promise.
        unsafe { std::slice::from_raw_parts(buffer.ptr, buffer.length) }
    }
}

// ------------------------------------------------------------------ hooks

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const u8 {
    ABI_VERSION.as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    filter_config_envoy_ptr: *mut c_void,
    name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> *const c_void {
    guarded("config_new", ptr::null(), || {
        // SAFETY: Envoy passes the filter name and configuration bytes, alive while this hook runs.
        let (name, config) = unsafe { (bytes_of(name), bytes_of(config)) };
        let envoy = EnvoyConfig {
            ptr: filter_config_envoy_ptr,
        };
        match FilterConfig::new(&envoy, name, config) {
            // Null makes Envoy refuse the configuration (the errors are logged).
            None => ptr::null(),
            Some(config) => Box::into_raw(Box::new(config)).cast_const().cast(),
        }
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(
    filter_config_ptr: *const c_void,
) {
    guarded("config_destroy", (), || {
        // SAFETY: the pointer `config_new` returned, destroyed once by Envoy
        // after every filter made from it.
        drop(unsafe { Box::from_raw(filter_config_ptr.cast_mut().cast::<FilterConfig>()) });
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_new(
    name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> *const c_void {
    guarded("per_route_config_new", ptr::null(), || {
        // SAFETY: as in `config_new`.
        let (name, config) = unsafe { (bytes_of(name), bytes_of(config)) };
        match ConfigRef::per_route(name, config) {
            None => ptr::null(),
            Some(config) => {
                PER_ROUTE_CONFIGS.fetch_add(1, Ordering::Relaxed);
                Box::into_raw(Box::new(config)).cast_const().cast()
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    filter_config_ptr: *const c_void,
) {
    guarded("per_route_config_destroy", (), || {
        // SAFETY: the pointer `per_route_config_new` returned, destroyed once.
        drop(unsafe { Box::from_raw(filter_config_ptr.cast_mut().cast::<ConfigRef>()) });
        PER_ROUTE_CONFIGS.fetch_sub(1, Ordering::Relaxed);
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    filter_config_ptr: *const c_void,
    _filter_envoy_ptr: *mut c_void,
) -> *const c_void {
    guarded("filter_new", ptr::null(), || {
        // SAFETY: the pointer `config_new` returned; Envoy keeps the
        // configuration alive while it makes filters from it.
        let config = unsafe { &*filter_config_ptr.cast::<FilterConfig>() };
        Box::into_raw(Box::new(Filter::new(config)))
            .cast_const()
            .cast()
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_destroy(filter_module_ptr: *const c_void) {
    guarded("filter_destroy", (), || {
        // SAFETY: the pointer `filter_new` returned, destroyed once by Envoy.
        drop(unsafe { Box::from_raw(filter_module_ptr.cast_mut().cast::<Filter>()) });
    })
}

/// Runs `f` on a stream's filter under the panic net; `None` if it panicked.
fn on_filter<T>(
    hook: &str,
    stream: &Stream,
    filter_module_ptr: *const c_void,
    f: impl FnOnce(&mut Filter, &Stream) -> T,
) -> Option<T> {
    guarded(hook, None, || {
        // SAFETY: Envoy passes the pointer `filter_new` returned for this
        // stream, not yet destroyed, and calls one stream's hooks one at a
        // time, on one thread: the `Filter` is live and unshared.
        let filter = unsafe { &mut *filter_module_ptr.cast_mut().cast::<Filter>() };
        Some(f(filter, stream))
    })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr: *mut c_void,
    filter_module_ptr: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    let stream = Stream {
        ptr: filter_envoy_ptr,
    };
    match on_filter(
        "request_headers",
        &stream,
        filter_module_ptr,
        Filter::on_request_headers,
    ) {
        Some(true) => STOP_ITERATION,
        Some(false) => CONTINUE,
        // A panic: the request fails closed, as a trapped Wasm VM's does.
        None => {
            stream.send_response(503, std::iter::empty(), "cors_filter_failed");
            STOP_ITERATION
        }
    }
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    filter_envoy_ptr: *mut c_void,
    filter_module_ptr: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    let stream = Stream {
        ptr: filter_envoy_ptr,
    };
    let done = on_filter(
        "response_headers",
        &stream,
        filter_module_ptr,
        Filter::on_response_headers,
    );
    if done.is_none() {
        // A panic: no origin may be granted by a half-written response.
        stream.set_response_header(cors_core::response::ALLOW_ORIGIN, None);
    }
    CONTINUE
}

// The hooks below do nothing for CORS: Envoy requires them all. None runs
// filter code, so none can panic.

/// Hooks that answer "continue" (0) at once.
macro_rules! continue_hooks {
    ($($name:ident($($arg:ty),*);)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name($(_: $arg),*) -> u32 {
            CONTINUE
        }
    )*};
}

/// Hooks that return nothing.
macro_rules! empty_hooks {
    ($($name:ident($($arg:ty),*);)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name($(_: $arg),*) {}
    )*};
}

continue_hooks! {
    envoy_dynamic_module_on_http_filter_request_body(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_request_trailers(*mut c_void, *const c_void);
    envoy_dynamic_module_on_http_filter_response_body(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_response_trailers(*mut c_void, *const c_void);
}

// (filter_envoy_ptr, filter_module_ptr, then the hook's own arguments, as declared in the ABI)
empty_hooks! {
    envoy_dynamic_module_on_http_filter_stream_complete(*mut c_void, *const c_void);
    envoy_dynamic_module_on_http_filter_http_callout_done(*mut c_void, *const c_void, u64, u32, *const c_void, usize, *const c_void, usize);
    envoy_dynamic_module_on_http_filter_http_stream_headers(*mut c_void, *const c_void, u64, *const c_void, usize, bool);
    envoy_dynamic_module_on_http_filter_http_stream_data(*mut c_void, *const c_void, u64, *const c_void, usize, bool);
    envoy_dynamic_module_on_http_filter_http_stream_trailers(*mut c_void, *const c_void, u64, *const c_void, usize);
    envoy_dynamic_module_on_http_filter_http_stream_complete(*mut c_void, *const c_void, u64);
    envoy_dynamic_module_on_http_filter_http_stream_reset(*mut c_void, *const c_void, u64, u32);
    envoy_dynamic_module_on_http_filter_scheduled(*mut c_void, *const c_void, u64);
    envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(*mut c_void, *const c_void);
    envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(*mut c_void, *const c_void);
}
