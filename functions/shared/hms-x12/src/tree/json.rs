//! The parse tree's JSON, written as its [`Step`]s come: byte for byte what
//! `serde_json::to_writer(&parse(..))` writes, with one segment in memory at a time (and the
//! few segments an interchange holds outside its groups, which its JSON puts after them).

use std::io::{self, Write};

use serde::Serialize;

use super::{SegmentNode, Step, TransactionStart, TreeError};

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
    pub fn step(&mut self, step: Step<'_>) -> Result<(), TreeWriteError> {
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
                put(&mut self.out, &segment)?;
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
