//! `Access-Control-Request-Headers` parsing. Any bytes: an accepted list is
//! bounded, made of tokens the set allows; `*` never covers `authorization`;
//! a rejection points into the list.
#![no_main]

use cors_core::header_list::{HeaderSet, MAX_LIST_LEN, MAX_NAMES};
use cors_core::token::is_token;
use libfuzzer_sys::fuzz_target;

const LISTED: [&str; 4] = ["content-type", "x-a", "x-requested-with", "authorization"];

fn set(names: &[&str]) -> HeaderSet {
    HeaderSet::new(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

fn names(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    list.split(|&b| b == b',')
        .map(|e| e.trim_ascii())
        .filter(|e| !e.is_empty())
}

fn within(part: &[u8], list: &[u8]) -> bool {
    let (start, end) = (list.as_ptr() as usize, list.as_ptr() as usize + list.len());
    let p = part.as_ptr() as usize;
    part.is_empty() || (p >= start && p + part.len() <= end)
}

fuzz_target!(|list: &[u8]| {
    let listed = set(&LISTED);
    let any = set(&["*"]);
    let any_and_auth = set(&["*", "authorization"]);
    for (which, set) in [
        ("listed", &listed),
        ("any", &any),
        ("any+authorization", &any_and_auth),
    ] {
        match set.check(list) {
            Ok(()) => {
                assert!(
                    list.len() <= MAX_LIST_LEN,
                    "{which}: accepted {} bytes",
                    list.len()
                );
                assert!(names(list).count() <= MAX_NAMES, "{which}: too many names");
                for name in names(list) {
                    assert!(is_token(name), "{which}: accepted a non-token");
                    if which == "listed" {
                        let lower = name.to_ascii_lowercase();
                        assert!(
                            LISTED.iter().any(|l| l.as_bytes() == lower),
                            "{which}: accepted an unlisted name"
                        );
                    }
                    if which == "any" {
                        assert!(
                            !name.eq_ignore_ascii_case(b"authorization"),
                            "* covered authorization"
                        );
                    }
                }
            }
            Err(offending) => assert!(
                within(offending, list),
                "{which}: rejection outside the list"
            ),
        }
    }
    // Whatever the listed set accepts, * with authorization accepts too.
    if listed.check(list).is_ok() {
        assert!(
            any_and_auth.check(list).is_ok(),
            "listed ⊄ * + authorization"
        );
    }
});
