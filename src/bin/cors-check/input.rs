//! The files `import` and `audit` read: YAML or JSON, several documents per
//! file, `kubectl get -o yaml` lists opened into their items. A syntax error
//! names the file, line and column.

use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// Where something is: the file, the document (counted from 1, shown when the
/// file has more than one) and the path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    /// "document 2: ", or empty for a file of one document.
    pub document: String,
    pub path: String,
}

impl Place {
    /// The same document, another path in it.
    pub fn at(&self, path: impl Into<String>) -> Place {
        Place {
            file: self.file.clone(),
            document: self.document.clone(),
            path: path.into(),
        }
    }

    /// A field under this place: `virtual_hosts[0]` + `cors` = `virtual_hosts[0].cors`.
    pub fn child(&self, name: &str) -> Place {
        if self.path.is_empty() {
            self.at(name)
        } else if name.starts_with('[') {
            self.at(format!("{}{name}", self.path))
        } else {
            self.at(format!("{}.{name}", self.path))
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.document.is_empty() && self.path.is_empty() {
            return write!(f, "{}", self.file);
        }
        write!(f, "{}: {}{}", self.file, self.document, self.path)
    }
}

/// One document of a file.
pub struct Document {
    pub value: Value,
    /// Where the document's root is (`items[3]` for an item of a List).
    pub root: Place,
}

/// Every document of `file`, or the error naming file, line and column.
pub fn read(file: &str) -> Result<Vec<Document>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let values = parse(&text).map_err(|e| format!("{file}:{e}"))?;
    let count = values.len();
    let mut documents = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let root = Place {
            file: file.to_string(),
            document: if count > 1 {
                format!("document {}: ", i + 1)
            } else {
                String::new()
            },
            path: String::new(),
        };
        open_lists(value, root, &mut documents);
    }
    Ok(documents)
}

/// A `kind: List` (what `kubectl get -o yaml` prints) stands for its items.
fn open_lists(value: Value, root: Place, documents: &mut Vec<Document>) {
    let is_list = value["kind"] == "List"
        || value["kind"]
            .as_str()
            .is_some_and(|k| k.ends_with("List") && value["items"].is_array());
    match value {
        Value::Object(mut object) if is_list => {
            if let Some(Value::Array(items)) = object.remove("items") {
                for (i, item) in items.into_iter().enumerate() {
                    open_lists(item, root.at(format!("items[{i}]")), documents);
                }
            }
        }
        Value::Null => {}
        value => documents.push(Document { value, root }),
    }
}

/// `LINE:COLUMN: message` on error.
fn parse(text: &str) -> Result<Vec<Value>, String> {
    if text.trim_start().starts_with(['{', '[']) {
        return serde_json::from_str::<Value>(text)
            .map(|v| vec![v])
            .map_err(|e| {
                let message = e.to_string();
                format!(
                    "{}:{}: is not valid JSON: {}",
                    e.line(),
                    e.column(),
                    without_location(&message)
                )
            });
    }
    let mut values = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| match e.location() {
            Some(at) => format!(
                "{}:{}: is not valid YAML: {}",
                at.line(),
                at.column(),
                without_location(&e.to_string())
            ),
            None => format!(" is not valid YAML: {e}"),
        })?;
        values.push(value);
    }
    Ok(values)
}

/// The parsers' messages say " at line L column C" (and what they were
/// parsing): said once, in front.
fn without_location(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |at| &message[..at])
}
