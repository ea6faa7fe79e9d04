//! The `import` and `audit` commands: their options, reading the files,
//! and writing the results (stdout, or `--output FILE` written whole).

use crate::audit::{self, Severity};
use crate::from_envoy;
use crate::from_gateway;
use crate::from_istio;
use crate::import;
use crate::input::{self, Document};
use crate::source::Found;
use cors_core::Config;
use serde_json::json;
use std::process::ExitCode;

struct Options {
    files: Vec<String>,
    json: bool,
    output: Option<String>,
    target: Option<String>,
    /// Files without any CORS policy are fine (pre-commit hands every YAML file).
    allow_empty: bool,
}

fn options(args: &[String], command: &str) -> Result<Options, String> {
    let mut o = Options {
        files: Vec::new(),
        json: false,
        output: None,
        target: None,
        allow_empty: false,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--format" => match value("--format")?.as_str() {
                "json" => o.json = true,
                "text" => o.json = false,
                other => return Err(format!("--format {other}: use text or json")),
            },
            "--output" => o.output = Some(value("--output")?),
            "--allow-empty" if command == "audit" => o.allow_empty = true,
            "--as" if command == "import" => {
                let target = value("--as")?;
                if !["envoy", "istio", "gateway"].contains(&target.as_str()) {
                    return Err(format!("--as {target}: use envoy, istio or gateway"));
                }
                o.target = Some(target);
            }
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option {flag} for {command}"))
            }
            file => o.files.push(file.to_string()),
        }
    }
    if o.files.is_empty() {
        return Err(format!("{command} needs at least one FILE"));
    }
    if o.json && o.target.is_some() {
        return Err(
            "--as and --format json do not go together: --as writes YAML to apply".to_string(),
        );
    }
    Ok(o)
}

/// Every policy in the files; `Err` for an unreadable file, or no policy.
fn collect(files: &[String]) -> Result<Found, String> {
    let mut documents: Vec<Document> = Vec::new();
    for file in files {
        documents.extend(input::read(file)?);
    }
    let mut found = Found::default();
    for document in &documents {
        let value = &document.value;
        if from_istio::is_virtual_service(value) {
            found.groups.extend(from_istio::read(document));
        } else if from_gateway::is_http_route(value) {
            found.groups.extend(from_gateway::read_http_route(document));
        } else if from_gateway::is_security_policy(value) {
            found
                .groups
                .extend(from_gateway::read_security_policy(document, &documents));
        } else if from_gateway::is_gateway(value) {
            // Read for the SecurityPolicies' targets.
        } else if let Some(kind) = value["kind"]
            .as_str()
            .filter(|_| value.get("apiVersion").is_some())
        {
            let name = value["metadata"]["name"].as_str().unwrap_or("(unnamed)");
            found
                .skipped
                .push(format!("{}{kind} {name}", document.root));
        } else {
            from_envoy::read(document, &mut found.groups);
        }
    }
    if found.groups.is_empty() {
        let mut message = format!(
            "no CORS policy in {}: expected Envoy route configurations with a CorsPolicy (typed_per_filter_config or cors), Istio VirtualServices with corsPolicy, HTTPRoutes with a CORS filter, or Envoy Gateway SecurityPolicies with spec.cors",
            files.join(", ")
        );
        for skipped in &found.skipped {
            message.push_str(&format!(
                "\nskipped: {skipped}: not a kind import and audit read"
            ));
        }
        return Err(message);
    }
    Ok(found)
}

/// Writes `text` to `--output FILE` (whole: a temporary file renamed over
/// it) or to stdout.
fn emit(output: &Option<String>, text: &str) -> Result<(), String> {
    let Some(path) = output else {
        print!("{text}");
        return Ok(());
    };
    let temporary = format!("{path}.cors-check-tmp");
    std::fs::write(&temporary, text).map_err(|e| format!("{temporary}: {e}"))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("{path}: {e}")
    })
}

pub fn import_command(args: &[String]) -> Result<ExitCode, String> {
    let o = options(args, "import")?;
    let found = collect(&o.files)?;
    let imported = import::import(&found);
    let text = import::render(&imported);
    // The output must be what the plugin accepts; a failure here is a bug of
    // import, said as such rather than written.
    let validation: Vec<String> = match Config::parse(text.as_bytes()) {
        Ok(config) => cors_core::error::warning_records(&config.warnings).collect(),
        Err(errors) => errors.records().collect(),
    };
    let valid = Config::parse(text.as_bytes()).is_ok();
    let line = |(place, text): &(crate::input::Place, String)| format!("{place}: {text}");
    if o.json {
        let report = json!({
            "configuration": if imported.choices.is_empty() && valid { serde_json::from_str(&text).unwrap_or_default() } else { serde_json::Value::Null },
            "differences": imported.differences.iter().map(|(p, t)| json!({"file": p.file, "place": format!("{}{}", p.document, p.path), "difference": t})).collect::<Vec<_>>(),
            "choices": imported.choices.iter().map(|(p, t)| json!({"file": p.file, "place": format!("{}{}", p.document, p.path), "choice": t})).collect::<Vec<_>>(),
            "skipped": found.skipped,
            "validation": validation,
        });
        emit(&o.output, &format!("{report:#}\n"))?;
    } else {
        for skipped in &found.skipped {
            eprintln!("skipped: {skipped}: not a kind import reads");
        }
        for difference in &imported.differences {
            eprintln!("difference: {}", line(difference));
        }
        for choice in &imported.choices {
            eprintln!("choose: {}", line(choice));
        }
        if !valid {
            for record in &validation {
                eprintln!("invalid: {record}");
            }
        }
        if imported.choices.is_empty() && valid {
            let out = match &o.target {
                Some(target) => import::wrap(&text, target)?,
                None => text,
            };
            emit(&o.output, &out)?;
            let findings = audit::audit(&found);
            let dangers = findings
                .iter()
                .filter(|f| f.severity == Severity::Danger)
                .count();
            if dangers > 0 {
                eprintln!(
                    "note: the source holds {} under its own semantics: see cors-check audit",
                    count(dangers, "danger", "dangers")
                );
            }
        }
    }
    Ok(if imported.choices.is_empty() && valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn audit_command(args: &[String]) -> Result<ExitCode, String> {
    let o = options(args, "audit")?;
    let found = match collect(&o.files) {
        Err(message) if o.allow_empty && message.starts_with("no CORS policy in ") => {
            return Ok(ExitCode::SUCCESS)
        }
        other => other?,
    };
    let findings = audit::audit(&found);
    let dangers = findings
        .iter()
        .filter(|f| f.severity == Severity::Danger)
        .count();
    let warnings = findings.len() - dangers;
    let mut places: Vec<&crate::input::Place> = found.policies().map(|p| &p.place).collect();
    places.dedup();
    places.sort_by_key(|p| p.to_string());
    places.dedup();
    let policies = places.len();
    let text = if o.json {
        let report = json!({
            "findings": findings.iter().map(audit::Finding::json).collect::<Vec<_>>(),
            "dangers": dangers,
            "warnings": warnings,
            "skipped": found.skipped,
        });
        format!("{report:#}\n")
    } else {
        let mut lines: Vec<String> = found
            .skipped
            .iter()
            .map(|s| format!("skipped: {s}: not a kind audit reads"))
            .collect();
        lines.extend(findings.iter().map(audit::Finding::line));
        lines.push(format!(
            "{}, {} in {}",
            count(dangers, "danger", "dangers"),
            count(warnings, "warning", "warnings"),
            count(policies, "policy", "policies")
        ));
        lines.join("\n") + "\n"
    };
    emit(&o.output, &text)?;
    Ok(if dangers > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `1 danger`, `2 dangers`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
