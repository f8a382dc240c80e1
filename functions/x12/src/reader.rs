//! Splitting input into segments: over a slice ([`Tokenizer`]) or any `std::io::Read`
//! ([`Reader`]), both driven by the same scanner so they accept exactly the same input.
//!
//! Tolerated: CR, LF or CRLF after each terminator, a trailing newline, line breaks before the
//! first ISA. Everything else that cannot be tokenized is a [`ReadError`] with its byte offset.
//! Delimiters are re-read from every ISA, so files that concatenate interchanges with different
//! delimiters read correctly.

use std::io::Read;

use crate::delimiters::{Delimiters, ISA_LEN, IsaLayout};
use crate::error::ReadError;
use crate::segment::Segment;

/// Bytes the scanner wants in view before it reads an ISA, so a badly padded ISA can be recovered.
const ISA_LOOKAHEAD: usize = crate::delimiters::ISA_SCAN_LIMIT;

/// Default bound on one segment's length for the streaming reader. Real segments are far shorter;
/// the bound is what keeps memory flat when a file's terminator is wrong.
pub const DEFAULT_MAX_SEGMENT: usize = 1 << 20;

/// One step of the scanner, in offsets relative to the buffer it was given.
#[derive(Debug)]
enum Step {
    Segment {
        start: usize,
        end: usize,
        next: usize,
        isa: Option<(Delimiters, IsaLayout)>,
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
fn step(buf: &[u8], mut pos: usize, base: usize, delims: Option<Delimiters>, eof: bool) -> Step {
    while pos < buf.len() && (buf[pos] == b'\r' || buf[pos] == b'\n') {
        pos += 1;
    }
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
        if !rest.starts_with(b"ISA") && delims.is_none() {
            return Step::Error {
                error: ReadError::NotIsa { offset: base + pos },
                next: None,
            };
        }
        if rest.starts_with(b"ISA") {
            return match Delimiters::from_isa(rest, base + pos) {
                Ok((d, layout)) => {
                    let len = match layout {
                        IsaLayout::Fixed => ISA_LEN,
                        IsaLayout::Recovered { len } => len,
                    };
                    Step::Segment {
                        start: pos,
                        end: pos + len - 1,
                        next: pos + len,
                        isa: Some((d, layout)),
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
    let Some(t) = memchr::memchr(d.segment, rest) else {
        return if eof {
            Step::Error {
                error: ReadError::Unterminated {
                    offset: base + pos,
                    terminator: d.segment,
                },
                next: None,
            }
        } else {
            Step::NeedMore
        };
    };
    let mut end = pos + t;
    if d.segment == b'\n' && end > pos && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let next = pos + t + 1;
    let raw = &buf[pos..end];
    if raw.is_empty() {
        return Step::Error {
            error: ReadError::EmptySegment { offset: base + pos },
            next: Some(next),
        };
    }
    let id_len = memchr::memchr(d.element, raw).unwrap_or(raw.len());
    let id = &raw[..id_len];
    let id_ok = (2..=3).contains(&id.len())
        && id[0].is_ascii_uppercase()
        && id
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !id_ok {
        let shown = String::from_utf8_lossy(&id[..id.len().min(16)]).into_owned();
        return Step::Error {
            error: ReadError::BadSegmentId {
                offset: base + pos,
                id: shown,
            },
            next: Some(next),
        };
    }
    Step::Segment {
        start: pos,
        end,
        next,
        isa: None,
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
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over the whole of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            delimiters: None,
            done: false,
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

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match step(self.buf, self.pos, 0, self.delimiters, true) {
            Step::Segment {
                start,
                end,
                next,
                isa,
            } => {
                if let Some((d, _)) = isa {
                    self.delimiters = Some(d);
                }
                self.pos = next;
                let d = self.delimiters?;
                Some(Ok(Segment::new(&self.buf[start..end], start, d)))
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
        }
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
    pub fn next_segment(&mut self) -> Option<Result<Segment<'_>, ReadError>> {
        if self.done {
            return None;
        }
        let (start, end) = loop {
            match step(
                &self.buf[..self.end],
                self.start,
                self.base,
                self.delimiters,
                self.eof,
            ) {
                Step::Segment {
                    start,
                    end,
                    next,
                    isa,
                } => {
                    if let Some((d, layout)) = isa {
                        self.delimiters = Some(d);
                        self.isa_layout = Some(layout);
                    }
                    self.start = next;
                    break (start, end);
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
        Some(Ok(Segment::new(
            &self.buf[start..end],
            self.base + start,
            d,
        )))
    }

    /// Moves unread bytes to the front and reads more; grows the buffer only when one segment
    /// fills it.
    fn fill(&mut self) -> Result<(), ReadError> {
        if self.start > 0 {
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
