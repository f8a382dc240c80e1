//! Parsing into a tree, for callers who want one: interchanges → groups → transaction sets →
//! loops (with their guide ids) → segments → elements. Built by the same walker the validator
//! uses, so loops are recognised the same way (HL level codes, NM1 qualifiers, ...).
//!
//! Unlike the validator, the tree owns its text, so it costs memory in proportion to the input;
//! [`read_steps`] streams the same tree one step at a time, and [`JsonTreeWriter`] writes its
//! JSON as the steps come, in memory bounded by the longest segment.
#![allow(
    clippy::indexing_slicing,
    reason = "segment and loop indices come from the guide's own tables"
)]

use compact_str::CompactString;

mod json;
mod steps;

pub use json::{JsonTreeWriter, TreeWriteError};
pub use steps::{SegmentStep, Step, Stepper, TransactionStart, read_steps};

use crate::reader::Tokenizer;
use crate::segment::Segment;
use crate::spec::Catalog;
pub use crate::walk::TreeError;

/// An element value: text, or a list (components of a composite, or repetitions).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A simple value (inline up to 24 bytes: most X12 values need no allocation).
    Text(CompactString),
    /// Components, or repetitions (each text or a component list).
    List(Vec<Value>),
}

/// One segment with its elements.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentNode {
    /// Segment id.
    pub id: CompactString,
    /// The guide's name for it, when it was placed in a guide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Segment number in the file, 1-based (0 for a segment not read from a file).
    #[serde(default)]
    pub line: usize,
    /// Elements, element 01 first.
    pub elements: Vec<Value>,
    /// True when the guide has no place for the segment here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unexpected: bool,
}

/// A loop or a segment inside a loop.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Item {
    /// A nested loop.
    Loop(LoopNode),
    /// A segment.
    Segment(SegmentNode),
}

/// A loop with its content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoopNode {
    /// Loop id from the guide (`2000A`; `ST` for the transaction set itself).
    #[serde(rename = "loop")]
    pub id: String,
    /// Loop name.
    pub name: String,
    /// Content in order.
    pub content: Vec<Item>,
}

/// A transaction set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransactionNode {
    /// ST01.
    pub id: String,
    /// ST02.
    pub control: String,
    /// The guide used to recognise loops, if any.
    pub guide: Option<String>,
    /// The transaction set, ST to SE, as loops.
    pub body: LoopNode,
}

/// A functional group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupNode {
    /// GS segment.
    pub header: SegmentNode,
    /// Transaction sets.
    pub transactions: Vec<TransactionNode>,
    /// GE segment, if present.
    pub trailer: Option<SegmentNode>,
}

/// An interchange.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterchangeNode {
    /// ISA segment.
    pub header: SegmentNode,
    /// Functional groups.
    pub groups: Vec<GroupNode>,
    /// Segments directly in the interchange, outside groups (TA1). After the groups, so a
    /// streamed tree can write each group as it completes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentNode>,
    /// IEA segment, if present.
    pub trailer: Option<SegmentNode>,
}

/// A whole parsed input.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Document {
    /// Interchanges in order.
    pub interchanges: Vec<InterchangeNode>,
}

fn text(b: &[u8]) -> CompactString {
    match std::str::from_utf8(b) {
        Ok(s) => CompactString::new(s),
        Err(_) => CompactString::from_utf8_lossy(b),
    }
}

/// Elements of a segment as values: components and repetitions become lists.
///
/// Every segment of a file becomes values, so the common case is kept cheap: the segment's
/// text is checked once (each value is then a slice of it), and a segment with no component
/// or repetition separator anywhere is split on element separators alone.
pub fn element_values(segment: &Segment<'_>) -> Vec<Value> {
    let d = segment.delimiters();
    let raw = segment.raw();
    let is_isa = segment.id() == b"ISA";
    let whole = std::str::from_utf8(raw).ok();
    let base = raw.as_ptr() as usize;
    // A value as text: its slice of the checked segment (separators are ASCII, so a value
    // between them is whole characters), else checked on its own (`text`).
    let text_of = |value: &[u8]| -> CompactString {
        let start = (value.as_ptr() as usize).wrapping_sub(base);
        let sliced = start
            .checked_add(value.len())
            .and_then(|end| whole.and_then(|w| w.get(start..end)))
            .filter(|s| std::ptr::eq(s.as_ptr(), value.as_ptr()));
        match sliced {
            Some(s) => CompactString::new(s),
            None => text(value),
        }
    };
    let repetition = if d.has_repetition() {
        d.repetition
    } else {
        d.component
    };
    if is_isa || memchr::memchr2(d.component, repetition, raw).is_none() {
        return segment
            .elements()
            .map(|e| Value::Text(text_of(e.raw())))
            .collect();
    }
    segment
        .elements()
        .map(|e| {
            let one = |raw: &[u8]| {
                if memchr::memchr(d.component, raw).is_some() {
                    Value::List(
                        raw.split(|b| *b == d.component)
                            .map(|c| Value::Text(text_of(c)))
                            .collect(),
                    )
                } else {
                    Value::Text(text_of(raw))
                }
            };
            if d.has_repetition() && memchr::memchr(d.repetition, e.raw()).is_some() {
                Value::List(e.repetitions().map(|r| one(r.raw())).collect())
            } else {
                one(e.raw())
            }
        })
        .collect()
}

fn node(segment: &Segment<'_>, line: usize, name: Option<String>) -> SegmentNode {
    SegmentNode {
        id: CompactString::from(segment.id_str()),
        name,
        line,
        elements: element_values(segment),
        unexpected: false,
    }
}

/// Parses `input` into a [`Document`]: the input's [`Step`]s, folded.
pub fn parse(input: &[u8], catalog: &Catalog) -> Result<Document, TreeError> {
    let mut doc = Document::default();
    // Open loops of the current transaction set (root first).
    let mut stack: Vec<LoopNode> = vec![];
    let mut transaction: Option<TransactionStart> = None;
    let mut fold = |step: Step<'_, '_>| -> Result<(), TreeError> {
        let interchange = doc.interchanges.last_mut();
        match step {
            Step::InterchangeStart(header) => doc.interchanges.push(InterchangeNode {
                header,
                groups: vec![],
                segments: vec![],
                trailer: None,
            }),
            Step::InterchangeSegment(segment) => {
                if let Some(i) = interchange {
                    i.segments.push(segment);
                }
            }
            Step::InterchangeEnd(trailer) => {
                if let Some(i) = interchange {
                    i.trailer = trailer;
                }
            }
            Step::GroupStart(header) => {
                if let Some(i) = interchange {
                    i.groups.push(GroupNode {
                        header,
                        transactions: vec![],
                        trailer: None,
                    });
                }
            }
            Step::GroupEnd(trailer) => {
                if let Some(g) = interchange.and_then(|i| i.groups.last_mut()) {
                    g.trailer = trailer;
                }
            }
            Step::TransactionStart(start) => {
                stack.clear();
                stack.push(LoopNode {
                    id: "ST".into(),
                    name: start.name.clone(),
                    content: vec![],
                });
                transaction = Some(start);
            }
            Step::LoopStart { id, name } => stack.push(LoopNode {
                id: id.to_string(),
                name: name.to_string(),
                content: vec![],
            }),
            Step::Segment(segment) => {
                if let Some(top) = stack.last_mut() {
                    top.content.push(Item::Segment(segment.to_node()));
                }
            }
            Step::LoopEnd => {
                if stack.len() > 1
                    && let Some(done) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.content.push(Item::Loop(done));
                }
            }
            Step::TransactionEnd => {
                if let (Some(body), Some(start)) = (stack.pop(), transaction.take())
                    && let Some(g) = interchange.and_then(|i| i.groups.last_mut())
                {
                    g.transactions.push(TransactionNode {
                        id: start.id,
                        control: start.control,
                        guide: start.guide,
                        body,
                    });
                }
            }
        }
        Ok(())
    };
    let mut stepper = Stepper::new(catalog);
    for segment in Tokenizer::new(input) {
        stepper.push(&segment?, &mut fold)?;
    }
    stepper.finish(&mut fold)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delimiters::Delimiters;
    use proptest::prelude::*;

    /// Each value checked and split on its own: what [`element_values`] must give.
    fn one_by_one(segment: &Segment<'_>) -> Vec<Value> {
        let d = segment.delimiters();
        let is_isa = segment.id() == b"ISA";
        let one = |raw: &[u8]| {
            if raw.contains(&d.component) {
                Value::List(
                    raw.split(|b| *b == d.component)
                        .map(|c| Value::Text(text(c)))
                        .collect(),
                )
            } else {
                Value::Text(text(raw))
            }
        };
        segment
            .elements()
            .map(|e| {
                if is_isa {
                    Value::Text(text(e.raw()))
                } else if d.has_repetition() && e.raw().contains(&d.repetition) {
                    Value::List(e.repetitions().map(|r| one(r.raw())).collect())
                } else {
                    one(e.raw())
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn values_are_those_of_each_element_read_on_its_own(
            body in prop::collection::vec(
                prop_oneof![
                    4 => prop::sample::select(b"ABC123 *:^".to_vec()),
                    1 => any::<u8>(),
                ],
                0..200,
            ),
            isa in any::<bool>(),
            repetition in prop::sample::select(b"^U".to_vec()),
        ) {
            // Multi-byte characters and bytes that are no UTF-8, beside every separator, and
            // segments past the separator index.
            let mut raw = if isa { b"ISA*".to_vec() } else { b"NM1*".to_vec() };
            raw.extend_from_slice(&body);
            raw.extend_from_slice("*ÉÅ:ß".as_bytes());
            let d = Delimiters { repetition, ..Delimiters::default() };
            let segment = Segment::new(&raw, 0, d);
            prop_assert_eq!(element_values(&segment), one_by_one(&segment));
        }
    }
}
