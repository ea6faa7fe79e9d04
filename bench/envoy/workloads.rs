//! The requests each contender is measured with, and what each must answer.

use crate::common::http::{Request, Response};
use crate::contenders::Contender;

const ORIGIN: &str = "https://app.example.com";

/// What a browser sends with every request besides CORS headers, so each
/// contender handles a header map of realistic size.
const BROWSER_HEADERS: [(&str, &str); 10] = [
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
    ("accept", "application/json, text/plain, */*"),
    ("accept-language", "en-US,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("referer", "https://app.example.com/dashboard"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "same-site"),
    ("sec-fetch-dest", "empty"),
    ("sec-ch-ua", "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""),
    ("cookie", "session=6f1e0c2a9b7d4e3f8a1b2c3d4e5f6a7b; theme=dark; _ga=GA1.2.123456789.1700000000"),
];

const PREFLIGHT_METHOD: &str = "PUT";
const PREFLIGHT_HEADERS: &str = "content-type, authorization";

/// The plugin's answer to the bench preflight, which the cheapest-reply
/// fixture sends verbatim: same bytes on the wire, no decision.
pub(crate) const PREFLIGHT_ANSWER: [(&str, &str); 6] = [
    ("access-control-allow-origin", ORIGIN),
    ("access-control-allow-methods", "GET, POST, PUT, DELETE"),
    (
        "access-control-allow-headers",
        "content-type, authorization, x-requested-with",
    ),
    ("access-control-max-age", "600"),
    ("access-control-allow-credentials", "true"),
    (
        "vary",
        "origin, access-control-request-method, access-control-request-headers",
    ),
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Workload {
    Actual,
    Preflight,
    NoOrigin,
}

impl Workload {
    pub(crate) const ALL: [Workload; 3] =
        [Workload::Actual, Workload::Preflight, Workload::NoOrigin];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Actual => "actual GET with Origin",
            Workload::Preflight => "allowed preflight",
            Workload::NoOrigin => "GET without Origin",
        }
    }

    /// The contenders that make sense for this workload: the reply fixture
    /// answers everything locally, so it only stands for preflights.
    pub(crate) fn contenders(self) -> Vec<Contender> {
        let mut all = vec![
            Contender::None,
            Contender::Native,
            Contender::Empty,
            Contender::EmptyModule,
            Contender::Plugin,
            Contender::Module,
        ];
        if self == Workload::Preflight {
            all.insert(3, Contender::EmptyReply);
            all.insert(5, Contender::EmptyModuleReply);
        }
        all
    }

    pub(crate) fn request(self) -> Request {
        let request = match self {
            Workload::Actual => Request::get("/api/items").header("origin", ORIGIN),
            Workload::Preflight => Request::preflight("/api/items", ORIGIN, PREFLIGHT_METHOD)
                .header("access-control-request-headers", PREFLIGHT_HEADERS),
            Workload::NoOrigin => Request::get("/api/items"),
        };
        BROWSER_HEADERS
            .iter()
            .fold(request, |r, (name, value)| r.header(name, value))
    }

    /// What each contender must answer, checked before measuring.
    pub(crate) fn expect(self, contender: Contender, response: &Response) -> Result<(), String> {
        let acao = response.get("access-control-allow-origin");
        let (status, acao_want): (u16, Option<&str>) = match (self, contender) {
            (Workload::Actual, Contender::None | Contender::Empty | Contender::EmptyModule) => {
                (200, None)
            }
            (Workload::Actual, _) => (200, Some(ORIGIN)),
            (Workload::Preflight, Contender::None | Contender::Empty | Contender::EmptyModule) => {
                (200, None)
            }
            (Workload::Preflight, Contender::Native) => (200, Some(ORIGIN)),
            (Workload::Preflight, _) => (204, Some(ORIGIN)),
            (Workload::NoOrigin, _) => (200, None),
        };
        if response.status != status || acao.as_deref() != acao_want {
            return Err(format!(
                "{} on {}: status {} and access-control-allow-origin {acao:?}, want {status} and {acao_want:?}",
                self.name(),
                contender.name(),
                response.status
            ));
        }
        if self == Workload::Preflight && status == 204 {
            let got: Vec<(String, String)> = response
                .headers
                .iter()
                .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
                .cloned()
                .collect();
            let want: Vec<(String, String)> = PREFLIGHT_ANSWER
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            if got != want {
                return Err(format!(
                    "preflight on {}: headers {got:?}, want {want:?}",
                    contender.name()
                ));
            }
        }
        Ok(())
    }
}
