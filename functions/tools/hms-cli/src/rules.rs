//! `hms rules ...`: build, test and inspect payer rule sets (WebAssembly components).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hms_domain::claims::{Claim, ClaimKind};
use hms_rules::host::{Limits, RuleHost};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Build a rule set's crate for wasm32 and turn it into a component (prints its path and
    /// sha256, the pin for a registry).
    Build {
        /// The rule set's crate directory.
        dir: PathBuf,
    },
    /// Run a rule set on a claim: findings, the transformed claim, fuel used, time taken (exit
    /// 1 when it finds errors or fails). The rule set's log lines go to stderr.
    Test {
        /// The component.
        component: PathBuf,
        /// The claim (our JSON).
        #[arg(long)]
        claim: PathBuf,
    },
    /// What a component is: its sha256, the contract it implements, its name, version and
    /// payer ids.
    Inspect {
        /// The component.
        component: PathBuf,
    },
    /// Make a rules directory to deploy (the rules bucket's `rules/` prefix): each component,
    /// the component precompiled for the Lambda functions (x86_64 Linux; they carry no
    /// compiler), and `rules.json` pinning both by sha256 to the payer ids the rule set says
    /// it serves. The directory is then read back as a registry to prove it loads.
    Publish {
        /// The directory to write (created if missing; its `rules.json` is replaced).
        #[arg(long)]
        out: PathBuf,
        /// The components.
        #[arg(required = true)]
        components: Vec<PathBuf>,
    },
}

pub fn run(command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::Build { dir } => build(&dir),
        RulesCommand::Test { component, claim } => test(&component, &claim),
        RulesCommand::Inspect { component } => inspect(&component),
        RulesCommand::Publish { out, components } => publish(&out, &components),
    }
}

/// The crate's package name, from its Cargo.toml (`name = "..."` of `[package]`).
fn package_name(dir: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .with_context(|| format!("{}: no Cargo.toml", dir.display()))?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some(value) = line.strip_prefix("name").map(str::trim)
            && let Some(value) = value.strip_prefix('=')
        {
            return Ok(value.trim().trim_matches('"').to_string());
        }
    }
    bail!("{}: Cargo.toml names no package", dir.display())
}

/// The way to build for wasm32 on this machine: rustup's target when it is installed (an
/// author's ordinary machine), else Debian's rustc with its library source building std itself.
fn cargo_for_wasm(dir: &Path, target_dir: &Path) -> Result<Command> {
    let rustup_has_target = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    let mut cargo;
    if rustup_has_target {
        cargo = Command::new("cargo");
        cargo.args(["build", "--release", "--target", "wasm32-unknown-unknown"]);
    } else if Path::new("/usr/bin/rustc").exists()
        && Path::new("/usr/lib/rustlib/src/rust/library").exists()
    {
        // rust-lld from rustup's nightly links the module.
        let sysroot = Command::new("rustc")
            .args(["+nightly", "--print", "sysroot"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty());
        cargo = Command::new("/usr/bin/cargo");
        cargo
            .args([
                "build",
                "--release",
                "-Zbuild-std=std,panic_abort",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("RUSTC", "/usr/bin/rustc")
            .env("RUSTC_BOOTSTRAP", "1");
        if let Some(sysroot) = sysroot {
            let bin = format!("{sysroot}/lib/rustlib/x86_64-unknown-linux-gnu/bin");
            let path = std::env::var("PATH").unwrap_or_default();
            cargo.env("PATH", format!("{bin}:{path}"));
        }
    } else {
        bail!(
            "no way to build for wasm32 here: run `rustup target add wasm32-unknown-unknown`, or install Debian's rustc-web, cargo-web and rust-web-src (infra/setup.sh does)"
        );
    }
    cargo.current_dir(dir).env("CARGO_TARGET_DIR", target_dir);
    Ok(cargo)
}

/// The limits a rule set runs under, with its log lines' text kept: the CLI is its author's.
pub(crate) fn author_limits() -> Limits {
    Limits {
        logs: hms_rules::host::RuleLogs::Text,
        ..Limits::default()
    }
}

fn build(dir: &Path) -> Result<ExitCode> {
    // Absolute, both: cargo runs in `dir` and would read a relative target directory from
    // there, not from where `hms` was started.
    let dir = &std::path::absolute(dir).with_context(|| dir.display().to_string())?;
    let name = package_name(dir)?;
    let target_dir = std::env::var_os("HMS_RULES_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    let target_dir =
        std::path::absolute(&target_dir).with_context(|| target_dir.display().to_string())?;
    let status = cargo_for_wasm(dir, &target_dir)?
        .status()
        .context("cargo could not be started")?;
    if !status.success() {
        bail!("{}: the build failed", dir.display());
    }
    let module_path = target_dir
        .join("wasm32-unknown-unknown/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    let module = std::fs::read(&module_path)
        .with_context(|| format!("{}: the build made no module", module_path.display()))?;
    let component = hms_rules::componentize(&module)
        .map_err(|e| anyhow::anyhow!("{}: not a rule-set module: {e}", module_path.display()))?;
    let out = dir.join(format!("{name}.wasm"));
    std::fs::write(&out, &component).with_context(|| out.display().to_string())?;
    outln!("{}\t{}", out.display(), hms_rules::sha256_hex(&component));
    Ok(ExitCode::SUCCESS)
}

fn load(host: &RuleHost, component: &Path) -> Result<(Vec<u8>, hms_rules::host::LoadedRules)> {
    let bytes = std::fs::read(component).with_context(|| component.display().to_string())?;
    let label = component.file_name().map_or_else(
        || component.display().to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    let loaded = host.load(&label, &bytes)?;
    Ok((bytes, loaded))
}

fn inspect(component: &Path) -> Result<ExitCode> {
    let host = RuleHost::new(author_limits())?;
    let (bytes, rules) = load(&host, component)?;
    let info = host.describe(&rules)?;
    let report = serde_json::json!({
        "component": component.display().to_string(),
        "sha256": hms_rules::sha256_hex(&bytes),
        "bytes": bytes.len(),
        "contract": format!("{}, world rule-set", hms_rules::PACKAGE),
        "name": info.name,
        "version": info.version,
        "payerIds": info.payer_ids,
    });
    outln!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// Publishes `components` to `out` all or nothing. Everything is made in a staging directory
/// first and loaded from there as a function would load it; only then are its files moved in
/// under names that carry their sha256 (so the registry already there keeps loading), and
/// `rules.json` last, by rename: a reader sees the old registry or the whole new one, and a
/// failed publish leaves `out` as it was.
fn publish(out: &Path, components: &[PathBuf]) -> Result<ExitCode> {
    use hms_rules::host::LAMBDA_TARGET;
    use hms_rules::registry::{
        PrecompiledEntry, REGISTRY_FILE, Registry, RegistryFile, RuleSetEntry,
    };
    let host = RuleHost::new(author_limits())?;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let staging = out.join(format!(".publishing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| staging.display().to_string())?;
    let staged = (|| -> Result<Vec<PathBuf>> {
        let mut files = vec![];
        let mut write = |name: PathBuf, bytes: &[u8]| -> Result<PathBuf> {
            let path = staging.join(&name);
            std::fs::write(&path, bytes).with_context(|| path.display().to_string())?;
            files.push(name.clone());
            Ok(name)
        };
        let mut rule_sets = Vec::with_capacity(components.len());
        for component in components {
            let (bytes, rules) = load(&host, component)?;
            let info = host.describe(&rules)?;
            let stem = component
                .file_stem()
                .with_context(|| format!("{}: not a file", component.display()))?
                .to_string_lossy()
                .to_string();
            let sha = hms_rules::sha256_hex(&bytes);
            let named = format!("{stem}-{}", sha.get(..12).unwrap_or(&sha));
            let artifact = host.precompile(&named, &bytes, LAMBDA_TARGET)?;
            let entry = RuleSetEntry {
                precompiled: vec![PrecompiledEntry {
                    target: LAMBDA_TARGET.to_string(),
                    sha256: hms_rules::sha256_hex(&artifact),
                    file: write(
                        PathBuf::from(format!("{named}.{LAMBDA_TARGET}.cwasm")),
                        &artifact,
                    )?,
                }],
                component: write(PathBuf::from(format!("{named}.wasm")), &bytes)?,
                sha256: sha,
                payer_ids: info.payer_ids,
            };
            eprintln!(
                "{} {} ({}): payers {}; {} bytes, {} bytes precompiled for {LAMBDA_TARGET}",
                info.name,
                info.version,
                entry.component.display(),
                entry.payer_ids.join(", "),
                bytes.len(),
                artifact.len(),
            );
            rule_sets.push(entry);
        }
        let registry = serde_json::to_vec_pretty(&RegistryFile { rule_sets })?;
        std::fs::write(staging.join(REGISTRY_FILE), &registry)
            .with_context(|| staging.join(REGISTRY_FILE).display().to_string())?;
        Registry::open(&host, &staging, None)
            .with_context(|| "the registry to publish does not load; nothing was published")?;
        Ok(files)
    })();
    let files = match staged {
        Ok(files) => files,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    for name in files
        .iter()
        .chain(std::iter::once(&PathBuf::from(REGISTRY_FILE)))
    {
        std::fs::rename(staging.join(name), out.join(name))
            .with_context(|| out.join(name).display().to_string())?;
    }
    let _ = std::fs::remove_dir_all(&staging);
    outln!("{}", out.join(REGISTRY_FILE).display());
    Ok(ExitCode::SUCCESS)
}

fn test(component: &Path, claim: &Path) -> Result<ExitCode> {
    // The rule set's log lines, for its author, on stderr (stdout is the JSON report).
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(tracing::Level::DEBUG)
        .try_init();
    let host = RuleHost::new(author_limits())?;
    let (_, rules) = load(&host, component)?;
    let json = std::fs::read(claim).with_context(|| claim.display().to_string())?;
    let kind = serde_json::from_slice::<serde_json::Value>(&json)
        .map(|value| ClaimKind::of(&value))
        .unwrap_or(ClaimKind::Professional);
    match Claim::from_json(&json, kind) {
        Ok(claim) => report(&host, &rules, &claim),
        Err(outcome) => print_refused(&outcome),
    }
}

fn print_refused(outcome: &hms_domain::outcome::OperationOutcome) -> Result<ExitCode> {
    outln!("{}", serde_json::to_string_pretty(outcome)?);
    Ok(ExitCode::from(1))
}

/// The findings, the transformed claim, the fuel and the time of one claim through `rules`.
fn report<C: hms_rules::convert::RuleClaim + serde::Serialize>(
    host: &RuleHost,
    rules: &hms_rules::host::LoadedRules,
    claim: &C,
) -> Result<ExitCode> {
    let wit = claim.to_wit()?;
    let start = Instant::now();
    let (findings, fuel) = host.validate(rules, &wit)?;
    let validate_time = start.elapsed();
    let outcome = hms_rules::pipeline::run(host, rules, claim);
    let report = serde_json::json!({
        "ruleSet": rules.label(),
        "findings": hms_rules::convert::issues(rules.label(), &findings),
        "held": outcome.held,
        "issues": outcome.issues,
        "claim": outcome.claim,
        "validateFuel": fuel,
        "validateMicroseconds": validate_time.as_micros() as u64,
    });
    outln!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if outcome.held {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
