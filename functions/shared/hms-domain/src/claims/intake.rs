//! Claims as callers send them: our JSON (one claim, or an array of them) or FHIR (a `Claim`,
//! or a `Bundle` of Claims), professional or institutional. The service reads one claim a
//! request; the CLI reads batches. Both read here, and both point at a finding the same way:
//! a JSON pointer into our JSON, FHIRPath into FHIR, led by the claim's index in a batch.
#![allow(
    clippy::indexing_slicing,
    reason = "serde_json::Value's [] by key or position yields Null when absent and never panics; slices and strings are read with get"
)]

use chrono::NaiveDate;
use serde_json::Value;

use crate::claims::claim::{Claim, ClaimKind};
use crate::claims::fhir::fhirpath_of;
use crate::claims::fhir::{self, resources::Resources};
use crate::claims::scrub::{Profile, scrub};
use crate::outcome::{Issue, IssueType, OperationOutcome};
use crate::partner::Connections;
use crate::request::{Format, RequestError, json_body, problem};

/// One claim from a request body: a FHIR `Claim` (alone, or in a `Bundle` with the resources
/// it refers to) or our JSON, of the kind it says it is ([`ClaimKind::of`]), sent on by the
/// clearinghouse of `connections`. A body with several claims (a JSON array, a Bundle of
/// Claims) is refused with what to do instead: one claim is one request, so that each has its
/// own idempotency key and answer.
pub fn read_claim(body: &[u8], connections: &Connections) -> Result<(Claim, Format), RequestError> {
    read_noted_claim(body, connections).map(|(claim, format, _)| (claim, format))
}

/// [`read_claim`], with the choices the FHIR reader made where FHIR left one open (a default
/// from the payer directory), as information issues for the caller to see.
pub fn read_noted_claim(
    body: &[u8],
    connections: &Connections,
) -> Result<(Claim, Format, Vec<Issue>), RequestError> {
    let value = json_body(body)?;
    if let Value::Array(items) = &value {
        return Err(RequestError::Invalid(problem(
            IssueType::NotSupported,
            "one-claim",
            format!(
                "the body is a JSON array of {} items: this endpoint takes one claim a request (send each claim alone, each with its own Idempotency-Key)",
                items.len()
            ),
        )));
    }
    if value["resourceType"] == "Claim" || value["resourceType"] == "Bundle" {
        let resources = Resources::of(&value);
        let claims: Vec<&Value> = resources.of_type("Claim").collect();
        let claim = match claims.as_slice() {
            [claim] => *claim,
            [] => {
                return Err(RequestError::Invalid(problem(
                    IssueType::Required,
                    "no-claims",
                    "the Bundle holds no Claim",
                )));
            }
            many => {
                return Err(RequestError::Invalid(problem(
                    IssueType::NotSupported,
                    "one-claim",
                    format!(
                        "the Bundle holds {} Claims: this endpoint takes one claim a request (send a Bundle with one Claim and the resources it refers to)",
                        many.len()
                    ),
                )));
            }
        };
        return fhir::read(claim, &resources, ClaimKind::of(claim), connections)
            .map(|read| (read.claim, Format::Fhir, read.notes))
            .map_err(|outcome| {
                RequestError::Invalid(if value["resourceType"] == "Bundle" {
                    let entry = entry_of(&value, claim);
                    relocate(outcome, entry)
                } else {
                    outcome
                })
            });
    }
    if value.get("resourceType").is_some() {
        return Err(RequestError::Invalid(problem(
            IssueType::NotSupported,
            "resource-type",
            format!(
                "a {} cannot be submitted as a claim: send a FHIR Claim (alone or in a Bundle) or our JSON claim",
                value["resourceType"]
            ),
        )));
    }
    Claim::from_json(body, ClaimKind::of(&value))
        .map(|claim| (claim, Format::Json, vec![]))
        .map_err(RequestError::Invalid)
}

/// The index of the Bundle entry holding `claim`, when it is a top-level entry.
fn entry_of(bundle: &Value, claim: &Value) -> Option<usize> {
    bundle["entry"]
        .as_array()?
        .iter()
        .position(|e| std::ptr::eq(&e["resource"], claim))
}

/// An outcome about a Claim, its FHIRPaths led by the Bundle entry that holds it.
fn relocate(mut outcome: OperationOutcome, entry: Option<usize>) -> OperationOutcome {
    if let Some(entry) = entry {
        for issue in &mut outcome.issue {
            for e in &mut issue.expression {
                if let Some(rest) = e.strip_prefix("Claim") {
                    *e = format!("Bundle.entry[{entry}].resource{rest}");
                }
            }
        }
    }
    outcome
}

/// Claims as one input holds them, with what it takes to point into that input.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The claims, in input order.
    pub claims: Vec<Claim>,
    /// FHIR input: findings become FHIRPath.
    pub format: Format,
    /// More than one claim: findings name the claim (`/2/...`, `Bundle.entry[2].resource...`).
    pub batch: bool,
    /// Where each claim stands in the input: its index in the array, or its Bundle entry.
    pub entries: Vec<usize>,
    /// What the FHIR reader chose where FHIR left a choice, located like findings.
    pub notes: Vec<Issue>,
}

impl Batch {
    /// Every claim of `json`. `kind` forces one kind on every claim (a claim that is not of
    /// it is refused where it stands); without it each claim is of the kind it says it is.
    /// FHIR claims are sent on by the clearinghouse of `connections`; a Bundle's entries that
    /// are not Claims are the resources its Claims refer to.
    pub fn read(
        json: &[u8],
        kind: Option<ClaimKind>,
        connections: &Connections,
    ) -> Result<Self, OperationOutcome> {
        let one = |json: &[u8], value: Option<&Value>| {
            let kind = kind.unwrap_or_else(|| value.map_or(ClaimKind::Professional, ClaimKind::of));
            Claim::from_json(json, kind)
        };
        let Ok(value) = serde_json::from_slice::<Value>(json) else {
            // Not JSON at all: the parser reports where.
            return one(json, None).map(Self::single);
        };
        let resources = Resources::of(&value);
        let (items, format): (Vec<(usize, &Value)>, Format) = match &value {
            Value::Array(items) => (items.iter().enumerate().collect(), Format::Json),
            v if v["resourceType"] == "Bundle" => (
                v["entry"]
                    .as_array()
                    .map(|e| {
                        e.iter()
                            .enumerate()
                            .map(|(k, e)| (k, &e["resource"]))
                            .filter(|(_, r)| r["resourceType"] == "Claim")
                            .collect()
                    })
                    .unwrap_or_default(),
                Format::Fhir,
            ),
            v if v["resourceType"] == "Claim" => (vec![(0, v)], Format::Fhir),
            v => return one(json, Some(v)).map(Self::single),
        };
        let mut read = Self {
            claims: Vec::with_capacity(items.len()),
            format,
            batch: matches!(value, Value::Array(_)) || value["resourceType"] == "Bundle",
            entries: items.iter().map(|(k, _)| *k).collect(),
            notes: vec![],
        };
        if items.is_empty() {
            return Err(OperationOutcome::new(vec![Issue::error(
                IssueType::Required,
                "no-claims",
                "the input holds no claims",
            )]));
        }
        let mut issues = vec![];
        for (i, (_, item)) in items.iter().enumerate() {
            let parsed = match format {
                Format::Fhir => fhir::read(
                    item,
                    &resources,
                    kind.unwrap_or_else(|| ClaimKind::of(item)),
                    connections,
                )
                .map(|r| {
                    let notes = read.locate(
                        i,
                        OperationOutcome {
                            resource_type: "OperationOutcome".into(),
                            issue: r.notes,
                        },
                        false,
                    );
                    read.notes.extend(notes);
                    r.claim
                }),
                // A Value always serializes; should it not, the parser reports the empty input.
                Format::Json => one(&serde_json::to_vec(item).unwrap_or_default(), Some(item)),
            };
            match parsed {
                Ok(claim) => read.claims.push(claim),
                Err(outcome) => issues.extend(read.locate(i, outcome, false)),
            }
        }
        if issues.is_empty() {
            Ok(read)
        } else {
            Err(OperationOutcome::new(issues))
        }
    }

    /// The frame of a batch read one claim at a time ([`read_claim_array`]): holds no claims,
    /// and locates the findings of claim `i` as a JSON array's batch does (`/i/...`).
    pub fn streamed() -> Self {
        Self {
            claims: vec![],
            format: Format::Json,
            batch: true,
            entries: vec![],
            notes: vec![],
        }
    }

    /// The frame of a Bundle read one Claim at a time ([`super::StoredBundle`]): holds no
    /// claims, and locates the findings of the Claim of entry `i` as a Bundle read whole does
    /// (`Bundle.entry[i].resource...`).
    pub fn streamed_bundle() -> Self {
        Self {
            format: Format::Fhir,
            ..Self::streamed()
        }
    }

    /// One claim, read from `format`, standing alone.
    pub fn one(claim: Claim, format: Format) -> Self {
        Self {
            format,
            ..Self::single(claim)
        }
    }

    /// One claim of our JSON.
    fn single(claim: Claim) -> Self {
        Self {
            claims: vec![claim],
            format: Format::Json,
            batch: false,
            entries: vec![0],
            notes: vec![],
        }
    }

    /// The findings of `outcome` (about claim `index`) in terms of the input: FHIRPath for
    /// FHIR when they point into the model (`scrubbed`; a reader's findings already point
    /// into the FHIR), and led by the claim's place in a batch. The scrubber's `all-ok` is
    /// left out.
    pub fn locate(&self, index: usize, outcome: OperationOutcome, scrubbed: bool) -> Vec<Issue> {
        let fhir = self.format == Format::Fhir;
        let index = self.entries.get(index).copied().unwrap_or(index);
        outcome
            .issue
            .into_iter()
            .filter(|i| i.diagnostics.as_deref() != Some("all-ok"))
            .map(|mut issue| {
                for e in &mut issue.expression {
                    if fhir && scrubbed {
                        *e = fhirpath_of(e);
                    }
                    if self.batch {
                        *e = match e.strip_prefix("Claim") {
                            Some(rest) if fhir => format!("Bundle.entry[{index}].resource{rest}"),
                            _ => format!("/{index}{e}"),
                        };
                    }
                }
                issue
            })
            .collect()
    }

    /// Every claim through the scrubber, the findings in one outcome.
    pub fn scrub(&self, today: NaiveDate) -> OperationOutcome {
        self.scrub_with(today, &Profile::default())
    }

    /// Every claim through the edits `profile` leaves on, the findings in one outcome.
    pub fn scrub_with(&self, today: NaiveDate, profile: &Profile) -> OperationOutcome {
        let issues = self
            .claims
            .iter()
            .enumerate()
            .flat_map(|(i, claim)| self.scrub_claim(i, claim, today, profile))
            .collect();
        OperationOutcome::new(issues)
    }

    /// `claim`, claim `index` of the batch (or of a batch streamed in this frame), through the
    /// edits `profile` leaves on: its findings, located.
    pub fn scrub_claim(
        &self,
        index: usize,
        claim: &Claim,
        today: NaiveDate,
        profile: &Profile,
    ) -> Vec<Issue> {
        self.locate(index, scrub(claim, today, profile), true)
    }
}

/// Why a JSON array of claims could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum ClaimArrayError<E: std::error::Error + 'static> {
    /// The input is not a JSON array: what was wrong, and at which byte.
    #[error("the input is not a JSON array of claims: {problem} at byte {offset}")]
    NotArray {
        /// What was found.
        problem: &'static str,
        /// Byte offset in the input.
        offset: u64,
    },
    /// One element is larger than any claim may be.
    #[error("claim {index} is larger than {MAX_CLAIM_BYTES} bytes")]
    TooLarge {
        /// The element's index.
        index: usize,
    },
    /// The input could not be read.
    #[error("reading the claims: {0}")]
    Read(#[source] std::io::Error),
    /// Whoever took the claims stopped.
    #[error("taking the claims: {0}")]
    Sink(#[source] E),
}

/// The most bytes one claim of an array may take (a claim with 999 service lines and every
/// optional loop is a few hundred kilobytes).
pub const MAX_CLAIM_BYTES: usize = 16 * 1024 * 1024;

/// Reads a JSON array of our claims one element at a time, in memory bounded by the largest
/// claim (a nightly batch of 50,000 claims is never held): each claim, or the outcome of
/// reading it (located as [`Batch::read`] locates it, `/i/...`), goes to `each` with its
/// index. `kind` forces one kind on every claim; without it each claim is of the kind it
/// says it is. Returns how many elements there were.
///
/// The array is split into its elements' text by a scanner that follows strings and nesting
/// (never parsing), and each element is parsed on its own: an element that is not valid
/// JSON is that claim's finding, and the claims after it still come.
pub fn read_claim_array<R: std::io::Read, E: std::error::Error + 'static>(
    input: R,
    kind: Option<ClaimKind>,
    mut each: impl FnMut(usize, Result<Claim, OperationOutcome>) -> Result<(), E>,
) -> Result<usize, ClaimArrayError<E>> {
    let frame = Batch::streamed();
    let mut elements = ArrayElements::new(input);
    let mut count = 0;
    while let Some(json) = elements.next_element().map_err(|e| e.within(count))? {
        each(count, streamed_claim(&frame, count, json, kind)).map_err(ClaimArrayError::Sink)?;
        count += 1;
    }
    Ok(count)
}

/// Claim `index` of a batch read one claim at a time, from its JSON: of `kind`, or of the
/// kind it says it is; the outcome of reading it, located in `frame`, when it does not read.
fn streamed_claim(
    frame: &Batch,
    index: usize,
    json: &[u8],
    kind: Option<ClaimKind>,
) -> Result<Claim, OperationOutcome> {
    let kind = match kind {
        Some(kind) => kind,
        None => serde_json::from_slice::<Value>(json)
            .map_or(ClaimKind::Professional, |v| ClaimKind::of(&v)),
    };
    Claim::from_json(json, kind)
        .map_err(|outcome| OperationOutcome::new(frame.locate(index, outcome, false)))
}

/// Reads the next line of `input` into `line` (emptied first), its newline included, but no
/// more than `limit` bytes of it: how many bytes were read, 0 at the input's end.
fn read_line_within<R: std::io::BufRead>(
    input: &mut R,
    limit: usize,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    use std::io::{BufRead, Read};
    line.clear();
    input
        .take(u64::try_from(limit).unwrap_or(u64::MAX))
        .read_until(b'\n', line)
}

/// Reads newline-delimited JSON of our claims (one claim a line: what `hms translate --to
/// json --ndjson` makes of an 837, and what bulk exports write) a line at a time, in memory
/// bounded by the longest line; as [`read_claim_array`] reads an array. Blank lines are
/// skipped, so `index` counts claims, not lines (`/i/...` names claim `i`). A line that is
/// not valid JSON is that claim's finding, and the claims after it still come. Returns how
/// many claims there were.
pub fn read_claim_lines<R: std::io::BufRead, E: std::error::Error + 'static>(
    mut input: R,
    kind: Option<ClaimKind>,
    mut each: impl FnMut(usize, Result<Claim, OperationOutcome>) -> Result<(), E>,
) -> Result<usize, ClaimArrayError<E>> {
    let frame = Batch::streamed();
    let mut line = Vec::new();
    let mut count = 0;
    // A line one byte past the bound, newline aside, says the line is too long.
    while read_line_within(&mut input, MAX_CLAIM_BYTES + 1, &mut line)
        .map_err(ClaimArrayError::Read)?
        > 0
    {
        let json = line.strip_suffix(b"\n").unwrap_or(&line);
        if json.len() > MAX_CLAIM_BYTES {
            return Err(ClaimArrayError::TooLarge { index: count });
        }
        if json.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        each(count, streamed_claim(&frame, count, json, kind)).map_err(ClaimArrayError::Sink)?;
        count += 1;
    }
    Ok(count)
}

/// Whether `input` is newline-delimited JSON of claims rather than one JSON value: its first
/// line is a whole JSON object that is not a FHIR resource (which goes the FHIR way, and a
/// Bundle of them is one document), and another line with something on it follows. A claim
/// written over many lines, or alone on its only line, is one value.
pub fn is_claim_lines<R: std::io::BufRead>(mut input: R) -> bool {
    let mut first = Vec::new();
    if read_line_within(&mut input, MAX_CLAIM_BYTES, &mut first).is_err()
        || first.last() != Some(&b'\n')
    {
        return false;
    }
    let claim_object = serde_json::from_slice::<Value>(&first)
        .is_ok_and(|v| v.is_object() && v.get("resourceType").is_none());
    if !claim_object {
        return false;
    }
    // Something more than whitespace follows.
    let mut rest = [0u8; 4096];
    loop {
        match input.read(&mut rest) {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                if rest
                    .get(..n)
                    .is_some_and(|r| !r.iter().all(u8::is_ascii_whitespace))
                {
                    return true;
                }
            }
        }
    }
}

/// The text of the first element of the JSON array `input` holds, read no further: what a
/// caller looks at to tell what the array holds before reading it. `None` for an empty array,
/// input that is not an array, or a first element past [`MAX_CLAIM_BYTES`].
pub fn first_array_element<R: std::io::Read>(input: R) -> Option<Vec<u8>> {
    ArrayElements::new(input)
        .next_element()
        .ok()
        .flatten()
        .map(<[u8]>::to_vec)
}

/// What stopped the scanner; [`ScanError::within`] names the element.
#[derive(Debug)]
pub(super) enum ScanError {
    NotArray(&'static str, u64),
    TooLarge,
    Read(std::io::Error),
}

impl ScanError {
    fn within<E: std::error::Error + 'static>(self, index: usize) -> ClaimArrayError<E> {
        match self {
            Self::NotArray(problem, offset) => ClaimArrayError::NotArray { problem, offset },
            Self::TooLarge => ClaimArrayError::TooLarge { index },
            Self::Read(e) => ClaimArrayError::Read(e),
        }
    }
}

/// Where the scanner is in the array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Before the opening `[`.
    Start,
    /// After `[`: an element or `]`.
    First,
    /// After a `,`: an element.
    Next,
    /// After an element: `,` or `]`.
    After,
    /// After the closing `]`: only whitespace.
    Done,
}

/// The elements of a JSON array, as text, one at a time: the array of the whole input, or
/// one nested in an object another scanner walks ([`ArrayElements::open_nested`]).
pub(super) struct ArrayElements<R> {
    input: R,
    chunk: Vec<u8>,
    /// Unread bytes of `chunk`: `chunk[at..filled]`.
    at: usize,
    filled: usize,
    /// Bytes consumed before `chunk[0]`.
    consumed: u64,
    position: Position,
    element: Vec<u8>,
    /// The array is a value inside the input: its `]` ends it, and what follows is the
    /// enclosing scanner's.
    nested: bool,
    /// Offset of the first byte of the element last given.
    start: u64,
}

impl<R: std::io::Read> ArrayElements<R> {
    pub(super) fn new(input: R) -> Self {
        Self {
            input,
            chunk: vec![0; 64 * 1024],
            at: 0,
            filled: 0,
            consumed: 0,
            position: Position::Start,
            element: Vec::new(),
            nested: false,
            start: 0,
        }
    }

    /// Reads the elements of an array whose `[` the caller has just taken with
    /// [`ArrayElements::byte`]: `next_element` gives `None` at its `]`, and the bytes after it
    /// are the caller's again.
    pub(super) fn open_nested(&mut self) {
        self.position = Position::First;
        self.nested = true;
    }

    /// Where the element last given starts in the input.
    pub(super) fn element_start(&self) -> u64 {
        self.start
    }

    pub(super) fn offset(&self) -> u64 {
        self.consumed + self.at as u64
    }

    /// Reads more input when every byte read is used; false at the end of the input.
    fn refill(&mut self) -> Result<bool, ScanError> {
        if self.at < self.filled {
            return Ok(true);
        }
        self.consumed += self.filled as u64;
        self.at = 0;
        self.filled = loop {
            match self.input.read(&mut self.chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ScanError::Read(e)),
            }
        };
        Ok(self.filled > 0)
    }

    /// The next byte, or `None` at the end of the input.
    pub(super) fn byte(&mut self) -> Result<Option<u8>, ScanError> {
        if !self.refill()? {
            return Ok(None);
        }
        let b = self.chunk.get(self.at).copied();
        self.at += 1;
        Ok(b)
    }

    /// The next element's text, or `None` after the closing `]`.
    pub(super) fn next_element(&mut self) -> Result<Option<&[u8]>, ScanError> {
        loop {
            let offset = self.offset();
            let Some(b) = self.byte()? else {
                return match self.position {
                    Position::Done => Ok(None),
                    Position::Start => Err(ScanError::NotArray("no array", offset)),
                    _ => Err(ScanError::NotArray("the array ends before its `]`", offset)),
                };
            };
            if b.is_ascii_whitespace() {
                continue;
            }
            match (self.position, b) {
                (Position::Start, b'[') => self.position = Position::First,
                (Position::Start, _) => {
                    return Err(ScanError::NotArray("not an array", offset));
                }
                (Position::First | Position::After, b']') => {
                    self.position = Position::Done;
                    if self.nested {
                        return Ok(None);
                    }
                }
                (Position::After, b',') => self.position = Position::Next,
                (Position::After, _) => {
                    return Err(ScanError::NotArray("expected `,` or `]`", offset));
                }
                (Position::Next, b']') => {
                    return Err(ScanError::NotArray("a `,` before `]`", offset));
                }
                (Position::Done, _) => {
                    return Err(ScanError::NotArray("text after the array", offset));
                }
                (Position::First | Position::Next, _) => {
                    self.position = Position::After;
                    self.start = offset;
                    return self.scan_element(b).map(Some);
                }
            }
        }
    }

    /// The text of the element that starts with `first`: through its matching close for an
    /// object or array, its closing quote for a string, up to a delimiter for a scalar. Runs
    /// of bytes are taken a buffer at a time, strings skipped to their next quote or escape.
    #[allow(
        clippy::indexing_slicing,
        reason = "every index is below `unread.len()`, checked by the loop or returned by memchr"
    )]
    pub(super) fn scan_element(&mut self, first: u8) -> Result<&[u8], ScanError> {
        self.element.clear();
        self.element.push(first);
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        match first {
            b'{' | b'[' => depth = 1,
            b'"' => in_string = true,
            _ => {}
        }
        let scalar = depth == 0 && !in_string;
        loop {
            let offset = self.offset();
            if !self.refill()? {
                if scalar {
                    return Ok(&self.element);
                }
                return Err(ScanError::NotArray(
                    "the array ends inside an element",
                    offset,
                ));
            }
            let unread = &self.chunk[self.at..self.filled];
            // Where the element ends in `unread` (exclusive), once it does.
            let mut end = None;
            let mut i = 0;
            while i < unread.len() {
                if in_string {
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    let Some(k) = memchr::memchr2(b'"', b'\\', &unread[i..]) else {
                        // The string goes on past this buffer.
                        break;
                    };
                    i += k;
                    if unread[i] == b'\\' {
                        escaped = true;
                    } else {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    i += 1;
                    continue;
                }
                let b = unread[i];
                if scalar {
                    if b == b',' || b == b']' || b.is_ascii_whitespace() {
                        // The delimiter belongs to the array.
                        end = Some(i);
                        break;
                    }
                    i += 1;
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            let taken = end.unwrap_or(unread.len());
            self.element.extend_from_slice(&unread[..taken]);
            self.at += taken;
            if self.element.len() > MAX_CLAIM_BYTES {
                return Err(ScanError::TooLarge);
            }
            if end.is_some() {
                return Ok(&self.element);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// Gives at most `step` bytes a read, so elements cross every buffer boundary.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            let (now, later) = self.0.split_at(n);
            buf[..n].copy_from_slice(now);
            self.0 = later;
            Ok(n)
        }
    }

    #[test]
    fn elements_are_split_where_json_says_at_any_read_size() {
        let text = br#" [ {"a": "x]}\"{", "b": [1, {"c": "\\"}], "d": "long text that goes on past sixteen bytes \" still"},
            "str[]", 12.5e3 , true,null,[ [], {} ], {"k":"\u00e9}"} ] "#;
        let expected: Vec<serde_json::Value> = serde_json::from_slice(text).unwrap();
        for step in [1, 2, 3, 7, 16, 64, 1 << 16] {
            let mut elements = ArrayElements::new(Trickle(text, step));
            let mut got = vec![];
            while let Some(element) = elements.next_element().unwrap() {
                got.push(serde_json::from_slice::<serde_json::Value>(element).unwrap());
            }
            assert_eq!(got, expected, "{step} bytes a read");
        }
    }
}
