//! Splitting input into segments: over a slice ([`Tokenizer`]) or any `std::io::Read`
//! ([`Reader`]), both driven by the same scanner so they accept exactly the same input.
//!
//! Tolerated: CR, LF or CRLF after each terminator, a trailing newline, line breaks before the
//! first ISA. Everything else that cannot be tokenized is a [`ReadError`] with its byte offset.
//! Delimiters are re-read from every ISA, so files that concatenate interchanges with different
//! delimiters read correctly.
#![allow(
    clippy::indexing_slicing,
    reason = "every index is a position the scanner found inside this buffer (pos <= terminator < len); the hot path stays branch-free, and fuzz/read and fuzz/validate hold it"
)]

use std::io::Read;

use crate::delimiters::{Delimiters, ISA_LEN, IsaLayout};
use crate::error::ReadError;
use crate::scan::Window;
use crate::segment::{INDEXED, Segment, Separators};

/// Bytes the scanner wants in view before it reads an ISA, so a badly padded ISA can be recovered.
const ISA_LOOKAHEAD: usize = crate::delimiters::ISA_SCAN_LIMIT;

/// Default bound on one segment's length for the streaming reader. Real segments are far shorter;
/// the bound is what keeps memory flat when a file's terminator is wrong.
pub const DEFAULT_MAX_SEGMENT: usize = 1 << 20;

/// The UTF-8 byte-order mark some Windows tools put before a file's first byte. It is not X12;
/// at the very start of an input it is skipped (the validator warns that it was there).
pub const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Whether `input` starts with a [`BYTE_ORDER_MARK`].
pub fn starts_with_byte_order_mark(input: &[u8]) -> bool {
    input.starts_with(BYTE_ORDER_MARK)
}

/// One step of the scanner, in offsets relative to the buffer it was given.
#[derive(Debug)]
enum Step {
    Segment {
        start: usize,
        end: usize,
        next: usize,
        isa: Option<(Delimiters, IsaLayout)>,
        /// Where the segment's element separators are.
        separators: Separators,
    },
    NeedMore,
    End,
    Error {
        error: ReadError,
        /// Where scanning resumes; `None` when the error is fatal.
        next: Option<usize>,
    },
}

/// Finds the next segment in `buf` from `pos`. `base` is the absolute offset of `buf[0]`.
/// `window` carries the classified bytes from one call to the next; it must describe `buf` as it
/// is now (callers reset it when they move the buffer's contents).
///
/// This is the hot path of every read: an ordinary segment costs a few bitmask operations per
/// window and one id check. Interchange boundaries and errors go to out-of-line functions.
#[inline]
fn step(
    buf: &[u8],
    mut pos: usize,
    base: usize,
    delims: Option<Delimiters>,
    eof: bool,
    window: &mut Window,
) -> Step {
    // A byte-order mark before the first ISA is skipped.
    if base + pos == 0 && starts_with_byte_order_mark(buf) {
        pos = BYTE_ORDER_MARK.len();
    }
    // A segment starts with a letter; anything below one may be the line break after the last
    // terminator.
    if buf.get(pos).is_some_and(|&b| b < b'A') {
        while let Some(b'\r' | b'\n') = buf.get(pos) {
            pos += 1;
        }
    }
    let rest = buf.get(pos..).unwrap_or_default();
    let Some(d) = delims else {
        return boundary(buf, pos, base, None, eof, window);
    };
    if rest.len() < 3 || rest.starts_with(b"ISA") {
        return boundary(buf, pos, base, Some(d), eof, window);
    }
    // Walk the separator and terminator bitmasks window by window until the terminator; keep the
    // separators of the segment's first bytes as its own bitmask.
    if !window.covers(pos) {
        *window = Window::classify(buf, pos, d.element, d.segment);
    }
    // `covers` guarantees pos - start < len <= 64. In the window holding the segment's start,
    // its bits are shifted down to segment-relative positions.
    let shift = pos - window.start;
    let terminators = window.terminators >> shift;
    let elements = window.elements >> shift;
    if terminators != 0 {
        // The common case: the segment ends in the window it starts in.
        let separators = elements & terminators.wrapping_sub(1) & !terminators;
        let terminator = pos + terminators.trailing_zeros() as usize;
        return finish_segment(
            buf,
            pos,
            terminator,
            base,
            d,
            Separators(u128::from(separators)),
        );
    }
    let mut separators = u128::from(elements);
    let mut at = window.start + window.len;
    let terminator = loop {
        if at >= buf.len() {
            return unterminated(pos, base, d, eof);
        }
        if !window.covers(at) {
            *window = Window::classify(buf, at, d.element, d.segment);
        }
        // Later windows start after the segment does: their bits move up.
        let terminators = window.terminators;
        let mut elements = window.elements;
        if terminators != 0 {
            elements &= terminators.wrapping_sub(1) & !terminators;
        }
        if window.start - pos < INDEXED {
            separators |= u128::from(elements) << (window.start - pos);
        }
        if terminators != 0 {
            break window.start + terminators.trailing_zeros() as usize;
        }
        at = window.start + window.len;
    };
    finish_segment(buf, pos, terminator, base, d, Separators(separators))
}

/// The segment `buf[pos..terminator]` with its separators, once its id is checked.
#[inline(always)]
fn finish_segment(
    buf: &[u8],
    pos: usize,
    terminator: usize,
    base: usize,
    d: Delimiters,
    separators: Separators,
) -> Step {
    let separators = separators.0;
    let mut end = terminator;
    if d.segment == b'\n' && end > pos && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let next = terminator + 1;
    let id_len = if separators != 0 {
        separators.trailing_zeros() as usize
    } else {
        end - pos
    };
    if !valid_id(&buf[pos..pos + id_len.min(end - pos)]) {
        return bad_segment(&buf[pos..end], pos, base, next, d);
    }
    Step::Segment {
        start: pos,
        end,
        next,
        isa: None,
        separators: Separators(separators),
    }
}

/// Whether `id` can be a segment identifier: two or three upper-case letters or digits, starting
/// with a letter.
#[inline]
fn valid_id(id: &[u8]) -> bool {
    match *id {
        [a, b] => a.is_ascii_uppercase() && (b.is_ascii_uppercase() || b.is_ascii_digit()),
        [a, b, c] => {
            a.is_ascii_uppercase()
                && (b.is_ascii_uppercase() || b.is_ascii_digit())
                && (c.is_ascii_uppercase() || c.is_ascii_digit())
        }
        _ => false,
    }
}

/// The end of input, an ISA, or input before any ISA: everything [`step`] does not do inline.
#[cold]
#[inline(never)]
fn boundary(
    buf: &[u8],
    pos: usize,
    base: usize,
    delims: Option<Delimiters>,
    eof: bool,
    window: &mut Window,
) -> Step {
    if pos >= buf.len() {
        return if !eof {
            Step::NeedMore
        } else if delims.is_none() {
            // No ISA seen and nothing but line breaks: there is no interchange at all.
            Step::Error {
                error: ReadError::Empty,
                next: None,
            }
        } else {
            Step::End
        };
    }
    let rest = &buf[pos..];
    let starts_isa = rest.starts_with(b"ISA") || (rest.len() < 3 && b"ISA".starts_with(rest));
    if starts_isa || delims.is_none() {
        if rest.len() < ISA_LOOKAHEAD && !eof {
            return Step::NeedMore;
        }
        if rest.starts_with(b"ISA") {
            return match Delimiters::from_isa(rest, base + pos) {
                Ok((d, layout)) => {
                    let len = match layout {
                        IsaLayout::Fixed => ISA_LEN,
                        IsaLayout::Recovered { len } => len,
                    };
                    // The bytes after an ISA are classified afresh, with its delimiters.
                    *window = Window::default();
                    Step::Segment {
                        start: pos,
                        end: pos + len - 1,
                        next: pos + len,
                        isa: Some((d, layout)),
                        separators: Separators::of(&rest[..len - 1], d.element),
                    }
                }
                Err(error) => Step::Error { error, next: None },
            };
        }
    }
    let Some(d) = delims else {
        return Step::Error {
            error: ReadError::NotIsa { offset: base + pos },
            next: None,
        };
    };
    // A short segment at the very end of the input (fewer than three bytes): no terminator can
    // make it an ISA, so it is read like any other.
    match memchr::memchr(d.segment, rest) {
        None => unterminated(pos, base, d, eof),
        Some(t) => {
            let mut end = pos + t;
            if d.segment == b'\n' && end > pos && buf[end - 1] == b'\r' {
                end -= 1;
            }
            let raw = &buf[pos..end];
            let separators = Separators::of(raw, d.element);
            if !valid_id(Segment::indexed(raw, base + pos, d, separators).id()) {
                return bad_segment(raw, pos, base, pos + t + 1, d);
            }
            Step::Segment {
                start: pos,
                end,
                next: pos + t + 1,
                isa: None,
                separators,
            }
        }
    }
}

/// No terminator before the end of what is in view.
#[cold]
fn unterminated(pos: usize, base: usize, d: Delimiters, eof: bool) -> Step {
    if eof {
        Step::Error {
            error: ReadError::Unterminated {
                offset: base + pos,
                terminator: d.segment,
            },
            next: None,
        }
    } else {
        Step::NeedMore
    }
}

/// A segment that is empty or whose identifier is malformed; reading goes on after it.
#[cold]
fn bad_segment(raw: &[u8], pos: usize, base: usize, next: usize, d: Delimiters) -> Step {
    let error = if raw.is_empty() {
        ReadError::EmptySegment { offset: base + pos }
    } else {
        let id = Segment::new(raw, base + pos, d).id();
        ReadError::BadSegmentId {
            offset: base + pos,
            id: String::from_utf8_lossy(&id[..id.len().min(16)]).into_owned(),
        }
    };
    Step::Error {
        error,
        next: Some(next),
    }
}

/// Zero-copy tokenizer over an in-memory buffer.
///
/// Yields segments in order; after a recoverable error it goes on with the next segment, after a
/// fatal one it stops.
#[derive(Debug, Clone)]
pub struct Tokenizer<'a> {
    buf: &'a [u8],
    pos: usize,
    delimiters: Option<Delimiters>,
    done: bool,
    window: Window,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over the whole of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            delimiters: None,
            done: false,
            window: Window::default(),
        }
    }

    /// Delimiters of the interchange being read, once its ISA has been seen.
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delimiters
    }

    /// Bytes consumed so far: all of them once the input ended cleanly, up to the fatal error
    /// otherwise (the same count [`Reader::position`] gives for the same input).
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Result<Segment<'a>, ReadError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match step(
            self.buf,
            self.pos,
            0,
            self.delimiters,
            true,
            &mut self.window,
        ) {
            Step::Segment {
                start,
                end,
                next,
                isa,
                separators,
            } => {
                if let Some((d, _)) = isa {
                    self.delimiters = Some(d);
                }
                self.pos = next;
                let d = self.delimiters?;
                Some(Ok(Segment::indexed(
                    &self.buf[start..end],
                    start,
                    d,
                    separators,
                )))
            }
            Step::NeedMore | Step::End => {
                self.pos = self.buf.len();
                self.done = true;
                None
            }
            Step::Error { error, next } => {
                match next {
                    Some(n) => self.pos = n,
                    None => self.done = true,
                }
                Some(Err(error))
            }
        }
    }
}

/// Streaming segment reader over any `Read`: memory is bounded by the longest segment, not by the
/// input, so a 200 MB remittance file is read with a buffer of a few hundred kilobytes.
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    base: usize,
    eof: bool,
    done: bool,
    delimiters: Option<Delimiters>,
    isa_layout: Option<IsaLayout>,
    max_segment: usize,
    byte_order_mark: bool,
    window: Window,
}

impl<R: Read> Reader<R> {
    /// A reader with a 256 KiB buffer and the default segment-length bound.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(inner, 256 * 1024)
    }

    /// A reader whose buffer starts at `capacity` bytes (it grows only for segments longer than that).
    pub fn with_capacity(inner: R, capacity: usize) -> Self {
        Self {
            inner,
            buf: vec![0; capacity.max(ISA_LOOKAHEAD * 2)],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            done: false,
            delimiters: None,
            isa_layout: None,
            max_segment: DEFAULT_MAX_SEGMENT,
            window: Window::default(),
            byte_order_mark: false,
        }
    }

    /// Whether the input started with a byte-order mark, which was skipped.
    pub fn skipped_byte_order_mark(&self) -> bool {
        self.byte_order_mark
    }

    /// Changes the bound on one segment's length.
    pub fn max_segment(mut self, max: usize) -> Self {
        self.max_segment = max;
        self
    }

    /// Bytes consumed so far (the offset just past the last segment returned).
    pub fn position(&self) -> usize {
        self.base + self.start
    }

    /// Delimiters of the interchange being read.
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delimiters
    }

    /// How the current interchange's ISA was laid out.
    pub fn isa_layout(&self) -> Option<IsaLayout> {
        self.isa_layout
    }

    /// The next segment, or an error, or `None` at the end of input. The segment borrows the
    /// reader's buffer, so it must be dropped before the next call.
    ///
    /// Inlined into its callers' loops: returned through memory, the segment (its separator
    /// index, slice and delimiters, wrapped in an `Option<Result>`) was copied with loads that
    /// straddle the narrower stores that wrote it, a store-forwarding stall on every segment
    /// (a tenth of a validation's time).
    #[inline(always)]
    pub fn next_segment(&mut self) -> Option<Result<Segment<'_>, ReadError>> {
        if self.done {
            return None;
        }
        let (start, end, separators) = loop {
            match step(
                &self.buf[..self.end],
                self.start,
                self.base,
                self.delimiters,
                self.eof,
                &mut self.window,
            ) {
                Step::Segment {
                    start,
                    end,
                    next,
                    isa,
                    separators,
                } => {
                    if let Some((d, layout)) = isa {
                        self.delimiters = Some(d);
                        self.isa_layout = Some(layout);
                    }
                    if self.base == 0 && start >= BYTE_ORDER_MARK.len() && self.start == 0 {
                        self.byte_order_mark = starts_with_byte_order_mark(&self.buf[..self.end]);
                    }
                    self.start = next;
                    break (start, end, separators);
                }
                Step::NeedMore => {
                    if self.end - self.start >= self.max_segment {
                        self.done = true;
                        return Some(Err(ReadError::SegmentTooLong {
                            offset: self.base + self.start,
                            max: self.max_segment,
                        }));
                    }
                    if let Err(e) = self.fill() {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                Step::End => {
                    // Only line breaks were left: they count as read.
                    self.start = self.end;
                    self.done = true;
                    return None;
                }
                Step::Error { error, next } => {
                    match next {
                        Some(n) => self.start = n,
                        None => self.done = true,
                    }
                    return Some(Err(error));
                }
            }
        };
        let d = self.delimiters?;
        Some(Ok(Segment::indexed(
            &self.buf[start..end],
            self.base + start,
            d,
            separators,
        )))
    }

    /// Moves unread bytes to the front and reads more; grows the buffer only when one segment
    /// fills it.
    fn fill(&mut self) -> Result<(), ReadError> {
        if self.start > 0 {
            // The classified window describes bytes that are about to move.
            self.window = Window::default();
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2)
                .min(self.max_segment + ISA_LOOKAHEAD)
                .max(self.buf.len() + 1);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ReadError::Io {
                        offset: self.base + self.end,
                        message: e.to_string(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *230101*1253*^*00501*000000001*0*T*:~";

    fn ids(input: &[u8]) -> Vec<Result<String, ReadError>> {
        Tokenizer::new(input)
            .map(|r| r.map(|s| s.id_str().to_string()))
            .collect()
    }

    fn streamed(input: &[u8], chunk: usize) -> Vec<Result<(String, usize), ReadError>> {
        /// A reader that hands out at most `chunk` bytes per call, to exercise buffer refills.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(self.1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = Reader::with_capacity(Trickle(input, chunk), 16);
        let mut out = vec![];
        while let Some(s) = r.next_segment() {
            out.push(s.map(|s| (s.id_str().to_string(), s.offset())));
        }
        out
    }

    #[test]
    fn tolerates_line_breaks() {
        for sep in ["", "\n", "\r\n", "\r"] {
            let text = format!(
                "{ISA}{sep}GS*HC*A*B*20230101*1253*1*X*005010X222A1~{sep}GE*0*1~{sep}IEA*1*000000001~{sep}"
            );
            let got: Vec<String> = ids(text.as_bytes())
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            assert_eq!(got, vec!["ISA", "GS", "GE", "IEA"], "separator {sep:?}");
        }
    }

    #[test]
    fn newline_as_terminator_with_crlf() {
        let text = ISA.replace('~', "\r\n") + "GS*HC*A*B\r\nIEA*1*000000001\r\n";
        let got: Vec<String> = ids(text.as_bytes())
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got, vec!["ISA", "GS", "IEA"]);
        let tok = Tokenizer::new(text.as_bytes());
        let gs = tok.clone().nth(1).unwrap().unwrap();
        assert_eq!(gs.raw(), b"GS*HC*A*B");
    }

    #[test]
    fn reports_offsets_of_malformed_input() {
        let text = format!("{ISA}GS*HC~~gs*X~ST*837~BHT*0019");
        let got = ids(text.as_bytes());
        assert_eq!(got[1], Ok("GS".into()));
        assert_eq!(got[2], Err(ReadError::EmptySegment { offset: 112 }));
        assert_eq!(
            got[3],
            Err(ReadError::BadSegmentId {
                offset: 113,
                id: "gs".into()
            })
        );
        assert_eq!(got[4], Ok("ST".into()));
        assert_eq!(
            got[5],
            Err(ReadError::Unterminated {
                offset: 125,
                terminator: b'~'
            })
        );
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn rejects_input_without_isa() {
        assert_eq!(ids(b"GS*HC*A~"), vec![Err(ReadError::NotIsa { offset: 0 })]);
        assert_eq!(ids(b""), vec![Err(ReadError::Empty)]);
        assert_eq!(ids(b"\n\n"), vec![Err(ReadError::Empty)]);
    }

    #[test]
    fn reads_concatenated_interchanges_with_their_own_delimiters() {
        let second = ISA.replace('*', "|").replace('~', "!");
        let text = format!("{ISA}IEA*1*000000001~\n{second}IEA|1|000000001!");
        let segs: Vec<_> = Tokenizer::new(text.as_bytes())
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(segs.len(), 4);
        assert_eq!(segs[3].value(2), b"000000001");
        assert_eq!(segs[3].delimiters().element, b'|');
    }

    #[test]
    fn streaming_matches_tokenizer_at_any_chunk_size() {
        let text = format!(
            "{ISA}\nGS*HC*A*B*20230101*1253*1*X*005010X222A1~\nST*837*0001~BHT*0019*00*1*20230101*1253*CH~~x~SE*3*0001~GE*1*1~IEA*1*000000001~\n"
        );
        let expected: Vec<_> = Tokenizer::new(text.as_bytes())
            .map(|r| r.map(|s| (s.id_str().to_string(), s.offset())))
            .collect();
        for chunk in [1, 2, 3, 7, 64, 4096] {
            assert_eq!(streamed(text.as_bytes(), chunk), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn segments_of_every_length_across_window_boundaries() {
        // Segments from 3 bytes to more than a block, with and without line breaks, so that
        // terminators fall at every distance from the 64-byte window and 128-byte index boundaries.
        let mut text = ISA.to_string();
        let mut expected = vec![];
        let mut next = hms_test_support::xorshift(0x1234_5678_9abc_def1);
        for n in 0..700 {
            let seed = next();
            let len = match n % 7 {
                0 => (seed % 6000) as usize,
                1 => 120 + (seed % 20) as usize,
                _ => (seed % 90) as usize,
            };
            let mut segment = String::from("REF*");
            for i in 0..len {
                segment.push(if (i + n) % 9 == 0 { '*' } else { 'X' });
            }
            expected.push(segment.clone());
            text.push_str(&segment);
            text.push('~');
            if n % 5 == 0 {
                text.push_str("\r\n");
            }
        }
        let input = text.as_bytes();
        let got: Vec<_> = Tokenizer::new(input).skip(1).map(|s| s.unwrap()).collect();
        assert_eq!(got.len(), expected.len());
        for (segment, want) in got.iter().zip(&expected) {
            assert_eq!(segment.raw(), want.as_bytes());
            let naive: Vec<&[u8]> = want.as_bytes().split(|&b| b == b'*').skip(1).collect();
            let elements: Vec<&[u8]> = segment.elements().map(|e| e.raw()).collect();
            assert_eq!(elements, naive);
        }
        let tokenized: Vec<_> = Tokenizer::new(input)
            .map(|r| r.map(|s| (s.id_str().to_string(), s.offset())))
            .collect();
        for chunk in [1000, 4096, 5000] {
            assert_eq!(streamed(input, chunk), tokenized, "chunk {chunk}");
        }
    }

    #[test]
    fn bounds_segment_length() {
        let text = format!("{ISA}GS*{}", "A".repeat(10_000));
        let mut r = Reader::with_capacity(text.as_bytes(), 16).max_segment(2048);
        assert!(r.next_segment().unwrap().is_ok());
        assert_eq!(
            r.next_segment().unwrap().unwrap_err(),
            ReadError::SegmentTooLong {
                offset: 106,
                max: 2048
            }
        );
        assert!(r.next_segment().is_none());
    }
}
