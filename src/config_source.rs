//! Finds the plugin's configuration where operators write it: the plugin's own
//! JSON, an Envoy configuration (bootstrap, LDS or ECDS file; YAML or JSON)
//! with the Wasm filter or the dynamic module (its filter config and its
//! per-route policies), an Istio `WasmPlugin` or an Envoy Gateway
//! `EnvoyExtensionPolicy`. Native only: `cors-check`
//! and the tests read files; the plugin never does.

use serde::Deserialize;
use serde_json::Value;

/// The type of the Wasm HTTP filter's configuration in Envoy.
pub const WASM_FILTER_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
/// The dynamic module's filter, and its per-route configuration.
pub const MODULE_FILTER_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter";
pub const MODULE_PER_ROUTE_TYPE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute";
/// The module's name for its filter (`filter_name`).
pub const MODULE_FILTER_NAME: &str = "cors";
/// The only `configuration` type whose bytes are the JSON text itself.
pub const STRING_VALUE_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";

/// One plugin configuration found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it is in the file, e.g. `static_resources.listeners[0]...http_filters[0]`;
    /// empty when the whole file is the plugin's JSON.
    pub location: String,
    /// The bytes Envoy would hand the plugin, or why they cannot be known.
    pub json: Result<String, String>,
}

/// Every plugin configuration in `text`. `Err` when there is none, or the
/// file is neither JSON nor YAML.
pub fn find(text: &str) -> Result<Vec<Found>, String> {
    if text.trim_start().starts_with('{') {
        // JSON: an Envoy configuration if it holds a Wasm filter, else the
        // plugin's own (even if broken: its parser names the mistake).
        if let Ok(document) = serde_json::from_str::<Value>(text) {
            let mut found = Vec::new();
            walk(&document, "", &mut found, &mut Vec::new());
            if !found.is_empty() {
                return Ok(found);
            }
        }
        return Ok(vec![Found {
            location: String::new(),
            json: Ok(text.to_string()),
        }]);
    }
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document)
            .map_err(|e| format!("is neither JSON nor YAML that can be read as JSON: {e}"))?;
        documents.push(value);
    }
    let mut found = Vec::new();
    let mut files = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        // Multi-document YAML (`---`): say which document, counting from 1.
        let prefix = if documents.len() > 1 {
            format!("document {}: ", i + 1)
        } else {
            String::new()
        };
        let start = found.len();
        walk(document, "", &mut found, &mut files);
        for item in &mut found[start..] {
            item.location = format!("{prefix}{}", item.location);
        }
    }
    if found.is_empty() && !files.is_empty() {
        return Err(format!(
            "holds no configuration of this plugin itself; it reads more from {}: validate that file",
            files.join(", ")
        ));
    }
    if found.is_empty() {
        return Err("holds no configuration of this plugin: expected the plugin's JSON, an Envoy configuration with an envoy.filters.http.wasm or envoy.filters.http.dynamic_modules filter, an Istio WasmPlugin or an Envoy Gateway EnvoyExtensionPolicy".to_string());
    }
    Ok(found)
}

/// Collects the plugin configurations under `value`, and in `files` the
/// files it loads more configuration from (LDS/ECDS `path_config_source`).
fn walk(value: &Value, path: &str, found: &mut Vec<Found>, files: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(file) = object
                .get("path_config_source")
                .and_then(|source| source["path"].as_str())
            {
                files.push(file.to_string());
            }
            if let Some(json) =
                wasm_filter_configuration(value).or_else(|| module_filter_configuration(value))
            {
                found.push(Found {
                    location: path.to_string(),
                    json,
                });
                return;
            }
            // Istio (pluginConfig) and Envoy Gateway (each wasm[].config) send
            // the plugin its configuration as this object's JSON text.
            let name = value["metadata"]["name"].as_str().unwrap_or("(unnamed)");
            let as_text = |config: Option<&Value>| match config {
                None | Some(Value::Null) => Ok(String::new()),
                Some(config) => Ok(config.to_string()),
            };
            if is_wasm_plugin(value) {
                found.push(Found {
                    location: format!("WasmPlugin {name}: spec.pluginConfig"),
                    json: as_text(value["spec"].get("pluginConfig")),
                });
                return;
            }
            if is_extension_policy(value) {
                let wasm = value["spec"]["wasm"].as_array().map(Vec::as_slice);
                for (i, extension) in wasm.unwrap_or_default().iter().enumerate() {
                    found.push(Found {
                        location: format!("EnvoyExtensionPolicy {name}: spec.wasm[{i}].config"),
                        json: as_text(extension.get("config")),
                    });
                }
                return;
            }
            for (key, child) in object {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(child, &child_path, found, files);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{path}[{i}]"), found, files);
            }
        }
        _ => {}
    }
}

fn is_wasm_plugin(value: &Value) -> bool {
    value["kind"] == "WasmPlugin"
        && value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("extensions.istio.io/"))
}

/// Envoy Gateway's policy: each of its `spec.wasm` extensions is taken for this plugin.
fn is_extension_policy(value: &Value) -> bool {
    value["kind"] == "EnvoyExtensionPolicy"
        && value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("gateway.envoyproxy.io/"))
}

/// The plugin JSON of a Wasm filter's `typed_config`, written directly or
/// wrapped in a `TypedStruct` (as Istio `EnvoyFilter` patches often are).
fn wasm_filter_configuration(value: &Value) -> Option<Result<String, String>> {
    let filter = match value["@type"].as_str() {
        Some(WASM_FILTER_TYPE) => value,
        Some(t) if t.ends_with(".TypedStruct") && value["type_url"] == WASM_FILTER_TYPE => {
            &value["value"]
        }
        _ => return None,
    };
    let configuration = &filter["config"]["configuration"];
    if configuration.is_null() {
        // Envoy hands the plugin nothing; the parser says so.
        return Some(Ok(String::new()));
    }
    Some(match configuration["@type"].as_str() {
        Some(STRING_VALUE_TYPE) => Ok(configuration["value"].as_str().unwrap_or("").to_string()),
        other => Err(format!(
            "config.configuration has \"@type\": {}; write the plugin's JSON in a {STRING_VALUE_TYPE} (its \"value\")",
            other.map_or("(none)".to_string(), |t| format!("{t:?}"))
        )),
    })
}

/// The policy JSON of the dynamic module's filter or per-route configuration
/// (`filter_name: cors`): a `StringValue` arrives as its text, a `Struct` as
/// its JSON.
fn module_filter_configuration(value: &Value) -> Option<Result<String, String>> {
    let is_module = matches!(
        value["@type"].as_str(),
        Some(MODULE_FILTER_TYPE | MODULE_PER_ROUTE_TYPE)
    );
    // `per_route_config_name`: the field's name before Envoy 1.40.
    let name = value
        .get("filter_name")
        .or_else(|| value.get("per_route_config_name"));
    if !is_module || name.and_then(Value::as_str) != Some(MODULE_FILTER_NAME) {
        return None;
    }
    let config = &value["filter_config"];
    Some(match config["@type"].as_str() {
        None if config.is_null() => Ok(String::new()),
        Some(STRING_VALUE_TYPE) => Ok(config["value"].as_str().unwrap_or("").to_string()),
        Some(t) if t.ends_with("google.protobuf.Struct") => Ok(config["value"].to_string()),
        other => Err(format!(
            "filter_config has \"@type\": {}; write the policy's JSON in a {STRING_VALUE_TYPE} (its \"value\")",
            other.map_or("(none)".to_string(), |t| format!("{t:?}"))
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_json_is_taken_whole_even_when_broken() {
        let found = find(" {\"allow_origins\": [\"*\"]}").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location, "");
        assert_eq!(
            found[0].json.as_deref(),
            Ok(" {\"allow_origins\": [\"*\"]}")
        );
        let broken = find("{\"allow_origins\": [").unwrap();
        assert_eq!(broken[0].json.as_deref(), Ok("{\"allow_origins\": ["));
    }

    #[test]
    fn envoy_yaml_and_json() {
        let yaml = r#"
static_resources:
  listeners:
  - filter_chains:
    - filters:
      - typed_config:
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"allow_origins": ["https://a.example"]}'
"#;
        let found = find(yaml).unwrap();
        assert_eq!(
            found,
            vec![Found {
                location:
                    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config"
                        .to_string(),
                json: Ok(r#"{"allow_origins": ["https://a.example"]}"#.to_string()),
            }]
        );
        let as_json: Value = serde_norway::from_str(yaml).unwrap();
        let found_json = find(&as_json.to_string()).unwrap();
        assert_eq!(found_json, found);
    }

    #[test]
    fn dynamic_module_filter_and_per_route_policies() {
        let yaml = r#"
- "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
  dynamic_module_config: {name: cors}
  filter_name: cors
  filter_config:
    "@type": type.googleapis.com/google.protobuf.StringValue
    value: '{"allow_origins": ["https://a.example"]}'
- "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
  per_route_config_name: cors
  filter_config:
    "@type": type.googleapis.com/google.protobuf.Struct
    value: {allow_origins: ["https://b.example"]}
- "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
  filter_name: another-module
- "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute
  filter_name: cors
  filter_config: {"@type": type.googleapis.com/google.protobuf.BytesValue, value: e30=}
"#;
        let found = find(yaml).unwrap();
        let json: Vec<_> = found
            .iter()
            .map(|f| (f.location.as_str(), f.json.clone()))
            .collect();
        assert_eq!(
            json,
            vec![
                ("[0]", Ok(r#"{"allow_origins": ["https://a.example"]}"#.to_string())),
                ("[1]", Ok(r#"{"allow_origins":["https://b.example"]}"#.to_string())),
                ("[3]", Err("filter_config has \"@type\": \"type.googleapis.com/google.protobuf.BytesValue\"; write the policy's JSON in a type.googleapis.com/google.protobuf.StringValue (its \"value\")".to_string())),
            ]
        );
    }

    #[test]
    fn typed_struct_and_wrong_configuration_type() {
        let yaml = r#"
- "@type": type.googleapis.com/udpa.type.v1.TypedStruct
  type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
  value:
    config:
      configuration:
        "@type": type.googleapis.com/google.protobuf.StringValue
        value: "{}"
- "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
  config:
    configuration:
      "@type": type.googleapis.com/google.protobuf.Struct
      value: {allow_origins: ["*"]}
- "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
  config: {}
"#;
        let found = find(yaml).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].location, "[0]");
        assert_eq!(found[0].json.as_deref(), Ok("{}"));
        assert_eq!(
            found[1].json.as_ref().unwrap_err(),
            "config.configuration has \"@type\": \"type.googleapis.com/google.protobuf.Struct\"; write the plugin's JSON in a type.googleapis.com/google.protobuf.StringValue (its \"value\")"
        );
        assert_eq!(found[2].json.as_deref(), Ok(""));
    }

    #[test]
    fn istio_wasm_plugins_in_a_multi_document_file() {
        let yaml = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: cors, namespace: shop}
spec:
  url: oci://registry.example.com/cors:1
  pluginConfig:
    allow_origins: ["https://shop.example.com"]
    max_age: 600
"#;
        let found = find(yaml).unwrap();
        assert_eq!(
            found,
            vec![Found {
                location: "document 2: WasmPlugin cors: spec.pluginConfig".to_string(),
                json: Ok(
                    r#"{"allow_origins":["https://shop.example.com"],"max_age":600}"#.to_string()
                ),
            }]
        );
    }

    #[test]
    fn envoy_gateway_extension_policy_each_wasm_config() {
        let yaml = r#"
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyExtensionPolicy
metadata: {name: cors}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
  wasm:
  - code: {type: Image, image: {url: registry.example.com/cors:1}}
    config: {allow_origins: ["https://shop.example.com"]}
  - code: {type: Image, image: {url: registry.example.com/cors:1}}
"#;
        let found = find(yaml).unwrap();
        assert_eq!(
            found,
            vec![
                Found {
                    location: "EnvoyExtensionPolicy cors: spec.wasm[0].config".to_string(),
                    json: Ok(r#"{"allow_origins":["https://shop.example.com"]}"#.to_string()),
                },
                Found {
                    location: "EnvoyExtensionPolicy cors: spec.wasm[1].config".to_string(),
                    json: Ok(String::new()),
                },
            ]
        );
    }

    #[test]
    fn nothing_found() {
        let err = find("a: 1\nb: [2]\n").unwrap_err();
        assert!(
            err.starts_with("holds no configuration of this plugin"),
            "{err}"
        );
        let ecds = "http_filters:\n- config_discovery:\n    config_source:\n      path_config_source: {path: envoy/ecds/cors-filter.yaml}\n";
        assert_eq!(
            find(ecds).unwrap_err(),
            "holds no configuration of this plugin itself; it reads more from envoy/ecds/cors-filter.yaml: validate that file"
        );
        let err = find("a: [1\n").unwrap_err();
        assert!(err.starts_with("is neither JSON nor YAML"), "{err}");
    }
}
