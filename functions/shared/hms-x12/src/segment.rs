//! Borrowed views of segments and elements: nothing is copied out of the input buffer.

use crate::delimiters::Delimiters;

/// Bytes at the start of a segment whose element separators are kept as a bitmask. Nearly every
/// 5010 segment is shorter; longer ones stay correct, their tail is found by scanning.
pub(crate) const INDEXED: usize = 128;

/// Where a segment's element separators are, found while tokenizing, so that walking or picking
/// elements needs no second scan of the bytes: bit `i` is set when byte `i` of the segment is an
/// element separator (for `i` < [`INDEXED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Separators(pub(crate) u128);

impl Separators {
    /// Finds the separators of `raw` by scanning it.
    pub(crate) fn of(raw: &[u8], separator: u8) -> Self {
        let mut mask = 0u128;
        for (i, &b) in raw.iter().take(INDEXED).enumerate() {
            mask |= u128::from(b == separator) << i;
        }
        Self(mask)
    }
}

/// One segment, borrowed from the input: its bytes without the terminator.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a [u8],
    offset: usize,
    delimiters: Delimiters,
    separators: Separators,
}

impl<'a> Segment<'a> {
    /// A segment over `raw` (no terminator), found at absolute byte `offset`.
    pub fn new(raw: &'a [u8], offset: usize, delimiters: Delimiters) -> Self {
        let separators = Separators::of(raw, delimiters.element);
        Self::indexed(raw, offset, delimiters, separators)
    }

    /// A segment whose element separators the tokenizer already found.
    pub(crate) fn indexed(
        raw: &'a [u8],
        offset: usize,
        delimiters: Delimiters,
        separators: Separators,
    ) -> Self {
        Self {
            raw,
            offset,
            delimiters,
            separators,
        }
    }

    /// The segment's bytes, terminator excluded.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The separator index, to rebuild the segment elsewhere without scanning it again.
    pub(crate) fn separators(&self) -> Separators {
        self.separators
    }

    /// Where all the element separators are (bit `i` for byte `i`), when the segment is short
    /// enough for the index to hold them all.
    #[inline]
    pub(crate) fn separator_mask(&self) -> Option<u128> {
        (self.raw.len() <= INDEXED).then_some(self.separators.0)
    }

    /// Absolute byte offset of the segment's first byte in the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Delimiters in force for this segment.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// The segment identifier (`ST`, `NM1`, ...).
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        match self.separator_from(0) {
            Some(i) => self.raw.split_at(i).0,
            None => self.raw,
        }
    }

    /// The first element separator at or after byte `from`.
    #[inline]
    fn separator_from(&self, from: usize) -> Option<usize> {
        if from < INDEXED {
            let ahead = self.separators.0 >> from;
            if ahead != 0 {
                return Some(from + ahead.trailing_zeros() as usize);
            }
        }
        if self.raw.len() <= INDEXED {
            return None;
        }
        let from = from.max(INDEXED);
        memchr::memchr(self.delimiters.element, self.raw.get(from..)?).map(|i| from + i)
    }

    /// The segment identifier as text (identifiers are checked to be ASCII by the reader).
    pub fn id_str(&self) -> &'a str {
        std::str::from_utf8(self.id()).unwrap_or("???")
    }

    /// Elements after the identifier, in order; the first one is element 01.
    pub fn elements(&self) -> Elements<'a> {
        let first = self.separator_from(0);
        let ahead = match first {
            // Separators after the first one (the one that ends the id).
            Some(i) if i < INDEXED => self.separators.0 & (self.separators.0 - 1),
            _ => 0,
        };
        Elements {
            next: first.map(|i| i + 1),
            ahead,
            segment: *self,
        }
    }

    /// Element `n` (1-based), if present; an empty element counts as present but empty.
    #[inline]
    pub fn element(&self, n: usize) -> Option<Element<'a>> {
        let (start, end) = self.element_span(n)?;
        Some(Element {
            raw: self.raw.get(start..end).unwrap_or_default(),
            delimiters: self.delimiters,
        })
    }

    /// Where element `n` (1-based) lies in [`Segment::raw`], if present.
    #[inline]
    pub fn element_span(&self, n: usize) -> Option<(usize, usize)> {
        if n == 0 {
            return None;
        }
        // Element n lies between separators n - 1 and n (0-based); drop the n - 1 before it.
        let mut ahead = self.separators.0;
        for _ in 1..n {
            ahead &= ahead.wrapping_sub(1);
        }
        if ahead == 0 || self.raw.len() > INDEXED {
            // Not among the indexed bytes (or a segment long enough to have more): walk.
            let mut start = self.separator_from(0)? + 1;
            for _ in 1..n {
                start = self.separator_from(start)? + 1;
            }
            let end = self.separator_from(start).unwrap_or(self.raw.len());
            return Some((start, end));
        }
        let start = ahead.trailing_zeros() as usize + 1;
        ahead &= ahead - 1;
        let end = if ahead == 0 {
            self.raw.len()
        } else {
            ahead.trailing_zeros() as usize
        };
        Some((start, end))
    }

    /// Element `n` as raw bytes, empty when absent.
    pub fn value(&self, n: usize) -> &'a [u8] {
        self.element(n).map(|e| e.raw()).unwrap_or_default()
    }
}

/// Iterator over the elements of a segment.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    /// Where the next element starts; `None` once the last one was given out.
    next: Option<usize>,
    /// Separators not yet passed (segment-relative bit positions).
    ahead: u128,
    segment: Segment<'a>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    #[inline]
    fn next(&mut self) -> Option<Element<'a>> {
        let start = self.next?;
        let raw = self.segment.raw;
        let end = if self.ahead != 0 {
            let end = self.ahead.trailing_zeros() as usize;
            self.ahead &= self.ahead - 1;
            Some(end)
        } else {
            // Past the bitmask: only segments longer than INDEXED bytes have more separators.
            self.segment.separator_from(start.max(INDEXED))
        };
        self.next = end.map(|e| e + 1);
        Some(Element {
            raw: raw.get(start..end.unwrap_or(raw.len())).unwrap_or_default(),
            delimiters: self.segment.delimiters,
        })
    }

    /// Each separator still ahead starts one more element: what a `collect` sizes its vector
    /// by, so a segment's values are gathered without growing it. Exact when the whole
    /// segment is indexed; a longer one may have more past the index.
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.next.is_none() {
            return (0, Some(0));
        }
        let known = 1 + self.ahead.count_ones() as usize;
        let exact = self.segment.raw.len() <= INDEXED;
        (known, exact.then_some(known))
    }
}

/// One element, possibly with repetitions and components.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    raw: &'a [u8],
    delimiters: Delimiters,
}

impl<'a> Element<'a> {
    /// An element over `raw`.
    pub fn new(raw: &'a [u8], delimiters: Delimiters) -> Self {
        Self { raw, delimiters }
    }

    /// The element's bytes as sent.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether the element carries no data.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Repetitions of the element (one item when it does not repeat).
    pub fn repetitions(&self) -> impl Iterator<Item = Element<'a>> + use<'a> {
        let delimiters = self.delimiters;
        let sep = if delimiters.has_repetition() {
            Some(delimiters.repetition)
        } else {
            None
        };
        split(self.raw, sep).map(move |raw| Element { raw, delimiters })
    }

    /// Components of the element (one item when it is not a composite).
    pub fn components(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        split(self.raw, Some(self.delimiters.component))
    }

    /// Component `n` (1-based) as bytes, empty when absent.
    pub fn component(&self, n: usize) -> &'a [u8] {
        if n == 0 {
            return &[];
        }
        self.components().nth(n - 1).unwrap_or_default()
    }
}

/// Splits `raw` on `sep`; yields `raw` itself when there is no separator.
fn split(raw: &[u8], sep: Option<u8>) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let r = rest?;
        match sep.and_then(|s| memchr::memchr(s, r)) {
            Some(i) => {
                let (value, next) = r.split_at(i);
                rest = next.get(1..);
                Some(value)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(raw: &[u8]) -> Segment<'_> {
        Segment::new(raw, 0, Delimiters::default())
    }

    #[test]
    fn splits_elements_components_repetitions() {
        let s = seg(b"SV1*HC:99213:25*100**UN*1***1:2^3");
        assert_eq!(s.id(), b"SV1");
        let els: Vec<&[u8]> = s.elements().map(|e| e.raw()).collect();
        assert_eq!(
            els,
            vec![
                &b"HC:99213:25"[..],
                b"100",
                b"",
                b"UN",
                b"1",
                b"",
                b"",
                b"1:2^3"
            ]
        );
        let sv101 = s.element(1).unwrap();
        assert_eq!(
            sv101.components().collect::<Vec<_>>(),
            vec![&b"HC"[..], b"99213", b"25"]
        );
        assert_eq!(sv101.component(2), b"99213");
        assert_eq!(sv101.component(9), b"");
        let reps: Vec<&[u8]> = s
            .element(8)
            .unwrap()
            .repetitions()
            .map(|e| e.raw())
            .collect();
        assert_eq!(reps, vec![&b"1:2"[..], b"3"]);
        assert_eq!(s.value(3), b"");
        assert!(s.element(9).is_none());
        assert!(s.element(0).is_none());
    }

    #[test]
    fn segments_longer_than_the_index_read_the_same() {
        let many: String = (0..100).map(|i| format!("*{i}")).collect();
        let text = format!("REF{many}");
        let s = seg(text.as_bytes());
        assert_eq!(s.id(), b"REF");
        let els: Vec<String> = s
            .elements()
            .map(|e| String::from_utf8(e.raw().to_vec()).unwrap())
            .collect();
        let expected: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(els, expected);
        for n in 1..=100 {
            assert_eq!(s.value(n), (n - 1).to_string().as_bytes(), "element {n}");
        }
        assert!(s.element(101).is_none());
        // A first separator beyond what the index can hold.
        let long = format!("NTE{}*X", "A".repeat(70_000));
        let s = seg(long.as_bytes());
        assert_eq!(s.id().len(), 70_003);
        assert_eq!(s.value(1), b"X");
        assert_eq!(s.elements().count(), 1);
    }

    #[test]
    fn picking_an_element_agrees_with_walking_to_it() {
        // Segments of every length around the index bound, with separators in varied places.
        let mut next = hms_test_support::xorshift(0x2545_f491_4f6c_dd1d);
        for len in (1..300).chain([INDEXED - 1, INDEXED, INDEXED + 1]) {
            for _ in 0..8 {
                let mut raw = b"SV".to_vec();
                while raw.len() < len {
                    let state = next();
                    raw.push(if state.is_multiple_of(5) {
                        b'*'
                    } else {
                        b'A' + (state % 26) as u8
                    });
                }
                let s = seg(&raw);
                let walked: Vec<&[u8]> = s.elements().map(|e| e.raw()).collect();
                // What the iterator promises of its length holds at every step.
                let mut elements = s.elements();
                loop {
                    let (low, high) = elements.size_hint();
                    let left = elements.clone().count();
                    assert!(low <= left, "len {len}: {low} > {left}: {raw:?}");
                    assert!(
                        high.is_none_or(|h| h == left),
                        "len {len}: {high:?}: {raw:?}"
                    );
                    if len <= INDEXED {
                        assert_eq!(high, Some(left), "len {len}: {raw:?}");
                    }
                    if elements.next().is_none() {
                        break;
                    }
                }
                for n in 0..walked.len() + 3 {
                    let picked = s.element(n).map(|e| e.raw());
                    let expected = n.checked_sub(1).and_then(|i| walked.get(i).copied());
                    assert_eq!(picked, expected, "len {len} element {n}: {raw:?}");
                }
            }
        }
    }

    #[test]
    fn segment_without_elements() {
        let s = seg(b"SE");
        assert_eq!(s.id(), b"SE");
        assert_eq!(s.elements().count(), 0);
        let s = seg(b"SE*");
        assert_eq!(s.elements().count(), 1);
    }
}
