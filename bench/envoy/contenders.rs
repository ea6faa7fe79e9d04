//! The filters compared: each has one listener of its own in the Envoy under
//! test (`bootstrap.rs`), named after it.

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Contender {
    /// No CORS filter: the router alone.
    None,
    /// Envoy's native CORS filter with the same policy.
    Native,
    /// The empty Proxy-Wasm filter: what any Wasm filter costs.
    Empty,
    /// The fixture answering every request with the plugin's preflight reply,
    /// prebuilt: the cheapest possible Wasm local reply.
    EmptyReply,
    /// The empty dynamic module: what any dynamic module costs.
    EmptyModule,
    /// The empty module answering every request with the same preflight
    /// reply, prebuilt: the cheapest module local reply.
    EmptyModuleReply,
    /// proxy-wasm-cors, the Proxy-Wasm plugin.
    Plugin,
    /// proxy-wasm-cors, the dynamic module: the same core, natively.
    Module,
}

impl Contender {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Contender::None => "none",
            Contender::Native => "native",
            Contender::Empty => "empty-wasm",
            Contender::EmptyReply => "empty-wasm-reply",
            Contender::EmptyModule => "empty-module",
            Contender::EmptyModuleReply => "empty-module-reply",
            Contender::Plugin => "plugin",
            Contender::Module => "module",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Contender::None => "no CORS filter (router only)",
            Contender::Native => "Envoy's native CORS filter (`envoy.filters.http.cors`), same policy",
            Contender::Empty => "empty Proxy-Wasm filter (bench/empty-filter): no host call",
            Contender::EmptyReply => "empty Proxy-Wasm filter sending the same preflight answer, prebuilt, with one host call and no header read: the cheapest Wasm local reply",
            Contender::EmptyModule => "empty dynamic module (bench/empty-module): every hook empty, no callback",
            Contender::EmptyModuleReply => "empty dynamic module sending the same preflight answer, prebuilt, with one callback (`send_response_headers`, as the module does) and no header read: the cheapest module local reply",
            Contender::Plugin => "proxy-wasm-cors, the Proxy-Wasm plugin (dist/cors.wasm)",
            Contender::Module => "proxy-wasm-cors, the dynamic module (dist/libcors.so): the same core and policy, natively",
        }
    }
}
