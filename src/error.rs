//! Configuration errors: each names the field, the value and what is wrong,
//! so one look at Envoy's log is enough to fix the configuration.

use std::fmt;

/// Values are quoted in errors, cut to this many characters.
const MAX_VALUE_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `allow_origins[2]`, `rules[0].hosts[1]`; `configuration` for the whole document.
    pub path: String,
    /// The offending value as JSON, if there is one.
    pub value: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub fn new(
        path: impl Into<String>,
        value: Option<&serde_json::Value>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            path: path.into(),
            value: value.map(short_json),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{} = {}: {}", self.path, value, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

fn short_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
    format!("{cut}…")
}

/// Every problem found in one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// What to log when the configuration is refused: see [`records`].
    pub fn records(&self) -> impl Iterator<Item = String> + '_ {
        records(&self.0)
    }
}

/// The log records of a refused configuration: one per error, each whole on
/// its own (a log pipeline that splits, filters or reorders records keeps the
/// field, the value and the message together), then one summary with the count.
pub fn records<E: fmt::Display>(errors: &[E]) -> impl Iterator<Item = String> + '_ {
    let n = errors.len();
    let summary = format!(
        "invalid configuration: {n} error{}; the configuration is refused",
        if n == 1 { "" } else { "s" }
    );
    numbered(errors, "invalid configuration: error").chain(std::iter::once(summary))
}

/// The log records of an accepted configuration's warnings: one per warning,
/// whole on its own like an error's.
pub fn warning_records(warnings: &[ConfigError]) -> impl Iterator<Item = String> + '_ {
    numbered(warnings, "configuration warning")
}

/// `{what} i of n: {item}`, one per item.
fn numbered<'a, E: fmt::Display>(
    items: &'a [E],
    what: &'static str,
) -> impl Iterator<Item = String> + 'a {
    let n = items.len();
    items
        .iter()
        .enumerate()
        .map(move |(i, item)| format!("{what} {} of {n}: {item}", i + 1))
}

/// The records, one per line.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, record) in self.records().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&record)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display() {
        let e = ConfigError::new(
            "allow_origins[0]",
            Some(&json!("https://a.com/")),
            "ends with a slash",
        );
        assert_eq!(
            e.to_string(),
            r#"allow_origins[0] = "https://a.com/": ends with a slash"#
        );
        let e = ConfigError::new("configuration", None, "is empty");
        assert_eq!(e.to_string(), "configuration: is empty");
        let long = json!("x".repeat(200));
        let e = ConfigError::new("f", Some(&long), "m");
        assert!(e.to_string().contains('…'));
        assert!(e.to_string().len() < 120);
        let all = ConfigErrors(vec![
            ConfigError::new("a", None, "b"),
            ConfigError::new("c", None, "d"),
        ]);
        assert_eq!(
            all.to_string(),
            "invalid configuration: error 1 of 2: a: b\n\
             invalid configuration: error 2 of 2: c: d\n\
             invalid configuration: 2 errors; the configuration is refused"
        );
    }
}
