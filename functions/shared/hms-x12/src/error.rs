//! Errors of the reader: input that cannot be split into segments at all.
//!
//! Everything that *can* be tokenized but breaks a rule of the standard or of an implementation
//! guide is not an error here but a [`crate::Finding`] of the validator.

/// Input the reader cannot turn into segments, with the absolute byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The input is empty, or holds nothing but line breaks.
    #[error("the input is empty: an X12 interchange starts with an ISA segment")]
    Empty,
    /// The interchange does not start with ISA, so its delimiters are unknown.
    #[error("byte {offset}: expected an ISA segment (an interchange must start with ISA)")]
    NotIsa {
        /// Offset of the first byte that is not `ISA`.
        offset: usize,
    },
    /// The ISA segment ends before its sixteen elements and terminator.
    #[error("byte {offset}: the ISA segment is truncated ({len} bytes; a complete ISA has 106)")]
    TruncatedIsa {
        /// Offset of the ISA.
        offset: usize,
        /// Bytes available.
        len: usize,
    },
    /// A delimiter byte that cannot be used (letter, digit, space, or equal to another delimiter).
    #[error("byte {offset}: {which} {:?} cannot be used as a delimiter", char::from(*byte))]
    BadDelimiter {
        /// Offset of the delimiter byte.
        offset: usize,
        /// Which delimiter.
        which: &'static str,
        /// The byte found.
        byte: u8,
    },
    /// A segment whose identifier is not two or three upper-case letters and digits.
    #[error(
        "byte {offset}: malformed segment identifier {id:?} (expected 2-3 upper-case letters or digits)"
    )]
    BadSegmentId {
        /// Offset of the segment.
        offset: usize,
        /// The identifier as found (lossy UTF-8, at most 16 bytes).
        id: String,
    },
    /// Two segment terminators with nothing between them.
    #[error("byte {offset}: empty segment (two segment terminators in a row)")]
    EmptySegment {
        /// Offset of the second terminator.
        offset: usize,
    },
    /// The input ends inside a segment.
    #[error("byte {offset}: the input ends inside a segment (no segment terminator {:?})", char::from(*terminator))]
    Unterminated {
        /// Offset where the unterminated segment starts.
        offset: usize,
        /// The terminator that was expected.
        terminator: u8,
    },
    /// A segment longer than the reader accepts (no terminator in sight).
    #[error("byte {offset}: segment longer than {max} bytes (is the segment terminator right?)")]
    SegmentTooLong {
        /// Offset where the segment starts.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// The underlying reader failed.
    #[error("read failed after byte {offset}: {message}")]
    Io {
        /// Bytes consumed before the failure.
        offset: usize,
        /// The I/O error's message.
        message: String,
    },
}

impl ReadError {
    /// Absolute byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::NotIsa { offset }
            | Self::TruncatedIsa { offset, .. }
            | Self::BadDelimiter { offset, .. }
            | Self::BadSegmentId { offset, .. }
            | Self::EmptySegment { offset }
            | Self::Unterminated { offset, .. }
            | Self::SegmentTooLong { offset, .. }
            | Self::Io { offset, .. } => *offset,
        }
    }

    /// Whether reading can go on after this error (the next segment is still findable).
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::BadSegmentId { .. } | Self::EmptySegment { .. })
    }
}
