//! Element checks for one segment against its spec: usage, repetitions, components, type, length,
//! code lists, and the standard's syntax notes. Pure functions over borrowed bytes.

use crate::scan::text_masks;
use crate::segment::Segment;
use crate::spec::{
    DatePeriod, ElementSpec, ElementType, Rule, SegmentSpec, SyntaxKind, SyntaxNote, Usage,
    ValueClass, position_bit, segment_tag,
};

/// One element-level problem, before it becomes a [`crate::Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementIssue {
    /// Element position, 1-based.
    pub element: u8,
    /// Component position, 1-based, for composites.
    pub component: Option<u8>,
    /// Repetition, 1-based, when the element repeats.
    pub repetition: Option<u16>,
    /// Data element reference number.
    pub data_element: Option<String>,
    /// IK403 code.
    pub code: &'static str,
    /// Plain-language message.
    pub message: String,
    /// Copy of the bad value, if there is one.
    pub value: Option<String>,
}

/// Checks every element of `segment` against `spec`, appending problems to `out`.
pub fn check_segment(spec: &SegmentSpec, segment: &Segment<'_>, out: &mut Vec<ElementIssue>) {
    if passes(spec, segment) {
        return;
    }
    diagnose(spec, segment, out);
}

/// The quick verdict on a whole segment: `true` only when [`diagnose`] would find nothing, decided
/// from the spec's compact [`Rule`]s and one classification of the segment's bytes, with no
/// allocation and no message. It says no to anything out of the ordinary (a value that repeats,
/// a segment longer than the separator index, non-ASCII text, any problem at all), which the
/// diagnosis then looks at in full.
#[inline]
fn passes(spec: &SegmentSpec, segment: &Segment<'_>) -> bool {
    const SPECIAL: u8 = Rule::NOT_USED | Rule::REPEATS | Rule::COMPOSITE | Rule::PERIOD_VALUE;
    let Some(separators) = segment.separator_mask() else {
        return false;
    };
    if spec.tag == segment_tag(b"ISA") {
        return false;
    }
    let raw = segment.raw();
    let d = segment.delimiters();
    let Some((components, repetitions)) = text_masks(raw, d.component, d.repetition) else {
        return false;
    };
    let mut components = Marks(components);
    let mut repetitions = Marks(if d.has_repetition() { repetitions } else { 0 });
    let rules = &spec.rules.elements;
    let mut present: u64 = 0;
    let mut count = 0usize;
    let mut period_format: Option<&[u8]> = None;
    // The separator that ends the id starts element 01; each later one ends an element.
    let mut rest = separators;
    while rest != 0 {
        let start = rest.trailing_zeros() as usize + 1;
        rest &= rest - 1;
        let end = if rest == 0 {
            raw.len()
        } else {
            rest.trailing_zeros() as usize
        };
        let i = count;
        count += 1;
        let Some(rule) = rules.get(i) else {
            // More elements than the spec has: fine only when they are all empty.
            if start < end {
                return false;
            }
            continue;
        };
        if start >= end {
            if rule.has(Rule::REQUIRED) {
                return false;
            }
            continue;
        }
        present |= 1 << i.min(63);
        let Some(value) = raw.get(start..end) else {
            return false;
        };
        let codes = || spec.elements.get(i).and_then(|es| es.codes.as_ref());
        if !rule.has(SPECIAL) {
            if components.any_before(start, end) || !value_passes(rule, codes, raw, start, end) {
                return false;
            }
            if rule.has(Rule::PERIOD_FORMAT) {
                period_format = Some(value);
            }
            continue;
        }
        if rule.has(Rule::NOT_USED)
            || (rule.has(Rule::REPEATS) && repetitions.any_before(start, end))
        {
            return false;
        }
        if rule.has(Rule::COMPOSITE) {
            let Some(es) = spec.elements.get(i) else {
                return false;
            };
            let rules = spec.rules.components_of(rule);
            if !composite_passes(es, rules, raw, start, end, &mut components) {
                return false;
            }
            continue;
        }
        if components.any_before(start, end) || !value_passes(rule, codes, raw, start, end) {
            return false;
        }
        if rule.has(Rule::PERIOD_FORMAT) {
            period_format = Some(value);
        }
        if rule.has(Rule::PERIOD_VALUE)
            && let Some(format) = period_format
            && check_period(format, value).is_some()
        {
            return false;
        }
    }
    if count < 64 && spec.required >> count != 0 {
        return false;
    }
    spec.syntax_quiet
        .is_some_and(|positions| present & positions == 0)
        || spec.syntax.iter().all(|note| note.holds(present))
}

/// Positions of one kind of separator in a segment, consumed front to back as the elements are
/// (so no mask is ever shifted by a variable amount: separators are rare, and an empty set costs
/// one test).
struct Marks(u128);

impl Marks {
    /// Drops the marks before `start`; then whether one lies before `end`.
    #[inline]
    fn any_before(&mut self, start: usize, end: usize) -> bool {
        while self.0 != 0 && (self.0.trailing_zeros() as usize) < start {
            self.0 &= self.0 - 1;
        }
        self.0 != 0 && (self.0.trailing_zeros() as usize) < end
    }

    /// Takes the next mark if it lies before `end`.
    #[inline]
    fn take_before(&mut self, end: usize) -> Option<usize> {
        let at = self.0.trailing_zeros() as usize;
        if self.0 == 0 || at >= end {
            return None;
        }
        self.0 &= self.0 - 1;
        Some(at)
    }
}

/// The quick verdict on the composite `raw[start..end]`, whose component separators `components`
/// gives (it consumes those before `end`).
fn composite_passes(
    es: &ElementSpec,
    rules: &[Rule],
    raw: &[u8],
    start: usize,
    end: usize,
    components: &mut Marks,
) -> bool {
    // Marks before the composite belong to earlier elements, which were checked already.
    components.any_before(start, end);
    let mut present: u64 = 0;
    let mut count = 0usize;
    let mut from = start;
    loop {
        let separator = components.take_before(end);
        let to = separator.unwrap_or(end);
        let j = count;
        count += 1;
        let Some(rule) = rules.get(j) else {
            return false;
        };
        if from >= to {
            if rule.has(Rule::REQUIRED) {
                return false;
            }
        } else {
            present |= 1 << j.min(63);
            let codes = || {
                es.components
                    .as_ref()
                    .and_then(|c| c.get(j))
                    .and_then(|cs| cs.codes.as_ref())
            };
            if rule.has(Rule::NOT_USED) || !value_passes(rule, codes, raw, from, to) {
                return false;
            }
        }
        match separator {
            Some(at) => from = at + 1,
            None => break,
        }
    }
    rules
        .get(count..)
        .unwrap_or_default()
        .iter()
        .all(|r| !r.has(Rule::REQUIRED))
        && es.syntax.iter().all(|note| note.holds(present))
}

/// The checks of [`check_value`] for a value already known to be printable ASCII with no
/// component separator: type, length, digits, code list.
#[inline]
fn value_passes<'c>(
    rule: &Rule,
    codes: impl FnOnce() -> Option<&'c crate::spec::CodeList>,
    raw: &[u8],
    start: usize,
    end: usize,
) -> bool {
    let value = raw.get(start..end).unwrap_or_default();
    let len = match rule.class {
        ValueClass::Integer => numeric_digits(value, false),
        ValueClass::Decimal => numeric_digits(value, true),
        _ => Some(value.len()),
    };
    let Some(len) = len else {
        return false;
    };
    if len < usize::from(rule.min) || len > usize::from(rule.max) {
        return false;
    }
    let shape = match rule.class {
        ValueClass::Date => valid_date(value),
        ValueClass::Time => valid_time(value),
        _ => true,
    };
    let digits = rule.digits == 0
        || (len == usize::from(rule.digits) && value.iter().all(u8::is_ascii_digit));
    shape
        && digits
        && (!rule.has(Rule::CODES) || codes().is_some_and(|c| c.contains_within(raw, start, end)))
}

/// [`check_segment`] in full: every problem, with its message.
fn diagnose(spec: &SegmentSpec, segment: &Segment<'_>, out: &mut Vec<ElementIssue>) {
    let delimiters = segment.delimiters();
    // ISA is fixed-width: ISA11 and ISA16 *are* the repetition and component separators, so its
    // values are never split.
    let whole_values = spec.tag == segment_tag(b"ISA");
    let can_repeat = delimiters.has_repetition() && !whole_values;
    let component = (!whole_values).then_some(delimiters.component);
    let mut present: u64 = 0;
    let mut count = 0usize;
    // The Date Time Period Format Qualifier (1250) says how to read the 1251 that follows it.
    let mut period_format: Option<&[u8]> = None;
    for (i, element) in segment.elements().enumerate() {
        count = i + 1;
        let position = (i + 1) as u8;
        let Some(es) = spec.elements.get(i) else {
            if !element.is_empty() || segment.elements().skip(i).any(|e| !e.is_empty()) {
                out.push(issue(
                    position,
                    None,
                    None,
                    None,
                    "3",
                    format!(
                        "{} has {} elements at most; found more",
                        spec.id,
                        spec.elements.len()
                    ),
                    None,
                ));
            }
            break;
        };
        if element.is_empty() {
            if es.usage == Usage::Required {
                out.push(missing(spec, es, None));
            }
            continue;
        }
        present |= 1 << i.min(63);
        if es.usage == Usage::NotUsed {
            out.push(issue(
                position,
                None,
                None,
                Some(es),
                "I10",
                format!(
                    "{}{:02} ({}) is not used in this implementation",
                    spec.id, position, es.name
                ),
                Some(element.raw()),
            ));
            continue;
        }
        let repeats = es.repeat > 1 && can_repeat;
        if !repeats && es.components.is_none() {
            // The common case: one simple value.
            check_simple(
                spec,
                es,
                element.raw(),
                component,
                None,
                &mut period_format,
                out,
            );
            continue;
        }
        let mut reps = 0u16;
        let separator = if repeats {
            Some(delimiters.repetition)
        } else {
            None
        };
        let whole = element.raw();
        let mut rest = Some(whole);
        while let Some(r) = rest {
            let (value, next) = match separator.and_then(|s| memchr::memchr(s, r)) {
                Some(i) => {
                    let (value, next) = r.split_at(i);
                    (value, next.get(1..))
                }
                None => (r, None),
            };
            rest = next;
            reps += 1;
            let repetition = repeats.then_some(reps);
            if reps > es.repeat.max(1) {
                out.push(issue(
                    position,
                    None,
                    repetition,
                    Some(es),
                    "12",
                    format!(
                        "{}{:02} repeats more than {} times",
                        spec.id, position, es.repeat
                    ),
                    None,
                ));
                break;
            }
            match &es.components {
                Some(components) => check_composite(
                    spec,
                    es,
                    components,
                    value,
                    delimiters.component,
                    repetition,
                    out,
                ),
                None => check_simple(
                    spec,
                    es,
                    value,
                    component,
                    repetition,
                    &mut period_format,
                    out,
                ),
            }
        }
    }
    if count < 64 && spec.required >> count != 0 {
        for es in spec.elements.iter().skip(count) {
            if es.usage == Usage::Required {
                out.push(missing(spec, es, None));
            }
        }
    }
    if spec
        .syntax_quiet
        .is_some_and(|positions| present & positions == 0)
        || spec.syntax.iter().all(|note| note.holds(present))
    {
        return;
    }
    check_syntax(&spec.syntax, present, |position, code, message| {
        let es = spec.elements.get(usize::from(position) - 1);
        out.push(issue(
            position,
            None,
            None,
            es,
            code,
            format!("{}{:02} {message}", spec.id, position),
            None,
        ));
    });
}

/// One value of a simple (non-composite) element: no stray component separator, then type,
/// length, code list, and for a Date Time Period (1251) the format its qualifier named.
#[inline]
fn check_simple<'v>(
    spec: &SegmentSpec,
    es: &ElementSpec,
    value: &'v [u8],
    component: Option<u8>,
    repetition: Option<u16>,
    period_format: &mut Option<&'v [u8]>,
    out: &mut Vec<ElementIssue>,
) {
    // Most values pass; only those that fail the quick verdict are diagnosed.
    let problem = if accepts(es, value, component) {
        None
    } else if let Some(c) = component
        && value.contains(&c)
    {
        let message = format!(
            "{}{:02} ({}) is not a composite but has components",
            spec.id, es.position, es.name
        );
        report_value(es, value, repetition, "13", message, out);
        return;
    } else {
        check_value(es, value)
    };
    // A Date Time Period (1251) is read the way the qualifier (1250) before it says.
    let period_problem = || match *period_format {
        Some(format) if es.period == DatePeriod::Value => check_period(format, value),
        _ => None,
    };
    if let Some((code, message)) = problem.or_else(period_problem) {
        let message = format!("{}{:02} ({}) {message}", spec.id, es.position, es.name);
        report_value(es, value, repetition, code, message, out);
    }
    if es.period == DatePeriod::Format {
        *period_format = Some(value);
    }
}

/// Records a problem with one value of a simple element (kept out of line: the hot path only
/// decides that there is one).
#[cold]
#[inline(never)]
fn report_value(
    es: &ElementSpec,
    value: &[u8],
    repetition: Option<u16>,
    code: &'static str,
    message: String,
    out: &mut Vec<ElementIssue>,
) {
    out.push(issue(
        es.position,
        None,
        repetition,
        Some(es),
        code,
        message,
        Some(value),
    ));
}

/// Whether `value` passes every check [`check_value`] makes and holds no `component` separator:
/// the quick verdict, with no message to build. It may say no to a value those checks accept
/// (text that is not ASCII), never the other way round.
#[inline]
fn accepts(es: &ElementSpec, value: &[u8], component: Option<u8>) -> bool {
    let len = match es.kind {
        // A number holds only digits, a sign and a point: when none of them is the component
        // separator, a number that parses has no components.
        ElementType::N(_) if component.is_none_or(|c| !numeric_byte(c)) => {
            numeric_digits(value, false)
        }
        ElementType::R if component.is_none_or(|c| !numeric_byte(c)) => numeric_digits(value, true),
        ElementType::N(_) | ElementType::R => None,
        _ => {
            let c = component.unwrap_or(0);
            value
                .iter()
                .all(|&b| (0x20..0x7f).contains(&b) && b != c)
                .then_some(value.len())
        }
    };
    let Some(len) = len else {
        return false;
    };
    if len < usize::from(es.min) || len > usize::from(es.max) {
        return false;
    }
    let shape = match es.kind {
        ElementType::DT => valid_date(value),
        ElementType::TM => valid_time(value),
        _ => true,
    };
    let digits = match es.digits {
        Some(n) => len == usize::from(n) && value.iter().all(u8::is_ascii_digit),
        None => true,
    };
    shape && digits && es.allows_code(value)
}

fn check_composite(
    spec: &SegmentSpec,
    es: &ElementSpec,
    components: &[ElementSpec],
    value: &[u8],
    separator: u8,
    repetition: Option<u16>,
    out: &mut Vec<ElementIssue>,
) {
    let mut present: u64 = 0;
    let mut count = 0;
    for (j, c) in value.split(|b| *b == separator).enumerate() {
        count = j + 1;
        let Some(cs) = components.get(j) else {
            out.push(issue(
                es.position,
                Some((j + 1) as u8),
                repetition,
                Some(es),
                "13",
                format!(
                    "{}{:02} has {} components at most",
                    spec.id,
                    es.position,
                    components.len()
                ),
                Some(value),
            ));
            break;
        };
        if c.is_empty() {
            if cs.usage == Usage::Required {
                out.push(missing(spec, es, Some(cs)));
            }
            continue;
        }
        present |= 1 << j.min(63);
        if cs.usage == Usage::NotUsed {
            out.push(issue(
                es.position,
                Some(cs.position),
                repetition,
                Some(cs),
                "I10",
                format!(
                    "{}{:02}-{:02} ({}) is not used in this implementation",
                    spec.id, es.position, cs.position, cs.name
                ),
                Some(c),
            ));
            continue;
        }
        if let Some((code, message)) = check_value(cs, c) {
            out.push(issue(
                es.position,
                Some(cs.position),
                repetition,
                Some(cs),
                code,
                format!(
                    "{}{:02}-{:02} ({}) {message}",
                    spec.id, es.position, cs.position, cs.name
                ),
                Some(c),
            ));
        }
    }
    for cs in components.iter().skip(count) {
        if cs.usage == Usage::Required {
            out.push(missing(spec, es, Some(cs)));
        }
    }
    check_syntax(&es.syntax, present, |position, code, message| {
        let cs = components.get(usize::from(position) - 1);
        out.push(issue(
            es.position,
            Some(position),
            repetition,
            cs,
            code,
            format!("{}{:02}-{:02} {message}", spec.id, es.position, position),
            None,
        ));
    });
}

fn missing(spec: &SegmentSpec, es: &ElementSpec, component: Option<&ElementSpec>) -> ElementIssue {
    let (name, shown) = match component {
        Some(c) => (
            &c.name,
            format!("{}{:02}-{:02}", spec.id, es.position, c.position),
        ),
        None => (&es.name, format!("{}{:02}", spec.id, es.position)),
    };
    issue(
        es.position,
        component.map(|c| c.position),
        None,
        Some(component.unwrap_or(es)),
        "1",
        format!("required data element {shown} ({name}) is missing"),
        None,
    )
}

fn issue(
    element: u8,
    component: Option<u8>,
    repetition: Option<u16>,
    es: Option<&ElementSpec>,
    code: &'static str,
    message: String,
    value: Option<&[u8]>,
) -> ElementIssue {
    ElementIssue {
        element,
        component,
        repetition,
        data_element: es
            .filter(|e| e.components.is_none())
            .map(|e| e.reference.clone()),
        code,
        message,
        value: value.map(|v| String::from_utf8_lossy(v.get(..99).unwrap_or(v)).into_owned()),
    }
}

/// Applies syntax notes to a presence bitmask; `report(position, code, message)` for each breach.
fn check_syntax(
    notes: &[SyntaxNote],
    present: u64,
    mut report: impl FnMut(u8, &'static str, String),
) {
    let has = |p: u8| present & position_bit(p) != 0;
    for note in notes {
        // A note names at least two positions (the guide's parser makes sure); one that names
        // none has nothing to check.
        let Some((&first, others)) = note.positions.split_first() else {
            continue;
        };
        let list = || {
            note.positions
                .iter()
                .map(|p| format!("{p:02}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match note.kind {
            SyntaxKind::Paired => {
                if note.positions.iter().any(|&p| has(p)) {
                    for &p in note.positions.iter().filter(|&&p| !has(p)) {
                        report(
                            p,
                            "2",
                            format!(
                                "is required when any of {} is present (syntax {})",
                                list(),
                                note.code()
                            ),
                        );
                    }
                }
            }
            SyntaxKind::Required => {
                if !note.positions.iter().any(|&p| has(p)) {
                    report(
                        first,
                        "2",
                        format!(
                            "is missing: at least one of {} is required (syntax {})",
                            list(),
                            note.code()
                        ),
                    );
                }
            }
            SyntaxKind::Exclusion => {
                if let Some(&second) = note.positions.iter().filter(|&&p| has(p)).nth(1) {
                    report(
                        second,
                        "10",
                        format!(
                            "must not be present together with the others of {} (syntax {})",
                            list(),
                            note.code()
                        ),
                    );
                }
            }
            SyntaxKind::Conditional => {
                if has(first) {
                    for &p in others.iter().filter(|&&p| !has(p)) {
                        report(
                            p,
                            "2",
                            format!(
                                "is required when {:02} is present (syntax {})",
                                first,
                                note.code()
                            ),
                        );
                    }
                }
            }
            SyntaxKind::ListConditional => {
                if has(first) && !others.iter().any(|&p| has(p)) {
                    report(
                        others.first().copied().unwrap_or(first),
                        "2",
                        format!(
                            "is missing: {:02} is present, so one of the others of {} is required (syntax {})",
                            first,
                            list(),
                            note.code()
                        ),
                    );
                }
            }
        }
    }
}

/// Checks one simple value against its spec; returns the IK403 code and the message.
pub fn check_value(es: &ElementSpec, value: &[u8]) -> Option<(&'static str, String)> {
    let (len, bad_char) = match es.kind {
        ElementType::N(_) => match numeric_digits(value, false) {
            Some(n) => (n, false),
            None => (0, true),
        },
        ElementType::R => match numeric_digits(value, true) {
            Some(n) => (n, false),
            None => (0, true),
        },
        _ => {
            // One pass: control characters, and whether anything is not ASCII.
            let (mut bad, mut wide) = (false, false);
            for &b in value {
                bad |= b < 0x20 || b == 0x7f;
                wide |= b >= 0x80;
            }
            let len = if wide {
                String::from_utf8_lossy(value).chars().count()
            } else {
                value.len()
            };
            (len, bad)
        }
    };
    if bad_char {
        let what = match es.kind {
            ElementType::N(_) => "must be a whole number (digits, optional leading minus)",
            ElementType::R => "must be a decimal number",
            _ => "contains a control character",
        };
        return Some(("6", format!("{what}: {:?}", String::from_utf8_lossy(value))));
    }
    if len < usize::from(es.min) {
        return Some((
            "4",
            format!("is too short: {len} < {} (min length)", es.min),
        ));
    }
    if len > usize::from(es.max) {
        return Some(("5", format!("is too long: {len} > {} (max length)", es.max)));
    }
    match es.kind {
        ElementType::DT if !valid_date(value) => {
            return Some((
                "8",
                format!("is not a valid date: {:?}", String::from_utf8_lossy(value)),
            ));
        }
        ElementType::TM if !valid_time(value) => {
            return Some((
                "9",
                format!("is not a valid time: {:?}", String::from_utf8_lossy(value)),
            ));
        }
        _ => {}
    }
    if let Some(n) = es.digits {
        if !value.iter().all(u8::is_ascii_digit) {
            return Some((
                "6",
                format!("must be {n} digits: {:?}", String::from_utf8_lossy(value)),
            ));
        }
        if len != usize::from(n) {
            let code = if len < usize::from(n) { "4" } else { "5" };
            return Some((code, format!("must be exactly {n} digits, not {len}")));
        }
    }
    if !es.allows_code(value) {
        let codes = es.codes.as_deref().unwrap_or_default();
        let shown = if codes.len() > 12 {
            format!(
                "{} and {} more",
                codes.get(..12).unwrap_or_default().join(", "),
                codes.len() - 12
            )
        } else {
            codes.join(", ")
        };
        return Some((
            "7",
            format!(
                "has an invalid code {:?} (valid: {shown})",
                String::from_utf8_lossy(value)
            ),
        ));
    }
    None
}

/// Checks a Date Time Period (1251) against the format its qualifier (1250) names; returns the
/// IK403 code and message. Formats other than D8, RD8, DT and TM are left to the length check.
pub fn check_period(format: &[u8], value: &[u8]) -> Option<(&'static str, String)> {
    let date = |v: &[u8]| v.len() == 8 && valid_date(v);
    let shown = || String::from_utf8_lossy(value).into_owned();
    match format {
        b"D8" if !date(value) => {
            Some(("8", format!("is not a valid CCYYMMDD date: {:?}", shown())))
        }
        b"RD8" => {
            let valid = value
                .iter()
                .position(|&b| b == b'-')
                .map(|dash| value.split_at(dash))
                .and_then(|(from, to)| Some((from, to.get(1..)?)))
                .is_some_and(|(from, to)| date(from) && date(to) && from <= to);
            (!valid).then(|| {
                (
                    "8",
                    format!(
                        "is not a valid CCYYMMDD-CCYYMMDD date range (start on or before end): {:?}",
                        shown()
                    ),
                )
            })
        }
        b"DT"
            if !value
                .split_at_checked(8)
                .is_some_and(|(day, time)| time.len() == 4 && date(day) && valid_time(time)) =>
        {
            Some((
                "8",
                format!("is not a valid CCYYMMDDHHMM date and time: {:?}", shown()),
            ))
        }
        b"TM" if !(value.len() == 4 && valid_time(value)) => {
            Some(("9", format!("is not a valid HHMM time: {:?}", shown())))
        }
        _ => None,
    }
}

/// Whether `b` can occur in a number.
fn numeric_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'-' | b'.')
}

/// Digits in a numeric value, or `None` when it is not numeric. `decimal` allows one `.`.
fn numeric_digits(value: &[u8], decimal: bool) -> Option<usize> {
    let body = value.strip_prefix(b"-").unwrap_or(value);
    let mut digits = 0;
    let mut points = 0;
    for &b in body {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if decimal => points += 1,
            _ => return None,
        }
    }
    (digits > 0 && points <= 1).then_some(digits)
}

/// Two ASCII digits as a number; `None` when `b` does not start with two digits.
fn two(b: &[u8]) -> Option<u32> {
    match b {
        [tens @ b'0'..=b'9', units @ b'0'..=b'9', ..] => {
            Some(u32::from(tens - b'0') * 10 + u32::from(units - b'0'))
        }
        _ => None,
    }
}

/// `CCYYMMDD` or `YYMMDD`, with a real calendar check (leap years included). There is no year
/// 0000: a century and year of zeros is refused.
pub fn valid_date(value: &[u8]) -> bool {
    let (year, rest) = match value {
        [c @ .., _, _, _, _] if c.len() == 4 && value.iter().all(u8::is_ascii_digit) => {
            match (two(c), c.get(2..).and_then(two)) {
                (Some(century), Some(year)) => (century * 100 + year, value.get(4..)),
                _ => return false,
            }
        }
        [y0, y1, _, _, _, _] => match two(&[*y0, *y1]) {
            Some(year) if value.iter().all(u8::is_ascii_digit) => (2000 + year, value.get(2..)),
            _ => return false,
        },
        _ => return false,
    };
    let Some((month, day)) = rest.and_then(|r| Some((two(r)?, two(r.get(2..)?)?))) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year > 0 && (1..=days).contains(&day)
}

/// `HHMM`, `HHMMSS`, or `HHMMSSd..d` (up to two decimal seconds digits).
pub fn valid_time(value: &[u8]) -> bool {
    if !value.iter().all(u8::is_ascii_digit) || !matches!(value.len(), 4 | 6 | 7 | 8) {
        return false;
    }
    let part = |at: usize| value.get(at..).and_then(two);
    part(0).is_some_and(|h| h < 24)
        && part(2).is_some_and(|m| m < 60)
        && (value.len() < 6 || part(4).is_some_and(|s| s < 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(valid_date(b"20240229"));
        assert!(!valid_date(b"20230229"));
        assert!(!valid_date(b"20002316"));
        assert!(valid_date(b"19000228"));
        assert!(!valid_date(b"19000229"));
        assert!(valid_date(b"131031"));
        assert!(!valid_date(b"2024022"));
        assert!(!valid_date(b"2024-2-1"));
    }

    #[test]
    fn times() {
        assert!(valid_time(b"1147"));
        assert!(valid_time(b"235959"));
        assert!(valid_time(b"23595999"));
        assert!(!valid_time(b"2400"));
        assert!(!valid_time(b"1260"));
        assert!(!valid_time(b"11:4"));
        assert!(!valid_time(b"11470"));
    }

    #[test]
    fn quick_syntax_verdict_agrees_with_the_diagnosis_for_every_note() {
        let catalog = crate::spec::Catalog::embedded().unwrap();
        let mut notes = 0;
        for guide in catalog.guides().chain([&catalog.envelope]) {
            for segment in &guide.segments {
                // The shortcut: no data in any noted position satisfies every note.
                if let Some(quiet) = segment.syntax_quiet {
                    for note in &segment.syntax {
                        assert_eq!(note.mask() & !quiet, 0, "{}", segment.id);
                        let mut reported = false;
                        check_syntax(std::slice::from_ref(note), 0, |_, _, _| reported = true);
                        assert!(!reported, "{} {}", segment.id, note.code());
                    }
                }
                let composites = segment.elements.iter().map(|e| &e.syntax);
                for note in std::iter::once(&segment.syntax).chain(composites).flatten() {
                    notes += 1;
                    let k = note.positions.len();
                    for combo in 0u32..1 << k {
                        let present = note
                            .positions
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| combo & (1 << i) != 0)
                            .fold(0u64, |m, (_, &p)| m | 1 << (p - 1));
                        let mut reported = false;
                        check_syntax(std::slice::from_ref(note), present, |_, _, _| {
                            reported = true
                        });
                        assert_eq!(
                            note.holds(present),
                            !reported,
                            "{} {present:b}",
                            note.code()
                        );
                    }
                }
            }
        }
        assert!(notes > 100, "only {notes} notes");
    }

    #[test]
    fn quick_element_verdict_never_accepts_what_the_diagnosis_rejects() {
        let catalog = crate::spec::Catalog::embedded().unwrap();
        let fixed = [
            "",
            "A",
            "1",
            "-1",
            "1.5",
            "-.5",
            "1.",
            ".",
            "--1",
            "12345678901234567890",
            "20240229",
            "20230229",
            "240229",
            "1200",
            "2460",
            "120059",
            "ABC DEF",
            "A:B",
            "A^B",
            "\t",
            "É",
            "00501",
            "005010X221A1",
            "123456789",
            "12345-6789",
        ];
        let mut checked = 0;
        for guide in catalog.guides().chain([&catalog.envelope]) {
            for segment in &guide.segments {
                let simple = segment.elements.iter().flat_map(|e| match &e.components {
                    Some(components) => components.iter().collect::<Vec<_>>(),
                    None => vec![e],
                });
                for es in simple {
                    let codes = es.codes.as_deref().unwrap_or_default();
                    let values = fixed
                        .iter()
                        .copied()
                        .chain(codes.iter().map(String::as_str));
                    for value in values {
                        for component in [None, Some(b':')] {
                            if accepts(es, value.as_bytes(), component) {
                                checked += 1;
                                assert_eq!(
                                    check_value(es, value.as_bytes()),
                                    None,
                                    "{} {} {value:?}",
                                    segment.id,
                                    es.reference
                                );
                                if let Some(c) = component {
                                    assert!(!value.as_bytes().contains(&c));
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} accepted values");
    }

    #[test]
    fn digits_pattern_wants_exactly_n_digits() {
        let zip = ElementSpec {
            position: 3,
            reference: "116".into(),
            name: "Postal Code".into(),
            usage: crate::spec::Usage::Situational,
            kind: ElementType::ID,
            min: 3,
            max: 15,
            repeat: 1,
            codes: None,
            external_codes: false,
            digits: Some(9),
            components: None,
            syntax: vec![],
            period: crate::spec::DatePeriod::None,
        };
        assert_eq!(check_value(&zip, b"171110000"), None);
        assert_eq!(check_value(&zip, b"17111").map(|(c, _)| c), Some("4"));
        assert_eq!(check_value(&zip, b"1711100001").map(|(c, _)| c), Some("5"));
        assert_eq!(check_value(&zip, b"17111-000").map(|(c, _)| c), Some("6"));
    }

    #[test]
    fn periods_follow_their_format_qualifier() {
        assert_eq!(check_period(b"D8", b"20240229"), None);
        assert_eq!(check_period(b"D8", b"19431319").map(|(c, _)| c), Some("8"));
        assert_eq!(check_period(b"D8", b"240229").map(|(c, _)| c), Some("8"));
        assert_eq!(check_period(b"RD8", b"20050831-20050906"), None);
        assert_eq!(
            check_period(b"RD8", b"20050906-20050831").map(|(c, _)| c),
            Some("8")
        );
        assert_eq!(check_period(b"RD8", b"20050831").map(|(c, _)| c), Some("8"));
        assert_eq!(check_period(b"DT", b"200508311425"), None);
        assert_eq!(
            check_period(b"DT", b"200508312525").map(|(c, _)| c),
            Some("8")
        );
        assert_eq!(check_period(b"TM", b"1425"), None);
        assert_eq!(check_period(b"TM", b"2561").map(|(c, _)| c), Some("9"));
        assert_eq!(check_period(b"CM", b"anything"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(numeric_digits(b"-12.50", true), Some(4));
        assert_eq!(numeric_digits(b"12.5.0", true), None);
        assert_eq!(numeric_digits(b"12.5", false), None);
        assert_eq!(numeric_digits(b"-", false), None);
        assert_eq!(numeric_digits(b".", true), None);
    }

    /// Every segment of the shared samples and of a synthetic 835, and thousands of mutations of
    /// them (a byte replaced by a digit, letter, separator, control or non-ASCII byte; a byte
    /// dropped; an element split), checked against every guide spec with the same id: the quick
    /// verdict never passes a segment the full diagnosis finds a problem in.
    #[test]
    fn quick_segment_verdict_never_passes_what_the_diagnosis_flags() {
        let catalog = crate::spec::Catalog::embedded().unwrap();
        let mut inputs = vec![crate::synth::remittance_835(200_000).unwrap()];
        for path in hms_test_support::x12_sample_files() {
            inputs.push(std::fs::read(&path).unwrap());
        }
        let mut next = hms_test_support::xorshift(0x9e37_79b9_7f4a_7c15);
        let specs: Vec<&SegmentSpec> = catalog
            .guides()
            .chain([&catalog.envelope])
            .flat_map(|g| &g.segments)
            .collect();
        let (mut passed, mut declined) = (0usize, 0usize);
        let mut check = |segment: &Segment<'_>| {
            let tag = segment_tag(segment.id());
            for spec in specs.iter().filter(|s| s.tag == tag) {
                if passes(spec, segment) {
                    passed += 1;
                    let mut out = vec![];
                    diagnose(spec, segment, &mut out);
                    assert!(
                        out.is_empty(),
                        "{}: passed, yet {:?}",
                        String::from_utf8_lossy(segment.raw()),
                        out
                    );
                } else {
                    declined += 1;
                }
            }
        };
        for input in &inputs {
            for segment in crate::Tokenizer::new(input).flatten() {
                check(&segment);
                let d = segment.delimiters();
                let raw = segment.raw();
                let choices = [
                    b'0',
                    b'9',
                    b'A',
                    b'z',
                    b'.',
                    b'-',
                    b' ',
                    d.element,
                    d.component,
                    d.repetition,
                    0x00,
                    0x1f,
                    0x7f,
                    0xc3,
                ];
                let raw = if raw.len() > 3 { raw } else { b"XXXX" };
                for _ in 0..8 {
                    let mut mutated = raw.to_vec();
                    let at = 3 + (next() as usize) % raw.len().saturating_sub(3).max(1);
                    let at = at.min(mutated.len());
                    match next() % 6 {
                        0 | 1 if at < mutated.len() => {
                            mutated[at] = choices[(next() as usize) % choices.len()];
                        }
                        2 if at < mutated.len() => {
                            mutated.remove(at);
                        }
                        3 => {
                            // A component with data, wherever the next separator is.
                            let end = mutated[at..]
                                .iter()
                                .position(|&b| b == d.element)
                                .map_or(mutated.len(), |p| at + p);
                            let values: [&[u8]; 4] = [b"A", b"AB", b"1", b"99"];
                            let mut extra = vec![];
                            for _ in 0..1 + next() % 8 {
                                extra.push(d.component);
                                extra.extend_from_slice(values[(next() % 4) as usize]);
                            }
                            mutated.splice(end..end, extra);
                        }
                        _ => mutated.insert(at, d.element),
                    }
                    check(&Segment::new(&mutated, 0, d));
                }
            }
        }
        assert!(
            passed > 20_000 && declined > 20_000,
            "{passed} passed, {declined} declined"
        );
    }
}
