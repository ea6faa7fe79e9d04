//! Bench fixture: the floor of any Proxy-Wasm HTTP filter.
//!
//! - Empty configuration: every request and response passes untouched, with no
//!   host call at all. This is what any Wasm filter costs.
//! - `reply <status>` followed by `name: value` lines: every request is answered
//!   with that local reply, built once at configure time and sent with a single
//!   host call, reading no header. This is the cheapest possible Wasm local reply.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { reply: None }) });
}}

/// A local reply: its status and its headers in proxy-wasm's serialized map format.
struct Reply {
    status: u32,
    headers: Vec<u8>,
}

struct Root {
    reply: Option<Rc<Reply>>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _size: usize) -> bool {
        let config = self.get_plugin_configuration().unwrap_or_default();
        let Ok(text) = std::str::from_utf8(&config) else {
            return false;
        };
        match parse(text) {
            Ok(reply) => {
                self.reply = reply.map(Rc::new);
                true
            }
            Err(()) => false,
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            reply: self.reply.clone(),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

fn parse(text: &str) -> Result<Option<Reply>, ()> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    let status = first
        .strip_prefix("reply ")
        .and_then(|s| s.trim().parse().ok())
        .ok_or(())?;
    let pairs = lines
        .map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim(), v.trim()))
                .ok_or(())
        })
        .collect::<Result<Vec<_>, ()>>()?;
    Ok(Some(Reply {
        status,
        headers: serialize(&pairs),
    }))
}

/// proxy-wasm's map format: count, then each (name length, value length),
/// then each name and value followed by a NUL byte; integers little-endian u32.
fn serialize(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (name, value) in pairs {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    }
    for (name, value) in pairs {
        for part in [name, value] {
            out.extend_from_slice(part.as_bytes());
            out.push(0);
        }
    }
    out
}

struct Http {
    reply: Option<Rc<Reply>>,
}

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        match &self.reply {
            None => Action::Continue,
            Some(reply) => {
                send_local_response(reply.status, &reply.headers);
                Action::Pause
            }
        }
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
    ) -> u32;
}

/// One host call with prebuilt bytes: no serialization, no allocation.
fn send_local_response(status: u32, headers: &[u8]) {
    // SAFETY: every pointer and length describes a live slice (or is null with
    // length 0), as the proxy-wasm ABI asks; the host copies them before returning.
    unsafe {
        proxy_send_local_response(
            status,
            std::ptr::null(),
            0,
            std::ptr::null(),
            0,
            headers.as_ptr(),
            headers.len(),
            -1,
        );
    }
}
