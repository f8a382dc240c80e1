//! Streaming validation: envelopes (ISA/GS/ST and their trailers), then each transaction set
//! against its implementation guide, one segment at a time.
//!
//! Feed segments with [`Validator::segment`] (or use [`validate_reader`] / [`validate_bytes`]);
//! [`Validator::finish`] returns a [`Report`] with every [`Finding`] and a per-envelope summary
//! that the acknowledgment builders read. Memory is bounded: the walker's frames, one summary per
//! transaction set, and at most `max_findings` findings (the rest are counted).
#![allow(
    clippy::indexing_slicing,
    reason = "only the guide's own loop and segment indices index its tables here; input is read through `get`"
)]

mod elements;
mod pipeline;
mod walker;

use std::collections::HashSet;
use std::io::Read;

pub use elements::{ElementIssue, check_segment, check_value, valid_date, valid_time};
pub use walker::{LoopWalker, Placement, WalkIssue};

use crate::delimiters::{Delimiters, ISA_LEN};
use crate::error::ReadError;
use crate::finding::{AckCode, Finding, Scope, Severity};
use crate::reader::Reader;
use crate::segment::Segment;
use crate::spec::{Catalog, Guide, segment_tag};

/// Tags of the three-letter envelope segments, which [`Validator::segment`] handles itself.
const ENVELOPE_TAGS: [u32; 3] = [
    segment_tag(b"ISA"),
    segment_tag(b"IEA"),
    segment_tag(b"TA1"),
];

/// Fixed positions of the element separators in a well-formed ISA.
const ISA_SEPARATORS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Findings kept in the report; later ones are only counted.
    pub max_findings: usize,
    /// Check elements on a second thread, beside the loop walk, when the machine has a second
    /// core (the report is the same either way).
    pub parallel: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_findings: 10_000,
            parallel: true,
        }
    }
}

/// Inputs smaller than this are validated on one thread: starting a second costs more than it
/// saves.
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// What was learned of one transaction set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransactionSummary {
    /// ST01.
    pub id: String,
    /// ST02.
    pub control: String,
    /// ST03, if sent.
    pub version: Option<String>,
    /// The guide it was validated against.
    pub guide: Option<String>,
    /// Segments from ST to SE.
    pub segments: usize,
    /// Error-level findings inside it.
    pub errors: usize,
    /// IK502 codes for transaction-set-level errors.
    pub set_errors: Vec<&'static str>,
}

impl TransactionSummary {
    /// Whether the set is accepted (no error inside it).
    pub fn accepted(&self) -> bool {
        self.errors == 0 && self.set_errors.is_empty()
    }
}

/// What was learned of one functional group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupSummary {
    /// GS01.
    pub functional_id: String,
    /// GS06.
    pub control: String,
    /// GS08.
    pub version: String,
    /// GS02.
    pub sender: String,
    /// GS03.
    pub receiver: String,
    /// Transaction sets in order.
    pub transactions: Vec<TransactionSummary>,
    /// AK905 codes for group-level errors.
    pub group_errors: Vec<&'static str>,
}

/// What was learned of one interchange.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterchangeSummary {
    /// ISA13.
    pub control: String,
    /// ISA05/ISA06 (sender qualifier and id, trimmed).
    pub sender: (String, String),
    /// ISA07/ISA08 (receiver qualifier and id, trimmed).
    pub receiver: (String, String),
    /// ISA09.
    pub date: String,
    /// ISA10.
    pub time: String,
    /// ISA15 (`P` production, `T` test).
    pub usage: String,
    /// ISA14: whether the sender asked for a TA1.
    pub ack_requested: bool,
    /// Delimiters in force.
    pub delimiters: Delimiters,
    /// Functional groups in order.
    pub groups: Vec<GroupSummary>,
    /// TA105 codes for interchange-level errors, first one first.
    pub notes: Vec<&'static str>,
}

/// The outcome of a validation run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Findings in input order (at most `max_findings`).
    pub findings: Vec<Finding>,
    /// Findings beyond the cap, counted but not kept.
    pub suppressed: usize,
    /// Envelope summaries.
    pub interchanges: Vec<InterchangeSummary>,
    /// Segments read.
    pub segments: usize,
    /// Bytes read.
    pub bytes: usize,
}

impl Report {
    /// Whether any error-level finding was made.
    pub fn has_errors(&self) -> bool {
        self.suppressed > 0 || self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Error-level findings.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// Validates everything `input` yields, streaming.
pub fn validate_reader<R: Read>(
    input: R,
    catalog: &Catalog,
    options: Options,
) -> Result<Report, ReadError> {
    let mut reader = Reader::new(input);
    run(catalog, options, None, |validator| {
        while let Some(next) = reader.next_segment() {
            match next {
                Ok(segment) => validator.segment(&segment),
                Err(e @ ReadError::Io { .. }) => return Err(e),
                Err(e) => validator.read_error(&e),
            }
        }
        if reader.skipped_byte_order_mark() {
            validator.byte_order_mark();
        }
        validator.set_bytes(reader.position());
        Ok(())
    })
}

/// Validates an in-memory buffer.
pub fn validate_bytes(input: &[u8], catalog: &Catalog) -> Report {
    let options = Options {
        parallel: input.len() >= PARALLEL_MIN_BYTES,
        ..Options::default()
    };
    let fed = run(catalog, options, Some(input), |validator| {
        if crate::reader::starts_with_byte_order_mark(input) {
            validator.byte_order_mark();
        }
        let mut tokenizer = crate::reader::Tokenizer::new(input);
        for next in tokenizer.by_ref() {
            match next {
                Ok(segment) => validator.segment(&segment),
                Err(e) => validator.read_error(&e),
            }
        }
        validator.set_bytes(tokenizer.position());
        Ok::<(), std::convert::Infallible>(())
    });
    match fed {
        Ok(report) => report,
        Err(never) => match never {},
    }
}

/// Runs `feed` over a validator, with the element checks on a worker thread when `options` and
/// the machine allow, and returns the report.
fn run<'c, E>(
    catalog: &'c Catalog,
    options: Options,
    input: Option<&[u8]>,
    feed: impl FnOnce(&mut Validator<'c>) -> Result<(), E>,
) -> Result<Report, E> {
    let max_findings = options.max_findings;
    let parallel =
        options.parallel && std::thread::available_parallelism().is_ok_and(|cores| cores.get() > 1);
    let mut validator = Validator::new(catalog, options);
    if !parallel {
        feed(&mut validator)?;
        return Ok(validator.finish());
    }
    std::thread::scope(|scope| {
        let (deferral, worker) = pipeline::start(scope, input, max_findings);
        validator.deferral = Some(deferral);
        let fed = feed(&mut validator);
        // Dropping the feeding end tells the worker there is no more.
        if let Some(deferral) = validator.deferral.take() {
            deferral.finish();
        }
        let checked = match worker.join() {
            Ok(checked) => checked,
            // The checks panicked: so would they have on this thread.
            Err(panic) => std::panic::resume_unwind(panic),
        };
        fed?;
        let mut report = validator.finish();
        pipeline::merge(&mut report, checked, max_findings);
        Ok(report)
    })
}

#[derive(Debug)]
struct Transaction<'c> {
    start_line: usize,
    walker: Option<LoopWalker<'c>>,
    position: usize,
    hierarchy: Hierarchy,
}

/// The HL levels open above the current segment. X12 sends a hierarchy depth first, so a new
/// HL's parent (HL02) is always on this path; keeping only the path bounds memory by the depth,
/// not by the number of claims.
#[derive(Debug, Default)]
struct Hierarchy {
    /// HL01 of the previous HL (they count 1, 2, 3, ... within a transaction set).
    last_id: u64,
    open: Vec<OpenLevel>,
}

#[derive(Debug)]
struct OpenLevel {
    id: String,
    /// HL04 as sent: `Some(true)` promises children, `Some(false)` none.
    promises_children: Option<bool>,
    has_children: bool,
    line: usize,
    position: usize,
    offset: usize,
}

/// A hierarchy problem, with the HL element it concerns.
#[derive(Debug)]
struct HierarchyIssue {
    element: u8,
    message: String,
    /// Line, position in the transaction set and byte offset of the earlier HL the issue is
    /// about, when it is not the current segment.
    at: Option<(usize, usize, usize)>,
}

impl Hierarchy {
    /// Closes every level whose subtree has ended, noting promised children that never came.
    fn close_until(&mut self, keep: usize, issues: &mut Vec<HierarchyIssue>) {
        while self.open.len() > keep {
            let Some(level) = self.open.pop() else {
                break;
            };
            if level.promises_children == Some(true) && !level.has_children {
                issues.push(HierarchyIssue {
                    element: 4,
                    message: format!(
                        "HL04 of HL {:?} (line {}) says it has child levels, but none follows",
                        level.id, level.line
                    ),
                    at: Some((level.line, level.position, level.offset)),
                });
            }
        }
    }

    /// Takes one HL segment.
    fn level(
        &mut self,
        segment: &Segment<'_>,
        (line, position): (usize, usize),
        issues: &mut Vec<HierarchyIssue>,
    ) {
        let id = text(segment.value(1));
        let parent = segment.value(2);
        let expected = self.last_id + 1;
        match id.parse::<u64>() {
            Ok(n) if n == expected => self.last_id = n,
            Ok(n) => {
                issues.push(HierarchyIssue {
                    element: 1,
                    message: format!(
                        "HL01 is {id:?}; HL IDs start at 1 and go up by one, so {expected} was expected"
                    ),
                    at: None,
                });
                self.last_id = n;
            }
            Err(_) => issues.push(HierarchyIssue {
                element: 1,
                message: format!("HL01 {id:?} is not a number; HL IDs count 1, 2, 3, ..."),
                at: None,
            }),
        }
        let mut parent_known = true;
        let keep = if parent.is_empty() {
            0
        } else {
            match self.open.iter().rposition(|l| l.id.as_bytes() == parent) {
                Some(i) => i + 1,
                None => {
                    parent_known = false;
                    issues.push(HierarchyIssue {
                        element: 2,
                        message: format!(
                            "HL02 names parent {:?}, which is not an enclosing level here (unknown, or its subtree has ended)",
                            text(parent)
                        ),
                        at: None,
                    });
                    self.open.len()
                }
            }
        };
        self.close_until(keep, issues);
        if let Some(p) = self.open.last_mut().filter(|_| parent_known) {
            p.has_children = true;
            if p.promises_children == Some(false) && !parent.is_empty() {
                issues.push(HierarchyIssue {
                    element: 2,
                    message: format!(
                        "HL02 names parent {:?}, whose HL04 (line {}) says it has no child levels",
                        p.id, p.line
                    ),
                    at: None,
                });
            }
        }
        let promises_children = match segment.value(4) {
            b"1" => Some(true),
            b"0" => Some(false),
            _ => None,
        };
        self.open.push(OpenLevel {
            id,
            promises_children,
            has_children: false,
            line,
            position,
            offset: segment.offset(),
        });
    }
}

#[derive(Debug, Default)]
struct GroupState {
    control: String,
    functional_id: String,
    transaction_controls: HashSet<String>,
}

/// The streaming validator: feed it segments in order, then call [`Validator::finish`].
#[derive(Debug)]
pub struct Validator<'c> {
    catalog: &'c Catalog,
    options: Options,
    report: Report,
    line: usize,
    interchange_controls: HashSet<String>,
    in_interchange: bool,
    group: Option<GroupState>,
    transaction: Option<Transaction<'c>>,
    spare_walker: Option<LoopWalker<'c>>,
    walk_issues: Vec<WalkIssue>,
    element_issues: Vec<ElementIssue>,
    /// Where element checks go when a worker thread does them.
    deferral: Option<pipeline::Deferral<'c>>,
}

/// GS01 functional identifier code for a transaction set id.
fn functional_id(transaction: &str) -> Option<&'static str> {
    Some(match transaction {
        "270" => "HS",
        "271" => "HB",
        "276" => "HR",
        "277" => "HN",
        "278" => "HI",
        "835" => "HP",
        "837" => "HC",
        "999" => "FA",
        _ => return None,
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl<'c> Validator<'c> {
    /// A validator over the guides of `catalog`.
    pub fn new(catalog: &'c Catalog, options: Options) -> Self {
        Self {
            catalog,
            options,
            report: Report::default(),
            line: 0,
            interchange_controls: HashSet::new(),
            in_interchange: false,
            group: None,
            transaction: None,
            spare_walker: None,
            walk_issues: vec![],
            element_issues: vec![],
            deferral: None,
        }
    }

    /// Records the number of bytes read (for the report).
    pub fn set_bytes(&mut self, bytes: usize) {
        self.report.bytes = bytes;
    }

    fn scope(&self) -> Scope {
        let interchange = self.report.interchanges.len().saturating_sub(1);
        let ic = self.report.interchanges.last();
        let group = ic
            .and_then(|i| i.groups.len().checked_sub(1))
            .filter(|_| self.group.is_some());
        let transaction = ic
            .and_then(|i| i.groups.last())
            .and_then(|g| g.transactions.len().checked_sub(1))
            .filter(|_| self.transaction.is_some());
        Scope {
            interchange,
            group,
            transaction,
        }
    }

    fn current_transaction(&mut self) -> Option<&mut TransactionSummary> {
        self.transaction.as_ref()?;
        self.report
            .interchanges
            .last_mut()?
            .groups
            .last_mut()?
            .transactions
            .last_mut()
    }

    fn current_group(&mut self) -> Option<&mut GroupSummary> {
        self.group.as_ref()?;
        self.report.interchanges.last_mut()?.groups.last_mut()
    }

    /// Records a finding, updating the error counts of the envelope it belongs to.
    fn push(&mut self, finding: Finding) {
        if finding.severity == Severity::Error {
            match finding.ack {
                AckCode::Interchange(code) => {
                    if let Some(ic) = self.report.interchanges.last_mut() {
                        ic.notes.push(code);
                    }
                }
                AckCode::Group(code) => {
                    if let Some(g) = self.current_group() {
                        g.group_errors.push(code);
                    }
                }
                AckCode::TransactionSet(code) => {
                    if let Some(t) = self.current_transaction() {
                        t.set_errors.push(code);
                    }
                }
                AckCode::Segment(_) | AckCode::Element(_) => {
                    if let Some(t) = self.current_transaction() {
                        t.errors += 1;
                    }
                }
            }
        }
        if self.report.findings.len() < self.options.max_findings {
            self.report.findings.push(finding);
        } else {
            self.report.suppressed += 1;
        }
    }

    fn finding(&self, ack: AckCode, segment: &Segment<'_>, message: String) -> Finding {
        let mut f = self.bare(ack, segment.offset(), segment.id_str(), message);
        f.loop_id = self
            .transaction
            .as_ref()
            .and_then(|t| t.walker.as_ref())
            .map(|w| w.guide().loops[w.current_loop()].id.clone());
        f
    }

    /// A finding at a position that is not a segment (end of input, reader errors).
    fn bare(&self, ack: AckCode, offset: usize, segment_id: &str, message: String) -> Finding {
        Finding {
            severity: Severity::Error,
            ack,
            line: self.line,
            offset,
            segment_position: self.transaction.as_ref().map(|t| t.position),
            loop_id: None,
            segment_id: segment_id.to_string(),
            element: None,
            component: None,
            repetition: None,
            data_element: None,
            value: None,
            message,
            scope: self.scope(),
        }
    }

    /// Warns that the input started with a byte-order mark, which was skipped: X12 has none,
    /// and a partner whose tool writes one should know why its file needed forgiving.
    pub fn byte_order_mark(&mut self) {
        let mut f = self.bare(
            AckCode::Interchange("022"),
            0,
            "",
            "the input starts with a UTF-8 byte-order mark (bytes EF BB BF), which is not X12; it was skipped".into(),
        );
        f.severity = Severity::Warning;
        f.line = 1;
        self.report.findings.push(f);
    }

    /// Records a tokenizer error at its place in the envelope structure.
    pub fn read_error(&mut self, error: &ReadError) {
        if let ReadError::BadSegmentId { .. } = error {
            // A segment all the same, only one whose id cannot be read: it counts among the
            // input's lines and its transaction set's segments, so later findings keep their
            // places and SE01 is checked against what the sender counted.
            self.line += 1;
            self.report.segments += 1;
            if let Some(tx) = self.transaction.as_mut() {
                tx.position += 1;
            }
        }
        let (ack, id) = match error {
            ReadError::BadSegmentId { id, .. } => (AckCode::Segment("1"), id.clone()),
            ReadError::EmptySegment { .. } => (AckCode::Segment("1"), String::new()),
            ReadError::BadDelimiter { which, .. } => (
                AckCode::Interchange(match *which {
                    "element separator" => "026",
                    "component separator" => "027",
                    _ => "004",
                }),
                "ISA".to_string(),
            ),
            ReadError::Unterminated { .. }
            | ReadError::SegmentTooLong { .. }
            | ReadError::TruncatedIsa { .. } => (AckCode::Interchange("023"), String::new()),
            ReadError::NotIsa { .. } | ReadError::Empty | ReadError::Io { .. } => {
                (AckCode::Interchange("022"), String::new())
            }
        };
        if self.report.interchanges.is_empty() && !matches!(ack, AckCode::Segment(_)) {
            // No interchange to attach a TA1 to: keep the finding for the caller all the same.
            self.report
                .findings
                .push(self.bare(ack, error.offset(), &id, error.to_string()));
            return;
        }
        let ack = if matches!(ack, AckCode::Segment(_)) && self.transaction.is_none() {
            AckCode::Interchange("024")
        } else {
            ack
        };
        let f = self.bare(ack, error.offset(), &id, error.to_string());
        self.push(f);
    }

    /// Validates one segment.
    #[inline]
    pub fn segment(&mut self, segment: &Segment<'_>) {
        self.line += 1;
        self.report.segments += 1;
        let tag = segment_tag(segment.id());
        if tag > 0xFFFF && !ENVELOPE_TAGS.contains(&tag) {
            // Every body segment with a three-letter id (most of them) skips the envelope match.
            return self.body(segment, tag);
        }
        match segment.id() {
            b"ISA" => self.isa(segment),
            b"IEA" => self.iea(segment),
            b"GS" => self.gs(segment),
            b"GE" => self.ge(segment),
            b"ST" => self.st(segment),
            b"TA1" if self.group.is_none() && self.in_interchange => {
                self.envelope_elements(segment, "TA1")
            }
            _ => self.body(segment, tag),
        }
    }

    /// Element checks of an envelope segment, as interchange-level findings.
    #[inline(never)]
    fn envelope_elements(&mut self, segment: &Segment<'_>, id: &str) {
        let Some(spec) = self.catalog.envelope_segment(id) else {
            return;
        };
        self.element_issues.clear();
        check_segment(spec, segment, &mut self.element_issues);
        if self.element_issues.is_empty() {
            return;
        }
        let mut issues = std::mem::take(&mut self.element_issues);
        for issue in issues.drain(..) {
            let ack = match id {
                "GS" | "GE" => AckCode::Group(if id == "GS" { "6" } else { "4" }),
                _ => AckCode::Interchange(isa_note(issue.element, id)),
            };
            let mut f = self.finding(ack, segment, issue.message);
            f.element = Some(issue.element);
            f.component = issue.component;
            f.data_element = issue.data_element;
            f.value = issue.value;
            self.push(f);
        }
        self.element_issues = issues;
    }

    #[inline(never)]
    fn isa(&mut self, segment: &Segment<'_>) {
        if self.in_interchange {
            self.close_interchange(segment.offset(), "a new ISA");
        }
        let d = segment.delimiters();
        self.report.interchanges.push(InterchangeSummary {
            control: text(segment.value(13)),
            sender: (
                text(segment.value(5)),
                text(segment.value(6)).trim_end().to_string(),
            ),
            receiver: (
                text(segment.value(7)),
                text(segment.value(8)).trim_end().to_string(),
            ),
            date: text(segment.value(9)),
            time: text(segment.value(10)),
            usage: text(segment.value(15)),
            ack_requested: segment.value(14) == b"1",
            delimiters: d,
            groups: vec![],
            notes: vec![],
        });
        self.in_interchange = true;
        let raw = segment.raw();
        let fixed = raw.len() == ISA_LEN - 1
            && ISA_SEPARATORS
                .iter()
                .all(|&i| raw.get(i) == Some(&d.element));
        if !fixed {
            let f = self.finding(
                AckCode::Interchange("022"),
                segment,
                format!("ISA is {} bytes; its elements must have their fixed widths (106 bytes with the terminator)", raw.len() + 1),
            );
            self.push(f);
        }
        self.envelope_elements(segment, "ISA");
        let control = text(segment.value(13));
        if !self.interchange_controls.insert(control.clone()) {
            let f = self.finding(
                AckCode::Interchange("025"),
                segment,
                format!("duplicate interchange control number {control} (ISA13) in this file"),
            );
            self.push(f);
        }
    }

    /// Ends the open interchange (with `why` naming what ended it when IEA never came).
    fn close_interchange(&mut self, offset: usize, why: &str) {
        if self.group.is_some() {
            self.close_group(offset, why);
        }
        if self.in_interchange {
            let f = self.bare(
                AckCode::Interchange("023"),
                offset,
                "IEA",
                format!("interchange trailer IEA is missing before {why}"),
            );
            self.push(f);
            self.in_interchange = false;
        }
    }

    #[inline(never)]
    fn iea(&mut self, segment: &Segment<'_>) {
        if !self.in_interchange {
            let f = self.finding(
                AckCode::Interchange("024"),
                segment,
                "IEA without an open interchange (no ISA before it)".into(),
            );
            self.push(f);
            return;
        }
        if self.group.is_some() {
            self.close_group(segment.offset(), "IEA");
        }
        self.envelope_elements(segment, "IEA");
        let Some(ic) = self.report.interchanges.last() else {
            return;
        };
        let (control, groups) = (ic.control.clone(), ic.groups.len());
        if segment.value(2) != control.as_bytes() {
            let f = self.finding(
                AckCode::Interchange("001"),
                segment,
                format!(
                    "IEA02 {:?} does not match ISA13 {control:?}",
                    text(segment.value(2))
                ),
            );
            self.push(f);
        }
        if segment.value(1) != groups.to_string().as_bytes() {
            let f = self.finding(
                AckCode::Interchange("021"),
                segment,
                format!(
                    "IEA01 says {} functional groups; the interchange has {groups}",
                    text(segment.value(1))
                ),
            );
            self.push(f);
        }
        self.in_interchange = false;
    }

    #[inline(never)]
    fn gs(&mut self, segment: &Segment<'_>) {
        if !self.in_interchange {
            let f = self.finding(
                AckCode::Interchange("024"),
                segment,
                "GS outside an interchange (no ISA before it)".into(),
            );
            self.push(f);
            return;
        }
        if self.group.is_some() {
            self.close_group(segment.offset(), "a new GS");
        }
        let control = text(segment.value(6));
        let duplicate = self
            .report
            .interchanges
            .last()
            .is_some_and(|ic| ic.groups.iter().any(|g| g.control == control));
        if let Some(ic) = self.report.interchanges.last_mut() {
            ic.groups.push(GroupSummary {
                functional_id: text(segment.value(1)),
                control: control.clone(),
                version: text(segment.value(8)),
                sender: text(segment.value(2)),
                receiver: text(segment.value(3)),
                transactions: vec![],
                group_errors: vec![],
            });
        }
        self.group = Some(GroupState {
            control: control.clone(),
            functional_id: text(segment.value(1)),
            transaction_controls: HashSet::new(),
        });
        self.envelope_elements(segment, "GS");
        if duplicate {
            let f = self.finding(
                AckCode::Group("19"),
                segment,
                format!("duplicate group control number {control} (GS06) in this interchange"),
            );
            self.push(f);
        }
    }

    fn close_group(&mut self, offset: usize, why: &str) {
        if self.transaction.is_some() {
            self.close_transaction(offset, why);
        }
        let f = self.bare(
            AckCode::Group("3"),
            offset,
            "GE",
            format!("functional group trailer GE is missing before {why}"),
        );
        self.push(f);
        self.group = None;
    }

    #[inline(never)]
    fn ge(&mut self, segment: &Segment<'_>) {
        if self.group.is_none() {
            let f = self.finding(
                AckCode::Interchange("024"),
                segment,
                "GE without an open functional group (no GS before it)".into(),
            );
            self.push(f);
            return;
        }
        if self.transaction.is_some() {
            self.close_transaction(segment.offset(), "GE");
        }
        self.envelope_elements(segment, "GE");
        let control = self
            .group
            .as_ref()
            .map(|g| g.control.clone())
            .unwrap_or_default();
        let count = self
            .current_group()
            .map(|g| g.transactions.len())
            .unwrap_or_default();
        if segment.value(2) != control.as_bytes() {
            let f = self.finding(
                AckCode::Group("4"),
                segment,
                format!(
                    "GE02 {:?} does not match GS06 {control:?}",
                    text(segment.value(2))
                ),
            );
            self.push(f);
        }
        if segment.value(1) != count.to_string().as_bytes() {
            let f = self.finding(
                AckCode::Group("5"),
                segment,
                format!(
                    "GE01 says {} transaction sets; the group has {count}",
                    text(segment.value(1))
                ),
            );
            self.push(f);
        }
        self.group = None;
    }

    #[inline(never)]
    fn st(&mut self, segment: &Segment<'_>) {
        // Deferred checks never mix two transaction sets in one batch.
        if let Some(deferral) = self.deferral.as_mut() {
            deferral.end_transaction();
        }
        if self.group.is_none() {
            let f = self.finding(
                AckCode::Interchange("024"),
                segment,
                "ST outside a functional group (no GS before it)".into(),
            );
            self.push(f);
            return;
        }
        if self.transaction.is_some() {
            self.close_transaction(segment.offset(), "a new ST");
        }
        let id = text(segment.value(1));
        let control = text(segment.value(2));
        let st03 = segment
            .element(3)
            .filter(|e| !e.is_empty())
            .map(|e| text(e.raw()));
        let group_version = self
            .current_group()
            .map(|g| g.version.clone())
            .unwrap_or_default();
        let version = st03.clone().unwrap_or_else(|| group_version.clone());
        let found = self.catalog.guide_for(&id, &version);
        if let Some(g) = self.current_group() {
            g.transactions.push(TransactionSummary {
                id: id.clone(),
                control: control.clone(),
                version: st03.clone(),
                guide: found.map(|(g, _)| g.version.clone()),
                segments: 1,
                errors: 0,
                set_errors: vec![],
            });
        }
        let walker = found.map(|(guide, _)| match self.spare_walker.take() {
            Some(mut w) => {
                w.reset(guide);
                w
            }
            None => LoopWalker::new(guide),
        });
        self.transaction = Some(Transaction {
            start_line: self.line,
            walker,
            position: 1,
            hierarchy: Hierarchy::default(),
        });

        let gs01 = self
            .group
            .as_ref()
            .map(|g| g.functional_id.clone())
            .unwrap_or_default();
        if functional_id(&id).is_some_and(|f| f != gs01) {
            let f = self.finding(
                AckCode::TransactionSet("6"),
                segment,
                format!("transaction set {id} does not belong in a {gs01} functional group (GS01)"),
            );
            self.push(f);
        }
        let fresh = self
            .group
            .as_mut()
            .is_some_and(|g| g.transaction_controls.insert(control.clone()));
        if !fresh {
            let f = self.finding(
                AckCode::TransactionSet("23"),
                segment,
                format!(
                    "transaction set control number {control} (ST02) is not unique in its group"
                ),
            );
            self.push(f);
        }
        if let Some(st03) = &st03
            && *st03 != group_version
        {
            let f = self.finding(
                AckCode::TransactionSet("I6"),
                segment,
                format!("ST03 {st03:?} differs from GS08 {group_version:?}"),
            );
            self.push(f);
        }
        match found {
            None => {
                let f = self.finding(
                    AckCode::TransactionSet("I6"),
                    segment,
                    format!("no implementation guide for transaction set {id} version {version:?}; the transaction set was not validated"),
                );
                self.push(f);
            }
            Some((guide, Some(why))) => {
                let mut f = self.finding(
                    AckCode::TransactionSet("I6"),
                    segment,
                    format!("{version} is validated as {}: {why}", guide.version),
                );
                f.severity = Severity::Warning;
                self.push(f);
            }
            Some(_) => {}
        }
        // ST itself is the root's first child: check its elements.
        if let Some(w) = self.transaction.as_ref().and_then(|t| t.walker.as_ref()) {
            let guide = w.guide();
            if let Some(crate::spec::Node::Segment(s)) = guide.root().children.first() {
                let spec = &guide.segments[*s];
                self.check_elements(spec, segment, 0);
            }
        }
    }

    fn close_transaction(&mut self, offset: usize, why: &str) {
        let f = self.bare(
            AckCode::TransactionSet("2"),
            offset,
            "SE",
            format!("transaction set trailer SE is missing before {why}"),
        );
        self.push(f);
        self.end_walk(offset);
        self.record_segment_count();
        self.transaction = None;
    }

    /// Copies the open transaction set's segment count into its summary, as it closes.
    fn record_segment_count(&mut self) {
        let position = self.transaction.as_ref().map(|t| t.position);
        if let Some(position) = position
            && let Some(t) = self.current_transaction()
        {
            t.segments = position;
        }
    }

    /// Ends the loop walk of the open transaction set, reporting required content never seen.
    fn end_walk(&mut self, offset: usize) {
        let Some(mut walker) = self.transaction.as_mut().and_then(|t| t.walker.take()) else {
            return;
        };
        let mut issues = std::mem::take(&mut self.walk_issues);
        issues.clear();
        walker.finish(&mut issues);
        for issue in issues.drain(..) {
            self.walk_finding(&walker, issue, None, offset);
        }
        self.walk_issues = issues;
        self.spare_walker = Some(walker);
    }

    fn body(&mut self, segment: &Segment<'_>, tag: u32) {
        let Some(tx) = self.transaction.as_mut() else {
            let f = self.finding(
                AckCode::Interchange("024"),
                segment,
                format!("segment {} outside a transaction set", segment.id_str()),
            );
            self.push(f);
            return;
        };
        tx.position += 1;
        let is_se = tag == segment_tag(b"SE");
        if !is_se && tag != segment_tag(b"HL") {
            // Most segments: no hierarchy to track, no transaction set to end.
            return self.place_in_guide(segment, tag);
        }
        let position = tx.position;
        let start_line = tx.start_line;
        let mut hierarchy_issues = vec![];
        if tag == segment_tag(b"HL") {
            tx.hierarchy
                .level(segment, (self.line, position), &mut hierarchy_issues);
        } else if is_se {
            tx.hierarchy.close_until(0, &mut hierarchy_issues);
        }
        self.place_in_guide(segment, tag);
        for issue in hierarchy_issues {
            let mut f = self.finding(AckCode::Element("I12"), segment, issue.message);
            if let Some((line, position, offset)) = issue.at {
                // About an earlier HL: point the finding (and its IK3) at that segment.
                f.segment_id = "HL".to_string();
                f.line = line;
                f.segment_position = Some(position);
                f.offset = offset;
            }
            f.element = Some(issue.element);
            f.data_element = Some(
                match issue.element {
                    1 => "628",
                    2 => "734",
                    _ => "736",
                }
                .to_string(),
            );
            self.push(f);
        }
        if is_se {
            self.end_transaction_set(segment, start_line);
        }
    }

    /// Places a body segment in the transaction set's guide (when there is one) and checks its
    /// elements against the spec it landed on.
    fn place_in_guide(&mut self, segment: &Segment<'_>, tag: u32) {
        let is_se = tag == segment_tag(b"SE");
        if let Some(mut walker) = self.transaction.as_mut().and_then(|t| t.walker.take()) {
            self.walk_issues.clear();
            let placement = walker.place_tagged(segment, tag, &mut self.walk_issues);
            let guide = walker.guide();
            if !self.walk_issues.is_empty() {
                let mut issues = std::mem::take(&mut self.walk_issues);
                for issue in issues.drain(..) {
                    self.walk_finding(&walker, issue, Some(segment), segment.offset());
                }
                self.walk_issues = issues;
            }
            match placement {
                Placement::Found { segment: s, .. } => {
                    let loop_index = walker.current_loop();
                    if let Some(t) = self.transaction.as_mut() {
                        t.walker = Some(walker);
                    }
                    self.check_elements(&guide.segments[s], segment, loop_index);
                }
                Placement::NotFound => {
                    let id = segment.id_str();
                    let known_here = guide.segments.iter().any(|s| s.id == id);
                    let (code, message) = if known_here {
                        (
                            "2",
                            format!(
                                "segment {id} is not expected here (out of order, or its qualifier {:?} is not one this loop allows)",
                                text(segment.value(1))
                            ),
                        )
                    } else if self.catalog.dictionary.segments.contains_key(id) || is_se {
                        (
                            "6",
                            format!(
                                "segment {id} is not part of {} {}",
                                guide.transaction, guide.version
                            ),
                        )
                    } else {
                        ("1", format!("unrecognized segment id {id}"))
                    };
                    if let Some(t) = self.transaction.as_mut() {
                        t.walker = Some(walker);
                    }
                    let f = self.finding(AckCode::Segment(code), segment, message);
                    self.push(f);
                }
            }
        }
    }

    /// SE: its count and control number, then the end of the loop walk.
    fn end_transaction_set(&mut self, segment: &Segment<'_>, start_line: usize) {
        {
            let control = self
                .current_transaction()
                .map(|t| t.control.clone())
                .unwrap_or_default();
            let count = self.line - start_line + 1;
            if segment.value(2) != control.as_bytes() {
                let f = self.finding(
                    AckCode::TransactionSet("3"),
                    segment,
                    format!(
                        "SE02 {:?} does not match ST02 {control:?}",
                        text(segment.value(2))
                    ),
                );
                self.push(f);
            }
            if segment.value(1) != count.to_string().as_bytes() {
                let f = self.finding(
                    AckCode::TransactionSet("4"),
                    segment,
                    format!(
                        "SE01 says {} segments; the transaction set has {count}",
                        text(segment.value(1))
                    ),
                );
                self.push(f);
            }
            self.end_walk(segment.offset());
            self.record_segment_count();
            self.transaction = None;
        }
    }

    fn check_elements(
        &mut self,
        spec: &'c crate::spec::SegmentSpec,
        segment: &Segment<'_>,
        loop_index: crate::spec::LoopIndex,
    ) {
        if self.deferral.is_some() {
            if self.deferral.as_ref().is_some_and(|d| d.needs_shared()) {
                let shared = self.shared(segment);
                if let Some(deferral) = self.deferral.as_mut() {
                    deferral.share(shared);
                }
            }
            let place = (
                self.line,
                self.transaction.as_ref().map_or(0, |t| t.position),
                loop_index,
                self.report.findings.len(),
            );
            if let Some(deferral) = self.deferral.as_mut() {
                deferral.defer(spec, segment, place);
            }
            return;
        }
        self.element_issues.clear();
        check_segment(spec, segment, &mut self.element_issues);
        if self.element_issues.is_empty() {
            return;
        }
        let context = self.context();
        let mut issues = std::mem::take(&mut self.element_issues);
        for issue in issues.drain(..) {
            let f = pipeline::element_finding(issue, segment, &context);
            self.push(f);
        }
        self.element_issues = issues;
    }

    /// What the segments of the open transaction set share, for the worker.
    fn shared(&self, segment: &Segment<'_>) -> Option<pipeline::Shared<'c>> {
        Some(pipeline::Shared {
            scope: self.scope(),
            guide: self.transaction.as_ref()?.walker.as_ref()?.guide(),
            delimiters: segment.delimiters(),
        })
    }

    /// Where the current segment sits, for findings about its elements.
    fn context(&self) -> pipeline::Context<'c> {
        let transaction = self.transaction.as_ref();
        pipeline::Context {
            line: self.line,
            position: transaction.map(|t| t.position),
            loop_id: transaction
                .and_then(|t| t.walker.as_ref())
                .map(|w| w.guide().loops[w.current_loop()].id.as_str()),
            scope: self.scope(),
        }
    }

    fn walk_finding(
        &mut self,
        walker: &LoopWalker<'_>,
        issue: WalkIssue,
        segment: Option<&Segment<'_>>,
        offset: usize,
    ) {
        let guide: &Guide = walker.guide();
        let (code, id, loop_id, message) = match issue {
            WalkIssue::MissingSegment(s) => {
                let spec = &guide.segments[s];
                let l = &guide.loops[spec.parent];
                (
                    "3",
                    spec.id.clone(),
                    l.id.clone(),
                    format!(
                        "required segment {} ({}) is missing from loop {}",
                        spec.id, spec.name, l.id
                    ),
                )
            }
            WalkIssue::MissingLoop(l) => {
                let spec = &guide.loops[l];
                let trigger = guide.trigger_id(l).to_string();
                (
                    "3",
                    trigger,
                    spec.id.clone(),
                    format!("required loop {} ({}) is missing", spec.id, spec.name),
                )
            }
            WalkIssue::SegmentOverUsed(s) => {
                let spec = &guide.segments[s];
                let max = spec.max_use.unwrap_or_default();
                (
                    "5",
                    spec.id.clone(),
                    guide.loops[spec.parent].id.clone(),
                    format!(
                        "segment {} ({}) occurs more than {max} times",
                        spec.id, spec.name
                    ),
                )
            }
            WalkIssue::LoopOverRepeated(l) => {
                let spec = &guide.loops[l];
                let trigger = guide.trigger_id(l).to_string();
                let max = spec.max_repeat.unwrap_or_default();
                (
                    "4",
                    trigger,
                    spec.id.clone(),
                    format!(
                        "loop {} ({}) occurs more than {max} times",
                        spec.id, spec.name
                    ),
                )
            }
            WalkIssue::SegmentNotUsed(s) => {
                let spec = &guide.segments[s];
                (
                    "I4",
                    spec.id.clone(),
                    guide.loops[spec.parent].id.clone(),
                    format!(
                        "segment {} ({}) is not used in this implementation",
                        spec.id, spec.name
                    ),
                )
            }
            WalkIssue::LoopNotUsed(l) => {
                let spec = &guide.loops[l];
                let trigger = guide.trigger_id(l).to_string();
                (
                    "I4",
                    trigger,
                    spec.id.clone(),
                    format!(
                        "loop {} ({}) is not used in this implementation",
                        spec.id, spec.name
                    ),
                )
            }
        };
        let mut f = match segment {
            Some(s) => self.finding(AckCode::Segment(code), s, message),
            None => self.bare(AckCode::Segment(code), offset, &id, message),
        };
        f.segment_id = id;
        f.loop_id = Some(loop_id);
        self.push(f);
    }

    /// Ends validation: closes whatever is still open and returns the report.
    pub fn finish(mut self) -> Report {
        let offset = self.report.bytes;
        if self.in_interchange {
            self.close_interchange(offset, "the end of the input");
        }
        self.report
    }
}

/// TA1 note code for an ISA element problem.
fn isa_note(element: u8, id: &str) -> &'static str {
    if id != "ISA" {
        return if id == "IEA" { "021" } else { "024" };
    }
    match element {
        1 => "010",
        2 => "011",
        3 => "012",
        4 => "013",
        5 => "005",
        6 => "006",
        7 => "007",
        8 => "008",
        9 => "014",
        10 => "015",
        11 => "026",
        12 => "017",
        13 => "018",
        14 => "019",
        15 => "020",
        16 => "027",
        _ => "022",
    }
}
