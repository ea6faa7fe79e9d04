//! Bench fixture: the floor of any Envoy dynamic module HTTP filter (1.40's ABI).
//!
//! - Empty configuration: every hook returns at once, with no callback into
//!   Envoy. This is what any dynamic module costs.
//! - `reply <status>` followed by `name: value` lines: every request is answered
//!   with those headers, parsed once at configure time and sent with a single
//!   callback (`send_response_headers`, as the CORS module answers a
//!   preflight), reading no header. This is the cheapest module local reply.

use std::ffi::c_void;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Buffer {
    ptr: *const u8,
    length: usize,
}

/// `envoy_dynamic_module_type_module_http_header`
#[repr(C)]
#[derive(Clone, Copy)]
struct Header {
    key_ptr: *const u8,
    key_length: usize,
    value_ptr: *const u8,
    value_length: usize,
}

extern "C" {
    fn envoy_dynamic_module_callback_http_send_response_headers(
        filter_envoy_ptr: *mut c_void,
        headers_vector: *mut Header,
        headers_vector_size: usize,
        end_stream: bool,
    );
}

/// What the filter does: nothing, or answer with these lines.
struct Config {
    /// `(name, value)` lines, `:status` first; empty: pass everything.
    reply: Vec<(String, String)>,
}

fn parse(text: &str) -> Option<Config> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Some(Config { reply: Vec::new() });
    };
    let status = first.strip_prefix("reply ")?.trim();
    let mut reply = vec![(":status".to_string(), status.to_string())];
    for line in lines {
        let (name, value) = line.split_once(':')?;
        reply.push((name.trim().to_string(), value.trim().to_string()));
    }
    Some(Config { reply })
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const u8 {
    c"v0.2.0".as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    _config: *mut c_void,
    _name: Buffer,
    value: Buffer,
) -> *const c_void {
    let bytes = if value.ptr.is_null() {
        &[][..]
    } else {
        // SAFETY: Envoy passes the configuration's bytes, alive during this call.
        unsafe { std::slice::from_raw_parts(value.ptr, value.length) }
    };
    let config = std::str::from_utf8(bytes).ok().and_then(parse);
    // Null makes Envoy refuse the configuration.
    config.map_or(std::ptr::null(), |c| {
        Box::into_raw(Box::new(c)).cast_const().cast()
    })
}

// Envoy's hook: it passes the pointer `config_new` returned.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: *const c_void) {
    // SAFETY: the pointer `config_new` returned, destroyed once.
    drop(unsafe { Box::from_raw(config.cast_mut().cast::<Config>()) });
}

/// The filter is its configuration: no state per stream, nothing allocated.
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: *const c_void,
    _filter: *mut c_void,
) -> *const c_void {
    config
}

// Envoy's hook: it passes the pointers this module handed out, per the ABI.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    filter_envoy_ptr: *mut c_void,
    filter: *const c_void,
    _end_of_stream: bool,
) -> u32 {
    // SAFETY: `filter_new` returned the live configuration, which Envoy keeps
    // while its filters run.
    let config = unsafe { &*filter.cast::<Config>() };
    if config.reply.is_empty() {
        return 0;
    }
    let mut headers: [Header; 16] = [Header {
        key_ptr: std::ptr::null(),
        key_length: 0,
        value_ptr: std::ptr::null(),
        value_length: 0,
    }; 16];
    let mut n = 0;
    for ((name, value), slot) in config.reply.iter().zip(headers.iter_mut()) {
        *slot = Header {
            key_ptr: name.as_ptr(),
            key_length: name.len(),
            value_ptr: value.as_ptr(),
            value_length: value.len(),
        };
        n += 1;
    }
    // SAFETY: live filter of this hook; `headers[..n]` points at live strings, which Envoy copies.
    unsafe {
        envoy_dynamic_module_callback_http_send_response_headers(
            filter_envoy_ptr,
            headers.as_mut_ptr(),
            n,
            true,
        )
    };
    1
}

/// Hooks that answer "continue" (0).
macro_rules! continue_hooks {
    ($($name:ident($($arg:ty),*);)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name($(_: $arg),*) -> u32 {
            0
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
    envoy_dynamic_module_on_http_filter_response_headers(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_response_body(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_response_trailers(*mut c_void, *const c_void);
}

empty_hooks! {
    envoy_dynamic_module_on_http_filter_destroy(*const c_void);
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
