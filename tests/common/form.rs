//! The two forms of the product, the Proxy-Wasm plugin (`dist/cors.wasm`) and
//! the Envoy dynamic module (`dist/libcors.so`), and what differs between them
//! in Envoy: the filter's configuration, the counters' names in `/stats` and
//! the log lines. Every Envoy suite runs against the form `CORS_FORM` names
//! (`wasm`, the default, or `module`) with the same table of expectations:
//! `make test` runs each suite once per form.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Wasm,
    Module,
}

impl Form {
    /// The form under test: `CORS_FORM=wasm` (default) or `CORS_FORM=module`.
    pub fn current() -> Form {
        match std::env::var("CORS_FORM").as_deref() {
            Ok("module") => Form::Module,
            Ok("wasm") | Ok("") | Err(_) => Form::Wasm,
            Ok(other) => panic!("CORS_FORM={other}: use wasm or module"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Form::Wasm => "wasm",
            Form::Module => "module",
        }
    }

    /// The demo's configuration: what `make run` (Wasm) or `make run-native`
    /// (module) starts. Both answer the README's three commands alike.
    pub fn demo_config(self) -> &'static str {
        match self {
            Form::Wasm => "envoy/envoy.yaml",
            Form::Module => "envoy/native.yaml",
        }
    }

    /// Envoy's worker threads in the suites: the module's code runs on all
    /// of them at once, so its suites use two.
    pub fn concurrency(self) -> &'static str {
        match self {
            Form::Wasm => "1",
            Form::Module => "2",
        }
    }

    /// The built artifact: `CORS_WASM` / `CORS_MODULE` override `dist/`.
    pub fn artifact(self) -> PathBuf {
        let (var, file) = match self {
            Form::Wasm => ("CORS_WASM", "dist/cors.wasm"),
            Form::Module => ("CORS_MODULE", "dist/libcors.so"),
        };
        let path = std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| super::root().join(file));
        assert!(
            path.exists(),
            "{} is missing: run `make build` (or `make test`, which builds it)",
            path.display()
        );
        path
    }

    /// The HTTP filter of this form, configured with `config_json` (sent as is).
    pub fn filter(self, config_json: &str) -> Value {
        match self {
            Form::Wasm => wasm_filter_from(&self.artifact(), config_json),
            Form::Module => module_filter_from(&self.artifact(), config_json),
        }
    }

    /// A counter's name in `/stats`: `cors.preflight_allowed` is
    /// `wasmcustom.cors.preflight_allowed` for the plugin and
    /// `dynamicmodulescustom.cors.preflight_allowed` for the module.
    pub fn stat(self, metric: &str) -> String {
        match self {
            Form::Wasm => format!("wasmcustom.{metric}"),
            Form::Module => format!("dynamicmodulescustom.{metric}"),
        }
    }

    /// A counter's name in `/stats/prometheus`: `cors_preflight_allowed` for
    /// the plugin, `envoy_dynamicmodulescustom_cors_preflight_allowed` for the
    /// module.
    pub fn prometheus(self, metric: &str) -> String {
        let name = metric.replace('.', "_");
        match self {
            Form::Wasm => name,
            Form::Module => format!("envoy_dynamicmodulescustom_{name}"),
        }
    }

    /// Envoy's arguments for this form's log lines at debug level.
    pub fn debug_log_args(self) -> [&'static str; 2] {
        match self {
            Form::Wasm => ["--component-log-level", "wasm:debug"],
            Form::Module => ["--component-log-level", "dynamic_modules:debug"],
        }
    }

    /// The message of one of the filter's own log lines at `level`
    /// ("debug", "error"...), without Envoy's prefix; `None` for other lines.
    pub fn log_message(self, line: &str, level: &str) -> Option<String> {
        let tag = match self {
            Form::Wasm => format!("[{level}][wasm]"),
            Form::Module => format!("[{level}][dynamic_modules]"),
        };
        if !line.contains(&tag) {
            return None;
        }
        let message = match self {
            // `[wasm] ... wasm log cors cors: MESSAGE`
            Form::Wasm => line.split_once("wasm log")?.1.split_once(": ")?.1,
            // `[dynamic_modules] [:] cors: MESSAGE`
            Form::Module => line.split_once("] cors: ")?.1,
        };
        Some(message.to_string())
    }
}

pub fn wasm_filter_from(wasm: &Path, config_json: &str) -> Value {
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "cors",
                "root_id": "cors",
                "vm_config": {
                    "vm_id": "cors",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": wasm.to_string_lossy()}}
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": config_json
                }
            }
        }
    })
}

pub fn module_filter_from(module: &Path, config_json: &str) -> Value {
    json!({
        "name": "envoy.filters.http.dynamic_modules",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
            "dynamic_module_config": {"module": {"local": {"filename": module.to_string_lossy()}}},
            "filter_name": "cors",
            "filter_config": {
                "@type": "type.googleapis.com/google.protobuf.StringValue",
                "value": config_json
            }
        }
    })
}

/// The module's policy for one route or virtual host: the value of
/// `typed_per_filter_config["envoy.filters.http.dynamic_modules"]`, the same
/// JSON as the filter's own configuration, which it replaces there.
pub fn module_per_route(config_json: &str) -> Value {
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilterPerRoute",
        "dynamic_module_config": {"module": {"local": {"filename": Form::Module.artifact().to_string_lossy()}}},
        "filter_name": "cors",
        "filter_config": {
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": config_json
        }
    })
}
