//! Element checks on a second core.
//!
//! Placing a segment in its loop needs everything before it, so the loop walk, the envelope and
//! the HL hierarchy run in order on one thread. Checking a segment's elements needs only the
//! segment and the spec the walk placed it on, so it can run beside the walk: the validating
//! thread copies each placed segment into a batch with its spec and the context a finding needs,
//! and a worker checks the batches as they come. At the end the worker's findings are merged into
//! the report exactly where the validating thread would have put them, so the report is the same
//! either way (a test holds the two to that).
//!
//! Memory stays bounded: a few batches are in flight at a time (the channel is bounded, and
//! batches are handed back for reuse), and each side keeps at most `max_findings` findings.

use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use super::elements::check_segment;
use super::{ElementIssue, Report};
use crate::delimiters::Delimiters;
use crate::finding::{AckCode, Finding, Scope, Severity};
use crate::segment::{Segment, Separators};
use crate::spec::{Guide, LoopIndex, SegmentSpec};

/// Segments per batch: enough that handing a batch over costs nothing per segment, few enough
/// that the worker starts early and a batch stays in cache.
const BATCH: usize = 4096;

/// Batches queued for the worker before the validating thread waits for it.
const QUEUE: usize = 4;

/// Where a segment sits, for the findings about it (what [`super::Validator`] would have used).
#[derive(Debug, Clone, Copy)]
pub(super) struct Context<'c> {
    pub line: usize,
    pub position: Option<usize>,
    pub loop_id: Option<&'c str>,
    pub scope: Scope,
}

/// The finding for one element problem of `segment`.
pub(super) fn element_finding(
    issue: ElementIssue,
    segment: &Segment<'_>,
    context: &Context<'_>,
) -> Finding {
    Finding {
        severity: Severity::Error,
        ack: AckCode::Element(issue.code),
        line: context.line,
        offset: segment.offset(),
        segment_position: context.position,
        loop_id: context.loop_id.map(str::to_string),
        segment_id: segment.id_str().to_string(),
        element: Some(issue.element),
        component: issue.component,
        repetition: issue.repetition,
        data_element: issue.data_element,
        value: issue.value,
        message: issue.message,
        scope: context.scope,
    }
}

/// One placed segment waiting for its element checks: what differs from segment to segment,
/// packed into 56 bytes (the validating thread writes one per segment, the worker reads it).
/// Counters are relative to the batch's first job ([`Base`]); copied bytes follow one another
/// in the batch, so a job's place there is the sum of the lengths before it.
#[derive(Debug)]
struct Job<'c> {
    /// Absolute offset of the segment in the input.
    offset: usize,
    len: usize,
    separators: Separators,
    spec: &'c SegmentSpec,
    line: u32,
    position: u32,
    anchor: u32,
    /// The loop it was placed in (`u32::MAX`: none to name).
    loop_index: u32,
}

/// The counters of a batch's first job, which the others are relative to.
#[derive(Debug, Clone, Copy, Default)]
struct Base {
    line: usize,
    position: usize,
    anchor: usize,
}

/// What every segment of a batch shares: a batch never spans two transaction sets.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shared<'c> {
    pub scope: Scope,
    pub guide: &'c Guide,
    pub delimiters: Delimiters,
}

/// A run of placed segments, with their bytes when the input is a reader's reused buffer.
#[derive(Debug, Default)]
struct Batch<'c> {
    shared: Option<Shared<'c>>,
    base: Base,
    bytes: Vec<u8>,
    jobs: Vec<Job<'c>>,
}

/// What the worker found.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Findings with their anchors, in segment order.
    findings: Vec<(usize, Finding)>,
    /// Findings past `max_findings`, only counted.
    suppressed: usize,
    /// Element errors per transaction set, for its summary.
    errors: Vec<(Scope, usize)>,
}

/// The validating thread's end: fills batches and sends them to the worker.
#[derive(Debug)]
pub(super) struct Deferral<'c> {
    batch: Batch<'c>,
    /// Whether segment bytes must be copied (they live in a buffer the reader reuses) or stay
    /// where they are (the worker reads the same input).
    copy: bool,
    send: SyncSender<Batch<'c>>,
    recycled: Receiver<Batch<'c>>,
}

impl<'c> Deferral<'c> {
    /// Whether the batch being filled still needs what its segments share (see [`Self::share`]).
    #[inline]
    pub fn needs_shared(&self) -> bool {
        self.batch.shared.is_none()
    }

    /// Sets what the segments of the batch being filled share.
    pub fn share(&mut self, shared: Option<Shared<'c>>) {
        self.batch.shared = shared;
    }

    /// Queues `segment` for checking against `spec`. `place` is its line, segment position,
    /// loop, and the count of findings before it.
    #[inline]
    pub fn defer(
        &mut self,
        spec: &'c SegmentSpec,
        segment: &Segment<'_>,
        place: (usize, usize, LoopIndex, usize),
    ) {
        let (line, position, loop_index, anchor) = place;
        if self.batch.jobs.is_empty() {
            self.batch.base = Base {
                line,
                position,
                anchor,
            };
        }
        let base = self.batch.base;
        let relative = |value: usize, from: usize| u32::try_from(value.wrapping_sub(from)).ok();
        let (Some(line), Some(position), Some(anchor)) = (
            relative(line, base.line),
            relative(position, base.position),
            relative(anchor, base.anchor),
        ) else {
            // Too far from the batch's first job (billions of segments apart): start a new
            // batch here, where every counter is 0.
            self.flush();
            return self.defer(spec, segment, place);
        };
        let raw = segment.raw();
        if self.copy {
            self.batch.bytes.extend_from_slice(raw);
        }
        self.batch.jobs.push(Job {
            offset: segment.offset(),
            len: raw.len(),
            separators: segment.separators(),
            spec,
            line,
            position,
            anchor,
            loop_index: u32::try_from(loop_index).unwrap_or(u32::MAX),
        });
        if self.batch.jobs.len() == BATCH {
            self.flush();
        }
    }

    /// Ends the batch at a transaction set's boundary.
    pub fn end_transaction(&mut self) {
        if !self.batch.jobs.is_empty() {
            self.flush();
        }
        self.batch.shared = None;
    }

    /// Sends the batch being filled; the next one keeps its shared context.
    fn flush(&mut self) {
        // A batch the worker is done with, or a new one.
        let mut next = self.recycled.try_recv().unwrap_or_default();
        next.shared = self.batch.shared;
        let full = std::mem::replace(&mut self.batch, next);
        // A send fails only when the worker is gone; its end reports that.
        let _ = self.send.send(full);
    }

    /// Sends what is left; dropping the deferral then tells the worker there is no more.
    pub fn finish(mut self) {
        self.end_transaction();
    }
}

/// Starts a worker on `scope` and returns the end that feeds it. `input` is the whole input when
/// it is in memory (segments are then not copied).
pub(super) fn start<'scope, 'c: 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    input: Option<&'scope [u8]>,
    max_findings: usize,
) -> (Deferral<'c>, std::thread::ScopedJoinHandle<'scope, Checked>) {
    let (send, receive) = sync_channel(QUEUE);
    let (give_back, recycled) = channel();
    let worker = scope.spawn(move || work(input, receive, give_back, max_findings));
    let deferral = Deferral {
        batch: Batch::default(),
        copy: input.is_none(),
        send,
        recycled,
    };
    (deferral, worker)
}

/// The worker: checks every job of every batch, in order.
fn work<'c>(
    input: Option<&[u8]>,
    batches: Receiver<Batch<'c>>,
    give_back: Sender<Batch<'c>>,
    max_findings: usize,
) -> Checked {
    let mut checked = Checked::default();
    let mut issues = vec![];
    for mut batch in batches {
        let Some(shared) = batch.shared else {
            continue;
        };
        let base = batch.base;
        let mut at = 0;
        for job in &batch.jobs {
            let raw = match input {
                Some(input) => input.get(job.offset..job.offset + job.len),
                None => batch.bytes.get(at..at + job.len),
            };
            at += job.len;
            let raw = raw.unwrap_or_default();
            let segment = Segment::indexed(raw, job.offset, shared.delimiters, job.separators);
            check_segment(job.spec, &segment, &mut issues);
            if issues.is_empty() {
                continue;
            }
            match checked.errors.last_mut() {
                Some((last, n)) if *last == shared.scope => *n += issues.len(),
                _ => checked.errors.push((shared.scope, issues.len())),
            }
            let context = Context {
                line: base.line + job.line as usize,
                position: Some(base.position + job.position as usize),
                loop_id: usize::try_from(job.loop_index)
                    .ok()
                    .and_then(|l| shared.guide.loops.get(l))
                    .map(|l| l.id.as_str()),
                scope: shared.scope,
            };
            let anchor = base.anchor + job.anchor as usize;
            for issue in issues.drain(..) {
                if checked.findings.len() < max_findings {
                    let finding = element_finding(issue, &segment, &context);
                    checked.findings.push((anchor, finding));
                } else {
                    checked.suppressed += 1;
                }
            }
        }
        batch.bytes.clear();
        batch.jobs.clear();
        // Nobody to give it back to once the validating thread is done: then it is dropped.
        let _ = give_back.send(batch);
    }
    checked
}

/// Puts the worker's findings where the validating thread would have put them, and its error
/// counts on their transaction sets.
pub(super) fn merge(report: &mut Report, checked: Checked, max_findings: usize) {
    for (scope, n) in checked.errors {
        let summary = report
            .interchanges
            .get_mut(scope.interchange)
            .and_then(|ic| ic.groups.get_mut(scope.group?))
            .and_then(|g| g.transactions.get_mut(scope.transaction?));
        if let Some(t) = summary {
            t.errors += n;
        }
    }
    report.suppressed += checked.suppressed;
    if checked.findings.is_empty() {
        return;
    }
    let main = std::mem::take(&mut report.findings);
    let mut merged = Vec::with_capacity(main.len() + checked.findings.len());
    let mut deferred = checked.findings.into_iter().peekable();
    for (i, finding) in main.into_iter().enumerate() {
        while let Some((_, f)) = deferred.next_if(|(anchor, _)| *anchor <= i) {
            merged.push(f);
        }
        merged.push(finding);
    }
    merged.extend(deferred.map(|(_, f)| f));
    if merged.len() > max_findings {
        report.suppressed += merged.len() - max_findings;
        merged.truncate(max_findings);
    }
    report.findings = merged;
}
