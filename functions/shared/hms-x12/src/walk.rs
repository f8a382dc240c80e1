//! Every segment of an input with the place the guide gives it, streamed: the envelope segments,
//! each transaction set's start with its guide, and each body segment's placement in the guide's
//! loops ([`Placer`]). The parse tree's steps are built on it, and so are readers that go
//! straight to a domain model without an owned tree (the 835 remittance reader), which is what
//! keeps them fast.
#![allow(
    clippy::indexing_slicing,
    reason = "loop indices come from the guide's own tables"
)]

use compact_str::CompactString;

use crate::error::ReadError;
use crate::segment::Segment;
use crate::spec::{Catalog, Guide, LoopSpec};
use crate::validate::{LoopWalker, Placement, WalkIssue};

/// Errors that stop tree parsing: what the walk through the envelopes and loops meets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The input could not be tokenized.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A segment is outside the envelope that must hold it.
    #[error("line {line}: {id} outside {needed}")]
    Structure {
        /// Segment number.
        line: usize,
        /// Segment id.
        id: String,
        /// What was needed.
        needed: &'static str,
    },
}

/// Where a segment belongs.
#[derive(Debug, Clone, Copy)]
pub enum Place<'g> {
    /// ISA, IEA, GS or GE.
    Envelope,
    /// A segment directly in an interchange, outside any group (TA1).
    Interchange,
    /// ST: a transaction set begins; with its guide, when the catalog has one for its
    /// implementation convention (ST03, else GS08).
    Start(Option<&'g Guide>),
    /// A segment of the transaction set, SE included: its placement in the guide, or `None`
    /// when the transaction set has no guide.
    Body(Option<Placement>),
}

/// Places each segment, given in input order by whatever reads them (a [`crate::Tokenizer`]
/// over bytes in memory, a streaming [`crate::reader::Reader`] over a file too large to hold).
#[derive(Debug)]
pub struct Placer<'g> {
    catalog: &'g Catalog,
    walker: Option<LoopWalker<'g>>,
    line: usize,
    interchanges: usize,
    groups_in_interchange: usize,
    in_transaction: bool,
    /// GS08 of the open group: the version of an ST without ST03.
    group_version: CompactString,
    /// The walker's structural issues, unused here (the validator reports them); kept to reuse
    /// its allocation.
    issues: Vec<WalkIssue>,
}

impl<'g> Placer<'g> {
    /// A placer at the start of an input, finding guides in `catalog`.
    pub fn new(catalog: &'g Catalog) -> Self {
        Self {
            catalog,
            walker: None,
            line: 0,
            interchanges: 0,
            groups_in_interchange: 0,
            in_transaction: false,
            group_version: CompactString::default(),
            issues: vec![],
        }
    }

    /// The next segment of the input: its number (1-based), its place, and the innermost loop
    /// open after it. An error (a segment outside the envelope that must hold it) ends the
    /// input.
    pub fn next(
        &mut self,
        segment: &Segment<'_>,
    ) -> Result<(usize, Place<'g>, Option<&'g LoopSpec>), TreeError> {
        self.line += 1;
        let (place, in_loop) = self.place(segment)?;
        Ok((self.line, place, in_loop))
    }

    fn place(
        &mut self,
        segment: &Segment<'_>,
    ) -> Result<(Place<'g>, Option<&'g LoopSpec>), TreeError> {
        let structure = |needed| TreeError::Structure {
            line: self.line,
            id: segment.id_str().to_string(),
            needed,
        };
        let root = |walker: &Option<LoopWalker<'g>>| walker.as_ref().map(|w| w.guide().root());
        match segment.id() {
            b"ISA" => {
                self.interchanges += 1;
                self.groups_in_interchange = 0;
                self.in_transaction = false;
                Ok((Place::Envelope, None))
            }
            b"IEA" | b"GS" if self.interchanges == 0 => Err(structure("an interchange")),
            b"IEA" => Ok((Place::Envelope, None)),
            b"GS" => {
                self.groups_in_interchange += 1;
                self.group_version = lossy(segment.value(8));
                Ok((Place::Envelope, None))
            }
            b"GE" | b"ST" if self.groups_in_interchange == 0 => {
                Err(structure("a functional group"))
            }
            b"GE" => {
                self.in_transaction = false;
                Ok((Place::Envelope, None))
            }
            b"ST" => {
                self.in_transaction = true;
                let version = match segment.element(3).filter(|e| !e.is_empty()) {
                    Some(e) => lossy(e.raw()),
                    None => self.group_version.clone(),
                };
                let guide = self
                    .catalog
                    .guide_for(&lossy(segment.value(1)), &version)
                    .map(|(g, _)| g);
                match (guide, self.walker.as_mut()) {
                    (Some(g), Some(w)) => w.reset(g),
                    (Some(g), None) => self.walker = Some(LoopWalker::new(g)),
                    (None, _) => self.walker = None,
                }
                Ok((Place::Start(guide), root(&self.walker)))
            }
            _ if !self.in_transaction => {
                if self.interchanges == 0 {
                    Err(structure("an interchange"))
                } else {
                    Ok((Place::Interchange, None))
                }
            }
            id => {
                let issues = &mut self.issues;
                let placement = self.walker.as_mut().map(|w| {
                    issues.clear();
                    w.place(segment, issues)
                });
                let in_loop = self
                    .walker
                    .as_ref()
                    .map(|w| &w.guide().loops[w.current_loop()]);
                if id == b"SE" {
                    self.in_transaction = false;
                    return Ok((Place::Body(placement), root(&self.walker)));
                }
                Ok((Place::Body(placement), in_loop))
            }
        }
    }
}

fn lossy(b: &[u8]) -> CompactString {
    CompactString::from_utf8_lossy(b)
}
