//! Structural scanning: where the element separators and segment terminators are, 64 bytes at a
//! time.
//!
//! Tokenizing X12 is finding two bytes. Asking `memchr` once per segment and once per element
//! costs a call, a dispatch and a short-haystack tail per few dozen bytes; classifying a 64-byte
//! window into two bitmasks with SIMD compares and then walking the set bits costs a handful of
//! instructions per delimiter, and reads every byte once. (The same idea as simdjson's stage 1.)

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
    pub fn covers(&self, at: usize) -> bool {
        at >= self.start && at < self.start + self.len
    }
}

/// Bitmasks of the bytes equal to `a` and to `b` in a 64-byte block.
#[cfg(target_arch = "x86_64")]
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
}
