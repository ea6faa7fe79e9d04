//! The Public Suffix List: names anyone can register a site under (`com`,
//! `co.uk`, `github.io`, `vercel.app`). Used only at configure time, to refuse
//! a wildcard over one with credentials; a request never reaches it.
//!
//! The list is kept as text (`public_suffix_list.txt`, about 150 KB of data,
//! made by `scripts/public-suffix-list.py`), sorted, and searched by bisection:
//! three searches per question, microseconds. A compiled-in matcher (the `psl`
//! crate, used before) made `dist/cors.wasm` 1.2 MB of code that V8 compiles
//! in every VM: 270 ms more at Envoy's start and 80 MB more resident memory,
//! for a question asked a few times per configuration.

/// `//` header lines, then the rules in byte order, one per line: `name`,
/// `*.name` (every label directly under `name`), `!name` (an exception to a
/// wildcard).
const LIST: &str = include_str!("public_suffix_list.txt");

/// The rules: the list after its header.
fn rules() -> &'static str {
    let mut rules = LIST;
    while rules.starts_with("//") {
        rules = rules.split_once('\n').map_or("", |(_, rest)| rest);
    }
    rules
}

/// Whether `rule` is a line of the sorted rules: bisection over the text,
/// each step reading the line around the middle byte.
fn listed(rule: &str) -> bool {
    // Bytes, not str: no index can fall inside a character, so nothing here
    // can panic whatever the list holds.
    let (rules, rule) = (rules().as_bytes(), rule.as_bytes());
    let newline = |b: &u8| *b == b'\n';
    let (mut low, mut high) = (0, rules.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let start = rules[..middle]
            .iter()
            .rposition(newline)
            .map_or(0, |at| at + 1);
        let end = rules[start..]
            .iter()
            .position(newline)
            .map_or(rules.len(), |at| start + at);
        match rules[start..end].cmp(rule) {
            std::cmp::Ordering::Less => low = end + 1,
            std::cmp::Ordering::Greater => high = start,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// Whether `domain` (lowercase ASCII as browsers send it, punycode for IDNA;
/// a trailing dot ignored) is itself a public suffix: listed, or directly
/// under a wildcard rule and not excepted from it (the list's algorithm,
/// asked only whether the prevailing rule covers the whole name).
pub fn is_public_suffix(domain: &str) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() || listed(&format!("!{domain}")) {
        return false;
    }
    listed(domain)
        || domain
            .split_once('.')
            .is_some_and(|(_, parent)| listed(&format!("*.{parent}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[rustfmt::skip]
    fn public_suffixes() {
        for (domain, suffix) in [
            ("com", true), ("github.io", true), ("co.uk", true), ("vercel.app", true), ("herokuapp.com", true),
            ("github.io.", true),
            // Wildcard rules: *.ck, with the exception !www.ck; *.kawasaki.jp, !city.kawasaki.jp.
            ("anything.ck", true), ("www.ck", false), ("ck", false),
            ("x.kawasaki.jp", true), ("city.kawasaki.jp", false), ("kawasaki.jp", false), ("a.x.kawasaki.jp", false),
            // Under *.run.app, and itself the base of *.mtls.run.app: the list's algorithm says
            // public suffix (the psl crate, used before, said no for the 22 names like it).
            ("mtls.run.app", true), ("x.mtls.run.app", true), ("run.app", false),
            // IDNA rules as browsers send them: рф, and 公司.cn.
            ("xn--p1ai", true), ("xn--55qx5d.cn", true), ("example.xn--p1ai", false),
            ("example.com", false), ("shop.github.io", false), ("example.co.uk", false), ("localhost", false),
            ("example.test", false), ("test", false), ("", false),
        ] {
            assert_eq!(is_public_suffix(domain), suffix, "{domain:?}");
        }
    }

    /// The file is what the script writes: ASCII, lowercase, sorted, each rule
    /// once, nothing but rules after the header.
    #[test]
    fn the_list_is_in_the_form_the_search_expects() {
        let lines: Vec<&str> = rules().lines().collect();
        assert!(lines.len() > 9_000, "{} rules", lines.len());
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
        for rule in &lines {
            let name = rule.strip_prefix('!').unwrap_or(rule);
            let name = name.strip_prefix("*.").unwrap_or(name);
            assert!(
                !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'-'
                        || b == b'.'),
                "{rule:?}"
            );
        }
        assert!(LIST.starts_with("// The Public Suffix List"));
        assert!(
            rules().starts_with("!city.kawasaki.jp\n"),
            "the header ends where the rules start"
        );
        assert!(LIST.contains("Mozilla Public License"));
    }

    /// The bisection finds every rule, and nothing between, before or after them.
    #[test]
    fn every_rule_is_found_and_nothing_else() {
        let lines: Vec<&str> = rules().lines().collect();
        for rule in &lines {
            assert!(listed(rule), "{rule:?}");
            for near in [
                format!("{rule}a"),
                format!("{rule}-"),
                format!("-{rule}"),
                rule[1..].to_string(),
            ] {
                assert_eq!(
                    listed(&near),
                    lines.binary_search(&near.as_str()).is_ok(),
                    "{near:?}"
                );
            }
        }
        for absent in ["", "!", "!a", "0", "zzzzzzzz", "~", "a\nb", "com\n"] {
            assert!(!listed(absent), "{absent:?}");
        }
    }
}
