//! The parse tree's JSON, written as its [`Step`]s come: byte for byte what
//! `serde_json::to_writer(&parse(..))` writes, with one segment in memory at a time (and the
//! few segments an interchange holds outside its groups, which its JSON puts after them).

use std::io::{self, Write};

use serde::Serialize;

use super::{SegmentNode, SegmentStep, Step, TransactionStart, TreeError};
use crate::segment::Segment;

/// Segments outside any group one interchange may hold (TA1s; each written at the
/// interchange's end, so held until then).
const MAX_OUTSIDE_GROUPS: usize = 10_000;

/// Why a streamed tree stopped.
#[derive(Debug, thiserror::Error)]
pub enum TreeWriteError {
    /// The input is not X12 whose envelopes hold together.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// More segments outside groups than one interchange may hold.
    #[error(
        "line {line}: more than {MAX_OUTSIDE_GROUPS} segments outside functional groups in one interchange"
    )]
    OutsideGroups {
        /// The segment number past the bound.
        line: usize,
    },
    /// The output could not be written.
    #[error("writing the output: {0}")]
    Write(#[source] io::Error),
}

impl From<io::Error> for TreeWriteError {
    fn from(e: io::Error) -> Self {
        Self::Write(e)
    }
}

/// Writes a [`super::Document`]'s JSON step by step.
#[derive(Debug)]
pub struct JsonTreeWriter<W: Write> {
    out: W,
    interchanges: usize,
    groups: usize,
    transactions: usize,
    /// Items written in each open loop, the root first.
    items: Vec<usize>,
    /// The open interchange's segments outside groups.
    outside: Vec<SegmentNode>,
}

fn put<W: Write, T: Serialize + ?Sized>(out: &mut W, value: &T) -> io::Result<()> {
    serde_json::to_writer(out, value).map_err(io::Error::from)
}

/// A segment's JSON as its [`SegmentNode`] serializes, written from the borrowed segment:
/// no node, no copy of its text.
fn write_segment<W: Write>(out: &mut W, step: &SegmentStep<'_, '_>) -> io::Result<()> {
    let segment = &step.segment;
    out.write_all(b"{\"id\":")?;
    text(out, segment.id())?;
    if let Some(name) = step.name {
        out.write_all(b",\"name\":")?;
        put(out, name)?;
    }
    write!(out, ",\"line\":{},\"elements\":[", step.line)?;
    write_elements(out, segment)?;
    out.write_all(b"]")?;
    if step.unexpected {
        out.write_all(b",\"unexpected\":true")?;
    }
    out.write_all(b"}")
}

/// The elements of `segment` as [`super::element_values`] gives them: text, or lists of
/// components and repetitions.
fn write_elements<W: Write>(out: &mut W, segment: &Segment<'_>) -> io::Result<()> {
    let d = segment.delimiters();
    let is_isa = segment.id() == b"ISA";
    let one = |out: &mut W, raw: &[u8]| -> io::Result<()> {
        if memchr::memchr(d.component, raw).is_none() {
            return text(out, raw);
        }
        out.write_all(b"[")?;
        for (i, component) in raw.split(|b| *b == d.component).enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            text(out, component)?;
        }
        out.write_all(b"]")
    };
    for (i, element) in segment.elements().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let raw = element.raw();
        if is_isa {
            text(out, raw)?;
        } else if d.has_repetition() && memchr::memchr(d.repetition, raw).is_some() {
            out.write_all(b"[")?;
            for (k, repetition) in element.repetitions().enumerate() {
                if k > 0 {
                    out.write_all(b",")?;
                }
                one(out, repetition.raw())?;
            }
            out.write_all(b"]")?;
        } else {
            one(out, raw)?;
        }
    }
    Ok(())
}

/// Bytes as a JSON string: as they are when UTF-8 (the usual case, written without a copy),
/// else with the invalid sequences replaced, as the tree's text is.
fn text<W: Write>(out: &mut W, bytes: &[u8]) -> io::Result<()> {
    match std::str::from_utf8(bytes) {
        Ok(s) => put(out, s),
        Err(_) => put(out, &String::from_utf8_lossy(bytes)),
    }
}

impl<W: Write> JsonTreeWriter<W> {
    /// A writer to `out`; the document opens with the first step.
    pub fn new(out: W) -> Self {
        Self {
            out,
            interchanges: 0,
            groups: 0,
            transactions: 0,
            items: vec![],
            outside: vec![],
        }
    }

    /// Writes what `step` adds.
    pub fn step(&mut self, step: Step<'_, '_>) -> Result<(), TreeWriteError> {
        let out = &mut self.out;
        match step {
            Step::InterchangeStart(header) => {
                out.write_all(if self.interchanges == 0 {
                    b"{\"interchanges\":["
                } else {
                    b","
                })?;
                self.interchanges += 1;
                self.groups = 0;
                out.write_all(b"{\"header\":")?;
                put(out, &header)?;
                out.write_all(b",\"groups\":[")?;
            }
            Step::InterchangeSegment(segment) => {
                if self.outside.len() >= MAX_OUTSIDE_GROUPS {
                    return Err(TreeWriteError::OutsideGroups { line: segment.line });
                }
                self.outside.push(segment);
            }
            Step::InterchangeEnd(trailer) => {
                out.write_all(b"]")?;
                if !self.outside.is_empty() {
                    out.write_all(b",\"segments\":")?;
                    put(out, &self.outside)?;
                    self.outside.clear();
                }
                out.write_all(b",\"trailer\":")?;
                put(out, &trailer)?;
                out.write_all(b"}")?;
            }
            Step::GroupStart(header) => {
                if self.groups > 0 {
                    out.write_all(b",")?;
                }
                self.groups += 1;
                self.transactions = 0;
                out.write_all(b"{\"header\":")?;
                put(out, &header)?;
                out.write_all(b",\"transactions\":[")?;
            }
            Step::GroupEnd(trailer) => {
                out.write_all(b"],\"trailer\":")?;
                put(out, &trailer)?;
                out.write_all(b"}")?;
            }
            Step::TransactionStart(TransactionStart {
                id,
                control,
                guide,
                name,
            }) => {
                if self.transactions > 0 {
                    out.write_all(b",")?;
                }
                self.transactions += 1;
                out.write_all(b"{\"id\":")?;
                put(out, &id)?;
                out.write_all(b",\"control\":")?;
                put(out, &control)?;
                out.write_all(b",\"guide\":")?;
                put(out, &guide)?;
                out.write_all(b",\"body\":{\"loop\":\"ST\",\"name\":")?;
                put(out, &name)?;
                out.write_all(b",\"content\":[")?;
                self.items.clear();
                self.items.push(0);
            }
            Step::LoopStart { id, name } => {
                self.item()?;
                let out = &mut self.out;
                out.write_all(b"{\"loop\":")?;
                put(out, id)?;
                out.write_all(b",\"name\":")?;
                put(out, name)?;
                out.write_all(b",\"content\":[")?;
                self.items.push(0);
            }
            Step::Segment(segment) => {
                self.item()?;
                write_segment(&mut self.out, &segment)?;
            }
            Step::LoopEnd => {
                if self.items.len() > 1 {
                    self.items.pop();
                    out.write_all(b"]}")?;
                }
            }
            Step::TransactionEnd => {
                self.items.clear();
                out.write_all(b"]}}")?;
            }
        }
        Ok(())
    }

    /// A comma before every item of a loop's content but its first.
    fn item(&mut self) -> io::Result<()> {
        if let Some(count) = self.items.last_mut() {
            if *count > 0 {
                self.out.write_all(b",")?;
            }
            *count += 1;
        }
        Ok(())
    }

    /// Closes the document (an input without interchanges is `{"interchanges":[]}`) and
    /// gives the output back.
    pub fn finish(mut self) -> io::Result<W> {
        if self.interchanges == 0 {
            self.out.write_all(b"{\"interchanges\":[")?;
        }
        self.out.write_all(b"]}")?;
        Ok(self.out)
    }
}
