//! Instructions per decision, counted rather than timed (the numbers quoted in
//! docs/benchmarks.md): 100,000 decisions of one kind in a loop, for callgrind.
//!
//! cargo build --profile bench --example profile_preflight
//! valgrind --tool=callgrind target/release/examples/profile_preflight [allowed|wild|evil]
//! (then divide the total by 100,000)
use cors_core::{response, Config};
fn main() {
    let cfg = Config::parse(br#"{
  "allow_origins": ["https://app.example.com", "https://admin.example.com", "https://www.example.org",
                    "https://partner.example.net", "http://localhost:3000", "https://*.example.com"],
  "allow_methods": ["GET", "POST", "PUT", "DELETE"],
  "allow_headers": ["content-type", "authorization", "x-requested-with"],
  "max_age": 600, "allow_credentials": true}"#).unwrap();
    let p = &cfg.default;
    let kind = std::env::args().nth(1).unwrap_or_default();
    let mut ok = 0;
    for _ in 0..100_000 {
        let r = match kind.as_str() {
            "wild" => p.allows_origin(std::hint::black_box(b"https://api.example.com")),
            "evil" => p
                .check_preflight(
                    std::hint::black_box(b"https://evil.example"),
                    b"PUT",
                    Some(b"content-type, authorization"),
                )
                .is_ok(),
            _ => {
                let o = std::hint::black_box(b"https://app.example.com".as_slice());
                let v = p.check_preflight(
                    o,
                    std::hint::black_box(b"PUT"),
                    Some(std::hint::black_box(b"content-type, authorization")),
                );
                std::hint::black_box(response::preflight_allowed(
                    p,
                    o,
                    false,
                    b"PUT",
                    Some(b"content-type, authorization"),
                ));
                v.is_ok()
            }
        };
        ok += r as u32;
    }
    println!("{ok}");
}
