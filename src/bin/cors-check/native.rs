//! The tool itself; native only (see main.rs).

use cors_core::config_source::{self, Found};
use cors_core::error;
use cors_core::explain::{self, Request};
use cors_core::Config;
use std::process::ExitCode;

const USAGE: &str = "usage:
  cors-check validate FILE...
      Checks each plugin configuration in FILE: prints \"ok\" (after a line per warning:
      legal, but almost always a mistake), or one line per error (field, value,
      message) and one with the count.
  cors-check explain FILE [--origin ORIGIN] [--method METHOD] [--header NAME]...
                          [--host HOST] [--path PATH] [--preflight] [--private-network]
      Prints what the plugin does with one request: the policy that applies, the decision,
      why, and the exact response headers. --preflight explains the OPTIONS preflight the
      browser sends first for METHOD and the --header names. Defaults: --method GET,
      --host localhost, --path /.
  cors-check import FILE... [--as envoy|istio|gateway] [--format json] [--output FILE]
      Reads the CORS policies of Envoy (CorsPolicy), Istio (VirtualService corsPolicy), Gateway
      API (HTTPRoute CORS filter) and Envoy Gateway (SecurityPolicy cors) in FILE and writes this
      filter's configuration (--as: the whole resource to apply); every difference in meaning on
      stderr, one line each. Exit 1 when a choice is left to you (the lines starting \"choose:\").
  cors-check audit FILE... [--format json] [--output FILE] [--allow-empty]
      Reports what is dangerous in those policies under their own platform's semantics: one line
      per finding (danger or warn, where, what, the fix). Exit 1 when there is a danger.
      --allow-empty: files without any CORS policy pass (exit 0) instead of exit 2.
FILE (validate, explain): the plugin's JSON, an Envoy configuration (YAML or JSON) with the
envoy.filters.http.wasm filter, or an Istio WasmPlugin.
cors-check --version prints the version (the plugin's and the module's: one product).
Exit status: 0 ok, 1 invalid configuration (import: a choice to make; audit: a danger),
2 usage, unreadable file or no policy found.";

/// Exit statuses.
const INVALID: u8 = 1;
const USAGE_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("validate") if args.len() > 1 => validate(&args[1..]),
        Some("explain") => explain_command(&args[1..]),
        Some("import") => crate::import_audit::import_command(&args[1..]),
        Some("audit") => crate::import_audit::audit_command(&args[1..]),
        Some("-V" | "--version") => {
            println!("cors-check {}", cors_core::VERSION);
            Ok(ExitCode::SUCCESS)
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(format!("expected a command\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cors-check: {message}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

fn read(file: &str) -> Result<Vec<Found>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    config_source::find(&text).map_err(|e| format!("{file} {e}"))
}

/// `Ok(config)`, or the records Envoy would log: one per error, then the count.
fn parse(found: &Found) -> Result<Config, Vec<String>> {
    let json = match &found.json {
        Ok(json) => json,
        Err(e) => return Err(error::records(std::slice::from_ref(e)).collect()),
    };
    Config::parse(json.as_bytes()).map_err(|errors| errors.records().collect())
}

fn validate(files: &[String]) -> Result<ExitCode, String> {
    let mut all: Vec<(String, Found)> = Vec::new();
    for file in files {
        all.extend(read(file)?.into_iter().map(|f| (file.clone(), f)));
    }
    // One plugin JSON file: just "ok" or the errors. Otherwise name each.
    let bare = all.len() == 1 && all[0].1.location.is_empty();
    let mut invalid = false;
    for (file, found) in &all {
        let label = if found.location.is_empty() {
            file.clone()
        } else {
            format!("{file}: {}", found.location)
        };
        let report = match parse(found) {
            // Warnings first, then the verdict: accepted.
            Ok(config) => error::warning_records(&config.warnings)
                .chain(std::iter::once("ok".to_string()))
                .collect(),
            Err(records) => {
                invalid = true;
                records
            }
        };
        // Each line stands alone, like Envoy's log records: named unless bare.
        for line in report {
            if bare {
                println!("{line}");
            } else {
                println!("{label}: {line}");
            }
        }
    }
    Ok(if invalid {
        ExitCode::from(INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

fn explain_command(args: &[String]) -> Result<ExitCode, String> {
    let mut file = None;
    let mut request = Request {
        method: "GET".to_string(),
        host: "localhost".to_string(),
        path: "/".to_string(),
        ..Request::default()
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--origin" => request.origin = Some(value("--origin")?),
            "--method" => request.method = value("--method")?,
            "--header" => request.headers.push(value("--header")?),
            "--host" => request.host = value("--host")?,
            "--path" => request.path = value("--path")?,
            "--preflight" => request.preflight = true,
            "--private-network" => request.private_network = true,
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            name if file.is_none() => file = Some(name.to_string()),
            extra => return Err(format!("one FILE only, not also {extra}")),
        }
    }
    let file = file.ok_or_else(|| format!("explain needs a FILE\n{USAGE}"))?;
    if request.private_network && !request.preflight {
        return Err("--private-network is a preflight header: add --preflight".to_string());
    }
    let found = read(&file)?;
    let [found] = &found[..] else {
        let places: Vec<String> = found.iter().map(|f| format!("  {}", f.location)).collect();
        return Err(format!(
            "{file} holds {} plugin configurations; explain needs one (give the plugin's JSON):\n{}",
            found.len(),
            places.join("\n")
        ));
    };
    let config = match parse(found) {
        Ok(config) => config,
        Err(records) => {
            for record in records {
                println!("{record}");
            }
            return Ok(ExitCode::from(INVALID));
        }
    };
    let explanation = explain::explain(&config, &request)?;
    print!("{explanation}");
    Ok(ExitCode::SUCCESS)
}
