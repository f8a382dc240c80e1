//! `hms x12 ...`: thin glue over the `hms-x12` engine.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use hms_x12::ack::{AckOptions, ack_999, ack_ta1};
use hms_x12::spec::Catalog;
use hms_x12::validate::{Options, validate_reader};
use hms_x12::{ReadError, Reader};

/// Files above this size show progress on a terminal.
const PROGRESS_THRESHOLD: u64 = 50 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum X12Command {
    /// Parse into JSON: interchanges, groups, transaction sets, loops, segments, elements.
    Parse {
        /// X12 file, or `-` for standard input.
        input: PathBuf,
    },
    /// Validate against the envelope rules and the implementation guides.
    Validate {
        /// X12 file, or `-` for standard input.
        input: PathBuf,
        /// Output format of the findings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Print an acknowledgment instead of the findings.
        #[arg(long, value_enum)]
        ack: Option<AckKind>,
        /// Interchange control number of the acknowledgment.
        #[arg(long, default_value_t = 1)]
        ack_control: u32,
    },
    /// Re-emit with one segment per line.
    Fmt {
        /// X12 file, or `-` for standard input.
        input: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One finding per line.
    Text,
    /// The whole report as JSON.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AckKind {
    /// 999 implementation acknowledgment.
    #[value(name = "999")]
    Ack999,
    /// TA1 interchange acknowledgment.
    #[value(name = "ta1")]
    Ta1,
}

pub fn run(command: X12Command) -> Result<ExitCode> {
    let catalog =
        Catalog::embedded().map_err(|e| anyhow::anyhow!("built-in guides are defective: {e}"))?;
    match command {
        X12Command::Parse { input } => parse(&input, catalog),
        X12Command::Validate {
            input,
            format,
            ack,
            ack_control,
        } => validate(&input, catalog, format, ack, ack_control),
        X12Command::Fmt { input } => fmt(&input),
    }
}

/// Opens a file or standard input, with progress on a terminal for large files.
fn open(path: &Path) -> Result<Box<dyn Read>> {
    if path == Path::new("-") {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or_default();
    if size > PROGRESS_THRESHOLD && io::stderr().is_terminal() {
        return Ok(Box::new(Progress {
            inner: file,
            total: size,
            done: 0,
            shown: 0,
            start: Instant::now(),
        }));
    }
    Ok(Box::new(file))
}

/// Reports progress on stderr every 5% of the file.
struct Progress<R> {
    inner: R,
    total: u64,
    done: u64,
    shown: u64,
    start: Instant,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        let percent = self.done * 100 / self.total.max(1);
        if percent >= self.shown + 5 || (n == 0 && self.shown < 100) {
            self.shown = percent;
            let mb = self.done as f64 / 1e6;
            let rate = mb / self.start.elapsed().as_secs_f64().max(1e-9);
            eprint!("\r{percent:3}%  {mb:.0} MB  {rate:.0} MB/s");
            if n == 0 || percent >= 100 {
                eprintln!();
            }
        }
        Ok(n)
    }
}

/// Writes the tree's JSON as the input is read: one segment in memory at a time, whatever
/// the file's size. An input that stops making sense midway ends with the error on stderr
/// and exit 1, the output written before it incomplete.
fn parse(path: &Path, catalog: &Catalog) -> Result<ExitCode> {
    use hms_x12::tree::{JsonTreeWriter, TreeWriteError, read_steps};
    let input = io::BufReader::with_capacity(1 << 16, open(path)?);
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut writer = JsonTreeWriter::new(out);
    let result = read_steps(input, catalog, |step| writer.step(step))
        .and_then(|()| Ok(writer.finish()?))
        .and_then(|mut out| {
            out.write_all(b"\n")?;
            Ok(out.flush()?)
        });
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(TreeWriteError::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        Err(TreeWriteError::Write(e)) => Err(anyhow::Error::new(e).context("writing the output")),
        Err(e) => {
            eprintln!(
                "hms: {}: {e} (the output written before this is incomplete)",
                path.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn validate(
    path: &Path,
    catalog: &Catalog,
    format: Format,
    ack: Option<AckKind>,
    ack_control: u32,
) -> Result<ExitCode> {
    let input = open(path)?;
    let report = validate_reader(input, catalog, Options::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = BufWriter::new(io::stdout().lock());
    match ack {
        Some(kind) => {
            if report.interchanges.is_empty() {
                // Nothing to acknowledge: say why on stderr and fail like any invalid input.
                for f in &report.findings {
                    eprintln!("{f}");
                }
                eprintln!("hms: {}: no interchange to acknowledge", path.display());
                return Ok(ExitCode::from(1));
            }
            let options = AckOptions::now(ack_control);
            let bytes = match kind {
                AckKind::Ack999 => ack_999(&report, &options)?,
                AckKind::Ta1 => ack_ta1(&report, &options)?,
            };
            if bytes.is_empty() {
                eprintln!(
                    "hms: {}: nothing to acknowledge with a 999: its groups are acknowledgments themselves (GS01 FA), which are never acknowledged; use --ack ta1",
                    path.display()
                );
                return Ok(ExitCode::from(1));
            }
            out.write_all(&bytes)?;
        }
        None => match format {
            Format::Text => {
                for f in &report.findings {
                    writeln!(out, "{f}")?;
                }
                if report.suppressed > 0 {
                    writeln!(out, "... and {} more findings", report.suppressed)?;
                }
                let errors = report.errors().count() + report.suppressed;
                let sets: usize = report
                    .interchanges
                    .iter()
                    .flat_map(|i| &i.groups)
                    .map(|g| g.transactions.len())
                    .sum();
                eprintln!(
                    "{}: {} segments, {} transaction sets, {errors} errors, {} warnings",
                    path.display(),
                    report.segments,
                    sets,
                    report.findings.len() - report.errors().count()
                );
            }
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            }
        },
    }
    out.flush()?;
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn fmt(path: &Path) -> Result<ExitCode> {
    let mut reader = Reader::new(open(path)?);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = false;
    while let Some(next) = reader.next_segment() {
        match next {
            Ok(segment) => {
                out.write_all(segment.raw())?;
                out.write_all(&[segment.delimiters().segment])?;
                if segment.delimiters().segment != b'\n' {
                    out.write_all(b"\n")?;
                }
            }
            Err(e @ ReadError::Io { .. }) => anyhow::bail!("{}: {e}", path.display()),
            Err(e) => {
                eprintln!("hms: {}: {e}", path.display());
                failed = true;
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
