//! schema/cors.schema.json against the plugin's own validation: the same field
//! names as the Rust lists, every example accepted by both, and the same
//! verdict on a table of mistakes (the schema checks shapes; the plugin also
//! checks meaning, so only shape mistakes are in the table).

use crate::common;

use common::examples;
use cors_core::config::{
    MATCHER_KINDS, MAX_AGE_LIMIT, POLICY_FIELDS, RULE_FIELDS, TOP_LEVEL_FIELDS,
};
use cors_core::Config;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fs;

fn schema() -> Value {
    let text = fs::read_to_string(common::root().join("schema/cors.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).unwrap_or_else(|e| panic!("the schema itself: {e}"))
}

fn keys(object: &Value) -> BTreeSet<String> {
    object.as_object().unwrap().keys().cloned().collect()
}

fn names(lists: &[&[&str]]) -> BTreeSet<String> {
    lists
        .iter()
        .flat_map(|l| l.iter().map(|s| s.to_string()))
        .collect()
}

/// The schema's errors for `instance`, one per line; empty when valid.
fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn schema_is_valid_json_schema_2020_12() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn schema_fields_are_the_rust_lists() {
    let schema = schema();
    let defs = &schema["$defs"];
    assert_eq!(
        keys(&schema["properties"]),
        names(&[&POLICY_FIELDS, &TOP_LEVEL_FIELDS])
    );
    assert_eq!(
        keys(&defs["rule"]["properties"]),
        names(&[&POLICY_FIELDS, &RULE_FIELDS])
    );
    assert_eq!(
        keys(&defs["matcher"]["properties"]),
        names(&[&MATCHER_KINDS, &["ignore_case"]])
    );
    let one_of: BTreeSet<String> = defs["matcher"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["required"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(one_of, names(&[&MATCHER_KINDS]));
    for object in [&schema, &defs["rule"], &defs["matcher"]] {
        assert_eq!(object["additionalProperties"], false);
    }
    assert_eq!(schema["required"], json!(["allow_origins"]));
    // A policy field means the same at the top level and in a rule.
    for field in POLICY_FIELDS {
        let reference = json!({ "$ref": format!("#/$defs/{field}") });
        assert_eq!(schema["properties"][field], reference, "{field}");
        assert_eq!(
            defs["rule"]["properties"][field], reference,
            "rules[].{field}"
        );
    }
    assert_eq!(defs["max_age"]["maximum"], json!(MAX_AGE_LIMIT));
    // "enabled": false allows only the rule's own fields.
    assert_eq!(
        defs["rule"]["then"]["propertyNames"]["enum"],
        json!(RULE_FIELDS)
    );
}

#[test]
fn every_example_configuration_passes_both() {
    let validator = validator();
    let configs = examples::example_configs();
    let labels: Vec<&str> = configs.iter().map(|(w, _)| w.as_str()).collect();
    // envoy.yaml, rules.yaml, ecds/cors-filter.yaml, the Istio manifest, and the README's.
    assert!(configs.len() >= 6, "too few examples found: {labels:?}");
    for prefix in [
        "envoy/envoy.yaml",
        "envoy/rules.yaml",
        "envoy/ecds/",
        "istio/",
        "README.md",
    ] {
        assert!(
            labels.iter().any(|l| l.starts_with(prefix)),
            "no example from {prefix}: {labels:?}"
        );
    }
    for (place, json) in &configs {
        let value: Value =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{place}: not JSON: {e}"));
        let errors = schema_errors(&validator, &value);
        assert!(
            errors.is_empty(),
            "{place}: the schema refuses it:\n{errors}"
        );
        Config::parse(json.as_bytes())
            .unwrap_or_else(|e| panic!("{place}: the plugin refuses it:\n{e}"));
    }
}

/// Both accept, or both refuse.
fn agree(
    validator: &jsonschema::Validator,
    document: &Value,
    want_valid: bool,
) -> Result<(), String> {
    let schema_errors = schema_errors(validator, document);
    let plugin = Config::parse(document.to_string().as_bytes());
    match (schema_errors.is_empty(), plugin.is_ok(), want_valid) {
        (true, true, true) | (false, false, false) => Ok(()),
        (schema_ok, plugin_ok, _) => Err(format!(
            "schema {} / plugin {} (want both {}): {document}\n  schema: {schema_errors}\n  plugin: {}",
            if schema_ok { "accepts" } else { "refuses" },
            if plugin_ok { "accepts" } else { "refuses" },
            if want_valid { "to accept" } else { "to refuse" },
            plugin.err().map(|e| e.to_string()).unwrap_or_default()
        )),
    }
}

#[test]
fn a_wrong_type_in_any_field_is_refused_by_both() {
    let validator = validator();
    let wrong = [
        json!({}),
        json!("text"),
        json!([1]),
        json!(1.5),
        json!(null),
    ];
    let mut cases = Vec::new();
    for field in POLICY_FIELDS {
        for value in &wrong {
            let mut top = json!({"allow_origins": ["https://a.example"]});
            top[field] = value.clone();
            cases.push(top);
            let rule = json!({"allow_origins": ["https://a.example"],
                              "rules": [{"path_prefix": "/x/", field: value.clone()}]});
            cases.push(rule);
        }
    }
    for field in RULE_FIELDS {
        for value in &wrong {
            let mut rule = json!({"path_prefix": "/x/"});
            rule[field] = value.clone();
            cases.push(json!({"allow_origins": ["https://a.example"], "rules": [rule]}));
        }
    }
    assert_eq!(
        cases.len(),
        (POLICY_FIELDS.len() * 2 + RULE_FIELDS.len()) * wrong.len()
    );
    common::run_cases(&cases, |c| c.to_string(), |c| agree(&validator, c, false));
}

#[test]
fn both_refuse_the_same_shape_mistakes() {
    let validator = validator();
    let o = "https://a.example";
    let cases = [
        json!({}),
        json!([]),
        json!({"allow_origin": [o]}),
        json!({"allow_origins": [o], "rules": [{"path_prefix": "/", "allow_origin": [o]}]}),
        json!({"allow_origins": []}),
        json!({"allow_origins": ["https://a.example/"]}),
        json!({"allow_origins": ["https://a.example/api"]}),
        json!({"allow_origins": ["a.example"]}),
        json!({"allow_origins": [{"exact": o, "prefix": "https://"}]}),
        json!({"allow_origins": [{"exact": o, "ignore_case": "yes"}]}),
        json!({"allow_origins": [{"glob": "*"}]}),
        json!({"allow_origins": [{"ignore_case": true}]}),
        json!({"allow_origins": [{"exact": ""}]}),
        json!({"allow_origins": [o], "allow_methods": ["TRACE"]}),
        json!({"allow_origins": [o], "allow_methods": ["connect"]}),
        json!({"allow_origins": [o], "allow_methods": ["GET PUT"]}),
        json!({"allow_origins": [o], "allow_headers": ["x a"]}),
        json!({"allow_origins": [o], "allow_headers": [""]}),
        json!({"allow_origins": [o], "expose_headers": ["x:y"]}),
        json!({"allow_origins": [o], "max_age": -1}),
        json!({"allow_origins": [o], "max_age": 86401}),
        json!({"allow_origins": [o], "unmatched_preflights": "ignore"}),
        json!({"allow_origins": [o], "mode": "shadow"}),
        json!({"allow_origins": [o], "max_age": 600.5}),
        json!({"allow_origins": [o], "dangerously_allow_insecure_origins_with_credentials": 1}),
        json!({"allow_origins": [o], "rules": [{"hosts": ["a.example"], "mode": "Report"}]}),
        json!({"allow_origins": [o], "rules": {}}),
        json!({"allow_origins": [o], "rules": [{}]}),
        json!({"allow_origins": [o], "rules": [{"allow_methods": ["PUT"]}]}),
        json!({"allow_origins": [o], "rules": [{"hosts": []}]}),
        json!({"allow_origins": [o], "rules": [{"hosts": ["https://a.example"]}]}),
        json!({"allow_origins": [o], "rules": [{"hosts": ["a.example:8080"]}]}),
        json!({"allow_origins": [o], "rules": [{"hosts": ["a.example/api"]}]}),
        json!({"allow_origins": [o], "rules": [{"path_prefix": "api/"}]}),
        json!({"allow_origins": [o], "rules": [{"path_prefix": "/a/", "enabled": false, "max_age": 5}]}),
        json!({"allow_origins": [o], "rules": [{"path_prefix": "/a/", "rules": []}]}),
    ];
    common::run_cases(&cases, |c| c.to_string(), |c| agree(&validator, c, false));
}

#[test]
fn both_accept_the_less_common_valid_forms() {
    let validator = validator();
    let cases = [
        json!({"allow_origins": ["*"]}),
        json!({"allow_origins": ["null"]}),
        json!({"allow_origins": ["http://[::1]:8080", "http://127.0.0.1:3000", "http://localhost:*"]}),
        json!({"allow_origins": ["https://*.example.com", "https://*.example.com:*"]}),
        json!({"allow_origins": ["chrome-extension://abcdefghijklmnop"]}),
        json!({"allow_origins": [{"suffix": ".example.com", "ignore_case": true}]}),
        json!({"allow_origins": [{"regex": "https://pr-[0-9]+\\.example\\.com"}, {"exact": "https://a.example"}]}),
        json!({"allow_origins": [{"prefix": "https://a."}, {"contains": "example"}]}),
        json!({"allow_origins": ["https://a.example"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]}),
        json!({"allow_origins": ["https://a.example"], "allow_methods": ["get", "PROPFIND", "x-custom"], "allow_headers": ["X-Api-Key"]}),
        json!({"allow_origins": ["https://a.example"], "max_age": 0, "unmatched_preflights": "forward"}),
        json!({"allow_origins": ["https://a.example"], "mode": "report", "rules": [{"hosts": ["a.example"], "mode": "enforce"}]}),
        json!({"allow_origins": ["https://a.example"], "max_age": 600.0}),
        json!({"allow_origins": ["http://a.example"], "allow_credentials": true, "dangerously_allow_insecure_origins_with_credentials": true}),
        json!({"allow_origins": ["https://a.example"], "allow_methods": ["*"], "allow_headers": ["*"], "allow_credentials": true}),
        json!({"allow_origins": ["https://a.example"], "max_age": 86400, "allow_private_network": true}),
        json!({"allow_origins": ["https://a.example"], "rules": []}),
        json!({"allow_origins": ["https://a.example"], "rules": [{"hosts": ["*"]}]}),
        json!({"allow_origins": ["https://a.example"], "rules": [{"hosts": ["[::1]", "*.example.com", "api.example.com."]}]}),
        json!({"allow_origins": ["https://a.example"], "rules": [{"path_prefix": "/", "enabled": true, "allow_origins": ["*"]}]}),
        json!({"allow_origins": ["https://a.example"], "rules": [{"hosts": ["a.example"], "path_prefix": "/x/", "enabled": false}]}),
    ];
    common::run_cases(&cases, |c| c.to_string(), |c| agree(&validator, c, true));
}
