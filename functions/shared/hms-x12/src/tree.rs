//! Parsing into a tree, for callers who want one: interchanges → groups → transaction sets →
//! loops (with their guide ids) → segments → elements. Built by the same walker the validator
//! uses, so loops are recognised the same way (HL level codes, NM1 qualifiers, ...).
//!
//! Unlike the validator, the tree owns its text, so it costs memory in proportion to the input.
#![allow(
    clippy::indexing_slicing,
    reason = "segment and loop indices come from the guide's own tables"
)]

use compact_str::CompactString;

use crate::segment::Segment;
use crate::spec::Catalog;
use crate::validate::Placement;
pub use crate::walk::TreeError;
use crate::walk::{Place, Placed, Walk};

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
    /// Segments directly in the interchange, outside groups (TA1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentNode>,
    /// Functional groups.
    pub groups: Vec<GroupNode>,
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
pub fn element_values(segment: &Segment<'_>) -> Vec<Value> {
    let d = segment.delimiters();
    let is_isa = segment.id() == b"ISA";
    segment
        .elements()
        .map(|e| {
            if is_isa {
                return Value::Text(text(e.raw()));
            }
            let one = |raw: &[u8]| {
                if memchr::memchr(d.component, raw).is_some() {
                    Value::List(
                        raw.split(|b| *b == d.component)
                            .map(|c| Value::Text(text(c)))
                            .collect(),
                    )
                } else {
                    Value::Text(text(raw))
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

/// Ends the innermost open loop, adding it to its parent; false when only the root is open.
fn close_loop(stack: &mut Vec<LoopNode>) -> bool {
    if stack.len() < 2 {
        return false;
    }
    if let Some(done) = stack.pop()
        && let Some(parent) = stack.last_mut()
    {
        parent.content.push(Item::Loop(done));
    }
    true
}

/// Parses `input` into a [`Document`].
pub fn parse(input: &[u8], catalog: &Catalog) -> Result<Document, TreeError> {
    let mut doc = Document::default();
    // Open loops of the current transaction set (root first).
    let mut stack: Vec<LoopNode> = vec![];
    let mut tx_meta: Option<(String, String, Option<String>)> = None;

    fn close_transaction(
        doc: &mut Document,
        stack: &mut Vec<LoopNode>,
        meta: &mut Option<(String, String, Option<String>)>,
    ) {
        while close_loop(stack) {}
        if let (Some(body), Some((id, control, guide))) = (stack.pop(), meta.take())
            && let Some(g) = doc
                .interchanges
                .last_mut()
                .and_then(|i| i.groups.last_mut())
        {
            g.transactions.push(TransactionNode {
                id,
                control,
                guide,
                body,
            });
        }
    }

    let mut guide = None;
    for placed in Walk::new(input, catalog) {
        let Placed {
            segment,
            line,
            place,
            ..
        } = placed?;
        match place {
            Place::Envelope => match segment.id() {
                b"ISA" => doc.interchanges.push(InterchangeNode {
                    header: node(&segment, line, None),
                    segments: vec![],
                    groups: vec![],
                    trailer: None,
                }),
                b"GS" => {
                    if let Some(i) = doc.interchanges.last_mut() {
                        i.groups.push(GroupNode {
                            header: node(&segment, line, None),
                            transactions: vec![],
                            trailer: None,
                        });
                    }
                }
                b"GE" => {
                    close_transaction(&mut doc, &mut stack, &mut tx_meta);
                    if let Some(g) = doc
                        .interchanges
                        .last_mut()
                        .and_then(|i| i.groups.last_mut())
                    {
                        g.trailer = Some(node(&segment, line, None));
                    }
                }
                _ => {
                    if let Some(i) = doc.interchanges.last_mut() {
                        i.trailer = Some(node(&segment, line, None));
                    }
                }
            },
            Place::Interchange => {
                if let Some(i) = doc.interchanges.last_mut() {
                    i.segments.push(node(&segment, line, None));
                }
            }
            Place::Start(g) => {
                close_transaction(&mut doc, &mut stack, &mut tx_meta);
                guide = g;
                let name = g.and_then(|g| g.segments.first()).map(|s| s.name.clone());
                stack.push(LoopNode {
                    id: "ST".into(),
                    name: g.map_or_else(|| "Transaction Set".into(), |g| g.name.clone()),
                    content: vec![Item::Segment(node(&segment, line, name))],
                });
                tx_meta = Some((
                    text(segment.value(1)).to_string(),
                    text(segment.value(2)).to_string(),
                    g.map(|g| g.version.clone()),
                ));
            }
            Place::Body(placement) => {
                let mut seg_node = node(&segment, line, None);
                match (placement, guide) {
                    (
                        Some(Placement::Found {
                            segment: s,
                            closed,
                            opened,
                        }),
                        Some(g),
                    ) => {
                        for _ in 0..closed {
                            close_loop(&mut stack);
                        }
                        if let Some(l) = opened {
                            // A new iteration of a loop already open at this depth closes it first.
                            stack.push(LoopNode {
                                id: g.loops[l].id.clone(),
                                name: g.loops[l].name.clone(),
                                content: vec![],
                            });
                        }
                        seg_node.name = Some(g.segments[s].name.clone());
                    }
                    (Some(Placement::NotFound), _) => seg_node.unexpected = true,
                    _ => {}
                }
                if let Some(top) = stack.last_mut() {
                    top.content.push(Item::Segment(seg_node));
                }
                if segment.id() == b"SE" {
                    close_transaction(&mut doc, &mut stack, &mut tx_meta);
                }
            }
        }
    }
    close_transaction(&mut doc, &mut stack, &mut tx_meta);
    Ok(doc)
}
