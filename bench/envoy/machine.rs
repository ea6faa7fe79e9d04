//! The machine the bench runs on: what it is, which tools it has, how busy it
//! is, and pinning to one of its CPUs.

use crate::proc_stats::CpuUsage;
use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) fn tool_version(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

pub(crate) fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cpus} CPUs, Linux {}", kernel.trim())
}

pub(crate) fn loadavg() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pins this process (and so the children it starts next) to one CPU.
pub(crate) fn pin_to(cpu: usize) -> bool {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return false;
    }
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Waits (bounded) until the rest of the machine uses under 20% of one core
/// over 2 s; returns the last reading.
pub(crate) fn wait_for_quiet(max_wait: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(max_wait);
    loop {
        let usage = CpuUsage::start();
        std::thread::sleep(Duration::from_secs(2));
        let busy = usage.foreign_percent();
        if busy < 20.0 || Instant::now() >= deadline {
            if busy >= 20.0 {
                println!("the machine is busy ({busy:.0}% of one core used by other processes); measuring anyway");
            }
            return busy;
        }
        println!("waiting for the machine to go quiet: other processes use {busy:.0}% of one core");
    }
}
