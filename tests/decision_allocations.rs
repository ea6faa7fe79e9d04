//! The decision path allocates nothing: a counting global allocator proves that
//! checking a preflight or an actual request and planning its headers makes
//! zero heap allocations, so the claim in docs/benchmarks.md cannot rot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cors_core::{response, Config, Reason};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations made by the current thread (tests run on several).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = std::hint::black_box(f());
    (ALLOCATIONS.with(Cell::get) - before, out)
}

/// Allocations made by the second call of `f`: a regex origin matcher sets up
/// its cache on first use, once per thread; every request after it is what counts.
fn steady_allocations<T>(f: impl Fn() -> T) -> (usize, T) {
    std::hint::black_box(f());
    allocations(f)
}

const POLICY: &str = r#"{
  "allow_origins": ["https://app.example.com", "https://admin.example.com", "http://localhost:*",
                    "https://*.example.com", "null", {"regex": "https://pr-[0-9]+\\.preview\\.example\\.org"}],
  "allow_methods": ["GET", "POST", "PUT", "DELETE"],
  "allow_headers": ["content-type", "authorization", "x-requested-with"],
  "expose_headers": ["x-request-id"],
  "max_age": 600,
  "allow_credentials": true,
  "allow_private_network": true
}"#;

#[test]
fn the_counter_sees_allocations() {
    // Without this, a broken counter would make every other test pass.
    let (n, v) = allocations(|| vec![1u8; 16]);
    assert_eq!(v.len(), 16);
    assert_eq!(n, 1);
    let (n, s) = allocations(|| format!("{}-{}", 1, 2));
    assert_eq!(s, "1-2");
    assert!(n >= 1, "format! allocated {n} times");
}

/// A preflight: origin, method, request headers, and the verdict it must get.
type PreflightCase<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>, Result<(), Reason>);

#[test]
fn preflight_decisions_allocate_nothing() {
    let config = Config::parse(POLICY.as_bytes()).unwrap();
    let policy = &config.default;
    let hostile = "x-a, ".repeat(900);
    // (origin, method, request headers, verdict)
    let cases: [PreflightCase; 10] = [
        (
            b"https://app.example.com",
            b"PUT",
            Some(b"content-type, authorization"),
            Ok(()),
        ),
        (b"https://api.example.com", b"DELETE", None, Ok(())),
        (
            b"http://localhost:5173",
            b"GET",
            Some(b"X-Requested-With"),
            Ok(()),
        ),
        (b"https://pr-7.preview.example.org", b"PUT", None, Ok(())),
        (b"null", b"POST", None, Ok(())),
        (b"https://evil.example", b"PUT", None, Err(Reason::Origin)),
        (
            b"https://app.example.com/",
            b"PUT",
            None,
            Err(Reason::Origin),
        ),
        (
            b"https://app.example.com",
            b"PATCH",
            None,
            Err(Reason::Method),
        ),
        (
            b"https://app.example.com",
            b"PUT",
            Some(b"x-secret"),
            Err(Reason::Headers),
        ),
        (
            b"https://app.example.com",
            b"PUT",
            Some(hostile.as_bytes()),
            Err(Reason::Headers),
        ),
    ];
    for (origin, method, headers, want) in cases {
        let (n, verdict) = steady_allocations(|| {
            let verdict = policy.check_preflight(origin, method, headers);
            match verdict {
                Ok(()) => {
                    std::hint::black_box(response::preflight_allowed(
                        policy,
                        origin,
                        true,
                        b"PUT",
                        Some(b"x-a"),
                    ));
                }
                Err(_) => {
                    std::hint::black_box(response::preflight_rejected(policy));
                }
            }
            verdict
        });
        let name = String::from_utf8_lossy(origin);
        assert_eq!(verdict, want, "{name} {method:?}");
        assert_eq!(n, 0, "preflight from {name}: {n} allocations");
    }
}

#[test]
fn actual_request_decisions_allocate_nothing() {
    let config = Config::parse(POLICY.as_bytes()).unwrap();
    let policy = &config.default;
    // (origin, allowed)
    let cases: [(Option<&[u8]>, bool); 6] = [
        (Some(b"https://app.example.com"), true),
        (Some(b"https://a.b.example.com"), true),
        (Some(b"https://pr-12.preview.example.org"), true),
        (Some(b"https://evil.example"), false),
        (Some(b"HTTPS://APP.EXAMPLE.COM"), false),
        (None, false),
    ];
    for (origin, want) in cases {
        let (n, plan) = steady_allocations(|| {
            let allowed = origin.filter(|o| policy.allows_origin(o));
            let plan = response::actual(policy, allowed);
            (
                plan,
                plan.vary_origin && !response::vary_covers_origin(b"accept-encoding"),
            )
        });
        let name = origin.map(String::from_utf8_lossy);
        assert_eq!(plan.0.allow_origin, origin.filter(|_| want), "{name:?}");
        assert!(plan.1, "{name:?}: origin must be added to vary");
        assert_eq!(n, 0, "actual request from {name:?}: {n} allocations");
    }
}

#[test]
fn local_reply_serialization_allocates_nothing() {
    // The Wasm glue serializes each local reply into one buffer sized at
    // configure time; with that capacity, no request allocates.
    let config = Config::parse(POLICY.as_bytes()).unwrap();
    let policy = &config.default;
    let origin = b"https://app.example.com";
    let allowed = response::preflight_allowed(policy, origin, true, b"PUT", Some(b"x-a"));
    let rejected = response::preflight_rejected(policy);
    let mut buffer = Vec::with_capacity(response::serialized_len(&allowed));
    for plan in [allowed, rejected, allowed] {
        let (n, ()) = allocations(|| response::serialize(&plan, &mut buffer));
        assert_eq!(n, 0, "serializing {plan:?}: {n} allocations");
        assert_eq!(buffer.len(), response::serialized_len(&plan));
    }
}

/// The access-log entry of every kind of decision, and a local reply's
/// response code details: built in place, never on the heap.
#[test]
fn access_log_entries_allocate_nothing() {
    use cors_core::access_log::{entry, reply_details};
    use cors_core::decision::decide;
    use cors_core::request::RequestHead;
    let config = Config::parse(
        br#"{"allow_origins": ["https://app.example.com"], "allow_methods": ["PUT"],
             "allow_headers": ["x-a"],
             "rules": [{"path_prefix": "/off/", "enabled": false},
                       {"path_prefix": "/fwd/", "unmatched_preflights": "forward"},
                       {"path_prefix": "/rep/", "mode": "report"}]}"#,
    )
    .unwrap();
    let head = |path: &'static str,
                method: &'static str,
                origin: Option<&'static str>,
                acrm: Option<&'static str>,
                acrh: Option<&'static str>| RequestHead {
        method: method.as_bytes(),
        authority: b"api.example.com",
        path: path.as_bytes(),
        origin: origin.map(str::as_bytes),
        request_method: acrm.map(str::as_bytes),
        request_headers: acrh.map(str::as_bytes),
        ..RequestHead::default()
    };
    let app = Some("https://app.example.com");
    let cases = [
        (
            head("/", "OPTIONS", app, Some("PUT"), Some("x-a")),
            "preflight_allowed - top",
        ),
        (
            head(
                "/",
                "OPTIONS",
                Some("https://evil.example"),
                Some("PUT"),
                None,
            ),
            "preflight_rejected origin_not_allowed top",
        ),
        (
            head("/", "OPTIONS", Some("evil"), Some("PUT"), None),
            "preflight_rejected origin_invalid top",
        ),
        (
            head("/", "OPTIONS", app, Some("PATCH"), None),
            "preflight_rejected method_not_allowed:PATCH top",
        ),
        (
            head("/", "OPTIONS", app, Some("PUT"), Some("X-Secret")),
            "preflight_rejected header_not_allowed:x-secret top",
        ),
        (
            head("/fwd/", "OPTIONS", app, Some("PATCH"), None),
            "preflight_forwarded method_not_allowed:PATCH rules[1]",
        ),
        (head("/", "GET", app, None, None), "actual_allowed - top"),
        (
            head("/", "GET", Some("https://evil.example"), None, None),
            "actual_disallowed origin_not_allowed top",
        ),
        (head("/", "GET", None, None, None), "no_origin - top"),
        (head("/off/", "GET", app, None, None), "disabled - rules[0]"),
        (
            head("/rep/", "OPTIONS", app, Some("PATCH"), None),
            "report.preflight_rejected method_not_allowed:PATCH rules[2]",
        ),
    ];
    for (head, want) in cases {
        let (n, (logged, details)) = steady_allocations(|| {
            let decision = decide(&config, &head);
            (entry(&decision, &head), reply_details(&decision, &head))
        });
        assert_eq!(logged.as_str(), want);
        assert_eq!(n, 0, "{want}: {n} allocations (details {details:?})");
    }
}
