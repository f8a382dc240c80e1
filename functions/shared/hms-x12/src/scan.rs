//! Structural scanning: where the element separators and segment terminators are, 64 bytes at a
//! time.
//!
//! Tokenizing X12 is finding two bytes. Asking `memchr` once per segment and once per element
//! costs a call, a dispatch and a short-haystack tail per few dozen bytes; classifying a 64-byte
//! window into two bitmasks with SIMD compares and then walking the set bits costs a handful of
//! instructions per delimiter, and reads every byte once. (The same idea as simdjson's stage 1.)
#![allow(
    clippy::indexing_slicing,
    reason = "lanes are fixed 16-byte arrays and every range is checked against the segment's length just before; fuzz/read holds it"
)]

/// Bytes classified per window.
pub(crate) const WINDOW: usize = 64;

/// The element separators and segment terminators within one window of the input.
///
/// Positions are relative to the buffer being scanned; bit `i` of a mask stands for byte
/// `start + i`. Bits at or past `len` are always clear.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Window {
    /// Offset of the window's first byte in the buffer.
    pub start: usize,
    /// Bytes classified (less than [`WINDOW`] only at the end of the buffer).
    pub len: usize,
    /// Element separators.
    pub elements: u64,
    /// Segment terminators.
    pub terminators: u64,
}

impl Window {
    /// Classifies `buf[start..]`, up to [`WINDOW`] bytes of it.
    pub fn classify(buf: &[u8], start: usize, element: u8, terminator: u8) -> Self {
        let rest = buf.get(start..).unwrap_or_default();
        let (len, elements, terminators) = match rest.first_chunk::<WINDOW>() {
            Some(block) => {
                let (e, t) = masks(block, element, terminator);
                (WINDOW, e, t)
            }
            None => {
                let (e, t) = scalar_masks(rest, element, terminator);
                (rest.len(), e, t)
            }
        };
        Self {
            start,
            len,
            elements,
            terminators,
        }
    }

    /// Whether buffer offset `at` lies in the window.
    #[inline]
    pub fn covers(&self, at: usize) -> bool {
        at.wrapping_sub(self.start) < self.len
    }
}

/// Bitmasks of the bytes equal to `a` and to `b` in a 64-byte block.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // SSE2 intrinsics; see the SAFETY comment
fn masks(block: &[u8; WINDOW], a: u8, b: u8) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut ma = 0u64;
    let mut mb = 0u64;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available. The
    // load reads 16 bytes from a `&[u8; 16]`, which is valid for exactly that many bytes, and
    // `_mm_loadu_si128` has no alignment requirement.
    unsafe {
        let va = _mm_set1_epi8(a as i8);
        let vb = _mm_set1_epi8(b as i8);
        for (j, lane) in block.as_chunks::<16>().0.iter().enumerate() {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let ea = _mm_movemask_epi8(_mm_cmpeq_epi8(v, va)) as u16;
            let eb = _mm_movemask_epi8(_mm_cmpeq_epi8(v, vb)) as u16;
            ma |= u64::from(ea) << (16 * j);
            mb |= u64::from(eb) << (16 * j);
        }
    }
    (ma, mb)
}

/// Bitmasks of the bytes equal to `a` and to `b` in a 64-byte block (portable version).
#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; WINDOW], a: u8, b: u8) -> (u64, u64) {
    scalar_masks(block, a, b)
}

/// Bitmasks of the bytes equal to `a` and to `b` in up to [`WINDOW`] bytes, one at a time: the
/// tail of a buffer, and the whole scan where there is no SIMD version.
fn scalar_masks(bytes: &[u8], a: u8, b: u8) -> (u64, u64) {
    let mut ma = 0u64;
    let mut mb = 0u64;
    for (i, &byte) in bytes.iter().take(WINDOW).enumerate() {
        ma |= u64::from(byte == a) << i;
        mb |= u64::from(byte == b) << i;
    }
    (ma, mb)
}

/// Bytes [`text_masks`] takes at most (a segment's indexed prefix).
pub(crate) const TEXT: usize = 128;

/// Where the bytes equal to `a` and to `b` are in `raw` (at most [`TEXT`] bytes; bit `i` for byte
/// `i`), or `None` when some byte is not printable ASCII (0x20 to 0x7E).
///
/// One pass over a segment answers, for every element at once, what each value's checks would
/// otherwise ask byte by byte: is it plain text, and does it hold a component or repetition
/// separator.
pub(crate) fn text_masks(raw: &[u8], a: u8, b: u8) -> Option<(u128, u128)> {
    let raw = raw.get(..TEXT).unwrap_or(raw);
    let len = raw.len();
    if len < 8 {
        let mut lane = [b'0'; 16];
        lane[..len].copy_from_slice(raw);
        let (printable, ea, eb) = scalar_text(&lane, a, b);
        let valid = (1u16 << len) - 1;
        return (printable & valid == valid)
            .then(|| (u128::from(ea & valid), u128::from(eb & valid)));
    }
    if len < 16 {
        // The first eight bytes and the last eight, overlapping: no copy of a variable length.
        let mut lane = [0u8; 16];
        lane[..8].copy_from_slice(&raw[..8]);
        lane[8..].copy_from_slice(&raw[len - 8..]);
        let (printable, ea, eb) = classify_text(&lane, a, b)?;
        if printable != u16::MAX {
            return None;
        }
        let spread = |m: u16| u128::from(m & 0xff) | (u128::from(m >> 8) << (len - 8));
        return Some((spread(ea), spread(eb)));
    }
    let mut ma = 0u128;
    let mut mb = 0u128;
    let mut at = 0;
    while at < len {
        // The last chunk ends at the last byte, overlapping the one before it.
        let from = at.min(len - 16);
        let lane = raw[from..].first_chunk::<16>()?;
        let (printable, ea, eb) = classify_text(lane, a, b)?;
        if printable != u16::MAX {
            return None;
        }
        ma |= u128::from(ea) << from;
        mb |= u128::from(eb) << from;
        at += 16;
    }
    Some((ma, mb))
}

/// For 16 bytes: which are printable ASCII, which equal `a`, which equal `b`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[allow(unsafe_code)] // SSE2 intrinsics; see the SAFETY comment
fn classify_text(lane: &[u8; 16], a: u8, b: u8) -> Option<(u16, u16, u16)> {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline. The load reads 16 bytes from a `&[u8; 16]`,
    // which is valid for exactly that many, and `_mm_loadu_si128` needs no alignment.
    unsafe {
        let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
        // Signed compare: bytes from 0x80 are negative, so "greater than 0x1F" is 0x20..=0x7F.
        let above_controls = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f));
        let delete = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
        let printable = _mm_movemask_epi8(_mm_andnot_si128(delete, above_controls)) as u16;
        let ea = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(a as i8))) as u16;
        let eb = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u16;
        Some((printable, ea, eb))
    }
}

/// For 16 bytes: which are printable ASCII, which equal `a`, which equal `b` (portable version).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify_text(lane: &[u8; 16], a: u8, b: u8) -> Option<(u16, u16, u16)> {
    Some(scalar_text(lane, a, b))
}

/// [`classify_text`] one byte at a time (also used for the shortest segments).
fn scalar_text(lane: &[u8; 16], a: u8, b: u8) -> (u16, u16, u16) {
    let (mut printable, mut ea, mut eb) = (0u16, 0u16, 0u16);
    for (i, &byte) in lane.iter().enumerate() {
        printable |= u16::from((0x20..0x7f).contains(&byte)) << i;
        ea |= u16::from(byte == a) << i;
        eb |= u16::from(byte == b) << i;
    }
    (printable, ea, eb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &[u8], start: usize, a: u8, b: u8) -> (usize, u64, u64) {
        let rest = &buf[start..];
        let len = rest.len().min(WINDOW);
        let mut ma = 0;
        let mut mb = 0;
        for (i, &x) in rest[..len].iter().enumerate() {
            ma |= u64::from(x == a) << i;
            mb |= u64::from(x == b) << i;
        }
        (len, ma, mb)
    }

    #[test]
    fn masks_agree_with_a_byte_loop_at_every_offset() {
        let buf: Vec<u8> = (0..300u32)
            .map(|i| match i % 11 {
                0 => b'*',
                5 if i % 3 == 0 => b'~',
                7 => 0xAA,
                _ => b'A' + (i % 26) as u8,
            })
            .collect();
        for start in 0..buf.len() {
            let w = Window::classify(&buf, start, b'*', b'~');
            assert_eq!(
                (w.len, w.elements, w.terminators),
                naive(&buf, start, b'*', b'~'),
                "start {start}"
            );
            // Delimiters with the high bit set compare as bytes, not as signed lanes.
            let w = Window::classify(&buf, start, 0xAA, b'*');
            assert_eq!(
                (w.len, w.elements, w.terminators),
                naive(&buf, start, 0xAA, b'*')
            );
        }
        assert_eq!(Window::classify(&buf, 300, b'*', b'~').len, 0);
        assert!(!Window::classify(&buf, 400, b'*', b'~').covers(400));
    }

    #[test]
    fn text_masks_agree_with_a_byte_loop() {
        let mut next = hms_test_support::xorshift(0x2545_f491_4f6c_dd1d);
        let alphabet: Vec<u8> = (0x20..0x7f).collect();
        for round in 0..4000 {
            let len = round % 140;
            let mut raw: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if round % 3 == 0 && len > 0 {
                // One byte outside printable ASCII, anywhere, including the high half.
                let at = (next() % len as u64) as usize;
                raw[at] = [0x00, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xc3, 0xff][round % 8];
            }
            let (a, b) = (b':', b'^');
            let scanned = &raw[..len.min(TEXT)];
            let expected = scanned.iter().all(|x| (0x20..0x7f).contains(x)).then(|| {
                scanned
                    .iter()
                    .enumerate()
                    .fold((0u128, 0u128), |(ma, mb), (i, &x)| {
                        (ma | u128::from(x == a) << i, mb | u128::from(x == b) << i)
                    })
            });
            assert_eq!(text_masks(&raw, a, b), expected, "{raw:?}");
        }
        // The pad byte is never reported, even when it is a separator.
        assert_eq!(text_masks(b"ab", b'0', b'0'), Some((0, 0)));
        assert_eq!(text_masks(b"", b'0', b'0'), Some((0, 0)));
        let lane = *b"ab:^\x7f \x00~zzzzzzzz";
        let (printable, ea, eb) = scalar_text(&lane, b':', b'^');
        assert_eq!((printable & 0xff, ea, eb), (0b1010_1111, 0b100, 0b1000));
    }
}
