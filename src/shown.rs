//! Values from requests, shown in logs and explanations: quoted, escaped and
//! cut short, so a hostile 60 KiB header never floods a log line.

/// Bytes of a value shown before it is cut.
pub const SHOWN_PREFIX: usize = 64;

/// A bounded, printable prefix of a value from a request.
pub fn shown(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SHOWN_PREFIX)];
    let mut text = format!("{:?}", String::from_utf8_lossy(cut));
    if bytes.len() > SHOWN_PREFIX {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_escaped_and_bounded() {
        assert_eq!(shown(b"https://a.example"), "\"https://a.example\"");
        assert_eq!(shown(b"a\nb\xff"), "\"a\\nb\u{fffd}\"");
        let long = vec![b'x'; 10_000];
        assert_eq!(shown(&long), format!("\"{}\"…", "x".repeat(SHOWN_PREFIX)));
    }
}
