//! CPU time from /proc: what the other processes on the machine use
//! (`CpuUsage`), and what the Envoy under test uses (`pid_of`, `cpu_ns`).

use crate::common::envoy::Envoy;
use std::fs;
use std::time::Instant;

/// CPU time used by other processes than this one and its children, from /proc.
pub(crate) struct CpuUsage {
    at: Instant,
    total_busy: u64,
    ours: u64,
}

impl CpuUsage {
    pub(crate) fn start() -> CpuUsage {
        CpuUsage {
            at: Instant::now(),
            total_busy: total_busy_ticks(),
            ours: our_ticks(),
        }
    }

    /// Percent of one core used by everything else since `start`.
    pub(crate) fn foreign_percent(&self) -> f64 {
        let busy = total_busy_ticks().saturating_sub(self.total_busy);
        let ours = our_ticks().saturating_sub(self.ours);
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let seconds = self.at.elapsed().as_secs_f64().max(0.001);
        busy.saturating_sub(ours) as f64 / ticks_per_second / seconds * 100.0
    }
}

fn total_busy_ticks() -> u64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum()
}

/// utime + stime (+ waited-for children) of this process and its live children.
fn our_ticks() -> u64 {
    let me = std::process::id();
    let mut sum = proc_ticks(&format!("/proc/{me}/stat"), true);
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let path = entry.path().join("stat");
            if let Ok(text) = fs::read_to_string(&path) {
                if parent_of(&text) == Some(me) {
                    sum += ticks_of(&text, false);
                }
            }
        }
    }
    sum
}

fn proc_ticks(path: &str, with_children: bool) -> u64 {
    fs::read_to_string(path)
        .map(|t| ticks_of(&t, with_children))
        .unwrap_or(0)
}

/// Fields after the `(comm)`: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based.
fn stat_fields(text: &str) -> Vec<&str> {
    let after = text.rfind(')').map_or("", |i| &text[i + 1..]);
    after.split_whitespace().collect()
}

fn parent_of(text: &str) -> Option<u32> {
    stat_fields(text).get(1)?.parse().ok()
}

fn ticks_of(text: &str, with_children: bool) -> u64 {
    let f = stat_fields(text);
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let own = get(11) + get(12);
    if with_children {
        own + get(13) + get(14)
    } else {
        own
    }
}

/// The process id of an Envoy started by this process: the child whose
/// command line names its configuration file.
pub(crate) fn pid_of(envoy: &Envoy) -> u32 {
    let config = envoy.scratch.path("envoy.yaml");
    let config = config.to_string_lossy();
    let me = std::process::id();
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            parent_of(&stat) == Some(me)
                && String::from_utf8_lossy(&cmdline).contains(config.as_ref())
        })
        .unwrap_or_else(|| panic!("no child process runs {config}"))
}

/// CPU time of every thread of a process, in nanoseconds (schedstat's first field).
pub(crate) fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}
