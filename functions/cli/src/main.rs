//! `hms`: the HMS-ACH command-line tool.
//!
//! Exit codes: 0 success (for `validate`, no error-level finding), 1 the input has errors,
//! 2 usage or I/O errors.

mod x12;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// HMS-ACH: an open, API-first healthcare clearinghouse.
#[derive(Debug, Parser)]
#[command(name = "hms", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// ASC X12 5010: parse, validate, acknowledge, format.
    X12 {
        #[command(subcommand)]
        command: x12::X12Command,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::X12 { command } => x12::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hms: {e:#}");
            ExitCode::from(2)
        }
    }
}
