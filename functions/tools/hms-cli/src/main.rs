//! `hms`: the HMS-ACH command-line tool.
//!
//! Exit codes: 0 success (for `validate`, no error-level finding), 1 the input has errors,
//! 2 usage or I/O errors.

/// `println!` that never panics: a reader that went away (`hms … | head`) ends the command
/// quietly, as with any Unix tool, and another write error ends it with its reason.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_line(format_args!($($arg)*))
    };
}

mod admin;
mod claims;
mod remit;
mod rules;
mod webhooks;
mod x12;

use std::process::ExitCode;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mimalloc: translating X12 into the domain allocates many small strings, and glibc's malloc
/// spends a third of an 835's translation time on them (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process. mimalloc asks the kernel for them, and each
/// one it gets counts whole in the process's memory and is zeroed whole whenever mimalloc
/// gives memory back and takes it again: with them a validation peaked at 28 MB and a Bundle
/// of 50,000 Claims at 58 MB, without them at 17 and 37 MB, in the same time (BENCHMARKS.md).
/// How much memory the process takes changes, never what it does.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // one prctl(2); see the SAFETY comment
fn without_huge_pages() {
    // SAFETY: prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) takes integers only and reads or writes no
    // memory of ours. A kernel without the option refuses it (EINVAL), which leaves the
    // process as it was, so the result is not needed.
    let _refused = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn without_huge_pages() {}

/// HMS-ACH: an open, API-first healthcare clearinghouse.
#[derive(Debug, Parser)]
#[command(name = "hms", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Payer rule sets (WebAssembly components): build, test, inspect.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// ASC X12 5010: parse, validate, acknowledge, format.
    X12 {
        #[command(subcommand)]
        command: x12::X12Command,
    },
    /// Translate: a claim, an array of claims (one 837 batch) or an inquiry, as our JSON or FHIR
    /// (a Claim, a Bundle of Claims, a CoverageEligibilityRequest), into X12 (claims are scrubbed
    /// first); or an 835, 271 or 277 into our JSON or FHIR.
    Translate {
        /// What to write.
        #[arg(long, value_enum)]
        to: claims::Target,
        /// The transaction to write (with `--to x12`).
        #[arg(long = "type", value_enum)]
        kind: Option<claims::TransactionType>,
        /// A trading-partner configuration (JSON); a test partner derived from the claim when
        /// absent.
        #[arg(long)]
        partner: Option<PathBuf>,
        /// Interchange and group control number.
        #[arg(long, default_value_t = 1)]
        control: u32,
        /// With `--to json`: each 837P, 835, 271 or 277 transaction set with the envelope it came in and
        /// what the model does not hold, which `--to x12` turns back into the same X12.
        #[arg(long)]
        lossless: bool,
        /// With `--to json` or `--to fhir` of an 835: one record per line (NDJSON) instead of
        /// one document; for FHIR one ExplanationOfBenefit per line, as bulk FHIR takes it.
        #[arg(long)]
        ndjson: bool,
        /// With `--to x12 --type 837P`: a payer-rules directory (its `rules.json` maps payer ids
        /// to rule-set components pinned by sha256); each claim goes through its payer's rule
        /// set after the scrubber, and is held when the rule set finds an error or fails.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The input (a claim, or X12), or `-` for standard input.
        input: PathBuf,
    },
    /// Remittance (835s): what a file would post, or post it, on the stack the environment
    /// names.
    Remit {
        #[command(subcommand)]
        command: remit::RemitCommand,
    },
    /// Webhooks: a receiver that verifies and prints events (`listen`).
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhooksCommand,
    },
    /// Every API route, the scope its authorizer checks and the roles that may call it, a line
    /// each (`infra/check-template.sh` holds template.yaml to it).
    Routes,
    /// Operate on stored claims through the API (as an admin of their organization).
    Claims {
        #[command(subcommand)]
        command: admin::ClaimsCommand,
    },
    /// Mint a development access token for the local stack (HS256, signed with
    /// `HMS_LOCAL_JWT_SECRET`, the key the local functions check tokens against): the
    /// organization and roles it names, and the scopes those roles hold.
    Token {
        /// The organization whose data the token reaches.
        #[arg(long)]
        org: String,
        /// A role to grant (repeat it): billing, finance, admin, compliance.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Who the token is for (`sub`).
        #[arg(long, default_value = "local-developer")]
        subject: String,
        /// How long it is valid, in hours.
        #[arg(long, default_value_t = 12)]
        hours: i64,
        /// The issuer (`iss`); the local stack's by default.
        #[arg(long, default_value = "hms-ach-local")]
        issuer: String,
        /// The audience (`aud`).
        #[arg(long, default_value = "hms-ach")]
        audience: String,
    },
    /// Run the claim scrubber: a FHIR OperationOutcome on stdout; exit 0 clean, 1 with errors.
    Scrub {
        /// The professional or institutional claim (our JSON: one, or an array; FHIR: a Claim or a Bundle of
        /// Claims), or `-` for standard input.
        #[arg(required_unless_present = "list_edits")]
        input: Option<PathBuf>,
        /// Switch an edit off by its id, as a payer's profile does (repeatable).
        #[arg(long = "off", value_name = "EDIT")]
        off: Vec<String>,
        /// List every edit (id, severity, claim kinds, where it points, what it checks) as a
        /// Markdown table, and exit.
        #[arg(long)]
        list_edits: bool,
    },
}

/// `hms token`: the token on stdout.
fn token(
    organization: &str,
    roles: &[String],
    subject: &str,
    hours: i64,
    issuer: &str,
    audience: &str,
) -> anyhow::Result<ExitCode> {
    let secret = std::env::var("HMS_LOCAL_JWT_SECRET")
        .ok()
        .filter(|s| s.len() >= 32)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "set HMS_LOCAL_JWT_SECRET (32 or more characters) to the local stack's key: eval \"$(infra/stack.sh env)\" sets it"
            )
        })?;
    let roles = roles
        .iter()
        .map(|name| {
            hms_auth::Role::parse(name).ok_or_else(|| {
                let all: Vec<&str> = hms_auth::Role::ALL.iter().map(|r| r.name()).collect();
                anyhow::anyhow!("{name} is not a role; the roles are {}", all.join(", "))
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    hms_service::tenancy::OrganizationId::parse(organization)?;
    let request = hms_auth::TokenRequest {
        subject,
        organization,
        roles: &roles,
        lifetime: chrono::TimeDelta::hours(hours),
    };
    outln!(
        "{}",
        hms_auth::mint(secret.as_bytes(), issuer, audience, &request)?
    );
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    without_huge_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::X12 { command } => x12::run(command),
        Command::Rules { command } => rules::run(command),
        Command::Translate {
            to,
            kind,
            partner,
            control,
            lossless,
            ndjson,
            rules,
            input,
        } => claims::translate(
            &input,
            to,
            kind,
            claims::Options {
                partner: partner.as_ref(),
                control,
                lossless,
                ndjson,
                rules: rules.as_deref(),
            },
        ),
        Command::Scrub {
            list_edits: true, ..
        } => claims::list_edits(),
        Command::Scrub { input, off, .. } => match input {
            Some(input) => claims::scrub(&input, &off),
            None => claims::list_edits(),
        },
        Command::Claims { command } => admin::run(command),
        Command::Remit { command } => remit::run(command),
        Command::Webhooks { command } => webhooks::run(command),
        Command::Routes => admin::routes(),
        Command::Token {
            org,
            roles,
            subject,
            hours,
            issuer,
            audience,
        } => token(&org, &roles, &subject, hours, &issuer, &audience),
    };
    match result {
        Ok(code) => code,
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hms: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether `e` is, or was caused by, writing to a pipe whose reader has gone.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// One line on stdout (see `outln!`).
fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("hms: writing the output: {e}");
        std::process::exit(74);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed expectation is the test failing

    #[test]
    fn huge_pages_are_off_for_the_process_once_asked() {
        super::without_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        // Every kernel since 5.0 reports the process's setting.
        let line = status
            .lines()
            .find(|l| l.starts_with("THP_enabled:"))
            .unwrap();
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
