//! The parse tree as a stream of steps (an interchange opens, a loop opens, a segment, a loop
//! ends, ...) in input order: what [`super::parse`] folds into a [`super::Document`], and what
//! a reader that cannot hold a whole document takes one step at a time (a 200 MB file written
//! out as JSON, a 50,000-claim 837 read claim by claim). One place decides where each segment
//! goes, so the streamed and the whole tree never disagree.
#![allow(
    clippy::indexing_slicing,
    reason = "segment and loop indices come from the guide's own tables"
)]

use std::io::Read;

use super::{SegmentNode, TreeError, node, text};
use crate::reader::Reader;
use crate::segment::Segment;
use crate::spec::{Catalog, Guide};
use crate::validate::Placement;
use crate::walk::{Place, Placer};

/// A transaction set's opening: its ST values and the guide its loops are read by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionStart {
    /// ST01.
    pub id: String,
    /// ST02.
    pub control: String,
    /// The guide's version (`005010X222A1`), when the catalog has one for the set.
    pub guide: Option<String>,
    /// The root loop's name: the guide's, or `Transaction Set`.
    pub name: String,
}

/// A segment of a transaction set as a step gives it: borrowed from the input, with the
/// guide's name for it, so a writer can put it out without building a [`SegmentNode`].
#[derive(Debug, Clone, Copy)]
pub struct SegmentStep<'a, 'g> {
    /// The segment.
    pub segment: Segment<'a>,
    /// Segment number in the input, 1-based.
    pub line: usize,
    /// The guide's name for it, when it was placed in a guide.
    pub name: Option<&'g str>,
    /// True when the guide has no place for it here.
    pub unexpected: bool,
}

impl SegmentStep<'_, '_> {
    /// The segment as a node of the tree (its text copied).
    pub fn to_node(&self) -> SegmentNode {
        SegmentNode {
            unexpected: self.unexpected,
            ..node(&self.segment, self.line, self.name.map(str::to_string))
        }
    }

    /// The segment as a node without the guide's name for it: for a reader that takes only
    /// its values (a claim read from its loops), which then copies no name for each segment.
    pub fn to_unnamed_node(&self) -> SegmentNode {
        SegmentNode {
            unexpected: self.unexpected,
            ..node(&self.segment, self.line, None)
        }
    }
}

/// One step of the tree, in input order.
#[derive(Debug, Clone)]
pub enum Step<'a, 'g> {
    /// ISA: an interchange opens.
    InterchangeStart(SegmentNode),
    /// A segment directly in the open interchange, outside any group (a TA1, or a stray
    /// segment between transaction sets).
    InterchangeSegment(SegmentNode),
    /// The interchange ends: at its IEA, or without one when the next ISA or the input's end
    /// comes first.
    InterchangeEnd(Option<SegmentNode>),
    /// GS: a functional group opens.
    GroupStart(SegmentNode),
    /// The group ends: at its GE, or without one.
    GroupEnd(Option<SegmentNode>),
    /// ST: a transaction set opens, with its root loop; the ST segment follows as a
    /// [`Step::Segment`].
    TransactionStart(TransactionStart),
    /// A loop opens inside the innermost open one.
    LoopStart {
        /// The guide's loop id (`2300`).
        id: &'g str,
        /// The guide's loop name.
        name: &'g str,
    },
    /// A segment of the innermost open loop.
    Segment(SegmentStep<'a, 'g>),
    /// The innermost open loop ends (never the root: [`Step::TransactionEnd`] ends that).
    LoopEnd,
    /// The transaction set ends: after its SE, or when its group or interchange ends first.
    TransactionEnd,
}

/// Turns segments, pushed in input order, into [`Step`]s.
#[derive(Debug)]
pub struct Stepper<'g> {
    placer: Placer<'g>,
    guide: Option<&'g Guide>,
    interchange_open: bool,
    group_open: bool,
    /// Loops open in the transaction set, its root included; 0 outside one.
    depth: usize,
}

impl<'g> Stepper<'g> {
    /// A stepper at the start of an input, finding guides in `catalog`.
    pub fn new(catalog: &'g Catalog) -> Self {
        Self {
            placer: Placer::new(catalog),
            guide: None,
            interchange_open: false,
            group_open: false,
            depth: 0,
        }
    }

    /// Places the next segment and hands `sink` the steps it makes. A segment outside the
    /// envelope that must hold it is an error that ends the input.
    pub fn push<'a, E: From<TreeError>>(
        &mut self,
        segment: &Segment<'a>,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        let (line, place, _) = self.placer.next(segment)?;
        let outside = |needed| TreeError::Structure {
            line,
            id: segment.id_str().to_string(),
            needed,
        };
        match place {
            Place::Envelope => match segment.id() {
                b"ISA" => {
                    self.end_interchange(sink)?;
                    self.interchange_open = true;
                    sink(Step::InterchangeStart(node(segment, line, None)))
                }
                b"GS" => {
                    self.end_group(sink)?;
                    if !self.interchange_open {
                        return Err(outside("an interchange").into());
                    }
                    self.group_open = true;
                    sink(Step::GroupStart(node(segment, line, None)))
                }
                b"GE" => {
                    self.end_transaction(sink)?;
                    if self.group_open {
                        self.group_open = false;
                        sink(Step::GroupEnd(Some(node(segment, line, None))))
                    } else {
                        self.in_interchange(segment, line, sink)
                    }
                }
                _ => {
                    self.end_group(sink)?;
                    if !self.interchange_open {
                        return Err(outside("an interchange").into());
                    }
                    self.interchange_open = false;
                    sink(Step::InterchangeEnd(Some(node(segment, line, None))))
                }
            },
            Place::Interchange => self.in_interchange(segment, line, sink),
            Place::Start(guide) => {
                self.end_transaction(sink)?;
                if !self.group_open {
                    return Err(outside("a functional group").into());
                }
                self.guide = guide;
                self.depth = 1;
                sink(Step::TransactionStart(TransactionStart {
                    id: text(segment.value(1)).to_string(),
                    control: text(segment.value(2)).to_string(),
                    guide: guide.map(|g| g.version.clone()),
                    name: guide.map_or_else(|| "Transaction Set".into(), |g| g.name.clone()),
                }))?;
                sink(Step::Segment(SegmentStep {
                    segment: *segment,
                    line,
                    name: guide
                        .and_then(|g| g.segments.first())
                        .map(|s| s.name.as_str()),
                    unexpected: false,
                }))
            }
            Place::Body(_) if self.depth == 0 => self.in_interchange(segment, line, sink),
            Place::Body(placement) => {
                let mut step = SegmentStep {
                    segment: *segment,
                    line,
                    name: None,
                    unexpected: false,
                };
                match (placement, self.guide) {
                    (
                        Some(Placement::Found {
                            segment: s,
                            closed,
                            opened,
                        }),
                        Some(g),
                    ) => {
                        for _ in 0..closed {
                            self.end_loop(sink)?;
                        }
                        if let Some(l) = opened {
                            self.depth += 1;
                            sink(Step::LoopStart {
                                id: &g.loops[l].id,
                                name: &g.loops[l].name,
                            })?;
                        }
                        step.name = Some(g.segments[s].name.as_str());
                    }
                    (Some(Placement::NotFound), _) => step.unexpected = true,
                    _ => {}
                }
                sink(Step::Segment(step))?;
                if segment.id() == b"SE" {
                    self.end_transaction(sink)?;
                }
                Ok(())
            }
        }
    }

    /// Ends what is still open at the input's end.
    pub fn finish<'a, E>(
        &mut self,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.end_interchange(sink)
    }

    fn in_interchange<'a, E: From<TreeError>>(
        &mut self,
        segment: &Segment<'a>,
        line: usize,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.interchange_open {
            return Err(TreeError::Structure {
                line,
                id: segment.id_str().to_string(),
                needed: "an interchange",
            }
            .into());
        }
        sink(Step::InterchangeSegment(node(segment, line, None)))
    }

    fn end_loop<'a, E>(
        &mut self,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.depth > 1 {
            self.depth -= 1;
            sink(Step::LoopEnd)?;
        }
        Ok(())
    }

    fn end_transaction<'a, E>(
        &mut self,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.depth == 0 {
            return Ok(());
        }
        while self.depth > 1 {
            self.end_loop(sink)?;
        }
        self.depth = 0;
        sink(Step::TransactionEnd)
    }

    fn end_group<'a, E>(
        &mut self,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.end_transaction(sink)?;
        if self.group_open {
            self.group_open = false;
            sink(Step::GroupEnd(None))?;
        }
        Ok(())
    }

    fn end_interchange<'a, E>(
        &mut self,
        sink: &mut impl FnMut(Step<'a, 'g>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.end_group(sink)?;
        if self.interchange_open {
            self.interchange_open = false;
            sink(Step::InterchangeEnd(None))?;
        }
        Ok(())
    }
}

/// Reads `input` segment by segment (a buffer of the longest segment, never the whole input)
/// and hands each [`Step`] to `sink`.
pub fn read_steps<'g, R: Read, E: From<TreeError>>(
    input: R,
    catalog: &'g Catalog,
    mut sink: impl for<'a> FnMut(Step<'a, 'g>) -> Result<(), E>,
) -> Result<(), E> {
    let mut stepper = Stepper::new(catalog);
    let mut segments = Reader::new(input);
    while let Some(next) = segments.next_segment() {
        let segment = next.map_err(TreeError::from)?;
        stepper.push(&segment, &mut sink)?;
    }
    stepper.finish(&mut sink)
}
