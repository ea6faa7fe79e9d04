//! The request headers a decision may read, by name, and where it reads them
//! from: the glues answer `RequestHeaders` from Envoy's header map, the tool
//! and the tests from a `RequestHead` given up front. Its own home, since the
//! configuration (its warnings) and the decision both name these headers.

/// The request headers a decision may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    Method,
    Authority,
    Path,
    Origin,
    RequestMethod,
    RequestHeaders,
    PrivateNetwork,
}

impl Header {
    /// The name Envoy knows it by.
    pub const fn name(self) -> &'static str {
        match self {
            Header::Method => ":method",
            Header::Authority => ":authority",
            Header::Path => ":path",
            Header::Origin => "origin",
            Header::RequestMethod => "access-control-request-method",
            Header::RequestHeaders => "access-control-request-headers",
            Header::PrivateNetwork => "access-control-request-private-network",
        }
    }
}

/// Where a decision gets request header values: raw bytes, repeated lines
/// already joined with `,` (as Envoy hands them over).
pub trait RequestHeaders<'a> {
    fn get(&self, header: Header) -> Option<&'a [u8]>;
}

/// Every header value a decision may read, given up front.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// `:method`
    pub method: &'a [u8],
    /// `:authority`
    pub authority: &'a [u8],
    /// `:path`
    pub path: &'a [u8],
    pub origin: Option<&'a [u8]>,
    /// `access-control-request-method`
    pub request_method: Option<&'a [u8]>,
    /// `access-control-request-headers`
    pub request_headers: Option<&'a [u8]>,
    /// `access-control-request-private-network`
    pub private_network: Option<&'a [u8]>,
}

impl<'a> RequestHeaders<'a> for RequestHead<'a> {
    fn get(&self, header: Header) -> Option<&'a [u8]> {
        match header {
            Header::Method => Some(self.method),
            Header::Authority => Some(self.authority),
            Header::Path => Some(self.path),
            Header::Origin => self.origin,
            Header::RequestMethod => self.request_method,
            Header::RequestHeaders => self.request_headers,
            Header::PrivateNetwork => self.private_network,
        }
    }
}
