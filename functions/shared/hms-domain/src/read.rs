//! Reading a parsed X12 tree (`hms_x12::tree`) into the domain: finding a loop's segments and
//! sub-loops, and typed element values whose errors name the segment and element.

use chrono::NaiveDate;
use hms_x12::Segment;
use hms_x12::tree::{
    Document, GroupNode, InterchangeNode, Item, LoopNode, SegmentNode, TransactionNode, Value,
};
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

/// The transaction sets of `doc` that `wanted` picks, in file order, each with the interchange
/// and group it came in.
pub(crate) fn transactions(
    doc: &Document,
    wanted: impl Fn(&TransactionNode) -> bool,
) -> Vec<(&InterchangeNode, &GroupNode, &TransactionNode)> {
    doc.interchanges
        .iter()
        .flat_map(|i| i.groups.iter().map(move |g| (i, g)))
        .flat_map(|(i, g)| g.transactions.iter().map(move |t| (i, g, t)))
        .filter(|(_, _, t)| wanted(t))
        .collect()
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

/// The first loop `id` directly in `scope`, or an error saying it is missing.
pub(crate) fn required_loop<'a>(
    scope: &'a LoopNode,
    id: &'a str,
) -> Result<&'a LoopNode, ValueError> {
    loops(scope, id).next().ok_or_else(|| missing_in(scope, id))
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

/// A segment whose elements the readers take typed values from: a parse-tree node, or a
/// borrowed [`Line`] for readers that stream without a tree.
pub(crate) trait Fields {
    /// Segment number in the file, 1-based.
    fn line(&self) -> usize;
    /// Segment id.
    fn id(&self) -> &str;
    /// Element `n` (1-based) as text; the first component of a composite; empty when absent.
    fn text(&self, n: usize) -> &str;
    /// Element `n`'s components, or its repetitions (one item for a simple value, none when
    /// empty).
    fn parts(&self, n: usize) -> Vec<&str>;
}

impl<T: Fields + ?Sized> Fields for &T {
    fn line(&self) -> usize {
        (**self).line()
    }

    fn id(&self) -> &str {
        (**self).id()
    }

    fn text(&self, n: usize) -> &str {
        (**self).text(n)
    }

    fn parts(&self, n: usize) -> Vec<&str> {
        (**self).parts(n)
    }
}

impl Fields for SegmentNode {
    fn line(&self) -> usize {
        self.line
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn text(&self, n: usize) -> &str {
        match n.checked_sub(1).and_then(|i| self.elements.get(i)) {
            Some(Value::Text(t)) => t,
            Some(Value::List(items)) => match items.first() {
                Some(Value::Text(t)) => t,
                _ => "",
            },
            None => "",
        }
    }

    fn parts(&self, n: usize) -> Vec<&str> {
        match n.checked_sub(1).and_then(|i| self.elements.get(i)) {
            Some(Value::Text(t)) if !t.is_empty() => vec![t.as_str()],
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Text(t) => t.as_str(),
                    Value::List(_) => "",
                })
                .collect(),
            _ => vec![],
        }
    }
}

/// A borrowed segment with its number, for readers that stream the input instead of building
/// a tree. Its bytes are checked to be UTF-8 once, when it is made, and its element separators
/// found once: readers ask for most elements of a segment, each in O(1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    segment: Segment<'a>,
    /// The segment's bytes as text.
    raw: &'a str,
    line: usize,
    /// Where the first `SEPARATORS` element separators are (element n runs from separator
    /// n - 1 to separator n, or to the end), and how many there are.
    separators: [u16; SEPARATORS],
    found: u8,
}

/// Element separators a [`Line`] indexes; later elements (of very long segments) are found by
/// walking.
const SEPARATORS: usize = 24;

impl<'a> Line<'a> {
    /// `segment`, number `line` of its file; an error naming the line when it is not UTF-8.
    pub(crate) fn new(segment: Segment<'a>, line: usize) -> Result<Self, ValueError> {
        let raw = std::str::from_utf8(segment.raw()).map_err(|e| ValueError {
            line,
            segment: segment.id_str().to_string(),
            element: 0,
            message: format!(
                "byte {} of the segment is not UTF-8 text",
                e.valid_up_to() + 1
            ),
        })?;
        // The segment's own separator index (a bitmask) hands out the elements; only where
        // each separator is, is kept.
        let mut separators = [0u16; SEPARATORS];
        let mut found = 0;
        if raw.len() <= usize::from(u16::MAX) {
            let base = segment.raw().as_ptr() as usize;
            for element in segment.elements().take(SEPARATORS) {
                // The separator just before the element (an element is a slice of the
                // segment; anything else ends the index, and walking takes over).
                match (element.raw().as_ptr() as usize).checked_sub(base + 1) {
                    Some(at) if at < raw.len() && found < SEPARATORS => {
                        if let Some(slot) = separators.get_mut(found) {
                            *slot = at as u16;
                        }
                    }
                    _ => {
                        // Not indexed after all: every element is found by walking.
                        found = SEPARATORS;
                        separators = [0; SEPARATORS];
                        break;
                    }
                }
                found += 1;
            }
        }
        Ok(Self {
            segment,
            raw,
            line,
            separators,
            found: found as u8,
        })
    }

    /// Element `n` as text (delimiters are ASCII, so an element is whole characters).
    fn element(&self, n: usize) -> &'a str {
        let found = usize::from(self.found);
        if n == 0 {
            return "";
        }
        let at = |i: usize| self.separators.get(i).map(|&s| usize::from(s));
        if n < found
            && let (Some(before), Some(end)) = (at(n - 1), at(n))
            && end != 0
        {
            return self.raw.get(before + 1..end).unwrap_or_default();
        }
        if n == found
            && found < SEPARATORS
            && let Some(before) = at(n - 1)
        {
            // The last element: from the last separator to the end.
            return self.raw.get(before + 1..).unwrap_or_default();
        }
        if found < SEPARATORS {
            // Past the last element.
            return "";
        }
        self.segment
            .element_span(n)
            .and_then(|(start, end)| self.raw.get(start..end))
            .unwrap_or_default()
    }
}

impl Fields for Line<'_> {
    fn line(&self) -> usize {
        self.line
    }

    fn id(&self) -> &str {
        // A prefix of the text checked once in `new` (the reader keeps identifiers ASCII).
        self.raw.get(..self.segment.id().len()).unwrap_or_default()
    }

    fn text(&self, n: usize) -> &str {
        let d = self.segment.delimiters();
        let element = self.element(n);
        // Up to the first component or repetition separator (values are short: a byte scan).
        let repetition = if d.has_repetition() {
            d.repetition
        } else {
            d.component
        };
        let end = element
            .bytes()
            .position(|b| b == d.component || b == repetition)
            .unwrap_or(element.len());
        element.get(..end).unwrap_or_default()
    }

    fn parts(&self, n: usize) -> Vec<&str> {
        let element = self.element(n);
        if element.is_empty() {
            return vec![];
        }
        let d = self.segment.delimiters();
        let repetition = char::from(d.repetition);
        if d.has_repetition() && element.contains(repetition) {
            element.split(repetition).collect()
        } else {
            element.split(char::from(d.component)).collect()
        }
    }
}

/// Element `n` (1-based) as text; the first component of a composite; empty when absent.
pub(crate) fn text(segment: &impl Fields, n: usize) -> &str {
    segment.text(n)
}

/// Element `n` as text (a `String`, or a `CompactString` for a code that fits inline),
/// `None` when empty.
pub(crate) fn opt<S: for<'t> From<&'t str>>(segment: &impl Fields, n: usize) -> Option<S> {
    Some(segment.text(n)).filter(|t| !t.is_empty()).map(S::from)
}

/// Element `n`'s components, or its repetitions (one item for a simple value, none when empty).
pub(crate) fn parts(segment: &impl Fields, n: usize) -> Vec<&str> {
    segment.parts(n)
}

pub(crate) fn bad(segment: &impl Fields, n: usize, message: String) -> ValueError {
    ValueError {
        line: segment.line(),
        segment: segment.id().to_string(),
        element: n,
        message,
    }
}

/// Element `n` as a decimal, `None` when empty.
pub(crate) fn decimal(segment: &impl Fields, n: usize) -> Result<Option<Decimal>, ValueError> {
    let t = text(segment, n);
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<Decimal>()
        .map(Some)
        .map_err(|_| bad(segment, n, format!("{t:?} is not a decimal number")))
}

/// Element `n` as a decimal that must be there.
pub(crate) fn amount(segment: &impl Fields, n: usize) -> Result<Decimal, ValueError> {
    decimal(segment, n)?.ok_or_else(|| bad(segment, n, "a required amount is missing".into()))
}

/// A `CCYYMMDD` date (eight digits that name a real day).
pub(crate) fn ccyymmdd(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |r: std::ops::Range<usize>| {
        b.get(r)
            .unwrap_or_default()
            .iter()
            .fold(0u32, |n, digit| n * 10 + u32::from(digit - b'0'))
    };
    let year = i32::try_from(number(0..4)).ok()?;
    NaiveDate::from_ymd_opt(year, number(4..6), number(6..8))
}

/// Element `n` as a `CCYYMMDD` date, `None` when empty.
pub(crate) fn date(segment: &impl Fields, n: usize) -> Result<Option<NaiveDate>, ValueError> {
    let t = text(segment, n);
    if t.is_empty() {
        return Ok(None);
    }
    ccyymmdd(t)
        .map(Some)
        .ok_or_else(|| bad(segment, n, format!("{t:?} is not a CCYYMMDD date")))
}

/// One reason of a CAS: its group (CAS01), reason code, amount and quantity.
pub(crate) struct CasReason<'s> {
    pub group: &'s str,
    pub reason: &'s str,
    pub amount: Decimal,
    pub quantity: Option<Decimal>,
}

/// The up to six reasons of a CAS (835 and 837 alike), each with its group.
pub(crate) fn cas_reasons<F: Fields>(cas: &F) -> Result<Vec<CasReason<'_>>, ValueError> {
    let mut out = vec![];
    for triple in 0..6 {
        let reason = 2 + 3 * triple;
        if cas.text(reason).is_empty() {
            continue;
        }
        out.push(CasReason {
            group: cas.text(1),
            reason: cas.text(reason),
            amount: amount(cas, reason + 1)?,
            quantity: decimal(cas, reason + 2)?,
        });
    }
    Ok(out)
}

/// A DTP's date or date range: (qualifier, from, to).
pub(crate) fn period(
    dtp: &impl Fields,
) -> Result<(String, NaiveDate, Option<NaiveDate>), ValueError> {
    let qualifier = text(dtp, 1).to_string();
    let value = text(dtp, 3);
    let parse =
        |t: &str| ccyymmdd(t).ok_or_else(|| bad(dtp, 3, format!("{t:?} is not a CCYYMMDD date")));
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
        "DT" => match value.split_at_checked(8) {
            Some((date, time)) if time.len() == 4 => Ok((qualifier, parse(date)?, None)),
            _ => Ok((qualifier, parse(value)?, None)),
        },
        _ => Ok((qualifier, parse(value)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_finds_every_element_as_the_segment_does() {
        let isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261120*0930*^*00501*000000001*0*T*:~";
        let long: String = (1..40).map(|n| format!("*E{n}")).collect();
        let text =
            format!("{isa}CLP*PCN1*1*500.00*380.00**12~DTM*472~LX~REF{long}~SVC*HC:99213*1~");
        let mut checked = 0;
        for segment in hms_x12::Tokenizer::new(text.as_bytes()).flatten() {
            let Ok(line) = Line::new(segment, 1) else {
                panic!("{text}")
            };
            for n in 0..45 {
                let want = if n == 0 {
                    ""
                } else {
                    std::str::from_utf8(segment.value(n)).unwrap_or_default()
                };
                assert_eq!(line.element(n), want, "{} element {n}", segment.id_str());
            }
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn ccyymmdd_takes_only_eight_digits_of_a_real_day() {
        assert_eq!(ccyymmdd("20240229"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(ccyymmdd("00010101"), NaiveDate::from_ymd_opt(1, 1, 1));
        for bad in [
            "20230229",
            "20241301",
            "20240100",
            "2024011",
            "202401011",
            "2024-1-1",
            "+2024011",
            "２０２４0101",
            "",
        ] {
            assert_eq!(ccyymmdd(bad), None, "{bad}");
        }
    }
}
