//! Loopback ports chosen before the process that listens on them starts (a
//! demo's fixed port, a driver's, a registry's).

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// Linux's ephemeral range is 32768-60999: every port 0 bind (each Envoy's
/// admin and listeners here) and every outgoing connection gets one of those.
/// Ports handed out from that range were free when checked and then, before
/// their process bound them, taken by such a bind (seen once on a fresh
/// machine: the demo's listener and its own Envoy's admin on one port). These
/// are below it, handed out in turn from a start that depends on the process.
const FIRST: u32 = 20_000;
const COUNT: u32 = 12_000;

/// A loopback port that is free now and that the kernel hands nobody else.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = (std::process::id() % 600) * 20;
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + (start + n) % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}-{}", FIRST + COUNT - 1)
}
