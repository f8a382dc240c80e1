//! Implementation guides as data.
//!
//! Three kinds of declarative file, embedded in the crate from `specs/`, describe everything the
//! validator knows; the validator itself is one generic walker. Adding a transaction means adding
//! a guide file, not code.
//!
//! - `elements.spec`: the X12 data element dictionary (number, type, min and max length).
//! - `segments.spec`: the standard layout of each segment and composite: which data element sits
//!   at each position, its requirement designator (M, O, X), repeat count, and the syntax notes.
//! - one `*.guide` per implementation guide (TR3): loops, segment order, usage (R, S, N), repeats,
//!   and for each element the guide's usage and code list. Elements a guide does not mention are
//!   "not used" there.
//!
//! The format is described in `specs/README.md`.
#![allow(
    clippy::indexing_slicing,
    reason = "indices into the guide's own tables, made by its parser, never taken from input"
)]

mod parse;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use parse::SpecError;

/// X12 data element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ElementType {
    /// String (printable characters).
    AN,
    /// Identifier: a value from a code list.
    ID,
    /// Date, `CCYYMMDD` (or `YYMMDD` where the dictionary allows six characters).
    DT,
    /// Time, `HHMM`, `HHMMSS` or `HHMMSSd..d`.
    TM,
    /// Numeric with an implied number of decimal places (N0, N2, ...).
    N(u8),
    /// Decimal number with an explicit decimal point.
    R,
    /// Binary; never validated by content.
    B,
}

impl ElementType {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "AN" => Self::AN,
            "ID" => Self::ID,
            "DT" => Self::DT,
            "TM" => Self::TM,
            "R" => Self::R,
            "B" => Self::B,
            n if n.len() == 2 => Self::N(n.strip_prefix('N')?.parse().ok()?),
            _ => return None,
        })
    }

    /// The type's name as the standard writes it (`AN`, `N2`, ...).
    pub fn name(&self) -> String {
        match self {
            Self::N(d) => format!("N{d}"),
            other => format!("{other:?}"),
        }
    }
}

/// One entry of the data element dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataElement {
    /// Data element reference number (`98`, `1065`, `I12`, ...).
    pub number: String,
    /// Type.
    pub kind: ElementType,
    /// Minimum length (digits only for numeric types).
    pub min: u16,
    /// Maximum length (digits only for numeric types).
    pub max: u16,
    /// Dictionary name.
    pub name: String,
    /// The external code list the element takes wherever a guide gives none of its own (State
    /// or Province Code, 156: code source 22), from a `codes` line of `elements.spec`.
    pub codes: Option<Vec<String>>,
}

/// Standard requirement designator of an element within its segment or composite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Requirement {
    /// Mandatory.
    M,
    /// Optional.
    O,
    /// Relational: governed by the segment's syntax notes.
    X,
}

/// An element position in the standard layout of a segment or composite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardElement {
    /// Data element number, or composite id (`C003`).
    pub reference: String,
    /// Requirement designator.
    pub requirement: Requirement,
    /// How many repetitions the standard allows.
    pub repeat: u16,
}

/// The bit that stands for element (or component) position `position` (1-based) in the presence
/// and requirement bitmasks the validator tests: bit `position - 1`, positions past 64 sharing
/// the last bit.
#[inline]
pub fn position_bit(position: u8) -> u64 {
    1u64 << (position.max(1) - 1).min(63)
}

/// X12 syntax note kinds (the letter of `P0102`, `R0203`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SyntaxKind {
    /// Paired: if any is present, all are.
    Paired,
    /// Required: at least one is present.
    Required,
    /// Exclusion: at most one is present.
    Exclusion,
    /// Conditional: if the first is present, all others are.
    Conditional,
    /// List conditional: if the first is present, at least one of the others is.
    ListConditional,
}

/// One syntax note over element (or component) positions, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxNote {
    /// The rule.
    pub kind: SyntaxKind,
    /// Positions it relates.
    pub positions: Vec<u8>,
    /// The positions as a bitmask (bit `p - 1` for position `p`), and the first of them: what
    /// [`SyntaxNote::holds`] tests, a few instructions per note.
    mask: u64,
    first: u64,
}

impl SyntaxNote {
    /// A note relating `positions` (1-based, the first one first).
    pub fn new(kind: SyntaxKind, positions: Vec<u8>) -> Self {
        let mask = positions.iter().fold(0u64, |m, &p| m | position_bit(p));
        let first = positions.first().map_or(0, |&p| position_bit(p));
        Self {
            kind,
            positions,
            mask,
            first,
        }
    }

    /// The positions as a bitmask (bit `p - 1` for position `p`).
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// Whether the note holds for a presence bitmask (bit `p - 1` set when position `p` has data).
    #[inline]
    pub fn holds(&self, present: u64) -> bool {
        let (mask, first) = (self.mask, self.first);
        let here = present & mask;
        match self.kind {
            SyntaxKind::Paired => here == 0 || here == mask,
            SyntaxKind::Required => here != 0,
            SyntaxKind::Exclusion => here.count_ones() <= 1,
            SyntaxKind::Conditional => here & first == 0 || here == mask,
            SyntaxKind::ListConditional => here & first == 0 || here & !first != 0,
        }
    }

    /// The note as the standard writes it (`P0102`).
    pub fn code(&self) -> String {
        let letter = match self.kind {
            SyntaxKind::Paired => 'P',
            SyntaxKind::Required => 'R',
            SyntaxKind::Exclusion => 'E',
            SyntaxKind::Conditional => 'C',
            SyntaxKind::ListConditional => 'L',
        };
        let mut s = letter.to_string();
        for p in &self.positions {
            s.push_str(&format!("{p:02}"));
        }
        s
    }
}

/// The standard layout of a segment or composite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardLayout {
    /// Segment or composite id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Elements by position (index 0 = position 01).
    pub elements: Vec<StandardElement>,
    /// Syntax notes.
    pub syntax: Vec<SyntaxNote>,
}

/// Usage of a loop, segment or element in an implementation guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Usage {
    /// Required.
    Required,
    /// Situational: sent when the guide's situation applies.
    Situational,
    /// Not used: must not be sent.
    NotUsed,
}

impl Usage {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "R" => Self::Required,
            "S" => Self::Situational,
            "N" => Self::NotUsed,
            _ => return None,
        })
    }

    /// The one-letter form (R, S, N).
    pub fn letter(&self) -> char {
        match self {
            Self::Required => 'R',
            Self::Situational => 'S',
            Self::NotUsed => 'N',
        }
    }
}

/// A guide's code list for one element.
///
/// Kept twice: as written (for messages and for cross-checks against other maps) and as packed
/// integer keys, so that a lookup compares integers — a short scan, or one hash probe for long
/// lists — rather than strings one code at a time: some lists (claim adjustment reasons, service
/// types) have hundreds of entries and are consulted for nearly every segment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeList {
    codes: Vec<String>,
    /// Keys of the codes that fit in a key (up to 7 bytes: nearly every X12 code): a plain list
    /// when short, otherwise an open-addressing table (0 marks a free slot; no key is 0).
    keys: Vec<u64>,
    /// Whether `keys` is a hash table rather than a list.
    hashed: bool,
    /// Codes too long for a key, compared as bytes.
    long: Vec<String>,
}

/// Lists up to this long are scanned; longer ones are hashed.
const SCANNED: usize = 8;

impl CodeList {
    /// A code list, in the order given.
    pub fn new(codes: Vec<String>) -> Self {
        let mut keys = vec![];
        let mut long = vec![];
        for code in &codes {
            match code_key(code.as_bytes()) {
                Some(k) => keys.push(k),
                None => long.push(code.clone()),
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let hashed = keys.len() > SCANNED;
        if hashed {
            // At most half full, so a miss ends after a probe or two.
            let mut table = vec![0u64; (keys.len() * 2).next_power_of_two()];
            for k in keys {
                let mut slot = slot_of(k, table.len());
                while table[slot] != 0 {
                    slot = (slot + 1) & (table.len() - 1);
                }
                table[slot] = k;
            }
            keys = table;
        }
        Self {
            codes,
            keys,
            hashed,
            long,
        }
    }

    /// Whether `value` is one of the codes.
    #[inline]
    pub fn contains(&self, value: &[u8]) -> bool {
        self.contains_within(value, 0, value.len())
    }

    /// Whether `bytes[start..end]` is one of the codes. The bytes around the value (the rest of
    /// its segment) let its key be read as one word instead of byte by byte.
    #[inline]
    pub fn contains_within(&self, bytes: &[u8], start: usize, end: usize) -> bool {
        let Some(k) = code_key_within(bytes, start, end) else {
            let value = bytes.get(start..end).unwrap_or_default();
            return self.long.iter().any(|c| c.as_bytes() == value);
        };
        if !self.hashed {
            return self.keys.contains(&k);
        }
        let mask = self.keys.len() - 1;
        let mut slot = slot_of(k, self.keys.len());
        loop {
            match self.keys[slot] {
                0 => return false,
                found if found == k => return true,
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The codes as the guide lists them.
    pub fn as_slice(&self) -> &[String] {
        &self.codes
    }
}

impl std::ops::Deref for CodeList {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.codes
    }
}

/// The home slot of `key` in a table of `len` (a power of two) slots.
#[inline]
fn slot_of(key: u64, len: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & (len - 1)
}

/// A code of up to 7 bytes packed into an integer: its bytes (the first one lowest), then its
/// length (so `A` and `A\0` differ). Longer codes (version identifiers and the like) have no key.
fn code_key(value: &[u8]) -> Option<u64> {
    if value.len() > 7 {
        return None;
    }
    let mut word = [0u8; 8];
    word[..value.len()].copy_from_slice(value);
    Some((u64::from_le_bytes(word) << 8) | value.len() as u64)
}

/// [`code_key`] of `bytes[start..end]`, loading eight bytes at once when `bytes` has them around
/// the value: no loop whose length depends on the data.
#[inline]
fn code_key_within(bytes: &[u8], start: usize, end: usize) -> Option<u64> {
    let len = end.checked_sub(start)?;
    if len > 7 || end > bytes.len() {
        return None;
    }
    if len == 0 {
        return Some(0);
    }
    let word = if let Some(w) = bytes.get(start..).and_then(|b| b.first_chunk::<8>()) {
        u64::from_le_bytes(*w)
    } else if let Some(w) = bytes.last_chunk::<8>() {
        // The value ends within the last eight bytes: load those and drop what precedes it.
        let skip = start + 8 - bytes.len();
        u64::from_le_bytes(*w) >> (8 * skip)
    } else {
        return code_key(&bytes[start..end]);
    };
    Some(((word & (u64::MAX >> (64 - 8 * len))) << 8) | len as u64)
}

/// A segment identifier packed into an integer (`NM1` → `0x4E4D31`), so that finding a segment's
/// place in a guide compares integers, not strings. Identifiers are two or three bytes; longer
/// ones (never valid) keep their first four.
#[inline]
pub const fn segment_tag(id: &[u8]) -> u32 {
    let mut tag = 0u32;
    let mut i = 0;
    while i < id.len() && i < 4 {
        tag = (tag << 8) | id[i] as u32;
        i += 1;
    }
    tag
}

/// An element as an implementation guide uses it: the standard's definition narrowed by the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementSpec {
    /// Position in the segment (or composite), 1-based.
    pub position: u8,
    /// Data element number or composite id.
    pub reference: String,
    /// Name (from the dictionary).
    pub name: String,
    /// The guide's usage.
    pub usage: Usage,
    /// Type (meaningless for composites).
    pub kind: ElementType,
    /// Minimum length.
    pub min: u16,
    /// Maximum length.
    pub max: u16,
    /// Repetitions allowed.
    pub repeat: u16,
    /// Codes the guide allows, if it restricts them (or the dictionary's external code list,
    /// when the guide gives none: see `external_codes`).
    pub codes: Option<CodeList>,
    /// `codes` is the data element's external code list from the dictionary, not the guide's.
    pub external_codes: bool,
    /// Exact count of ASCII digits the guide demands (`digits=9`: a ZIP+4, an SSN), beyond the
    /// standard's type and length.
    pub digits: Option<u16>,
    /// Components, when the element is a composite.
    pub components: Option<Vec<ElementSpec>>,
    /// Syntax notes over the components, when the element is a composite.
    pub syntax: Vec<SyntaxNote>,
    /// Its part in a Date Time Period pair (1250 names the format of the 1251 after it).
    pub period: DatePeriod,
}

/// The part an element plays in a Date Time Period pair: the qualifier (data element 1250) says
/// how to read the period (1251) that follows it, so the validator carries one to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePeriod {
    /// Neither.
    None,
    /// Date Time Period Format Qualifier (1250).
    Format,
    /// Date Time Period (1251).
    Value,
}

impl DatePeriod {
    /// The part data element `reference` plays.
    pub fn of(reference: &str) -> Self {
        match reference {
            "1250" => Self::Format,
            "1251" => Self::Value,
            _ => Self::None,
        }
    }
}

impl ElementSpec {
    /// Whether `value` is in the guide's code list (always true when it has none).
    pub fn allows_code(&self, value: &[u8]) -> bool {
        match &self.codes {
            None => true,
            Some(codes) => codes.contains(value),
        }
    }
}

/// What the quick check of a value tests beyond its length, by element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ValueClass {
    /// Printable text (AN, ID, B): the length and, if any, the code list.
    #[default]
    Text,
    /// A calendar date (DT).
    Date,
    /// A time of day (TM).
    Time,
    /// Digits with an optional leading minus (N0, N2, ...).
    Integer,
    /// Digits with an optional leading minus and at most one point (R).
    Decimal,
}

/// One element (or component) of a segment spec reduced to what the validator's quick verdict
/// tests, in 12 bytes: a segment's rules sit together in one or two cache lines, and every
/// unusual property is one flag bit, so an ordinary value costs a length compare, a type test and
/// (for identifiers) one code lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Rule {
    /// Minimum length.
    pub min: u16,
    /// Maximum length.
    pub max: u16,
    /// Exact count of digits required, 0 for none.
    pub digits: u16,
    /// For a composite, where its components' rules start in [`Rules::components`].
    pub first: u16,
    /// For a composite, how many components it has.
    pub count: u8,
    /// The type test.
    pub class: ValueClass,
    /// [`Rule::REQUIRED`] and the other flags.
    pub flags: u8,
}

impl Rule {
    /// The guide requires the element.
    pub const REQUIRED: u8 = 1;
    /// The guide does not use the element.
    pub const NOT_USED: u8 = 1 << 1;
    /// The element may repeat.
    pub const REPEATS: u8 = 1 << 2;
    /// The element is a composite.
    pub const COMPOSITE: u8 = 1 << 3;
    /// A Date Time Period Format Qualifier (1250).
    pub const PERIOD_FORMAT: u8 = 1 << 4;
    /// A Date Time Period (1251).
    pub const PERIOD_VALUE: u8 = 1 << 5;
    /// The guide restricts the element to a code list.
    pub const CODES: u8 = 1 << 6;

    fn of(es: &ElementSpec) -> Self {
        let mut flags = match es.usage {
            Usage::Required => Self::REQUIRED,
            Usage::Situational => 0,
            Usage::NotUsed => Self::NOT_USED,
        };
        if es.repeat > 1 {
            flags |= Self::REPEATS;
        }
        if es.components.is_some() {
            flags |= Self::COMPOSITE;
        }
        flags |= match es.period {
            DatePeriod::None => 0,
            DatePeriod::Format => Self::PERIOD_FORMAT,
            DatePeriod::Value => Self::PERIOD_VALUE,
        };
        if es.codes.is_some() {
            flags |= Self::CODES;
        }
        Self {
            min: es.min,
            max: es.max,
            digits: es.digits.unwrap_or(0),
            first: 0,
            count: 0,
            class: match es.kind {
                ElementType::DT => ValueClass::Date,
                ElementType::TM => ValueClass::Time,
                ElementType::N(_) => ValueClass::Integer,
                ElementType::R => ValueClass::Decimal,
                ElementType::AN | ElementType::ID | ElementType::B => ValueClass::Text,
            },
            flags,
        }
    }

    /// Whether the rule has any of `flags`.
    #[inline]
    pub fn has(&self, flags: u8) -> bool {
        self.flags & flags != 0
    }
}

/// The [`Rule`]s of a segment spec: one per element, then those of every composite's
/// components.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Rules {
    /// By element position (index 0 is element 01), like [`SegmentSpec::elements`].
    pub elements: Vec<Rule>,
    /// The components of every composite, each composite's together, in position order.
    pub components: Vec<Rule>,
}

impl Rules {
    /// Rules for `elements`; `None` when a composite has more components than a rule can count.
    pub(crate) fn of(elements: &[ElementSpec]) -> Option<Self> {
        let mut rules = Self::default();
        for es in elements {
            let mut rule = Rule::of(es);
            if let Some(components) = &es.components {
                rule.first = u16::try_from(rules.components.len()).ok()?;
                rule.count = u8::try_from(components.len()).ok()?;
                rules.components.extend(components.iter().map(Rule::of));
            }
            rules.elements.push(rule);
        }
        Some(rules)
    }

    /// The rules of a composite's components.
    #[inline]
    pub fn components_of(&self, rule: &Rule) -> &[Rule] {
        let first = usize::from(rule.first);
        self.components
            .get(first..first + usize::from(rule.count))
            .unwrap_or_default()
    }
}

/// How a segment in a guide is told apart from others with the same id (NM1*85 vs NM1*87).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentKey {
    /// Element position (1-based).
    pub element: u8,
    /// Component position (1-based; 0 when the element is simple).
    pub component: u8,
    /// Values that identify the segment.
    pub codes: CodeList,
}

/// Index of a segment within [`Guide::segments`].
pub type SegmentIndex = usize;
/// Index of a loop within [`Guide::loops`].
pub type LoopIndex = usize;

/// A segment at its place in a guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSpec {
    /// Segment id.
    pub id: String,
    /// The id as a [`segment_tag`].
    pub tag: u32,
    /// The guide's name for it.
    pub name: String,
    /// Usage.
    pub usage: Usage,
    /// Maximum uses in one loop iteration (`None` = unbounded, `>1`).
    pub max_use: Option<u32>,
    /// Elements by position; `elements[0]` is element 01.
    pub elements: Vec<ElementSpec>,
    /// Syntax notes of the standard segment.
    pub syntax: Vec<SyntaxNote>,
    /// How this segment is recognised among same-id siblings.
    pub key: Option<SegmentKey>,
    /// Positions of its required elements as a bitmask (bit `p - 1` for position `p`), so the
    /// validator can tell in one test whether a short segment left one out.
    pub required: u64,
    /// Positions any of its syntax notes names, when none of them is an R (at least one of)
    /// note: a segment with data in none of these positions satisfies every note at once.
    pub syntax_quiet: Option<u64>,
    /// The loop that holds it.
    pub parent: LoopIndex,
    /// Its elements' checks in compact form, for the quick verdict.
    pub(crate) rules: Rules,
}

impl SegmentSpec {
    /// Whether a segment with this spec's id matches its key.
    pub fn matches(&self, segment: &crate::Segment<'_>) -> bool {
        let Some(key) = &self.key else { return true };
        if key.component == 0 {
            return segment
                .element_span(usize::from(key.element))
                .is_some_and(|(start, end)| key.codes.contains_within(segment.raw(), start, end));
        }
        let Some(element) = segment.element(usize::from(key.element)) else {
            return false;
        };
        let value = if key.component == 0 {
            element.raw()
        } else {
            element.component(usize::from(key.component))
        };
        key.codes.contains(value)
    }
}

/// A child of a loop: a segment or a nested loop, in guide order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// A segment.
    Segment(SegmentIndex),
    /// A loop.
    Loop(LoopIndex),
}

/// A loop of a guide (the transaction set itself is the root loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopSpec {
    /// Loop id (`2000A`, `2300`; the root is `ST`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Usage.
    pub usage: Usage,
    /// Maximum repeats (`None` = unbounded).
    pub max_repeat: Option<u32>,
    /// Children in order; the first is the loop's trigger segment.
    pub children: Vec<Node>,
    /// The loop that holds it (`None` for the root).
    pub parent: Option<LoopIndex>,
    /// The children as the loop walker scans them, built once the guide is read.
    pub(crate) index: ChildIndex,
}

/// Most children a loop may have: its children are bits of one `u64` in [`ChildIndex`]. The
/// largest 5010 loop (837P 2300) has 54.
pub const MAX_CHILDREN: usize = 64;

/// A loop's children reduced to what placing a segment asks of them, so that the walker scans
/// one small array of integers instead of following each child to its segment spec: placement
/// runs for every segment of every file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ChildIndex {
    /// For each segment id of the guide (by its number in [`Guide::segment_ids`]), the children
    /// it can place: bit `i` set when child `i` is, or is a loop triggered by, a segment with
    /// that id.
    pub by_id: Vec<u64>,
    /// Bit `i` set: child `i` is a loop.
    pub loops: u64,
    /// Bit `i` set: child `i`'s segment is told apart from same-id siblings by a key, which must
    /// be compared as well as the tag.
    pub keyed: u64,
    /// Bit `i` set: the guide requires child `i`.
    pub required: u64,
    /// For each child, its key when it fits inline (see [`InlineKey`]).
    pub keys: Vec<InlineKey>,
    /// For each child, the first child of its run: adjacent sibling segments with the same id
    /// share one position in the standard (every such run in pyx12's maps does), and the
    /// segments of one position may come in any order (835 2100 `DTM*050` before `DTM*232`;
    /// 837 2300 `REF*EA` before `REF*D9`). A loop, or a segment unlike the one before it,
    /// starts its own run.
    pub run_start: Vec<u8>,
}

/// A segment key small enough to test without the segment spec: the element it reads and up to
/// four codes as [`code_key`]s. Nearly every key is one qualifier code of a simple element
/// (`NM1*QC`, `REF*6R`), and placing a segment tests one or two of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct InlineKey {
    /// Element position (1-based); 0 when the key does not fit inline (or there is none).
    pub element: u8,
    count: u8,
    codes: [u64; 4],
}

impl InlineKey {
    fn of(key: &SegmentKey) -> Self {
        let keys: Option<Vec<u64>> = key.codes.iter().map(|c| code_key(c.as_bytes())).collect();
        match keys {
            Some(keys) if key.component == 0 && keys.len() <= 4 && !keys.is_empty() => {
                let mut codes = [0; 4];
                codes[..keys.len()].copy_from_slice(&keys);
                Self {
                    element: key.element,
                    count: keys.len() as u8,
                    codes,
                }
            }
            _ => Self::default(),
        }
    }

    /// Whether a value with this [`code_key`] is one of the codes.
    #[inline]
    pub fn holds(&self, value: Option<u64>) -> bool {
        value.is_some_and(|v| self.codes[..usize::from(self.count).min(4)].contains(&v))
    }
}

/// The [`code_key`] of element `n` of `segment` (`None` when absent or longer than a key).
#[inline]
pub(crate) fn element_key(segment: &crate::Segment<'_>, n: u8) -> Option<u64> {
    let (start, end) = segment.element_span(usize::from(n))?;
    code_key_within(segment.raw(), start, end)
}

/// The segment ids a guide uses, numbered `0..len` in a collision-free hash table, so that the
/// walker turns a segment's tag into the row of each loop's [`ChildIndex`] with one multiply and
/// one compare (no probe loop whose length the branch predictor would have to guess).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SegmentIds {
    /// `(tag, number)` slots; tag 0 marks a free slot (no segment id is empty).
    slots: Vec<(u32, u16)>,
    /// The multiplier that sends every tag to a slot of its own.
    multiplier: u32,
    /// `32 - log2(slots.len())`.
    shift: u32,
    len: usize,
}

impl SegmentIds {
    fn new(tags: impl IntoIterator<Item = u32>) -> Self {
        let mut distinct: Vec<u32> = tags.into_iter().filter(|&t| t != 0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        // Multiplicative hashing with a multiplier searched for among odd constants: a few
        // dozen ids in four to sixteen times as many slots always find one quickly.
        let mut bits = (distinct.len() * 4)
            .next_power_of_two()
            .max(8)
            .trailing_zeros();
        let mut multiplier = 0x9E37_79B1u32;
        loop {
            for _ in 0..4096 {
                let shift = 32 - bits;
                let mut slots = vec![(0u32, 0u16); 1 << bits];
                let fits = distinct.iter().enumerate().all(|(number, &tag)| {
                    let slot = &mut slots[(tag.wrapping_mul(multiplier) >> shift) as usize];
                    let free = slot.0 == 0;
                    *slot = (tag, number as u16);
                    free
                });
                if fits {
                    return Self {
                        slots,
                        multiplier,
                        shift,
                        len: distinct.len(),
                    };
                }
                multiplier = multiplier.wrapping_add(0x6A09_E668) | 1;
            }
            bits += 1;
        }
    }

    /// How many distinct ids there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The number of the id with `tag`, if the guide uses it.
    #[inline]
    pub fn get(&self, tag: u32) -> Option<usize> {
        let slot = (tag.wrapping_mul(self.multiplier) >> self.shift) as usize;
        match self.slots.get(slot) {
            Some(&(t, number)) if t == tag && tag != 0 => Some(usize::from(number)),
            _ => None,
        }
    }
}

/// The bits `from..to` of a child mask (empty when `from >= to`; `to` at most 64).
#[inline]
pub(crate) fn child_span(from: usize, to: usize) -> u64 {
    if from >= to {
        return 0;
    }
    (u64::MAX >> (64 - (to - from))) << from
}

/// One implementation guide (TR3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guide {
    /// Transaction set id (`835`).
    pub transaction: String,
    /// Implementation convention reference (`005010X221A1`).
    pub version: String,
    /// Other GS08/ST03 values served by this guide (errata), with why.
    pub accepts: Vec<(String, String)>,
    /// Guide name.
    pub name: String,
    /// All loops; index 0 is the root (the transaction set).
    pub loops: Vec<LoopSpec>,
    /// All segments.
    pub segments: Vec<SegmentSpec>,
    /// The distinct segment ids of `segments`, numbered for the loops' child indexes.
    pub(crate) segment_ids: SegmentIds,
}

impl Guide {
    /// The root loop (the transaction set, ST to SE).
    pub fn root(&self) -> &LoopSpec {
        &self.loops[0]
    }

    /// Finds a loop by id.
    pub fn find_loop(&self, id: &str) -> Option<&LoopSpec> {
        self.loops.iter().find(|l| l.id == id)
    }

    /// The id of a loop's trigger segment (empty if the loop has none, which the parser forbids).
    pub fn trigger_id(&self, loop_index: LoopIndex) -> &str {
        self.trigger(loop_index)
            .map_or("", |t| self.segments[t].id.as_str())
    }

    /// The first segment of a loop (its trigger).
    pub fn trigger(&self, loop_index: LoopIndex) -> Option<SegmentIndex> {
        match self.loops[loop_index].children.first() {
            Some(Node::Segment(s)) => Some(*s),
            _ => None,
        }
    }

    /// The segment that places a child: the segment itself, or a loop's trigger.
    pub fn placing_segment(&self, node: Node) -> Option<SegmentIndex> {
        match node {
            Node::Segment(s) => Some(s),
            Node::Loop(l) => self.trigger(l),
        }
    }

    /// Builds every loop's [`ChildIndex`]; the error is the id of a loop with more than
    /// [`MAX_CHILDREN`] children.
    pub(crate) fn index_children(&mut self) -> Result<(), String> {
        let ids = SegmentIds::new(self.segments.iter().map(|s| s.tag));
        let mut indexes = Vec::with_capacity(self.loops.len());
        for spec in &self.loops {
            if spec.children.len() > MAX_CHILDREN {
                return Err(spec.id.clone());
            }
            let mut index = ChildIndex {
                by_id: vec![0; ids.len()],
                ..ChildIndex::default()
            };
            for (i, &node) in spec.children.iter().enumerate() {
                let bit = 1u64 << i;
                let segment = self.placing_segment(node).map(|s| &self.segments[s]);
                if let Some(number) = segment.and_then(|s| ids.get(s.tag)) {
                    index.by_id[number] |= bit;
                }
                let key = segment.and_then(|s| s.key.as_ref());
                if key.is_some() {
                    index.keyed |= bit;
                }
                index.keys.push(key.map(InlineKey::of).unwrap_or_default());
                let continues_run = i > 0
                    && matches!(
                        (node, spec.children[i - 1]),
                        (Node::Segment(a), Node::Segment(b))
                            if self.segments[a].tag == self.segments[b].tag
                    );
                let start = if continues_run {
                    index.run_start[i - 1]
                } else {
                    i as u8
                };
                index.run_start.push(start);
                let usage = match node {
                    Node::Segment(s) => self.segments[s].usage,
                    Node::Loop(l) => {
                        index.loops |= bit;
                        self.loops[l].usage
                    }
                };
                if usage == Usage::Required {
                    index.required |= bit;
                }
            }
            indexes.push(index);
        }
        for (spec, index) in self.loops.iter_mut().zip(indexes) {
            spec.index = index;
        }
        self.segment_ids = ids;
        Ok(())
    }
}

/// The data element and segment dictionaries.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    /// Data elements by number.
    pub elements: HashMap<String, DataElement>,
    /// Segment layouts by id.
    pub segments: HashMap<String, StandardLayout>,
    /// Composite layouts by id.
    pub composites: HashMap<String, StandardLayout>,
}

/// Guide files embedded in the crate, with their file names (for error messages).
const GUIDE_FILES: &[(&str, &str)] = &[
    (
        "835.x221a1.guide",
        include_str!("../../specs/835.x221a1.guide"),
    ),
    (
        "999.x231a1.guide",
        include_str!("../../specs/999.x231a1.guide"),
    ),
    (
        "837.x222a1.guide",
        include_str!("../../specs/837.x222a1.guide"),
    ),
    (
        "837.x223a2.guide",
        include_str!("../../specs/837.x223a2.guide"),
    ),
    ("277.x212.guide", include_str!("../../specs/277.x212.guide")),
    ("277.x214.guide", include_str!("../../specs/277.x214.guide")),
    ("276.x212.guide", include_str!("../../specs/276.x212.guide")),
    (
        "270.x279a1.guide",
        include_str!("../../specs/270.x279a1.guide"),
    ),
    (
        "271.x279a1.guide",
        include_str!("../../specs/271.x279a1.guide"),
    ),
];

/// The envelope segments (ISA, GS, GE, IEA, TA1) as a pseudo-guide, for their element checks.
const ENVELOPE_FILE: (&str, &str) = ("envelope.guide", include_str!("../../specs/envelope.guide"));

/// Every guide the engine knows, with the dictionaries they were resolved against.
///
/// A guide is parsed the first time a transaction set asks for it: a process that validates
/// 835s never pays for the 837 tables, which keeps a command-line run or a Lambda cold start
/// short. [`Catalog::load_embedded`] parses them all (the tests hold every embedded file to it).
#[derive(Debug)]
pub struct Catalog {
    /// The dictionaries.
    pub dictionary: Dictionary,
    /// The guide files, each parsed on first use.
    files: Vec<GuideFile>,
    /// The envelope segments.
    pub envelope: Guide,
}

/// One embedded guide file: its header, read up front, and its tables once parsed.
struct GuideFile {
    name: &'static str,
    text: &'static str,
    transaction: String,
    version: String,
    accepts: Vec<(String, String)>,
    parsed: OnceLock<Result<Guide, SpecError>>,
}

impl std::fmt::Debug for GuideFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuideFile")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("parsed", &self.parsed.get().is_some())
            .finish()
    }
}

impl Catalog {
    /// Builds the catalog from the embedded files, parsing every guide now: any defect in any
    /// file is reported here.
    pub fn load_embedded() -> Result<Self, SpecError> {
        let catalog = Self::lazy()?;
        for file in &catalog.files {
            let guide = parse::guide(file.name, file.text, &catalog.dictionary)?;
            let _ = file.parsed.set(Ok(guide));
        }
        Ok(catalog)
    }

    /// The dictionaries, the envelope and the guides' headers; guides are parsed on first use.
    fn lazy() -> Result<Self, SpecError> {
        let dictionary = parse::dictionary(
            include_str!("../../specs/elements.spec"),
            include_str!("../../specs/segments.spec"),
        )?;
        let mut files = Vec::with_capacity(GUIDE_FILES.len());
        for &(name, text) in GUIDE_FILES {
            let (transaction, version, accepts) = parse::header(name, text)?;
            files.push(GuideFile {
                name,
                text,
                transaction,
                version,
                accepts,
                parsed: OnceLock::new(),
            });
        }
        let envelope = parse::guide(ENVELOPE_FILE.0, ENVELOPE_FILE.1, &dictionary)?;
        Ok(Self {
            dictionary,
            files,
            envelope,
        })
    }

    fn parse<'a>(&'a self, file: &'a GuideFile) -> Result<&'a Guide, &'a SpecError> {
        file.parsed
            .get_or_init(|| parse::guide(file.name, file.text, &self.dictionary))
            .as_ref()
    }

    /// The embedded catalog, built once per process. The embedded files are checked by the
    /// crate's tests, so a failure here is a build defect; it is still reported, not panicked on.
    pub fn embedded() -> Result<&'static Catalog, &'static SpecError> {
        static CATALOG: OnceLock<Result<Catalog, SpecError>> = OnceLock::new();
        CATALOG.get_or_init(Self::lazy).as_ref()
    }

    /// Every guide, parsed (a guide whose file fails to parse is left out; see
    /// [`Catalog::load_embedded`]).
    pub fn guides(&self) -> impl Iterator<Item = &Guide> {
        self.files.iter().filter_map(|file| self.parse(file).ok())
    }

    /// An envelope segment's spec (ISA, GS, GE, IEA, TA1).
    pub fn envelope_segment(&self, id: &str) -> Option<&SegmentSpec> {
        self.envelope.segments.iter().find(|s| s.id == id)
    }

    /// The guide for an implementation convention reference (GS08/ST03), with the note to give
    /// when it was accepted as an alias (errata).
    pub fn guide_for(&self, transaction: &str, version: &str) -> Option<(&Guide, Option<&str>)> {
        for file in &self.files {
            if file.transaction != transaction {
                continue;
            }
            let note = if file.version == version {
                None
            } else if let Some((_, why)) = file.accepts.iter().find(|(v, _)| v == version) {
                Some(why.as_str())
            } else {
                continue;
            };
            return self.parse(file).ok().map(|guide| (guide, note));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lists_find_exactly_their_codes() {
        for n in [1usize, 3, 8, 9, 40, 500] {
            let codes: Vec<String> = (0..n).map(|i| format!("C{i}")).collect();
            let list = CodeList::new(codes.clone());
            assert_eq!(list.as_slice(), &codes[..]);
            for c in &codes {
                assert!(list.contains(c.as_bytes()), "{n}: {c}");
            }
            for absent in ["", "C", "C00", "c1", "X1", &format!("C{n}"), "C1\0"] {
                assert!(!list.contains(absent.as_bytes()), "{n}: {absent:?}");
            }
        }
        let long = CodeList::new(vec!["A".into(), "005010X221A1".into(), "EIGHT-XX".into()]);
        assert!(long.contains(b"005010X221A1"));
        assert!(long.contains(b"EIGHT-XX"));
        assert!(!long.contains(b"005010X221A2"));
        assert!(!long.contains(b"SEVEN-X"));
        assert!(long.contains(b"A"));
    }

    #[test]
    fn code_key_read_as_a_word_equals_the_key_of_the_value() {
        let bytes = b"CAS*CO*45*40.00*PR*2*A~Z";
        for len in 0..=bytes.len() {
            let surrounding = &bytes[..len];
            for start in 0..=len {
                for end in start..=len {
                    assert_eq!(
                        code_key_within(surrounding, start, end),
                        code_key(&surrounding[start..end]),
                        "{start}..{end} of {len}"
                    );
                }
            }
        }
        assert_eq!(code_key_within(b"AB", 1, 3), None);
        assert_eq!(code_key_within(b"AB", 2, 1), None);
        let list = CodeList::new(vec!["CO".into(), "PR".into(), "45".into()]);
        assert!(list.contains_within(bytes, 4, 6));
        assert!(!list.contains_within(bytes, 4, 7));
        assert!(list.contains_within(b"X*45", 2, 4));
    }

    #[test]
    fn inline_keys_agree_with_segment_keys() {
        let c = Catalog::load_embedded().unwrap();
        let d = crate::Delimiters {
            element: b'*',
            repetition: b'^',
            component: b':',
            segment: b'~',
        };
        let mut inline = 0;
        for guide in c.guides() {
            for spec in guide.loops.iter() {
                for (ci, &node) in spec.children.iter().enumerate() {
                    let Some(seg) = guide.placing_segment(node).map(|s| &guide.segments[s]) else {
                        continue;
                    };
                    let (Some(key), Some(fast)) = (&seg.key, spec.index.keys.get(ci)) else {
                        continue;
                    };
                    if fast.element == 0 {
                        continue;
                    }
                    inline += 1;
                    let mut values: Vec<String> = key.codes.iter().cloned().collect();
                    values.extend(["", "X", "ZZZZZZZZ", "00"].map(String::from));
                    values.extend(key.codes.iter().map(|c| format!("{c}X")));
                    for value in &values {
                        for before in [0usize, 1, 3] {
                            let mut text = seg.id.clone();
                            for n in 1..=usize::from(key.element) + before {
                                text.push('*');
                                if n == usize::from(key.element) {
                                    text.push_str(value);
                                } else {
                                    text.push('Q');
                                }
                            }
                            let segment = crate::Segment::new(text.as_bytes(), 0, d);
                            assert_eq!(
                                fast.holds(element_key(&segment, fast.element)),
                                seg.matches(&segment),
                                "{text}"
                            );
                        }
                    }
                }
            }
        }
        assert!(inline > 300, "{inline}");
    }

    #[test]
    fn embedded_catalog_loads() {
        let c = Catalog::load_embedded().unwrap();
        assert_eq!(c.guides().count(), GUIDE_FILES.len());
        // The lazy catalog parses only what is asked for, and finds the same guides.
        let lazy = Catalog::lazy().unwrap();
        assert!(lazy.files.iter().all(|f| f.parsed.get().is_none()));
        let (g, _) = lazy.guide_for("837", "005010X222A2").unwrap();
        assert_eq!(g.version, "005010X222A1");
        assert_eq!(
            lazy.files
                .iter()
                .filter(|f| f.parsed.get().is_some())
                .count(),
            1
        );
        for (lazy, eager) in lazy.guides().zip(c.guides()) {
            assert_eq!(lazy, eager);
        }
        let (g, note) = c.guide_for("835", "005010X221A1").unwrap();
        assert_eq!(g.version, "005010X221A1");
        assert!(note.is_none());
    }

    #[test]
    fn every_guide_segment_has_a_standard_layout_and_every_element_a_type() {
        let c = Catalog::load_embedded().unwrap();
        for g in c.guides() {
            for s in &g.segments {
                let layout = &c.dictionary.segments[&s.id];
                assert_eq!(
                    s.elements.len(),
                    layout.elements.len(),
                    "{} {}",
                    g.version,
                    s.id
                );
            }
        }
    }
}
