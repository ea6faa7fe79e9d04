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
use std::collections::BTreeMap;

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
        let mut exact: BTreeMap<String, PathRulesBuilder> = BTreeMap::new();
        let mut subdomains: BTreeMap<String, PathRulesBuilder> = BTreeMap::new();
        let mut any_host = PathRulesBuilder::default();
        for (position, rule) in rules.iter().enumerate() {
            let prefix = rule.path_prefix.as_deref();
            if rule.hosts.is_empty() {
                any_host.add(position, prefix);
            }
            for host in &rule.hosts {
                match host {
                    HostPattern::Any => any_host.add(position, prefix),
                    HostPattern::Exact(name) => {
                        exact.entry(name.clone()).or_default().add(position, prefix)
                    }
                    HostPattern::Subdomains(suffix) => {
                        let base = suffix.strip_prefix('.').unwrap_or(suffix);
                        subdomains
                            .entry(base.to_string())
                            .or_default()
                            .add(position, prefix)
                    }
                }
            }
        }
        let longest_base = subdomains.keys().map(String::len).max().unwrap_or(0);
        let build = |map: BTreeMap<String, PathRulesBuilder>| {
            SortedMap::new(map.into_iter().map(|(k, b)| (k, b.build())).collect())
        };
        RuleIndex {
            exact: build(exact),
            subdomains: build(subdomains),
            any_host: any_host.build(),
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

#[derive(Debug, Default)]
struct PathRulesBuilder {
    every_path: Option<usize>,
    /// The first rule of each prefix.
    prefixes: BTreeMap<String, usize>,
}

impl PathRulesBuilder {
    /// Files the rule at `position`; rules come in order, so the first one
    /// filed under a prefix is the one that wins there.
    fn add(&mut self, position: usize, prefix: Option<&str>) {
        match prefix {
            None => {
                self.every_path.get_or_insert(position);
            }
            Some(prefix) => {
                self.prefixes.entry(prefix.to_string()).or_insert(position);
            }
        }
    }

    fn build(self) -> PathRules {
        let mut prefixes: Vec<Prefix> = Vec::with_capacity(self.prefixes.len());
        // In sorted order, the prefixes a new one extends are on the stack.
        let mut open: Vec<usize> = Vec::new();
        for (prefix, rule) in self.prefixes {
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
                prefix,
                parent,
                first_rule,
            });
        }
        PathRules {
            every_path: self.every_path,
            prefixes,
        }
    }
}
