//! Findings of the validator: where, what, and which acknowledgment code it maps to.

use std::fmt;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: the input is accepted, but the sender should know (an errata id mapped to a
    /// base guide, say).
    Warning,
    /// The input breaks the standard or the guide; it is rejected at the level the finding names.
    Error,
}

/// The acknowledgment level a finding is reported at, with the code used there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum AckCode {
    /// Interchange level: a TA1 note code (TA105), e.g. `001` control numbers disagree.
    Interchange(&'static str),
    /// Functional group level: a 999 AK905 code, e.g. `5` transaction set count wrong.
    Group(&'static str),
    /// Transaction set level: a 999 IK502 code, e.g. `4` segment count wrong.
    TransactionSet(&'static str),
    /// Segment level: a 999 IK304 code, e.g. `3` required segment missing.
    Segment(&'static str),
    /// Element level: a 999 IK403 code, e.g. `8` invalid date.
    Element(&'static str),
}

impl AckCode {
    /// The code itself.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Interchange(c)
            | Self::Group(c)
            | Self::TransactionSet(c)
            | Self::Segment(c)
            | Self::Element(c) => c,
        }
    }

    /// Where the code goes in an acknowledgment (`TA105`, `AK905`, `IK502`, `IK304`, `IK403`).
    pub fn slot(&self) -> &'static str {
        match self {
            Self::Interchange(_) => "TA105",
            Self::Group(_) => "AK905",
            Self::TransactionSet(_) => "IK502",
            Self::Segment(_) => "IK304",
            Self::Element(_) => "IK403",
        }
    }
}

/// Which interchange, group and transaction set a finding belongs to (0-based, in file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Scope {
    /// Interchange index.
    pub interchange: usize,
    /// Group index within the interchange, if inside one.
    pub group: Option<usize>,
    /// Transaction set index within the group, if inside one.
    pub transaction: Option<usize>,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Acknowledgment level and code.
    pub ack: AckCode,
    /// Segment number in the file, 1-based (the line, when the file has one segment per line).
    pub line: usize,
    /// Byte offset of the segment in the input.
    pub offset: usize,
    /// Position of the segment in its transaction set (ST = 1), for IK302.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_position: Option<usize>,
    /// Loop the segment is in (`2300`), for IK303.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_id: Option<String>,
    /// Segment id.
    pub segment_id: String,
    /// Element position, 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<u8>,
    /// Component position within a composite, 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<u8>,
    /// Repetition, 1-based, when the element repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repetition: Option<u16>,
    /// Data element reference number, for IK402.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_element: Option<String>,
    /// Copy of the bad value, for IK404. May be PHI: show it to the sender, never log it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What is wrong, in plain language.
    pub message: String,
    /// Where it belongs in the envelope structure.
    pub scope: Scope,
}

impl Finding {
    /// `NM103`, `CLM05-01`, or the segment id alone.
    pub fn location(&self) -> String {
        let mut s = self.segment_id.clone();
        if let Some(e) = self.element {
            s.push_str(&format!("{e:02}"));
            if let Some(c) = self.component {
                s.push_str(&format!("-{c:02}"));
            }
        }
        s
    }
}

impl fmt::Display for Finding {
    /// One line: `error line 4 (byte 166) BPR16 in ST: message [IK403=8]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{severity} line {} (byte {}) {}",
            self.line,
            self.offset,
            self.location()
        )?;
        if let Some(l) = &self.loop_id {
            write!(f, " in loop {l}")?;
        }
        write!(
            f,
            ": {} [{}={}]",
            self.message,
            self.ack.slot(),
            self.ack.code()
        )
    }
}
