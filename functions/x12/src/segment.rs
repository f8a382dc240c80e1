//! Borrowed views of segments and elements: nothing is copied out of the input buffer.

use crate::delimiters::Delimiters;

/// One segment, borrowed from the input: its bytes without the terminator.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a [u8],
    offset: usize,
    delimiters: Delimiters,
}

impl<'a> Segment<'a> {
    /// A segment over `raw` (no terminator), found at absolute byte `offset`.
    pub fn new(raw: &'a [u8], offset: usize, delimiters: Delimiters) -> Self {
        Self {
            raw,
            offset,
            delimiters,
        }
    }

    /// The segment's bytes, terminator excluded.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
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
    pub fn id(&self) -> &'a [u8] {
        match memchr::memchr(self.delimiters.element, self.raw) {
            Some(i) => &self.raw[..i],
            None => self.raw,
        }
    }

    /// The segment identifier as text (identifiers are checked to be ASCII by the reader).
    pub fn id_str(&self) -> &'a str {
        std::str::from_utf8(self.id()).unwrap_or("???")
    }

    /// Elements after the identifier, in order; the first one is element 01.
    pub fn elements(&self) -> Elements<'a> {
        let id_len = self.id().len();
        let rest = if id_len < self.raw.len() {
            &self.raw[id_len + 1..]
        } else {
            &[][..]
        };
        Elements {
            rest: Some(rest).filter(|_| id_len < self.raw.len()),
            delimiters: self.delimiters,
        }
    }

    /// Element `n` (1-based), if present; an empty element counts as present but empty.
    pub fn element(&self, n: usize) -> Option<Element<'a>> {
        if n == 0 {
            return None;
        }
        self.elements().nth(n - 1)
    }

    /// Element `n` as raw bytes, empty when absent.
    pub fn value(&self, n: usize) -> &'a [u8] {
        self.element(n).map(|e| e.raw()).unwrap_or_default()
    }
}

/// Iterator over the elements of a segment.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    rest: Option<&'a [u8]>,
    delimiters: Delimiters,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let rest = self.rest?;
        let (raw, next) = match memchr::memchr(self.delimiters.element, rest) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        self.rest = next;
        Some(Element {
            raw,
            delimiters: self.delimiters,
        })
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
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
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
    fn segment_without_elements() {
        let s = seg(b"SE");
        assert_eq!(s.id(), b"SE");
        assert_eq!(s.elements().count(), 0);
        let s = seg(b"SE*");
        assert_eq!(s.elements().count(), 1);
    }
}
