//! X12 translated as it is read (`translate --to json|fhir` of an 835, `--to json` of an
//! 837): one claim payment or claim in memory at a time, beside the input's validation when
//! the output can be cut back.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use hms_domain::handoff::Handoff;

use super::{Spooled, validated};

/// What X12 becomes when streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Streamed {
    /// 835s as our JSON.
    Json,
    /// 835s as FHIR ExplanationOfBenefits.
    Fhir,
    /// 837s as our JSON claims.
    Claims,
}

/// ST01 of the input's first transaction set, from its first few segments: what decides
/// whether the input is translated while it is validated ([`streamed_or_sets`]). `None` when no
/// ST comes early (the whole validation then says what the input is).
fn first_set(spooled: &Spooled) -> Result<Option<String>> {
    /// Segments read looking for the ST (ISA, GS and ST lead a well-formed input).
    const LOOK: usize = 8;
    let mut segments = hms_x12::Reader::new(std::io::BufReader::new(spooled.open()?));
    for _ in 0..LOOK {
        match segments.next_segment() {
            Some(Ok(segment)) if segment.id() == b"ST" => {
                return Ok(Some(String::from_utf8_lossy(segment.value(1)).into_owned()));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    Ok(None)
}

/// Translates the input as it is read when its transaction sets call for that (`streams`
/// says which translation they call for): beside the validation when its first set does and
/// standard output is an empty file ([`beside_validation`]), else after the validation (into
/// a pipe or a terminal, holding the output until the verdict would take a spool of its
/// size: twelve times the input for FHIR). `Err` with the exit when that is all there is to
/// do (translated, or unsound); the sets of a sound input that calls for no streamed
/// translation otherwise.
pub(super) fn streamed_or_sets(
    input: &Path,
    spooled: &Spooled,
    catalog: &'static hms_x12::spec::Catalog,
    ndjson: bool,
    streams: &impl Fn(&[String]) -> Option<Streamed>,
) -> Result<std::result::Result<Vec<String>, ExitCode>> {
    let first = first_set(spooled)?.map(|set| vec![set]);
    let beside = first
        .as_deref()
        .and_then(streams)
        .and_then(|to| Some((to, empty_file_stdout()?)));
    let sets = match beside {
        Some((to, file)) => {
            match beside_validation(input, spooled, catalog, to, &file, ndjson, streams)? {
                Beside::Done(exit) => return Ok(Err(exit)),
                Beside::Sets(sets) => sets,
            }
        }
        None => match validated(input, spooled, catalog)? {
            Some(sets) => sets,
            None => return Ok(Err(ExitCode::from(1))),
        },
    };
    match streams(&sets) {
        Some(to) => {
            let end = stream_x12(spooled, to, ndjson, catalog, std::io::stdout());
            stream_exit(input, end).map(Err)
        }
        None => Ok(Ok(sets)),
    }
}

/// What a translation beside its input's validation came to.
#[derive(Debug)]
enum Beside {
    /// The translation's exit (or the validation's, when the input was unsound: nothing is
    /// left written).
    Done(ExitCode),
    /// The input is sound, but its transaction sets (these) call for another translation
    /// than its first one did: nothing is left written, the caller goes on with them.
    Sets(Vec<String>),
}

/// Translates X12 as it is read (one claim payment or claim in memory at a time) into `file`,
/// standard output and an empty regular file (`> out.json`), as the input's first transaction
/// set calls for (`to`), while a second thread validates the input, reading the file on its
/// own (nothing is handed to the validation). Nothing is written for an input
/// unsound to translate: the file is cut back to empty if the input fails, or if all its sets
/// call for another translation (`streams`).
fn beside_validation(
    input: &Path,
    spooled: &Spooled,
    catalog: &'static hms_x12::spec::Catalog,
    to: Streamed,
    file: &std::fs::File,
    ndjson: bool,
    streams: impl FnOnce(&[String]) -> Option<Streamed>,
) -> Result<Beside> {
    let (sound, end) = std::thread::scope(|scope| {
        let validation = scope.spawn(|| validated(input, spooled, catalog));
        let end = stream_x12(spooled, to, ndjson, catalog, file);
        let sound = match validation.join() {
            Ok(verdict) => verdict,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (sound, end)
    });
    let kept = match &sound {
        Ok(Some(sets)) => streams(sets) == Some(to),
        _ => false,
    };
    if !kept {
        cut_back(file)?;
    }
    match sound? {
        None => Ok(Beside::Done(ExitCode::from(1))),
        Some(_) if kept => stream_exit(input, end).map(Beside::Done),
        Some(sets) => Ok(Beside::Sets(sets)),
    }
}

/// Empties `file` (an [`empty_file_stdout`] that was written): nothing written stays, and
/// what is written next starts it again.
pub(super) fn cut_back(file: &std::fs::File) -> std::io::Result<()> {
    use std::io::Seek;
    file.set_len(0)?;
    let mut file = file;
    file.rewind()
}

/// Standard output, when it is an empty regular file at its start (`> out.json`): a file
/// that can be written and then cut back to what it was.
pub(super) fn empty_file_stdout() -> Option<std::fs::File> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let file = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().ok()?);
    let empty = file.metadata().is_ok_and(|m| m.is_file() && m.len() == 0)
        && (&file).stream_position().is_ok_and(|at| at == 0);
    empty.then_some(file)
}

/// How a streamed translation ended: written whole (`None`), or stopped where the input
/// stopped making sense (what it says; what was written before stays), or the output could
/// not be written.
type StreamEnd = std::io::Result<Option<String>>;

/// The exit of a streamed translation that ended as `end`.
fn stream_exit(input: &Path, end: StreamEnd) -> Result<ExitCode> {
    match end {
        Ok(None) => Ok(ExitCode::SUCCESS),
        Ok(Some(why)) => incomplete(input, &why),
        Err(e) => written(Err(e)),
    }
}

/// The X12 of `spooled` translated `to` what is asked and written to `out` as it is read.
fn stream_x12(
    spooled: &Spooled,
    to: Streamed,
    ndjson: bool,
    catalog: &'static hms_x12::spec::Catalog,
    out: impl std::io::Write + Send,
) -> StreamEnd {
    let file = spooled.open().map_err(std::io::Error::other)?;
    let file = std::io::BufReader::with_capacity(1 << 16, file);
    match to {
        Streamed::Claims => stream_837(file, ndjson, catalog, out),
        Streamed::Json | Streamed::Fhir => stream_835(file, to, ndjson, catalog, out),
    }
}

/// How claim payments or claims go from the reading thread to the writing one: 32 at a time,
/// enough that handing them is a small part of their cost, with four batches queued at most,
/// few enough that what is in flight stays small. Reading an item (tokenizing, placing,
/// building it) overlaps writing the ones before (their JSON, and handing it to the kernel).
pub(super) const WRITTEN_BESIDE: Handoff = Handoff {
    items: 32,
    in_flight: 4,
};

/// The 835s of `x12` written to `out` as they are read (at most a few batches of claim
/// payments in memory at a time), the reading on this thread and the writing on another
/// ([`WRITTEN_BESIDE`]; for FHIR the writing is more than half the work).
fn stream_835(
    x12: impl std::io::Read,
    to: Streamed,
    ndjson: bool,
    catalog: &'static hms_x12::spec::Catalog,
    out: impl std::io::Write + Send,
) -> StreamEnd {
    use hms_domain::remittance::stream::{Framing, RemitWriter, StreamError, read_835_events};
    let framing = if ndjson {
        Framing::Ndjson
    } else {
        Framing::Document
    };
    let out = std::io::BufWriter::with_capacity(1 << 16, out);
    let writer = match to {
        Streamed::Fhir => RemitWriter::fhir(out, framing, chrono::Utc::now().date_naive()),
        Streamed::Json | Streamed::Claims => RemitWriter::json(out, framing),
    };
    let (read, writer) = WRITTEN_BESIDE.run(
        writer,
        |writer, event| writer.event(&event),
        |hand| read_835_events(x12, catalog, |event| Ok(hand(event)?)),
    );
    let writer = writer?;
    // The document is closed only when the whole input was read.
    let finished = match &read {
        Ok(()) => writer.finish().and_then(|mut out| {
            if !ndjson {
                std::io::Write::write_all(&mut out, b"\n")?;
            }
            std::io::Write::flush(&mut out)
        }),
        Err(_) => writer
            .abandon()
            .and_then(|mut out| std::io::Write::flush(&mut out)),
    };
    match (read, finished) {
        (Err(StreamError::Write(e)), _) | (_, Err(e)) => Err(e),
        (Err(StreamError::Remit(e)), Ok(())) => Ok(Some(e.to_string())),
        (Ok(()), Ok(())) => Ok(None),
    }
}

/// The exit of a streamed translation whose output ended with `result`: a reader that went
/// away (`| head`) is no failure.
fn written(result: std::io::Result<()>) -> Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(anyhow::Error::new(e).context("writing the output")),
    }
}

/// The exit of a streamed translation whose input stopped making sense midway.
fn incomplete(input: &Path, e: &dyn std::fmt::Display) -> Result<ExitCode> {
    eprintln!(
        "hms: {}: {e} (the output written before this is incomplete)",
        input.display()
    );
    Ok(ExitCode::from(1))
}

/// Claims written as JSON, gathered and passed on 64 KiB at a time.
struct ClaimsJson<W> {
    out: W,
    gathered: Vec<u8>,
    claims: usize,
    ndjson: bool,
}

impl<W: std::io::Write> ClaimsJson<W> {
    fn claim(&mut self, claim: &hms_domain::claims::Claim) -> std::io::Result<()> {
        self.gathered
            .extend_from_slice(match (self.ndjson, self.claims) {
                (true, _) => b"",
                (false, 0) => b"[",
                (false, _) => b",",
            });
        claim.write_json(&mut self.gathered)?;
        if self.ndjson {
            self.gathered.push(b'\n');
        }
        self.claims += 1;
        if self.gathered.len() >= 1 << 16 {
            self.out.write_all(&self.gathered)?;
            self.gathered.clear();
        }
        Ok(())
    }

    /// Writes on what is gathered, closing the array when `whole` (the input was read to its
    /// end; else the document stays open).
    fn finish(mut self, whole: bool) -> std::io::Result<()> {
        if whole && !self.ndjson {
            let close: &[u8] = if self.claims == 0 { b"[]\n" } else { b"]\n" };
            self.gathered.extend_from_slice(close);
        }
        self.out.write_all(&self.gathered)?;
        self.out.flush()
    }
}

/// The claims of the 837s of `x12` written to `out` as they are read (a few batches of
/// segments and the loops above the claim being read in memory at a time): the JSON array
/// `read_837` would give, or one claim per line. This thread tokenizes and places the
/// segments; the claims are assembled, read and written on another
/// ([`read_837_claims_beside`](hms_domain::claims::read_837_claims_beside)).
fn stream_837(
    x12: impl std::io::Read,
    ndjson: bool,
    catalog: &'static hms_x12::spec::Catalog,
    out: impl std::io::Write + Send,
) -> StreamEnd {
    use hms_domain::claims::{ClaimStreamError, read_837_claims_beside};
    let mut json = ClaimsJson {
        out,
        gathered: Vec::with_capacity(1 << 17),
        claims: 0,
        ndjson,
    };
    let read = read_837_claims_beside(x12, catalog, |claim| json.claim(&claim));
    match read {
        Ok(()) => json.finish(true).map(|()| None),
        Err(ClaimStreamError::Sink(e)) => Err(e),
        // What was read before the error still goes out; the document stays open.
        Err(ClaimStreamError::Read(e)) => json.finish(false).map(|()| Some(e.to_string())),
    }
}
