//! The cheapest dynamic module HTTP filter Envoy 1.40 accepts: the hooks it
//! requires, each doing nothing (request and response pass untouched). No
//! callback into Envoy, so nothing here is `unsafe`.

use std::ffi::c_void;

/// A non-null pointer that is never dereferenced: Envoy refuses a null config or filter.
const SOME: *const c_void = std::ptr::dangling::<c_void>();

#[repr(C)]
pub struct Buffer {
    ptr: *const u8,
    length: usize,
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const u8 {
    c"v0.2.0".as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    _config: *mut c_void,
    _name: Buffer,
    _value: Buffer,
) -> *const c_void {
    SOME
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    _config: *const c_void,
    _filter: *mut c_void,
) -> *const c_void {
    SOME
}

/// Hooks whose answer is "continue" (0).
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
    envoy_dynamic_module_on_http_filter_request_headers(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_request_body(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_request_trailers(*mut c_void, *const c_void);
    envoy_dynamic_module_on_http_filter_response_headers(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_response_body(*mut c_void, *const c_void, bool);
    envoy_dynamic_module_on_http_filter_response_trailers(*mut c_void, *const c_void);
}

empty_hooks! {
    envoy_dynamic_module_on_http_filter_config_destroy(*const c_void);
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
