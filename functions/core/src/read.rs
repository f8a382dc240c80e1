//! Reading a parsed X12 tree (`hms_x12::tree`) into the domain: finding a loop's segments and
//! sub-loops, and typed element values whose errors name the segment and element.

use chrono::NaiveDate;
use hms_x12::tree::{Item, LoopNode, SegmentNode, Value};
use rust_decimal::Decimal;

/// A value the guide requires is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {segment}{}: {message}", element_suffix(*.element))]
pub struct ValueError {
    /// Segment number in the file; for a missing segment or loop, the first segment of the
    /// loop that should hold it.
    pub line: usize,
    /// Segment id; for a missing segment or loop, that of the line's segment.
    pub segment: String,
    /// Element position (0 when the segment or loop itself is missing).
    pub element: usize,
    /// What is wrong.
    pub message: String,
}

/// `01`..`99` for an element, nothing for a whole segment.
fn element_suffix(element: usize) -> String {
    if element == 0 {
        String::new()
    } else {
        format!("{element:02}")
    }
}

/// A required loop or segment `what` is missing from `scope`: the error points at the line
/// where `scope` begins.
pub(crate) fn missing_in(scope: &LoopNode, what: &str) -> ValueError {
    let first = scope.content.iter().find_map(|item| match item {
        Item::Segment(s) => Some(s),
        Item::Loop(_) => None,
    });
    ValueError {
        line: first.map_or(0, |s| s.line),
        segment: first.map_or_else(String::new, |s| s.id.to_string()),
        element: 0,
        message: format!(
            "required loop or segment {what} is missing in loop {}",
            scope.id
        ),
    }
}

/// The segments with `id` directly in `scope`.
pub(crate) fn segments<'a>(
    scope: &'a LoopNode,
    id: &'a str,
) -> impl Iterator<Item = &'a SegmentNode> {
    scope.content.iter().filter_map(move |item| match item {
        Item::Segment(s) if s.id == id => Some(s),
        _ => None,
    })
}

/// The loops with `id` directly in `scope`.
pub(crate) fn loops<'a>(scope: &'a LoopNode, id: &'a str) -> impl Iterator<Item = &'a LoopNode> {
    scope.content.iter().filter_map(move |item| match item {
        Item::Loop(l) if l.id == id => Some(l),
        _ => None,
    })
}

/// Every loop under `scope`, depth first, in file order.
pub(crate) fn all_loops(scope: &LoopNode) -> Vec<&LoopNode> {
    let mut out = vec![];
    for item in &scope.content {
        if let Item::Loop(l) = item {
            out.push(l);
            out.extend(all_loops(l));
        }
    }
    out
}

/// The first segment `id` of `scope`, or an error saying it is missing.
pub(crate) fn required<'a>(
    scope: &'a LoopNode,
    id: &'a str,
) -> Result<&'a SegmentNode, ValueError> {
    segments(scope, id).next().ok_or_else(|| ValueError {
        line: 0,
        segment: id.to_string(),
        element: 0,
        message: format!("required segment {id} is missing from loop {}", scope.id),
    })
}

/// Element `n` (1-based) as text; the first component of a composite; empty when absent.
pub(crate) fn text(segment: &SegmentNode, n: usize) -> &str {
    match n.checked_sub(1).and_then(|i| segment.elements.get(i)) {
        Some(Value::Text(t)) => t,
        Some(Value::List(items)) => match items.first() {
            Some(Value::Text(t)) => t,
            _ => "",
        },
        None => "",
    }
}

/// Element `n` as text, `None` when empty.
pub(crate) fn opt(segment: &SegmentNode, n: usize) -> Option<String> {
    Some(text(segment, n))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Element `n`'s components, or its repetitions (one item for a simple value, none when empty).
pub(crate) fn parts(segment: &SegmentNode, n: usize) -> Vec<String> {
    match n.checked_sub(1).and_then(|i| segment.elements.get(i)) {
        Some(Value::Text(t)) if !t.is_empty() => vec![t.to_string()],
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::Text(t) => t.to_string(),
                Value::List(_) => String::new(),
            })
            .collect(),
        _ => vec![],
    }
}

pub(crate) fn bad(segment: &SegmentNode, n: usize, message: String) -> ValueError {
    ValueError {
        line: segment.line,
        segment: segment.id.to_string(),
        element: n,
        message,
    }
}

/// Element `n` as a decimal, `None` when empty.
pub(crate) fn decimal(segment: &SegmentNode, n: usize) -> Result<Option<Decimal>, ValueError> {
    let t = text(segment, n);
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<Decimal>()
        .map(Some)
        .map_err(|_| bad(segment, n, format!("{t:?} is not a decimal number")))
}

/// Element `n` as a decimal that must be there.
pub(crate) fn amount(segment: &SegmentNode, n: usize) -> Result<Decimal, ValueError> {
    decimal(segment, n)?.ok_or_else(|| bad(segment, n, "a required amount is missing".into()))
}

/// Element `n` as a `CCYYMMDD` date, `None` when empty.
pub(crate) fn date(segment: &SegmentNode, n: usize) -> Result<Option<NaiveDate>, ValueError> {
    let t = text(segment, n);
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y%m%d")
        .map(Some)
        .map_err(|_| bad(segment, n, format!("{t:?} is not a CCYYMMDD date")))
}

/// A DTP's date or date range: (qualifier, from, to).
pub(crate) fn period(
    dtp: &SegmentNode,
) -> Result<(String, NaiveDate, Option<NaiveDate>), ValueError> {
    let qualifier = text(dtp, 1).to_string();
    let value = text(dtp, 3);
    let parse = |t: &str| {
        NaiveDate::parse_from_str(t, "%Y%m%d")
            .map_err(|_| bad(dtp, 3, format!("{t:?} is not a CCYYMMDD date")))
    };
    match text(dtp, 2) {
        "RD8" => {
            let (from, to) = value.split_once('-').ok_or_else(|| {
                bad(
                    dtp,
                    3,
                    format!("{value:?} is not a CCYYMMDD-CCYYMMDD range"),
                )
            })?;
            Ok((qualifier, parse(from)?, Some(parse(to)?)))
        }
        "DT" if value.len() == 12 => Ok((qualifier, parse(&value[..8])?, None)),
        _ => Ok((qualifier, parse(value)?, None)),
    }
}
