//! A set of names (exact origins, header names) looked up by binary search,
//! ordered by length first and then bytes: most probes are settled by the
//! lengths alone, and a long list costs O(log n). Lookups never allocate.

use crate::sorted_map::cmp_lowercase;
use std::cmp::Ordering;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedNames(Vec<String>);

impl SortedNames {
    pub fn new(names: impl IntoIterator<Item = String>) -> SortedNames {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort_unstable_by(|a, b| by_length_then_bytes(a.as_bytes(), b.as_bytes()));
        names.dedup();
        SortedNames(names)
    }

    /// Whether `name` is in the set, byte for byte.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.0
            .binary_search_by(|probe| by_length_then_bytes(probe.as_bytes(), name))
            .is_ok()
    }

    /// Whether `name`, in any case, is in the set; the set's names must be lowercase.
    pub fn contains_ignoring_case(&self, name: &[u8]) -> bool {
        self.0
            .binary_search_by(|probe| {
                let probe = probe.as_bytes();
                probe
                    .len()
                    .cmp(&name.len())
                    .then_with(|| cmp_lowercase(probe, name))
            })
            .is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn by_length_then_bytes(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_exact_and_in_any_case() {
        let set = SortedNames::new(
            ["x-b", "content-type", "x-a", "x-b", "authorization"].map(String::from),
        );
        assert_eq!(set.0, ["x-a", "x-b", "content-type", "authorization"]);
        // (name, contains, contains_ignoring_case)
        let cases: [(&str, bool, bool); 8] = [
            ("x-a", true, true),
            ("X-A", false, true),
            ("Content-Type", false, true),
            ("content-type", true, true),
            ("x-c", false, false),
            ("x-", false, false),
            ("", false, false),
            ("authorizationx", false, false),
        ];
        for (name, exact, any_case) in cases {
            assert_eq!(set.contains(name.as_bytes()), exact, "{name}");
            assert_eq!(
                set.contains_ignoring_case(name.as_bytes()),
                any_case,
                "{name}"
            );
        }
        assert!(SortedNames::default().is_empty());
    }
}
