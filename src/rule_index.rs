//! Which rule applies to a request, found by index: the first listed rule
//! whose hosts and path prefix match, exactly as a scan of `rules` in order
//! would find it, at a cost that does not grow with the number of rules.
//!
//! Each rule is filed under every host pattern it lists: an exact host, the
//! base of a `*.base` pattern, or "every host" (`*`, or no `hosts`). A
//! request's candidates are the rules filed under its host, under each domain
//! its host is a subdomain of, and under every host; within each, the path
//! prefixes are searched in `PathRules`. The lowest rule position among the
//! candidates is the first match.

use crate::rule::{host_of, HostPattern, Rule};
use crate::sorted_map::{cmp_lowercase, parent_domains, SortedMap};

#[derive(Debug, Clone, Default)]
pub struct RuleIndex {
    /// Rules naming the host itself, by host (lowercase).
    exact: SortedMap<String, PathRules>,
    /// Rules naming `*.base`, by base (lowercase).
    subdomains: SortedMap<String, PathRules>,
    /// Rules for every host.
    any_host: PathRules,
    /// The longest base in `subdomains`: no longer parent domain is looked up.
    longest_base: usize,
}

impl RuleIndex {
    pub fn new(rules: &[Rule]) -> RuleIndex {
        // (host or base, rule position, path prefix), grouped below by host.
        let mut exact: Vec<(&str, usize, Option<&str>)> = Vec::new();
        let mut subdomains: Vec<(&str, usize, Option<&str>)> = Vec::new();
        let mut any_host: Vec<(usize, Option<&str>)> = Vec::new();
        for (position, rule) in rules.iter().enumerate() {
            let prefix = rule.path_prefix.as_deref();
            if rule.hosts.is_empty() {
                any_host.push((position, prefix));
            }
            for host in &rule.hosts {
                match host {
                    HostPattern::Any => any_host.push((position, prefix)),
                    HostPattern::Exact(name) => exact.push((name, position, prefix)),
                    HostPattern::Subdomains(suffix) => {
                        let base = suffix.strip_prefix('.').unwrap_or(suffix);
                        subdomains.push((base, position, prefix));
                    }
                }
            }
        }
        let longest_base = subdomains
            .iter()
            .map(|(b, _, _)| b.len())
            .max()
            .unwrap_or(0);
        RuleIndex {
            exact: by_host(exact),
            subdomains: by_host(subdomains),
            any_host: PathRules::new(any_host),
            longest_base,
        }
    }

    /// The position in `rules` of the first rule matching the request's
    /// `:authority` (port ignored, any case) and `:path`.
    pub fn first_match(&self, authority: &[u8], path: &[u8]) -> Option<usize> {
        let host = host_of(authority);
        let by_host = |map: &SortedMap<String, PathRules>, name: &[u8]| {
            map.find(|key| cmp_lowercase(key.as_bytes(), name))
                .and_then(|rules| rules.first_match(path))
        };
        let mut first = self.any_host.first_match(path);
        let mut keep = |candidate: Option<usize>| {
            if let Some(c) = candidate {
                first = Some(first.map_or(c, |f| f.min(c)));
            }
        };
        if !self.exact.is_empty() {
            keep(by_host(&self.exact, host));
        }
        if !self.subdomains.is_empty() {
            for parent in parent_domains(host, self.longest_base) {
                keep(by_host(&self.subdomains, parent));
            }
        }
        first
    }
}

/// Each host's rules, `(host, position, prefix)` grouped by host.
fn by_host(mut filed: Vec<(&str, usize, Option<&str>)>) -> SortedMap<String, PathRules> {
    filed.sort_unstable();
    let groups = filed.chunk_by(|a, b| a.0 == b.0).map(|group| {
        let rules = group.iter().map(|(_, at, prefix)| (*at, *prefix)).collect();
        (group[0].0.to_string(), PathRules::new(rules))
    });
    SortedMap::new(groups.collect())
}

/// The rules filed under one host, by path prefix.
#[derive(Debug, Clone, Default)]
struct PathRules {
    /// The first rule without a path prefix: it matches every path.
    every_path: Option<usize>,
    /// The path prefixes, sorted by bytes.
    prefixes: Vec<Prefix>,
}

#[derive(Debug, Clone)]
struct Prefix {
    prefix: String,
    /// The longest other prefix that is a prefix of this one (its index).
    parent: Option<usize>,
    /// The first rule of this prefix and of all the shorter ones it extends:
    /// whatever path this prefix matches, they all match.
    first_rule: usize,
}

impl PathRules {
    fn first_match(&self, path: &[u8]) -> Option<usize> {
        match (self.every_path, self.longest_prefix_of(path)) {
            (Some(a), Some(b)) => Some(a.min(b.first_rule)),
            (a, b) => a.or(b.map(|p| p.first_rule)),
        }
    }

    /// The longest configured prefix of `path`. The greatest prefix sorting
    /// at or before `path` is it, or extends it: then the answer is the
    /// nearest of its parents that `path` starts with (none sorts between).
    /// The walk is bounded by how deeply the configured prefixes nest.
    fn longest_prefix_of(&self, path: &[u8]) -> Option<&Prefix> {
        let after = self
            .prefixes
            .partition_point(|p| p.prefix.as_bytes() <= path);
        let mut at = after.checked_sub(1)?;
        loop {
            let candidate = self.prefixes.get(at)?;
            if path.starts_with(candidate.prefix.as_bytes()) {
                return Some(candidate);
            }
            at = candidate.parent?;
        }
    }
}

impl PathRules {
    /// From the rules filed under one host: `(position, path prefix)`.
    fn new(mut rules: Vec<(usize, Option<&str>)>) -> PathRules {
        rules.sort_unstable();
        let every_path = rules.iter().find(|(_, p)| p.is_none()).map(|(at, _)| *at);
        // Each prefix once, with the first rule filed under it.
        let mut by_prefix: Vec<(&str, usize)> = rules
            .iter()
            .filter_map(|(at, prefix)| prefix.map(|p| (p, *at)))
            .collect();
        by_prefix.sort_unstable();
        by_prefix.dedup_by(|later, first| later.0 == first.0);
        let mut prefixes: Vec<Prefix> = Vec::with_capacity(by_prefix.len());
        // In sorted order, the prefixes a new one extends are on the stack.
        let mut open: Vec<usize> = Vec::new();
        for (prefix, rule) in by_prefix {
            while let Some(&top) = open.last() {
                if prefix
                    .as_bytes()
                    .starts_with(prefixes[top].prefix.as_bytes())
                {
                    break;
                }
                open.pop();
            }
            let parent = open.last().copied();
            let first_rule = parent.map_or(rule, |p| rule.min(prefixes[p].first_rule));
            open.push(prefixes.len());
            prefixes.push(Prefix {
                prefix: prefix.to_string(),
                parent,
                first_rule,
            });
        }
        PathRules {
            every_path,
            prefixes,
        }
    }
}
