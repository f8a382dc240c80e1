//! Claims written to one 837 batch as they are read: `translate --to x12 --type 837P|837I`
//! of a JSON array or a FHIR Bundle of claims, one claim in memory at a time.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use hms_domain::claims::{Claim, ClaimKind};
use hms_domain::outcome::{IssueType, OperationOutcome};
use hms_domain::partner::{Envelope, TradingPartner};
use hms_domain::request::problem;

use super::streamed::{cut_back, empty_file_stdout};
use super::{Claims, Engine, Findings, Spool, Told, engine, partner_for, print_outcome};

/// `translate --to x12 --type 837P|837I` of a JSON array of claims or a FHIR Bundle of
/// Claims, one claim in memory at a time, in one pass: each claim is read, scrubbed, run
/// through its payer's rules and written, validated as it is written (into standard output
/// when it is an empty file, else into a spool copied out on the verdict).
/// A claim that cannot be read, fails the scrubber or is held by its rules stops the writing
/// (the rest are still read, scrubbed and, while no claim is refused, reviewed by their
/// rules, so every finding is told), and nothing of a batch that fails leaves. What fails is
/// told as a batch read whole would tell it: unreadable claims first, then scrubber errors,
/// then what the rules held.
pub(super) fn stream_to_837(
    mut claims: Claims<'_>,
    kind: ClaimKind,
    partner: Option<&TradingPartner>,
    envelope: &Envelope,
    rules: Option<&Path>,
) -> Result<ExitCode> {
    // Standard output that is an empty file is written in place (and cut back to empty when
    // the batch fails); anything else gets a spool, copied out when the batch passed.
    let spool = match empty_file_stdout() {
        Some(file) => Spooled837::InPlace(file),
        None => Spooled837::Spool(Spool::new("837")),
    };
    // The 837 is validated as it is written, on a second thread reading what the spool is
    // given through a pipe (bounded by the pipe's buffer): the verdict is in when the last
    // claim is written, with no pass over the spool after.
    let (verdict, pipe) = std::io::pipe()?;
    let written = std::thread::scope(|scope| {
        let validation = scope.spawn(move || {
            hms_x12::writer::check_reader(std::io::BufReader::with_capacity(1 << 16, verdict))
        });
        let failed = write_837_spool(&mut claims, kind, partner, envelope, rules, &spool, pipe);
        // The pipe's writing end is gone with the batch: the validation has read all of it.
        let checked = match validation.join() {
            Ok(checked) => checked,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match failed {
            Ok(None) => checked.map(|()| None).map_err(anyhow::Error::from),
            failed => failed,
        }
    });
    match written {
        Ok(None) => {
            spool.release()?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(Some(outcome)) => {
            spool.discard()?;
            print_outcome(&outcome)
        }
        Err(e) => {
            spool.discard()?;
            Err(e)
        }
    }
}

/// Where a batch's 837 is written until every claim passed.
#[derive(Debug)]
enum Spooled837 {
    /// Standard output, an empty file: written in place.
    InPlace(std::fs::File),
    /// A spool, copied to standard output when the batch passed.
    Spool(Spool),
}

impl Spooled837 {
    /// Opens it for writing.
    fn create(&self) -> std::io::Result<std::io::BufWriter<std::fs::File>> {
        match self {
            Self::InPlace(file) => file
                .try_clone()
                .map(|f| std::io::BufWriter::with_capacity(1 << 16, f)),
            Self::Spool(spool) => spool.create(),
        }
    }

    /// The batch passed: the 837 goes out.
    fn release(&self) -> Result<()> {
        match self {
            Self::InPlace(_) => Ok(()),
            Self::Spool(spool) => {
                let mut out = std::io::stdout().lock();
                std::io::copy(&mut spool.open()?, &mut out)?;
                Ok(())
            }
        }
    }

    /// The batch failed: nothing written stays.
    fn discard(&self) -> Result<()> {
        match self {
            Self::InPlace(file) => Ok(cut_back(file)?),
            // Removed when dropped.
            Self::Spool(_) => Ok(()),
        }
    }
}

/// Reads, scrubs and reviews every claim of `claims`, writing those that pass to `spool` and
/// to `pipe` (the validation's input): `None` when every claim was written, or the outcome of
/// a batch that fails. `pipe` is closed when this returns.
fn write_837_spool(
    claims: &mut Claims<'_>,
    kind: ClaimKind,
    partner: Option<&TradingPartner>,
    envelope: &Envelope,
    rules: Option<&Path>,
    spool: &Spooled837,
    pipe: std::io::PipeWriter,
) -> Result<Option<OperationOutcome>> {
    use hms_service::intake::{rules_claim, scrub_claim};
    let today = chrono::Local::now().date_naive();
    let frame = claims.frame();
    let mut unreadable = Findings::default();
    let mut scrubbed = Findings::default();
    let mut ruled = Findings::default();
    let mut errors = 0;
    let mut told = Told::default();
    let mut loaded: Option<std::result::Result<Engine, OperationOutcome>> = None;
    // The claims that pass are written on another thread (`WRITTEN_BESIDE`): reading,
    // scrubbing and reviewing the next claim overlaps writing the ones before.
    let writing = Writing::new(spool, pipe, partner, envelope);
    let mut stopped = None;
    let (read, writing) = super::streamed::WRITTEN_BESIDE.run(
        writing,
        |writing, pass| {
            match pass {
                Pass::Claim(claim) => writing.claim(*claim),
                Pass::Hold => writing.hold(),
            }
            Ok::<(), std::convert::Infallible>(())
        },
        |hand| {
            let mut hand = |pass| {
                if let Err(e) = hand(pass) {
                    stopped.get_or_insert(e);
                }
            };
            claims.read(Some(kind), |i, claim| match claim {
                Ok((claim, notes)) => {
                    told.tell(&notes);
                    let mut found = vec![];
                    errors += scrub_claim(&frame, i, &claim, today, &mut found);
                    scrubbed.extend(found);
                    // Past a refused claim the batch is not sent: its payers' rules need not
                    // run.
                    if errors > 0 || !unreadable.issues.is_empty() {
                        return;
                    }
                    // The rule sets load with the first claim that reaches them.
                    let Ok(engine) = loaded.get_or_insert_with(|| engine(rules)) else {
                        return;
                    };
                    let mut found = vec![];
                    let (changed, passed) =
                        rules_claim(&frame, i, &claim, today, engine, &mut found);
                    ruled.extend(found);
                    hand(if passed {
                        Pass::Claim(Box::new(changed.unwrap_or(claim)))
                    } else {
                        Pass::Hold
                    });
                }
                Err(outcome) => unreadable.extend(outcome.issue),
            })
        },
    );
    // The writer cannot fail (a failed write is its state); its thread ended early only by
    // a panic, which the hand-off passes on.
    if let Some(e) = stopped {
        return Err(e.into());
    }
    let read = read?;
    let Ok(writing) = writing;
    told.finish();
    let written = writing.finish();
    let failed = |outcome: OperationOutcome| Ok(Some(outcome));
    let count = match read {
        Ok(count) => count,
        Err(outcome) => return failed(outcome),
    };
    if count == 0 {
        return failed(problem(
            IssueType::Required,
            "no-claims",
            "the input holds no claims",
        ));
    }
    if !unreadable.issues.is_empty() {
        return failed(unreadable.outcome());
    }
    if errors > 0 {
        return failed(scrubbed.outcome());
    }
    if let Some(Err(outcome)) = loaded {
        return failed(outcome);
    }
    match written? {
        Written::Held => {
            // What a held batch answers with: the scrubber's warnings, then the rule sets'
            // findings, as `review` gives them.
            let mut findings = scrubbed;
            findings.extend(ruled.issues);
            failed(findings.outcome())
        }
        Written::Spooled => Ok(None),
    }
}

/// What the reading thread hands the writing one: a claim that passed, or word that one was
/// held (nothing more is written).
enum Pass {
    Claim(Box<Claim>),
    Hold,
}

/// A batch being written to its spool as its claims pass: opened when the second claim (or
/// the input's end) shows whether it holds one claim or several (BHT03 differs), so the first
/// claim waits until then.
struct Writing<'a> {
    spool: &'a Spooled837,
    /// The validation's input, until the batch opens and takes it.
    pipe: Option<std::io::PipeWriter>,
    partner: Option<&'a TradingPartner>,
    envelope: &'a Envelope,
    state: WritingState,
}

/// An 837 batch written to a spool file and, through a pipe, to its validation.
type SpooledBatch = hms_domain::claims::StreamedBatch<Tee>;

/// Writes to the spool and to the validation's pipe, each through 64 KiB buffers (a write to
/// the pipe wakes the validation: a claim at a time would wake it ten thousand times).
struct Tee {
    spool: std::io::BufWriter<std::fs::File>,
    pipe: std::io::BufWriter<std::io::PipeWriter>,
}

impl std::io::Write for Tee {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.spool.write_all(bytes)?;
        self.pipe.write_all(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.spool.flush()?;
        self.pipe.flush()
    }
}

/// Where a [`Writing`] is.
enum WritingState {
    /// No claim yet.
    Empty,
    /// The first claim, waiting to learn the batch's size.
    First(Box<Claim>),
    /// The batch, open in the spool.
    Open(Box<SpooledBatch>),
    /// A claim was held by its rules: nothing more is written.
    Held,
    /// Writing failed: nothing more is written.
    Failed(hms_domain::claims::BatchStreamError),
}

/// How a [`Writing`] ended.
enum Written {
    /// Every claim is in the spool, closed.
    Spooled,
    /// A claim was held.
    Held,
}

impl<'a> Writing<'a> {
    fn new(
        spool: &'a Spooled837,
        pipe: std::io::PipeWriter,
        partner: Option<&'a TradingPartner>,
        envelope: &'a Envelope,
    ) -> Self {
        Self {
            spool,
            pipe: Some(pipe),
            partner,
            envelope,
            state: WritingState::Empty,
        }
    }

    /// Nothing more is written: a claim was held.
    fn hold(&mut self) {
        self.state = WritingState::Held;
    }

    /// Writes the next claim that passed, unless writing has stopped.
    fn claim(&mut self, claim: Claim) {
        use hms_domain::claims::BatchSize;
        let written = match std::mem::replace(&mut self.state, WritingState::Empty) {
            WritingState::Empty => Ok(WritingState::First(Box::new(claim))),
            WritingState::First(first) => {
                self.start(&first, BatchSize::Several)
                    .and_then(|mut batch| {
                        batch.claim(&claim)?;
                        Ok(WritingState::Open(batch))
                    })
            }
            WritingState::Open(mut batch) => {
                batch.claim(&claim).map(|()| WritingState::Open(batch))
            }
            done => Ok(done),
        };
        self.state = written.unwrap_or_else(WritingState::Failed);
    }

    /// Opens the batch in the spool with `first`, written.
    fn start(
        &mut self,
        first: &Claim,
        size: hms_domain::claims::BatchSize,
    ) -> std::result::Result<Box<SpooledBatch>, hms_domain::claims::BatchStreamError> {
        use hms_domain::claims::{BatchStreamError, StreamedBatch};
        let partner = partner_for(self.partner, first.receiver());
        let spool = self.spool.create().map_err(BatchStreamError::Output)?;
        let pipe = self.pipe.take().ok_or_else(|| {
            BatchStreamError::Output(std::io::Error::other("the batch was opened twice"))
        })?;
        let sink = Tee {
            spool,
            pipe: std::io::BufWriter::with_capacity(1 << 16, pipe),
        };
        let mut batch = Box::new(StreamedBatch::new(
            first,
            size,
            &partner,
            self.envelope,
            sink,
        )?);
        batch.claim(first)?;
        Ok(batch)
    }

    /// Ends the batch: closed in the spool, or held.
    fn finish(mut self) -> Result<Written> {
        use hms_domain::claims::BatchSize;
        match std::mem::replace(&mut self.state, WritingState::Empty) {
            WritingState::Empty => bail!("the batch holds no claim"),
            WritingState::First(first) => {
                self.start(&first, BatchSize::One)?.finish()?;
                Ok(Written::Spooled)
            }
            WritingState::Open(batch) => {
                batch.finish()?;
                Ok(Written::Spooled)
            }
            WritingState::Held => Ok(Written::Held),
            WritingState::Failed(e) => Err(e.into()),
        }
    }
}
