//! Delimiters of an interchange, read from its ISA segment.
//!
//! X12 has no fixed delimiters: every interchange declares its own in the fixed-width ISA segment
//! (element separator at byte 3, repetition separator in ISA11, component separator in ISA16, and
//! the segment terminator right after ISA16). Everything downstream takes them from here.
#![allow(
    clippy::indexing_slicing,
    reason = "each index is checked against the ISA's length on the line before (ISA_LEN, ISA_SCAN_LIMIT); fuzz/read holds it"
)]

use crate::error::ReadError;

/// Length of a well-formed ISA segment, terminator included.
pub const ISA_LEN: usize = 106;

/// Byte offsets (within the ISA) of the element separators a fixed-width ISA must have.
const ISA_SEPARATOR_OFFSETS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];

/// The four delimiters of one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Delimiters {
    /// Separates elements within a segment (ISA byte 3, usually `*`).
    pub element: u8,
    /// Separates repetitions of a repeatable element (ISA11, usually `^`).
    pub repetition: u8,
    /// Separates components of a composite element (ISA16, usually `:`).
    pub component: u8,
    /// Ends a segment (the byte after ISA16, usually `~`).
    pub segment: u8,
}

impl Default for Delimiters {
    /// The delimiters most trading partners use and the ones our writer emits unless told otherwise.
    fn default() -> Self {
        Self {
            element: b'*',
            repetition: b'^',
            component: b':',
            segment: b'~',
        }
    }
}

/// How the ISA was laid out: fixed-width as the standard demands, or recovered by counting separators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsaLayout {
    /// All sixteen elements at their fixed widths; the ISA is exactly 106 bytes.
    Fixed,
    /// Widths were wrong; delimiters were found by counting element separators. Reported as an
    /// envelope error, but the rest of the interchange can still be read.
    Recovered {
        /// Length of the ISA segment as found, terminator included.
        len: usize,
    },
}

/// Most bytes a recovered (not fixed-width) ISA may span, terminator included. Readers must
/// offer at least this much lookahead at an ISA.
pub(crate) const ISA_SCAN_LIMIT: usize = 512;

impl Delimiters {
    /// Reads the delimiters from `input`, which must start with an ISA segment at byte `base`
    /// (`base` is only used to report absolute offsets).
    ///
    /// Returns the delimiters and how the ISA was laid out. Needs at most 106 bytes when the ISA is
    /// well formed; a recovered layout may need a few more.
    pub fn from_isa(input: &[u8], base: usize) -> Result<(Self, IsaLayout), ReadError> {
        if input.len() < 4 {
            return Err(ReadError::TruncatedIsa {
                offset: base,
                len: input.len(),
            });
        }
        if &input[..3] != b"ISA" {
            return Err(ReadError::NotIsa { offset: base });
        }
        let element = input[3];
        if element.is_ascii_alphanumeric() || element == b' ' {
            return Err(ReadError::BadDelimiter {
                offset: base + 3,
                which: "element separator",
                byte: element,
            });
        }
        let fixed =
            input.len() >= ISA_LEN && ISA_SEPARATOR_OFFSETS.iter().all(|&i| input[i] == element);
        let (repetition, component, segment, layout) = if fixed {
            (input[82], input[104], input[105], IsaLayout::Fixed)
        } else {
            // Recover: the 16th separator precedes ISA16 (one byte), then the terminator.
            // An ISA that needs more than ISA_SCAN_LIMIT bytes is not one; bounding the scan also
            // makes the verdict independent of how much of the input is at hand.
            let input = &input[..input.len().min(ISA_SCAN_LIMIT)];
            let mut seen = 0;
            let mut positions = [0usize; 16];
            for (i, &b) in input.iter().enumerate() {
                if b == element {
                    positions[seen] = i;
                    seen += 1;
                    if seen == 16 {
                        break;
                    }
                }
            }
            if seen < 16 || positions[15] + 2 >= input.len() {
                return Err(ReadError::TruncatedIsa {
                    offset: base,
                    len: input.len(),
                });
            }
            let comp_at = positions[15] + 1;
            let rep = if positions[11] == positions[10] + 2 {
                input[positions[10] + 1]
            } else {
                b'^'
            };
            (
                rep,
                input[comp_at],
                input[comp_at + 1],
                IsaLayout::Recovered { len: comp_at + 2 },
            )
        };
        let delimiters = Self {
            element,
            repetition,
            component,
            segment,
        };
        delimiters.check(base)?;
        Ok((delimiters, layout))
    }

    /// Rejects delimiter sets that would make the interchange ambiguous.
    fn check(&self, base: usize) -> Result<(), ReadError> {
        let all = [
            (self.component, "component separator", 104),
            (self.segment, "segment terminator", 105),
        ];
        for (byte, which, at) in all {
            if byte.is_ascii_alphanumeric() || byte == b' ' || byte == self.element {
                return Err(ReadError::BadDelimiter {
                    offset: base + at,
                    which,
                    byte,
                });
            }
        }
        if self.component == self.segment {
            return Err(ReadError::BadDelimiter {
                offset: base + 105,
                which: "segment terminator",
                byte: self.segment,
            });
        }
        Ok(())
    }

    /// Whether `repetition` is a real separator (in 5010 ISA11 is the repetition separator; a
    /// sender that puts the old `U` standards id there has no repetition separator at all).
    pub fn has_repetition(&self) -> bool {
        !self.repetition.is_ascii_alphanumeric()
            && self.repetition != b' '
            && self.repetition != self.element
            && self.repetition != self.component
            && self.repetition != self.segment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] = b"ISA*00*          *00*          *ZZ*SUBMITTERID    *ZZ*RECEIVERID     *230101*1253*^*00501*000000001*0*T*:~";

    #[test]
    fn reads_standard_delimiters() {
        assert_eq!(ISA.len(), ISA_LEN);
        let (d, layout) = Delimiters::from_isa(ISA, 0).unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(layout, IsaLayout::Fixed);
    }

    #[test]
    fn reads_unusual_delimiters() {
        let isa: Vec<u8> = ISA
            .iter()
            .map(|&b| match b {
                b'*' => b'|',
                b'^' => b'{',
                b':' => b'>',
                b'~' => b'\n',
                other => other,
            })
            .collect();
        let (d, _) = Delimiters::from_isa(&isa, 0).unwrap();
        assert_eq!(
            (d.element, d.repetition, d.component, d.segment),
            (b'|', b'{', b'>', b'\n')
        );
    }

    #[test]
    fn recovers_from_wrong_widths() {
        let isa = b"ISA*00*  *00*  *ZZ*SUB*ZZ*REC*230101*1253*^*00501*000000001*0*T*:~GS*";
        let (d, layout) = Delimiters::from_isa(isa, 10).unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(layout, IsaLayout::Recovered { len: 66 });
    }

    #[test]
    fn rejects_alphanumeric_separator() {
        let mut isa = ISA.to_vec();
        for i in ISA_SEPARATOR_OFFSETS {
            isa[i] = b'X';
        }
        let err = Delimiters::from_isa(&isa, 7).unwrap_err();
        assert_eq!(
            err,
            ReadError::BadDelimiter {
                offset: 10,
                which: "element separator",
                byte: b'X'
            }
        );
    }

    #[test]
    fn rejects_terminator_equal_to_component() {
        let mut isa = ISA.to_vec();
        isa[105] = b':';
        assert!(matches!(
            Delimiters::from_isa(&isa, 0),
            Err(ReadError::BadDelimiter {
                which: "segment terminator",
                ..
            })
        ));
    }

    #[test]
    fn rejects_truncated_and_foreign_input() {
        assert!(matches!(
            Delimiters::from_isa(b"IS", 0),
            Err(ReadError::TruncatedIsa { .. })
        ));
        assert!(matches!(
            Delimiters::from_isa(b"GS*HC*", 0),
            Err(ReadError::NotIsa { offset: 0 })
        ));
        assert!(matches!(
            Delimiters::from_isa(b"ISA*00*   *00", 0),
            Err(ReadError::TruncatedIsa { .. })
        ));
    }
}
