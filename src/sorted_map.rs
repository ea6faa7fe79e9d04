//! Values found by key, by binary search over entries sorted once at
//! configure time: a lookup costs O(log n) comparisons and never allocates,
//! and the caller's comparison lets it search by a key it has only in pieces
//! (a request's host in any case, a host and a scheme) without building one.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct SortedMap<K, V>(Vec<(K, V)>);

impl<K: Ord, V> SortedMap<K, V> {
    /// The entries, sorted in `K`'s order (lookups must compare in that
    /// order); of entries with equal keys, only the first is kept.
    pub fn new(mut entries: Vec<(K, V)>) -> SortedMap<K, V> {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, first| later.0 == first.0);
        SortedMap(entries)
    }

    /// The value whose key `order` says is equal: `order(key)` tells how an
    /// entry's key compares with the one looked for, consistently with `K`'s order.
    pub fn find(&self, order: impl Fn(&K) -> Ordering) -> Option<&V> {
        self.0
            .binary_search_by(|(key, _)| order(key))
            .ok()
            .map(|at| &self.0[at].1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

/// The domains `host` is a subdomain of, nearest first, as long as `longest`
/// bytes at most: `a.b.example.com` gives `b.example.com`, `example.com`,
/// `com`. Only a dot after the first byte starts one (a subdomain needs a
/// label of its own), and none longer than `longest` is looked at, so the
/// walk is bounded by the longest domain configured, whatever the request.
pub fn parent_domains(host: &[u8], longest: usize) -> impl Iterator<Item = &[u8]> {
    let from = host.len().saturating_sub(longest + 1).max(1);
    host.iter()
        .enumerate()
        .skip(from)
        .filter(|(_, b)| **b == b'.')
        .map(move |(at, _)| &host[at + 1..])
}

/// Compares a lowercase key with a name in any case, as if it were lowercased.
pub fn cmp_lowercase(lower: &[u8], any_case: &[u8]) -> Ordering {
    for (a, b) in lower.iter().zip(any_case) {
        match a.cmp(&b.to_ascii_lowercase()) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
    }
    lower.len().cmp(&any_case.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_domains_nearest_first_and_bounded() {
        // (host, longest, parents)
        let cases: [(&str, usize, &[&str]); 7] = [
            (
                "a.b.example.com",
                253,
                &["b.example.com", "example.com", "com"],
            ),
            ("a.b.example.com", 11, &["example.com", "com"]),
            ("a.b.example.com", 10, &["com"]),
            ("example.com", 253, &["com"]),
            (".example.com", 253, &["com"]),
            ("..example.com", 253, &["example.com", "com"]),
            ("localhost", 253, &[]),
        ];
        for (host, longest, want) in cases {
            let got: Vec<&[u8]> = parent_domains(host.as_bytes(), longest).collect();
            let want: Vec<&[u8]> = want.iter().map(|w| w.as_bytes()).collect();
            assert_eq!(got, want, "{host} within {longest}");
        }
    }

    #[test]
    fn finds_by_a_key_in_pieces() {
        let map = SortedMap::new(vec![
            (("example.com".to_string(), "https".to_string()), 1),
            (("example.com".to_string(), "http".to_string()), 2),
            (("a.com".to_string(), "https".to_string()), 3),
            (("a.com".to_string(), "https".to_string()), 4),
        ]);
        let find = |host: &str, scheme: &str| {
            map.find(|(h, s)| {
                h.as_bytes()
                    .cmp(host.as_bytes())
                    .then_with(|| s.as_bytes().cmp(scheme.as_bytes()))
            })
            .copied()
        };
        assert_eq!(find("example.com", "http"), Some(2));
        assert_eq!(find("example.com", "https"), Some(1));
        assert_eq!(find("a.com", "https"), Some(3));
        assert_eq!(find("a.com", "http"), None);
        assert_eq!(map.len(), 3);
        assert!(!map.is_empty());
        let hosts = SortedMap::new(vec![("api.example.com".to_string(), ())]);
        assert!(hosts
            .find(|h| cmp_lowercase(h.as_bytes(), b"API.Example.COM"))
            .is_some());
        assert!(hosts
            .find(|h| cmp_lowercase(h.as_bytes(), b"API.Example.CO"))
            .is_none());
    }
}
