//! The report: the markdown tables `make bench` prints and writes between the
//! bench markers of docs/benchmarks.md.

use crate::contenders::Contender;
use crate::load::Samples;
use crate::micro_benchmarks::micro_benchmarks;
use crate::settings::Settings;
use crate::workloads::Workload;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

pub(crate) struct Report<'a> {
    pub(crate) samples: Samples,
    /// Instructions per request in the Envoy under test, from callgrind.
    pub(crate) instructions: BTreeMap<(Workload, Contender), f64>,
    pub(crate) settings: &'a Settings,
    pub(crate) machine: String,
    pub(crate) envoy_version: String,
    pub(crate) wrk_version: String,
    pub(crate) rustc_version: String,
    pub(crate) load_before: String,
    pub(crate) load_after: String,
    pub(crate) quiet_before: f64,
    pub(crate) foreign_cpu: Vec<f64>,
    pub(crate) pinned: bool,
}

impl Report<'_> {
    fn rps(&self, w: Workload, c: Contender) -> f64 {
        median(self.samples[&(w, c)].iter().map(|s| s.rps).collect())
    }

    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let s = self.settings;
        let _ = writeln!(out, "| Workload | Contender | req/s (median) | req/s min–max | p50 latency | p99 latency | Envoy CPU per request | Envoy instructions per request |");
        let _ = writeln!(
            out,
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for ((w, c), runs) in &self.samples {
            let rps: Vec<f64> = runs.iter().map(|r| r.rps).collect();
            let lo = rps.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = rps.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0}–{:.0} | {:.0} µs | {:.0} µs | {:.1} µs | {} |",
                w.name(),
                c.name(),
                median(rps),
                lo,
                hi,
                median(runs.iter().map(|r| r.p50_us).collect()),
                median(runs.iter().map(|r| r.p99_us).collect()),
                median(runs.iter().map(|r| r.cpu_us).collect()),
                self.instructions
                    .get(&(*w, *c))
                    .map_or("–".to_string(), |n| format!("{:.0}", n)),
            );
        }
        self.ratios(
            &mut out,
            "Ratios of median requests per second (1.0 = as fast; above 1, the first named is faster)",
            |w, c| Some(self.rps(w, c)),
        );
        self.ratios(
            &mut out,
            "The same ratios from the Envoy under test's CPU time per request (the inverse ratio of costs)",
            |w, c| {
                let cpu = median(self.samples.get(&(w, c))?.iter().map(|r| r.cpu_us).collect());
                Some(1.0 / cpu)
            },
        );
        if !self.instructions.is_empty() {
            self.ratios(
                &mut out,
                "The same ratios from instructions per request under callgrind (the inverse ratio of costs; independent of machine load)",
                |w, c| self.instructions.get(&(w, c)).map(|n| 1.0 / n),
            );
        }
        let micro = micro_benchmarks();
        if !micro.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(out, "Core decisions, native, from the last `make bench-core` (criterion; policy as above):");
            let _ = writeln!(out);
            let _ = writeln!(out, "| Decision | median | 95% confidence |");
            let _ = writeln!(out, "| --- | ---: | ---: |");
            for (name, median, low, high) in micro {
                let _ = writeln!(
                    out,
                    "| {name} | {} | {}–{} |",
                    ns(median),
                    ns(low),
                    ns(high)
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Contenders:");
        let _ = writeln!(out);
        for c in Workload::Preflight.contenders() {
            let _ = writeln!(out, "- `{}`: {}", c.name(), c.describe());
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Run:");
        let _ = writeln!(out);
        let _ = writeln!(out, "- command: `make bench` ({} rounds × {} s per run, {} connections, wrk with 1 thread, contenders interleaved and rotated each round; medians over rounds)", s.rounds, s.seconds, s.connections);
        let _ = writeln!(out, "- machine: {}", self.machine);
        let _ = writeln!(out, "- Envoy under test `--concurrency 1`{}; upstream: a second Envoy with a `direct_response`{}", if self.pinned { " pinned to CPU 1" } else { "" }, if self.pinned { ", pinned with wrk to CPU 0" } else { "" });
        let _ = writeln!(out, "- {}", self.envoy_version);
        let _ = writeln!(out, "- {}; {}", self.wrk_version, self.rustc_version);
        let _ = writeln!(
            out,
            "- plugin `dist/cors.wasm`: {} bytes; module `dist/libcors.so`: {} bytes; fixtures: {} bytes (Wasm), {} bytes (module)",
            file_size(&s.plugin_wasm),
            file_size(&s.module),
            file_size(&s.empty_wasm),
            file_size(&s.empty_module)
        );
        let _ = writeln!(
            out,
            "- load average before: {}; after: {}; other processes before the run: {:.0}% of one core; during each round: {}",
            self.load_before,
            self.load_after,
            self.quiet_before,
            self.foreign_cpu
                .iter()
                .map(|p| format!("{p:.0}%"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out
    }
}

impl Report<'_> {
    /// One table of speed ratios per workload; `speed`: higher is faster.
    fn ratios(
        &self,
        out: &mut String,
        title: &str,
        speed: impl Fn(Workload, Contender) -> Option<f64>,
    ) {
        let _ = writeln!(out);
        let _ = writeln!(out, "{title}:");
        let _ = writeln!(out);
        let _ = writeln!(out, "| Workload | module/native | module/plugin | module/empty-module | module/empty-module-reply | empty-module/none | plugin/native | plugin/empty-wasm | plugin/empty-wasm-reply | native/none |");
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for w in Workload::ALL {
            let r = |a, b| match (speed(w, a), speed(w, b)) {
                (Some(a), Some(b)) => format!("{:.3}", a / b),
                _ => "–".to_string(),
            };
            let (reply, module_reply) = if w == Workload::Preflight {
                (
                    r(Contender::Plugin, Contender::EmptyReply),
                    r(Contender::Module, Contender::EmptyModuleReply),
                )
            } else {
                ("–".to_string(), "–".to_string())
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {module_reply} | {} | {} | {} | {reply} | {} |",
                w.name(),
                r(Contender::Module, Contender::Native),
                r(Contender::Module, Contender::Plugin),
                r(Contender::Module, Contender::EmptyModule),
                r(Contender::EmptyModule, Contender::None),
                r(Contender::Plugin, Contender::Native),
                r(Contender::Plugin, Contender::Empty),
                r(Contender::Native, Contender::None),
            );
        }
    }
}

fn ns(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} µs", value / 1000.0)
    } else {
        format!("{value:.1} ns")
    }
}

fn file_size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Replaces what lies between the bench markers of the doc, or writes the
/// markers and the table if the doc has none.
/// Replaces the section between `<!-- NAME:start -->` and `<!-- NAME:end -->`.
pub(crate) fn write_section(doc: &Path, name: &str, table: &str) {
    let (start, end) = (
        format!("<!-- {name}:start -->"),
        format!("<!-- {name}:end -->"),
    );
    let old = fs::read_to_string(doc).unwrap_or_default();
    let new = match (old.find(&start), old.find(&end)) {
        (Some(a), Some(b)) if a < b => format!("{}{start}\n{table}{}", &old[..a], &old[b..]),
        _ => format!("{old}\n{start}\n{table}{end}\n"),
    };
    if let Some(dir) = doc.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    fs::write(doc, new).unwrap();
}
