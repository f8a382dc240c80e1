//! What separates two parse trees of a transaction set, as a patch that turns one into the other,
//! and the X12 text of a tree.
//!
//! A domain model holds what it interprets; an X12 file holds more (every situational element of
//! every TR3 segment). To give a file back without losing anything, a reader keeps what its model
//! did not take as a [`LoopPatch`]: the difference between the file and what the writer makes of
//! the model. Writing applies the patch to the writer's output. The diff also says which of its
//! edits *change* a value the writer wrote (a [`Conflict`]): those are the model altering data,
//! which a faithful model never does, and which the round-trip tests count.
//!
//! Values compare by meaning, not spelling: numbers by value where the dictionary types the element
//! numeric (`100` = `100.00`), trailing empty elements and components are nothing.
#![allow(
    clippy::indexing_slicing,
    reason = "the diff indexes its own tables, sized from the two sequences it compares"
)]

use serde::{Deserialize, Serialize};

use crate::Delimiters;
use crate::spec::{Catalog, ElementType};
use crate::tree::{Document, Item, LoopNode, SegmentNode, Value};
use crate::writer::{Field, SegmentWriter, WriteError};

/// Edits, in order, over the items (segments and loops) of one loop of the writer's tree; the
/// items after the last edit are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LoopPatch {
    /// The edits.
    pub ops: Vec<Op>,
}

impl LoopPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.iter().all(|op| matches!(op, Op::Keep(_)))
    }
}

/// One edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Op {
    /// The next `n` items stay as they are.
    Keep(usize),
    /// The next item, a segment, takes these element values.
    Set(Vec<ElementEdit>),
    /// The next item, a loop, takes this patch.
    Loop(LoopPatch),
    /// An item the writer did not make, inserted here.
    Insert(Item),
    /// The next item is left out.
    Drop,
}

/// One element's value as the original has it (empty text: the element is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementEdit {
    /// Element position, 1-based.
    pub position: usize,
    /// The value.
    pub value: Value,
}

/// An edit that changes or removes something the writer wrote: the model lost or altered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Where: the loop path and the segment (`2000A/2000B/2300/CLM05`).
    pub at: String,
    /// The original's value.
    pub original: String,
    /// What the writer made of it.
    pub written: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the file has {:?}, the model writes {:?}",
            self.at, self.original, self.written
        )
    }
}

/// A patch that does not fit the tree it is applied to (the model was changed since it was
/// read, in a way the patch cannot follow).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the kept X12 does not fit loop {loop_id}: {message}")]
pub struct PatchError {
    /// The loop.
    pub loop_id: String,
    /// What did not fit.
    pub message: String,
}

/// How to compare: the dictionary (which elements are numbers) and the element positions whose
/// values belong to the envelope, not the model (`("SE", 1)`, a count; `("ST", 2)`, a control
/// number): a writer makes them afresh, so a difference there is kept but is no conflict.
#[derive(Debug, Clone, Copy)]
pub struct Comparison<'c> {
    /// The dictionary.
    pub catalog: &'c Catalog,
    /// Segment id and element position of the envelope's values.
    pub envelope: &'c [(&'c str, usize)],
    /// Whether every difference is a conflict, what the writer left out included: to ask
    /// whether two trees mean the same.
    pub strict: bool,
}

/// The patch that turns `built` into `original`, and the conflicts it holds.
pub fn diff(
    original: &LoopNode,
    built: &LoopNode,
    how: Comparison<'_>,
    conflicts: &mut Vec<Conflict>,
) -> LoopPatch {
    diff_at(original, built, how, &original.id, conflicts)
}

/// What two items must share to be the same item in two trees: a loop's id; a segment's id, and
/// for segments a qualifier in element 01 tells apart (`REF*EJ` is not `REF*1K`), that too.
fn key(item: &Item) -> (bool, &str, &str) {
    match item {
        Item::Segment(s) => {
            let qualifier = match (s.id.as_str(), s.elements.first()) {
                (
                    "REF" | "DTP" | "DTM" | "NM1" | "N1" | "AMT" | "QTY" | "PER" | "LQ" | "TRN"
                    | "PRV" | "SBR" | "NTE" | "PWK" | "CRC" | "K3" | "MEA",
                    Some(Value::Text(q)),
                ) => q.as_str(),
                _ => "",
            };
            (false, s.id.as_str(), qualifier)
        }
        Item::Loop(l) => (true, l.id.as_str(), ""),
    }
}

fn diff_at(
    original: &LoopNode,
    built: &LoopNode,
    how: Comparison<'_>,
    path: &str,
    conflicts: &mut Vec<Conflict>,
) -> LoopPatch {
    let (a, b) = (&original.content, &built.content);
    let pairs = align(a, b);
    let mut ops: Vec<Op> = vec![];
    let keep = |ops: &mut Vec<Op>| match ops.last_mut() {
        Some(Op::Keep(n)) => *n += 1,
        _ => ops.push(Op::Keep(1)),
    };
    let (mut i, mut j) = (0, 0);
    for (pi, pj) in pairs.into_iter().chain([(a.len(), b.len())]) {
        // Items of the build before the next match are not in the original...
        while j < pj {
            conflicts.push(Conflict {
                at: format!("{path}/{}", key(&b[j]).1),
                original: String::new(),
                written: describe(&b[j]),
            });
            ops.push(Op::Drop);
            j += 1;
        }
        // ... and items of the original before it are not in the build.
        while i < pi {
            if how.strict {
                conflicts.push(Conflict {
                    at: format!("{path}/{}", key(&a[i]).1),
                    original: describe(&a[i]),
                    written: String::new(),
                });
            }
            ops.push(Op::Insert(a[i].clone()));
            i += 1;
        }
        if pi == a.len() {
            break;
        }
        match (&a[pi], &b[pj]) {
            (Item::Segment(sa), Item::Segment(sb)) => {
                let edits = segment_edits(sa, sb, how, path, conflicts);
                if edits.is_empty() {
                    keep(&mut ops);
                } else {
                    ops.push(Op::Set(edits));
                }
            }
            (Item::Loop(la), Item::Loop(lb)) => {
                let inner = diff_at(la, lb, how, &format!("{path}/{}", la.id), conflicts);
                if inner.is_empty() {
                    keep(&mut ops);
                } else {
                    ops.push(Op::Loop(inner));
                }
            }
            // `align` pairs only items of one kind.
            _ => ops.push(Op::Insert(a[pi].clone())),
        }
        i = pi + 1;
        j = pj + 1;
    }
    while matches!(ops.last(), Some(Op::Keep(_))) {
        ops.pop();
    }
    LoopPatch { ops }
}

/// Index pairs of a longest common subsequence of the two item lists by kind and id, after
/// matching the common head and tail directly (the usual case: the lists agree almost
/// everywhere, and a full table would cost the product of their lengths).
fn align(a: &[Item], b: &[Item]) -> Vec<(usize, usize)> {
    let head = a
        .iter()
        .zip(b)
        .take_while(|(x, y)| key(x) == key(y))
        .count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| key(x) == key(y))
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut pairs: Vec<(usize, usize)> = (0..head).map(|k| (k, k)).collect();
    if ma.len().saturating_mul(mb.len()) <= 4_000_000 {
        // lengths[x][y]: the LCS length of ma[x..] and mb[y..].
        let w = mb.len() + 1;
        let mut lengths = vec![0u32; (ma.len() + 1) * w];
        for x in (0..ma.len()).rev() {
            for y in (0..mb.len()).rev() {
                lengths[x * w + y] = if key(&ma[x]) == key(&mb[y]) {
                    lengths[(x + 1) * w + y + 1] + 1
                } else {
                    lengths[(x + 1) * w + y].max(lengths[x * w + y + 1])
                };
            }
        }
        let (mut x, mut y) = (0, 0);
        while x < ma.len() && y < mb.len() {
            if key(&ma[x]) == key(&mb[y]) {
                pairs.push((head + x, head + y));
                x += 1;
                y += 1;
            } else if lengths[(x + 1) * w + y] >= lengths[x * w + y + 1] {
                x += 1;
            } else {
                y += 1;
            }
        }
    } else {
        // Too long for the table: match greedily, in order.
        let mut y = 0;
        for (x, item) in ma.iter().enumerate() {
            if let Some(found) = mb[y..].iter().position(|other| key(other) == key(item)) {
                pairs.push((head + x, head + y + found));
                y += found + 1;
            }
        }
    }
    pairs.extend((0..tail).map(|k| (a.len() - tail + k, b.len() - tail + k)));
    pairs
}

fn describe(item: &Item) -> String {
    match item {
        Item::Segment(s) => format!("segment {}", s.id),
        Item::Loop(l) => format!("loop {}", l.id),
    }
}

/// The edits that give `built` the elements of `original`.
fn segment_edits(
    original: &SegmentNode,
    built: &SegmentNode,
    how: Comparison<'_>,
    path: &str,
    conflicts: &mut Vec<Conflict>,
) -> Vec<ElementEdit> {
    let empty = Value::Text(Default::default());
    let n = original.elements.len().max(built.elements.len());
    let mut edits = vec![];
    for position in 1..=n {
        let a = original.elements.get(position - 1).unwrap_or(&empty);
        let b = built.elements.get(position - 1).unwrap_or(&empty);
        if same_value(a, b, &|component| {
            how.catalog.is_numeric(&original.id, position, component)
        }) {
            continue;
        }
        let envelope = how
            .envelope
            .iter()
            .any(|&(id, p)| id == original.id && p == position);
        if (how.strict || !is_empty(b)) && !envelope {
            conflicts.push(Conflict {
                at: format!("{path}/{}{position:02}", original.id),
                original: show(a),
                written: show(b),
            });
        }
        edits.push(ElementEdit {
            position,
            value: a.clone(),
        });
    }
    edits
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Text(t) => t.is_empty(),
        Value::List(items) => items.iter().all(is_empty),
    }
}

/// A value as `X12` shows it, with `:` between components and `^` between repetitions.
fn show(v: &Value) -> String {
    match v {
        Value::Text(t) => t.to_string(),
        Value::List(items) => items.iter().map(show).collect::<Vec<_>>().join(":"),
    }
}

/// The value's items without trailing empty ones (a simple value is one item).
fn items(v: &Value) -> &[Value] {
    match v {
        Value::Text(_) => std::slice::from_ref(v),
        Value::List(items) => {
            let end = items
                .iter()
                .rposition(|i| !is_empty(i))
                .map_or(0, |p| p + 1);
            &items[..end]
        }
    }
}

/// Whether two values mean the same; `numeric(component)` says whether component `component`
/// (0 for a simple element) is a number.
fn same_value(a: &Value, b: &Value, numeric: &dyn Fn(usize) -> bool) -> bool {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => same_text(x, y, numeric(0)),
        _ => {
            let (xa, xb) = (items(a), items(b));
            xa.len() == xb.len()
                && xa
                    .iter()
                    .zip(xb)
                    .enumerate()
                    .all(|(k, (x, y))| match (x, y) {
                        (Value::Text(x), Value::Text(y)) => {
                            let composite =
                                matches!(a, Value::List(_)) || matches!(b, Value::List(_));
                            same_text(x, y, numeric(if composite { k + 1 } else { 0 }))
                        }
                        // Repetitions of a composite: compared as written.
                        _ => x == y,
                    })
        }
    }
}

fn same_text(a: &str, b: &str, numeric: bool) -> bool {
    a == b || (numeric && number(a).is_some_and(|x| number(b) == Some(x)))
}

/// A number's canonical parts: negative, integer digits without leading zeros, fraction digits
/// without trailing zeros (`-0012.50` → `(true, "12", "5")`; zero is never negative).
fn number(text: &str) -> Option<(bool, &str, &str)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    Some((negative && !(int.is_empty() && frac.is_empty()), int, frac))
}

/// Applies `patch` to `built`, making the original it was taken from.
pub fn apply(built: &mut LoopNode, patch: &LoopPatch) -> Result<(), PatchError> {
    let misfit = |message: String| PatchError {
        loop_id: built.id.clone(),
        message,
    };
    let mut old = std::mem::take(&mut built.content).into_iter();
    let mut out = Vec::with_capacity(old.len());
    for op in &patch.ops {
        match op {
            Op::Keep(n) => {
                for _ in 0..*n {
                    out.push(
                        old.next()
                            .ok_or_else(|| misfit("fewer items than kept".into()))?,
                    );
                }
            }
            Op::Set(edits) => match old.next() {
                Some(Item::Segment(mut s)) => {
                    for e in edits {
                        if s.elements.len() < e.position {
                            s.elements
                                .resize(e.position, Value::Text(Default::default()));
                        }
                        s.elements[e.position - 1] = e.value.clone();
                    }
                    while s.elements.last().is_some_and(is_empty) {
                        s.elements.pop();
                    }
                    out.push(Item::Segment(s));
                }
                other => {
                    return Err(misfit(format!(
                        "element edits for a segment, found {}",
                        other.as_ref().map_or("nothing".into(), describe)
                    )));
                }
            },
            Op::Loop(inner) => match old.next() {
                Some(Item::Loop(mut l)) => {
                    apply(&mut l, inner)?;
                    out.push(Item::Loop(l));
                }
                other => {
                    return Err(misfit(format!(
                        "a loop patch, found {}",
                        other.as_ref().map_or("nothing".into(), describe)
                    )));
                }
            },
            Op::Insert(item) => out.push(item.clone()),
            Op::Drop => {
                old.next()
                    .ok_or_else(|| misfit("nothing left to drop".into()))?;
            }
        }
    }
    out.extend(old);
    built.content = out;
    Ok(())
}

/// `document` as X12 text with `delimiters`, one segment per line when `newline`. The counts of
/// the trailers (SE01, GE01, IEA01) are those of the tree, since a patch may have changed them;
/// control numbers are kept. A list value is a composite's components or a simple element's
/// repetitions as the dictionary says the element is one or the other.
pub fn to_x12(
    document: &Document,
    catalog: &Catalog,
    delimiters: Delimiters,
    newline: bool,
) -> Result<Vec<u8>, WriteError> {
    let mut out = SegmentWriter::new(delimiters, newline);
    for ic in &document.interchanges {
        let mut isa = b"ISA".to_vec();
        for v in &ic.header.elements {
            isa.push(delimiters.element);
            isa.extend_from_slice(show(v).as_bytes());
        }
        out.raw_segment(&isa);
        for s in &ic.segments {
            emit(&mut out, catalog, s, None)?;
        }
        for g in &ic.groups {
            emit(&mut out, catalog, &g.header, None)?;
            for tx in &g.transactions {
                let mut segments = vec![];
                flatten(&tx.body, &mut segments);
                for (k, s) in segments.iter().enumerate() {
                    emit(&mut out, catalog, s, (s.id == "SE").then_some(k + 1))?;
                }
            }
            if let Some(t) = &g.trailer {
                emit(&mut out, catalog, t, Some(g.transactions.len()))?;
            }
        }
        if let Some(t) = &ic.trailer {
            emit(&mut out, catalog, t, Some(ic.groups.len()))?;
        }
    }
    Ok(out.into_bytes())
}

/// Writes one segment; `count`, when given, replaces element 01 (a trailer's count).
fn emit(
    out: &mut SegmentWriter,
    catalog: &Catalog,
    s: &SegmentNode,
    count: Option<usize>,
) -> Result<(), WriteError> {
    fn texts(items: &[Value]) -> Vec<&str> {
        items
            .iter()
            .map(|v| match v {
                Value::Text(t) => t.as_str(),
                Value::List(_) => "",
            })
            .collect()
    }
    let count = count.map(|c| c.to_string());
    let mut fields: Vec<Field<'_>> = vec![];
    for (k, v) in s.elements.iter().enumerate() {
        fields.push(match (k, &count, v) {
            (0, Some(c), _) => Field::Simple(c),
            (_, _, Value::Text(t)) => Field::Simple(t),
            (_, _, Value::List(items)) if items.iter().any(|i| matches!(i, Value::List(_))) => {
                Field::Repeated(
                    items
                        .iter()
                        .map(|i| match i {
                            Value::Text(t) => vec![t.as_str()],
                            Value::List(c) => texts(c),
                        })
                        .collect(),
                )
            }
            (_, _, Value::List(items)) if catalog.is_composite(&s.id, k + 1) => {
                Field::Composite(texts(items))
            }
            (_, _, Value::List(items)) => {
                Field::Repeated(texts(items).into_iter().map(|t| vec![t]).collect())
            }
        });
    }
    out.segment(&s.id, &fields)
}

fn flatten<'t>(scope: &'t LoopNode, out: &mut Vec<&'t SegmentNode>) {
    for item in &scope.content {
        match item {
            Item::Segment(s) => out.push(s),
            Item::Loop(l) => flatten(l, out),
        }
    }
}

impl Catalog {
    /// Whether element `position` of segment `segment` is a composite in the dictionary.
    pub fn is_composite(&self, segment: &str, position: usize) -> bool {
        self.dictionary
            .segments
            .get(segment)
            .and_then(|layout| position.checked_sub(1).and_then(|i| layout.elements.get(i)))
            .is_some_and(|e| self.dictionary.composites.contains_key(&e.reference))
    }

    /// Whether element `position` of segment `segment` (component `component` of it, when that
    /// is not 0 and the element is a composite) is numeric (`R` or `Nn`) in the dictionary.
    pub fn is_numeric(&self, segment: &str, position: usize, component: usize) -> bool {
        let Some(layout) = self.dictionary.segments.get(segment) else {
            return false;
        };
        let Some(element) = position.checked_sub(1).and_then(|i| layout.elements.get(i)) else {
            return false;
        };
        let reference = match self.dictionary.composites.get(&element.reference) {
            Some(composite) => match component
                .max(1)
                .checked_sub(1)
                .and_then(|i| composite.elements.get(i))
            {
                Some(c) => &c.reference,
                None => return false,
            },
            None => &element.reference,
        };
        self.dictionary
            .elements
            .get(reference)
            .is_some_and(|e| matches!(e.kind, ElementType::R | ElementType::N(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{TransactionNode, parse};

    const REMITTANCE: &str = "ISA*00*          *00*          *ZZ*PAYERSIM       *ZZ*HMSACH         *261120*0930*^*00501*000004711*0*T*:~\
GS*HP*PAYERSIM*HMSACH*20261120*0930*4711*X*005010X221A1~ST*835*0001~\
BPR*I*130.00*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*021000021*DA*987654321*20261121~\
TRN*1*EFT20261121001*1512345678~N1*PR*SIMULATED HEALTH PLAN~N3*100 PAYER WAY~\
N4*HARTFORD*CT*061030001~PER*BL*PROVIDER SERVICES*TE*8005550100~N1*PE*GOOD HEALTH CLINIC*XX*1234567893~\
LX*1~CLP*PCN1001*1*200.00*130.00*50.00*12*PAYERCLM0001*11*1~NM1*QC*1*DOE*JANE****MI*W123456789~\
SVC*HC:85025:QW*200.00*130.00**1~DTM*472*20261101~CAS*CO*45*20.00~CAS*PR*2*50.00~AMT*B6*170.00~\
SE*17*0001~GE*1*4711~IEA*1*000004711~";

    fn catalog() -> &'static Catalog {
        match Catalog::embedded() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn transaction(x12: &str) -> TransactionNode {
        match parse(x12.as_bytes(), catalog()) {
            Ok(mut doc) => doc
                .interchanges
                .remove(0)
                .groups
                .remove(0)
                .transactions
                .remove(0),
            Err(e) => panic!("{e}"),
        }
    }

    fn how(strict: bool) -> Comparison<'static> {
        Comparison {
            catalog: catalog(),
            envelope: &[("SE", 1)],
            strict,
        }
    }

    #[test]
    fn numbers_compare_by_value_and_text_by_spelling() {
        for (a, b) in [
            ("100", "100.00"),
            ("-0", "0.0"),
            ("0010", "10"),
            (".5", "0.50"),
        ] {
            assert!(same_text(a, b, true), "{a} {b}");
            assert!(!same_text(a, b, false), "{a} {b}");
        }
        for (a, b) in [
            ("1.5", "15"),
            ("-1", "1"),
            ("", "0"),
            ("1e2", "100"),
            ("-", "0"),
        ] {
            assert!(!same_text(a, b, true), "{a} {b}");
        }
    }

    #[test]
    fn a_patch_gives_back_what_the_build_left_out_or_changed() {
        let original = transaction(REMITTANCE);
        // The "build": a segment left out (PER), one loop's element changed (CLP07), one left
        // empty (N104), an amount written another way (BPR02), a segment added (REF).
        let built = transaction(
            &REMITTANCE
                .replace("PER*BL*PROVIDER SERVICES*TE*8005550100~", "")
                .replace("PAYERCLM0001", "OTHER")
                .replace("*XX*1234567893~", "*XX~")
                .replace("BPR*I*130.00*", "BPR*I*130*")
                .replace("AMT*B6*170.00~", "AMT*B6*170.00~REF*6R*L1~"),
        );
        let mut conflicts = vec![];
        let patch = diff(&original.body, &built.body, how(false), &mut conflicts);
        let found: Vec<String> = conflicts.iter().map(|c| c.at.clone()).collect();
        // Changing CLP07 and adding REF are the model's doing; leaving out PER and N104 is
        // what it does not hold; 130 is 130.00.
        assert_eq!(found, ["ST/2000/2100/CLP07", "ST/2000/2100/2110/REF"]);
        let mut rebuilt = built.body.clone();
        apply(&mut rebuilt, &patch).unwrap_or_else(|e| panic!("{e}"));
        let mut left = vec![];
        diff(&original.body, &rebuilt, how(true), &mut left);
        assert!(left.is_empty(), "{left:?}");
        // And nothing differs between a tree and itself.
        diff(&original.body, &original.body, how(true), &mut left);
        assert!(left.is_empty(), "{left:?}");
        assert!(
            diff(&original.body, &original.body, how(true), &mut left).is_empty(),
            "no edits"
        );
    }

    #[test]
    fn a_patch_that_does_not_fit_says_where() {
        let original = transaction(REMITTANCE);
        let patch = LoopPatch {
            ops: vec![Op::Keep(1), Op::Loop(LoopPatch::default())],
        };
        let mut body = original.body.clone();
        let err = apply(&mut body, &patch).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("the kept X12 does not fit loop ST: a loop patch, found segment BPR".into())
        );
    }

    #[test]
    fn a_tree_written_out_reads_back_the_same_with_counts_made_afresh() {
        let mut doc = match parse(REMITTANCE.as_bytes(), catalog()) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        // Drop the DTM of the service line: SE01 must count one segment fewer.
        let tx = &mut doc.interchanges[0].groups[0].transactions[0];
        fn drop_dtm(l: &mut LoopNode) {
            l.content
                .retain(|i| !matches!(i, Item::Segment(s) if s.id == "DTM"));
            for i in &mut l.content {
                if let Item::Loop(inner) = i {
                    drop_dtm(inner);
                }
            }
        }
        drop_dtm(&mut tx.body);
        let bytes =
            to_x12(&doc, catalog(), Delimiters::default(), false).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&bytes).to_string();
        assert!(
            text.contains("SVC*HC:85025:QW*200.00*130.00**1~CAS"),
            "{text}"
        );
        assert!(
            text.contains("SE*16*0001~GE*1*4711~IEA*1*000004711~"),
            "{text}"
        );
        assert!(
            text.starts_with(REMITTANCE.get(..106).unwrap_or_default()),
            "{text}"
        );
    }
}
