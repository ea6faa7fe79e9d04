//! The plugin's JSON configuration: parsed, validated with every error
//! reported at once, and compiled into policies.

use crate::error::{ConfigError, ConfigErrors};
use crate::host_checks;
use crate::origin;
use crate::origin_pattern::{parse_pattern, Matcher, OriginPattern, OriginSet, PROBE_ORIGIN};
use crate::policy::{Mode, Policy, PolicySpec, Unmatched};
use crate::public_suffix;
use crate::request::Header;
use crate::response::MANAGED;
use crate::rule::{HostPattern, Rule};
use crate::rule_index::RuleIndex;
use crate::token::{
    is_forbidden_method, is_forbidden_request_header, is_forbidden_response_header, is_token,
    normalize_method,
};
use serde_json::{Map, Value};

/// Fields of a policy, accepted at the top level and in every rule.
pub const POLICY_FIELDS: [&str; 10] = [
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "max_age",
    "allow_credentials",
    "allow_private_network",
    "unmatched_preflights",
    "mode",
    "dangerously_allow_insecure_origins_with_credentials",
];
/// Fields only the top level accepts.
pub const TOP_LEVEL_FIELDS: [&str; 2] = ["rules", "access_log"];
/// Fields only a rule accepts.
pub const RULE_FIELDS: [&str; 3] = ["hosts", "path_prefix", "enabled"];
/// Kinds of Envoy-style origin matchers.
pub const MATCHER_KINDS: [&str; 5] = ["exact", "prefix", "suffix", "contains", "regex"];
/// Chromium caps the max-age at 7200 s and Firefox at 86400 s; more is a mistake.
pub const MAX_AGE_LIMIT: u64 = 86_400;

/// A validated configuration: the top-level policy and the rules that override it.
#[derive(Debug, Clone)]
pub struct Config {
    pub default: Policy,
    pub rules: Vec<Rule>,
    /// Finds the rule for a request without a scan of `rules`.
    index: RuleIndex,
    /// Settings that are legal but almost always a misunderstanding, each
    /// naming its field and value like an error: logged when the
    /// configuration is accepted, printed by `cors-check validate`.
    pub warnings: Vec<ConfigError>,
    /// `"access_log": true`: record each decision for Envoy's access log
    /// (`access_log`), at the cost of a host call per request.
    pub access_log: bool,
}

/// Which policy applies to a request.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// Index into `rules`, or `None` for the top-level policy.
    pub rule: Option<usize>,
    /// `None`: the matching rule switches CORS handling off.
    pub policy: Option<&'a Policy>,
}

impl Config {
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let config = parse_document(bytes, &mut errors, &mut warnings);
        match config {
            Some(config) if errors.is_empty() => Ok(Config { warnings, ..config }),
            _ => Err(ConfigErrors(errors)),
        }
    }

    /// Whether selecting a policy needs the request's `:authority` and `:path`.
    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// The policy chosen by `select`, looked up again by its rule index.
    pub fn policy_at(&self, rule: Option<usize>) -> Option<&Policy> {
        match rule {
            None => Some(&self.default),
            Some(i) => self.rules.get(i).and_then(|r| r.policy.as_ref()),
        }
    }

    /// The policy for a request: the first rule that matches its
    /// `:authority` and `:path`, found by index, else the top level.
    pub fn select(&self, authority: &[u8], path: &[u8]) -> Selection<'_> {
        let rule = self.index.first_match(authority, path);
        Selection {
            rule,
            policy: self.policy_at(rule),
        }
    }
}

fn parse_document(
    bytes: &[u8],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<Config> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        errors.push(ConfigError::new(
            "configuration",
            None,
            "is empty; give a JSON object with at least allow_origins",
        ));
        return None;
    }
    let document: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            errors.push(ConfigError::new(
                "configuration",
                None,
                format!("is not valid JSON: {e}"),
            ));
            return None;
        }
    };
    let Some(object) = document.as_object() else {
        errors.push(ConfigError::new(
            "configuration",
            Some(&document),
            "must be a JSON object",
        ));
        return None;
    };
    check_unknown_fields(object, "", &[&POLICY_FIELDS, &TOP_LEVEL_FIELDS], errors);
    let top = read_fields(object, "", errors);
    if top.origins.is_none() && !object.contains_key("allow_origins") {
        errors.push(ConfigError::new(
            "allow_origins",
            None,
            "is missing; list the origins allowed to call this service, e.g. [\"https://app.example.com\"]",
        ));
    }
    check_combinations(&top, None, errors, warnings);
    let rules = match object.get("rules") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| read_rule(item, &format!("rules[{i}]"), &top, errors, warnings))
            .collect(),
        Some(other) => {
            errors.push(ConfigError::new(
                "rules",
                Some(other),
                "must be a list of rule objects",
            ));
            Vec::new()
        }
    };
    let access_log = object
        .get("access_log")
        .and_then(|value| read_bool(value, "access_log", errors))
        .is_some_and(|(_, on)| on);
    Some(Config {
        default: build_policy(&top)?,
        index: RuleIndex::new(&rules),
        rules,
        warnings: Vec::new(),
        access_log,
    })
}

/// Names as written, each with its path: `(allow_headers[1], "x-a")`.
type Names = Vec<(String, String)>;

/// A policy's fields as written at one level; each keeps where it was written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    origins: Option<Vec<(String, OriginPattern, Value)>>,
    methods: Option<Vec<(String, String)>>,
    headers: Option<Vec<(String, String)>>,
    expose: Option<Vec<(String, String)>>,
    max_age: Option<u32>,
    credentials: Option<(String, bool)>,
    private_network: Option<(String, bool)>,
    insecure_with_credentials: Option<(String, bool)>,
    unmatched: Option<Unmatched>,
    mode: Option<Mode>,
}

impl Fields {
    /// A rule's fields over the top level's, field by field.
    fn over(&self, base: &Fields) -> Fields {
        Fields {
            origins: self.origins.clone().or_else(|| base.origins.clone()),
            methods: self.methods.clone().or_else(|| base.methods.clone()),
            headers: self.headers.clone().or_else(|| base.headers.clone()),
            expose: self.expose.clone().or_else(|| base.expose.clone()),
            max_age: self.max_age.or(base.max_age),
            credentials: self
                .credentials
                .clone()
                .or_else(|| base.credentials.clone()),
            private_network: self
                .private_network
                .clone()
                .or_else(|| base.private_network.clone()),
            unmatched: self.unmatched.or(base.unmatched),
            mode: self.mode.or(base.mode),
            insecure_with_credentials: self
                .insecure_with_credentials
                .clone()
                .or_else(|| base.insecure_with_credentials.clone()),
        }
    }
}

fn field_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn check_unknown_fields(
    object: &Map<String, Value>,
    prefix: &str,
    known: &[&[&str]],
    errors: &mut Vec<ConfigError>,
) {
    let known: Vec<&str> = known
        .iter()
        .flat_map(|names| names.iter().copied())
        .collect();
    for (name, value) in object {
        if known.contains(&name.as_str()) {
            continue;
        }
        let hint = match known.iter().min_by_key(|k| edit_distance(k, name)) {
            // Close enough to be a typo, and not most of a short name rewritten.
            Some(best) if edit_distance(best, name) <= 3.min(name.chars().count() / 2) => {
                format!("; did you mean {best:?}?")
            }
            _ => format!("; known fields: {}", known.join(", ")),
        };
        errors.push(ConfigError::new(
            field_path(prefix, &shown_name(name)),
            Some(value),
            format!("unknown field{hint}"),
        ));
    }
}

/// An unknown field's name as its error shows it: as written when it is a
/// plain word, else as a JSON string, so an empty name or one with a newline
/// still reads as a name and the error stays on one log line (found by fuzzing).
fn shown_name(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        name.to_string()
    } else {
        Value::from(name).to_string()
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn read_fields(object: &Map<String, Value>, prefix: &str, errors: &mut Vec<ConfigError>) -> Fields {
    let path = |name: &str| field_path(prefix, name);
    Fields {
        origins: object
            .get("allow_origins")
            .and_then(|v| read_origins(v, &path("allow_origins"), errors)),
        methods: object
            .get("allow_methods")
            .and_then(|v| read_list(v, &path("allow_methods"), errors, check_method)),
        headers: object
            .get("allow_headers")
            .and_then(|v| read_list(v, &path("allow_headers"), errors, check_request_header)),
        expose: object
            .get("expose_headers")
            .and_then(|v| read_list(v, &path("expose_headers"), errors, check_response_header)),
        max_age: object
            .get("max_age")
            .and_then(|v| read_max_age(v, &path("max_age"), errors)),
        credentials: object
            .get("allow_credentials")
            .and_then(|v| read_bool(v, &path("allow_credentials"), errors)),
        private_network: object
            .get("allow_private_network")
            .and_then(|v| read_bool(v, &path("allow_private_network"), errors)),
        unmatched: object
            .get("unmatched_preflights")
            .and_then(|v| read_unmatched(v, &path("unmatched_preflights"), errors)),
        mode: object
            .get("mode")
            .and_then(|v| read_mode(v, &path("mode"), errors)),
        insecure_with_credentials: object
            .get("dangerously_allow_insecure_origins_with_credentials")
            .and_then(|v| {
                let path = path("dangerously_allow_insecure_origins_with_credentials");
                read_bool(v, &path, errors)
            }),
    }
}

fn read_bool(value: &Value, path: &str, errors: &mut Vec<ConfigError>) -> Option<(String, bool)> {
    match value.as_bool() {
        Some(b) => Some((path.to_string(), b)),
        None => {
            errors.push(ConfigError::new(path, Some(value), "must be true or false"));
            None
        }
    }
}

fn read_max_age(value: &Value, path: &str, errors: &mut Vec<ConfigError>) -> Option<u32> {
    // Whole numbers written as floats (600.0, 6e2) come from YAML-to-JSON
    // converters, Helm and Terraform: the same number of seconds.
    let whole = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=MAX_AGE_LIMIT as f64).contains(f))
            .map(|f| f as u64)
    });
    match whole {
        Some(seconds) if seconds <= MAX_AGE_LIMIT => u32::try_from(seconds).ok(),
        _ => {
            errors.push(ConfigError::new(
                path,
                Some(value),
                "must be a whole number of seconds from 0 to 86400 (Chromium caps it at 7200)",
            ));
            None
        }
    }
}

fn read_unmatched(value: &Value, path: &str, errors: &mut Vec<ConfigError>) -> Option<Unmatched> {
    match value.as_str() {
        Some("reject") => Some(Unmatched::Reject),
        Some("forward") => Some(Unmatched::Forward),
        _ => {
            errors.push(ConfigError::new(
                path,
                Some(value),
                "must be \"reject\" or \"forward\"",
            ));
            None
        }
    }
}

fn read_mode(value: &Value, path: &str, errors: &mut Vec<ConfigError>) -> Option<Mode> {
    match value.as_str() {
        Some("enforce") => Some(Mode::Enforce),
        Some("report") => Some(Mode::Report),
        _ => {
            errors.push(ConfigError::new(
                path,
                Some(value),
                "must be \"enforce\" or \"report\"",
            ));
            None
        }
    }
}

/// Reads a list of strings, checking and normalizing each with `check`.
/// `"*"` is kept as is; the combination checks decide whether it is allowed.
fn read_list(
    value: &Value,
    path: &str,
    errors: &mut Vec<ConfigError>,
    check: fn(&str) -> Result<String, String>,
) -> Option<Vec<(String, String)>> {
    let Some(items) = value.as_array() else {
        errors.push(ConfigError::new(
            path,
            Some(value),
            "must be a list of strings",
        ));
        return None;
    };
    let mut out: Vec<(String, String)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let normalized = match item.as_str() {
            None => Err("must be a string".to_string()),
            Some("*") => Ok("*".to_string()),
            Some(text) => check(text),
        };
        match normalized {
            Ok(name) if out.iter().any(|(_, seen)| *seen == name) => {}
            Ok(name) => out.push((item_path, name)),
            Err(message) => errors.push(ConfigError::new(item_path, Some(item), message)),
        }
    }
    // Even with errors, the valid items go on to the combination checks, so
    // one run reports every problem.
    Some(out)
}

fn check_method(text: &str) -> Result<String, String> {
    if !is_token(text.as_bytes()) {
        return Err("is not a method name (one token, such as PATCH)".to_string());
    }
    if is_forbidden_method(text) {
        return Err("is a forbidden method: browsers never send it".to_string());
    }
    Ok(normalize_method(text))
}

fn check_header_name(text: &str) -> Result<String, String> {
    if !is_token(text.as_bytes()) {
        return Err("is not a header name (one token, such as x-request-id)".to_string());
    }
    Ok(text.to_ascii_lowercase())
}

fn check_request_header(text: &str) -> Result<String, String> {
    let name = check_header_name(text)?;
    if is_forbidden_request_header(&name) {
        return Err("is a forbidden request header: browsers never let scripts set it".to_string());
    }
    Ok(name)
}

fn check_response_header(text: &str) -> Result<String, String> {
    let name = check_header_name(text)?;
    if is_forbidden_response_header(&name) {
        return Err(
            "can never be exposed: browsers hide it from scripts whatever the server says"
                .to_string(),
        );
    }
    Ok(name)
}

fn read_origins(
    value: &Value,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<Vec<(String, OriginPattern, Value)>> {
    let Some(items) = value.as_array() else {
        errors.push(ConfigError::new(
            path,
            Some(value),
            "must be a list of origins, e.g. [\"https://app.example.com\"]",
        ));
        return None;
    };
    if items.is_empty() {
        errors.push(ConfigError::new(
            path,
            Some(value),
            "lists no origin, so CORS would allow nothing; list origins, or \"*\" for all",
        ));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let pattern = match item {
            Value::String(text) => parse_pattern(text)
                .map_err(|message| errors.push(ConfigError::new(&item_path, Some(item), message)))
                .ok(),
            // Reports its own errors, each at the field it is about.
            Value::Object(object) => read_matcher(object, item, &item_path, errors),
            _ => {
                errors.push(ConfigError::new(&item_path, Some(item), "must be an origin string or a matcher object such as {\"suffix\": \".example.com\"}"));
                None
            }
        };
        if let Some(pattern) = pattern {
            out.push((item_path, pattern, item.clone()));
        }
    }
    if items.len() > 1 {
        if let Some((star_path, _, _)) =
            out.iter().find(|(_, p, _)| matches!(p, OriginPattern::Any))
        {
            errors.push(ConfigError::new(
                star_path.clone(),
                Some(&Value::from("*")),
                "allows every origin, so the other entries mean nothing; list \"*\" alone",
            ));
        }
    }
    Some(out)
}

/// `{"suffix": ".example.com", "ignore_case": true}` (`item`, at `path`);
/// `None` when something is wrong, each error reported at its field.
fn read_matcher(
    object: &Map<String, Value>,
    item: &Value,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<OriginPattern> {
    check_unknown_fields(object, path, &[&MATCHER_KINDS, &["ignore_case"]], errors);
    let ignore_case = object
        .get("ignore_case")
        .and_then(|v| read_bool(v, &format!("{path}.ignore_case"), errors))
        .is_some_and(|(_, b)| b);
    let kinds: Vec<&str> = MATCHER_KINDS
        .iter()
        .copied()
        .filter(|k| object.contains_key(*k))
        .collect();
    let [kind] = kinds[..] else {
        let kinds = MATCHER_KINDS.map(|k| format!("\"{k}\"")).join(", ");
        errors.push(ConfigError::new(
            path,
            Some(item),
            format!("must have exactly one of {kinds}"),
        ));
        return None;
    };
    let kind_path = format!("{path}.{kind}");
    let value = &object[kind];
    let Some(text) = value.as_str() else {
        errors.push(ConfigError::new(kind_path, Some(value), "must be a string"));
        return None;
    };
    Matcher::new(kind, text, ignore_case)
        .map(OriginPattern::Matcher)
        .map_err(|message| errors.push(ConfigError::new(kind_path, Some(value), message)))
        .ok()
}

fn read_rule(
    item: &Value,
    path: &str,
    top: &Fields,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<Rule> {
    let Some(object) = item.as_object() else {
        errors.push(ConfigError::new(path, Some(item), "must be a rule object"));
        return None;
    };
    check_unknown_fields(object, path, &[&RULE_FIELDS, &POLICY_FIELDS], errors);
    let own = read_fields(object, path, errors);
    let hosts = read_hosts(object.get("hosts"), &format!("{path}.hosts"), errors);
    let path_prefix = match object.get("path_prefix") {
        None => None,
        Some(Value::String(prefix)) if prefix.starts_with('/') => Some(prefix.clone()),
        Some(other) => {
            errors.push(ConfigError::new(
                format!("{path}.path_prefix"),
                Some(other),
                "must be a string starting with /",
            ));
            None
        }
    };
    if !object.contains_key("hosts") && !object.contains_key("path_prefix") {
        errors.push(ConfigError::new(
            path,
            None,
            "has neither hosts nor path_prefix, so it would match every request; give one or both",
        ));
    }
    let enabled = object
        .get("enabled")
        .and_then(|v| read_bool(v, &format!("{path}.enabled"), errors))
        .is_none_or(|(_, b)| b);
    if !enabled {
        let written: Vec<&str> = POLICY_FIELDS
            .iter()
            .copied()
            .filter(|f| object.contains_key(*f))
            .collect();
        if !written.is_empty() {
            errors.push(ConfigError::new(
                format!("{path}.enabled"),
                Some(&Value::Bool(false)),
                format!(
                    "switches CORS off here, so {} would have no effect; remove them",
                    written.join(", ")
                ),
            ));
        }
        return Some(Rule {
            hosts,
            path_prefix,
            policy: None,
        });
    }
    // A rule with no policy fields of its own is allowed: it shields a host or
    // path from later rules with the top-level policy.
    let merged = own.over(top);
    check_combinations(&merged, Some(&own), errors, warnings);
    Some(Rule {
        hosts,
        path_prefix,
        policy: Some(build_policy(&merged)?),
    })
}

fn read_hosts(
    value: Option<&Value>,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<HostPattern> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(items) = value.as_array().filter(|items| !items.is_empty()) else {
        errors.push(ConfigError::new(
            path,
            Some(value),
            "must be a non-empty list of host names, e.g. [\"api.example.com\", \"*.example.com\"]",
        ));
        return Vec::new();
    };
    let mut hosts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let parsed = match item.as_str() {
            Some(text) => HostPattern::parse(text),
            None => Err("must be a string".to_string()),
        };
        match parsed {
            Ok(host) => hosts.push(host),
            Err(message) => errors.push(ConfigError::new(
                format!("{path}[{i}]"),
                Some(item),
                message,
            )),
        }
    }
    hosts
}

/// Request-header names a response never carries: in `expose_headers` they
/// expose nothing. (Response-header names a browser never sends, which allow
/// nothing in `allow_headers`, are the ones the filter writes: `MANAGED`.)
const REQUEST_ONLY: [&str; 4] = [
    Header::Origin.name(),
    Header::RequestMethod.name(),
    Header::RequestHeaders.name(),
    Header::PrivateNetwork.name(),
];

/// Checks what depends on several fields of one policy (`fields`, merged);
/// for a rule, `own` holds what the rule itself writes, so an inherited
/// mistake is reported once, at the top level. Warnings name their field and
/// value like errors, and do not refuse the configuration.
fn check_combinations(
    fields: &Fields,
    own: Option<&Fields>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) {
    let is_own = |set: fn(&Fields) -> bool| own.is_none_or(set);
    let credentials = fields
        .credentials
        .as_ref()
        .filter(|(_, on)| *on)
        .map(|(path, _)| path);
    if let Some(credentials_path) = credentials {
        let credentials_own = is_own(|f| f.credentials.is_some());
        // `*` in allow_methods and allow_headers is answered by echoing the
        // requested names (the trust is in the listed origins); in
        // expose_headers nothing can stand for it, so it is refused.
        if let Some(items) = &fields.expose {
            let star = items.iter().find(|(_, name)| name == "*");
            if let (Some((star_path, _)), true) =
                (star, credentials_own || is_own(|f| f.expose.is_some()))
            {
                errors.push(ConfigError::new(
                    star_path.clone(),
                    Some(&Value::from("*")),
                    format!("is not allowed with allow_credentials: true (at {credentials_path}): browsers read \"*\" literally on credentialed requests; list the names"),
                ));
            }
        }
        if credentials_own || is_own(|f| f.origins.is_some()) {
            for (path, value, what) in any_origin_entries(fields) {
                errors.push(ConfigError::new(
                    path.clone(),
                    Some(value),
                    format!("{what} with allow_credentials: true (at {credentials_path}): every website could read responses with the user's cookies; list the origins"),
                ));
            }
        }
    }
    if let Some((pna_path, true)) = &fields.private_network {
        if is_own(|f| f.private_network.is_some() || f.origins.is_some()) {
            for (path, value, what) in any_origin_entries(fields) {
                errors.push(ConfigError::new(
                    path.clone(),
                    Some(value),
                    format!("{what} with allow_private_network: true (at {pna_path}): every website could reach this private network; list the origins"),
                ));
            }
        }
    }
    check_origins_trust(fields, &is_own, credentials, errors, warnings);
    // Names in the wrong list: each allows or exposes nothing.
    let misplaced: [(bool, &Option<Names>, &[&str], &str); 2] = [
        (
            is_own(|f| f.headers.is_some()),
            &fields.headers,
            &MANAGED,
            "is a response header, which browsers never send: allowing it has no effect (allow_headers lists request headers)",
        ),
        (
            is_own(|f| f.expose.is_some()),
            &fields.expose,
            &REQUEST_ONLY,
            "is a request header, which responses do not carry: exposing it has no effect (expose_headers lists response headers)",
        ),
    ];
    for (own, list, wrong, message) in misplaced {
        for (path, name) in list.iter().flatten().filter(|_| own) {
            if wrong.contains(&name.as_str()) {
                warnings.push(ConfigError::new(
                    path.clone(),
                    Some(&Value::from(name.as_str())),
                    message,
                ));
            }
        }
    }
}

/// The origins a policy trusts, against what it trusts them with: wildcards
/// over a public suffix, `http` origins with credentials, `"null"`.
fn check_origins_trust(
    fields: &Fields,
    is_own: &dyn Fn(fn(&Fields) -> bool) -> bool,
    credentials: Option<&String>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) {
    let origins_own = is_own(|f| f.origins.is_some());
    let credentials_own = is_own(|f| f.credentials.is_some());
    let insecure_allowed = fields
        .insecure_with_credentials
        .as_ref()
        .is_some_and(|(_, on)| *on);
    let insecure_own = is_own(|f| f.insecure_with_credentials.is_some());
    for (path, pattern, value) in fields.origins.iter().flatten() {
        if let Some(suffix) = public_suffix_wildcard(pattern) {
            match credentials {
                Some(credentials_path) if origins_own || credentials_own => errors.push(ConfigError::new(
                    path.clone(),
                    Some(value),
                    format!("matches every site under the public suffix {suffix:?}, where anyone can register a name: with allow_credentials: true (at {credentials_path}) each of them could read users' responses; list the sites"),
                )),
                None if origins_own => warnings.push(ConfigError::new(
                    path.clone(),
                    Some(value),
                    format!("matches every site under the public suffix {suffix:?}, where anyone can register a name and call this service; list the sites you mean"),
                )),
                _ => {}
            }
        }
        if let (Some(credentials_path), false) = (credentials, insecure_allowed) {
            if (origins_own || credentials_own || insecure_own) && is_insecure(pattern) {
                errors.push(ConfigError::new(
                    path.clone(),
                    Some(value),
                    format!("is an insecure (http) origin trusted with allow_credentials: true (at {credentials_path}): anyone on the network path can impersonate it and read users' responses; use https, or set dangerously_allow_insecure_origins_with_credentials: true"),
                ));
            }
        }
        if matches!(pattern, OriginPattern::Null) && origins_own {
            warnings.push(ConfigError::new(
                path.clone(),
                Some(value),
                "allows every sandboxed iframe, data: document and file: page: they all send Origin: null; list it only if you mean all of them",
            ));
        }
    }
}

/// The public suffix an entry allows every site under: a subdomain wildcard
/// or a suffix matcher over `github.io`, `co.uk`, `vercel.app`...
fn public_suffix_wildcard(pattern: &OriginPattern) -> Option<String> {
    let base = match pattern {
        OriginPattern::Wildcard(w) => w.subdomain_base()?.to_string(),
        OriginPattern::Matcher(Matcher::Suffix { value, .. }) => {
            let value = value.rsplit("://").next().unwrap_or(value);
            let value = value.split(':').next().unwrap_or(value);
            value.trim_start_matches('.').to_ascii_lowercase()
        }
        _ => return None,
    };
    public_suffix::is_public_suffix(&base).then_some(base)
}

/// Whether an entry allows an `http` origin other than loopback.
fn is_insecure(pattern: &OriginPattern) -> bool {
    // The host of an `http://` value (bracketed for IPv6), split from its
    // port as origins are; what does not split is no loopback host.
    let http_host = |text: &str| -> Option<String> {
        let rest = text.strip_prefix("http://")?;
        let host = origin::split_host_port(rest.as_bytes()).map_or(&b""[..], |(host, _)| host);
        Some(String::from_utf8_lossy(host).into_owned())
    };
    match pattern {
        OriginPattern::Exact(text) => {
            http_host(text).is_some_and(|h| !host_checks::is_loopback(&h))
        }
        OriginPattern::Wildcard(w) => {
            w.scheme() == "http" && !host_checks::is_loopback(w.base_host())
        }
        OriginPattern::Matcher(Matcher::Exact { value, .. } | Matcher::Prefix { value, .. }) => {
            http_host(&value.to_ascii_lowercase()).is_some_and(|h| !host_checks::is_loopback(&h))
        }
        // Beyond exact and prefix, what a matcher allows is known only by
        // trying: an insecure probe it matches (unless it matches everything,
        // which is reported as such).
        OriginPattern::Matcher(m) => {
            let suffix_probe = match m {
                Matcher::Suffix { value, .. } if !value.contains("://") => {
                    m.matches(&format!("http://cors-probe{value}"))
                }
                _ => false,
            };
            (suffix_probe || m.matches("http://cors-probe.invalid")) && !m.matches(PROBE_ORIGIN)
        }
        OriginPattern::Any | OriginPattern::Null => false,
    }
}

/// Entries of `allow_origins` that allow every origin: `"*"`, and matchers
/// that match even an origin nobody would list.
fn any_origin_entries(fields: &Fields) -> impl Iterator<Item = (&String, &Value, &'static str)> {
    fields
        .origins
        .iter()
        .flatten()
        .filter_map(|(path, pattern, value)| match pattern {
            OriginPattern::Any => Some((path, value, "is not allowed")),
            OriginPattern::Matcher(m) if m.matches(PROBE_ORIGIN) => Some((
                path,
                value,
                "matches any origin (even \"https://cors-probe.invalid\"), which is not allowed",
            )),
            _ => None,
        })
}

fn build_policy(fields: &Fields) -> Option<Policy> {
    let names = |list: &Option<Vec<(String, String)>>| -> Vec<String> {
        list.iter()
            .flatten()
            .map(|(_, name)| name.clone())
            .collect()
    };
    let origins = fields.origins.as_ref()?;
    Some(Policy::new(PolicySpec {
        origins: OriginSet::new(origins.iter().map(|(_, p, _)| p.clone()).collect()),
        methods: names(&fields.methods),
        headers: names(&fields.headers),
        expose_headers: names(&fields.expose),
        max_age: fields.max_age,
        credentials: fields.credentials.as_ref().is_some_and(|(_, b)| *b),
        private_network: fields.private_network.as_ref().is_some_and(|(_, b)| *b),
        unmatched: fields.unmatched.unwrap_or(Unmatched::Reject),
        mode: fields.mode.unwrap_or(Mode::Enforce),
    }))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
