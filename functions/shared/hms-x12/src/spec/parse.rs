//! Parser for the declarative spec files (format: `specs/README.md`).
#![allow(
    clippy::indexing_slicing,
    reason = "reads our own compiled-in 5010 maps, whose shape the build's tests check, never input"
)]

use std::collections::HashMap;

use super::{
    CodeList, DataElement, DatePeriod, Dictionary, ElementSpec, ElementType, Guide, LoopIndex,
    LoopSpec, Node, Requirement, SegmentKey, SegmentSpec, StandardElement, StandardLayout,
    SyntaxKind, SyntaxNote, Usage,
};

/// A defect in a spec file, with the file and line that has it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct SpecError {
    /// File name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn err(file: &str, line: usize, message: impl Into<String>) -> SpecError {
    SpecError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// Meaningful lines split into words, with 1-based numbers. `#` starts a comment; a word in
/// double quotes may hold spaces (999 context names such as "PATIENT NAME NM109").
fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or("");
        let mut words = vec![];
        let mut rest = l.trim_start();
        while !rest.is_empty() {
            let (word, after) = match rest.strip_prefix('"').and_then(|r| r.split_once('"')) {
                Some((quoted, after)) => (quoted, after),
                None => rest.split_at(rest.find(char::is_whitespace).unwrap_or(rest.len())),
            };
            words.push(word);
            rest = after.trim_start();
        }
        (!words.is_empty()).then_some((i + 1, words))
    })
}

/// A guide file's identity: its `guide` line (transaction set, version) and its `accepts`
/// lines (other versions it serves, with why), read without parsing the rest of the file.
pub(super) type GuideHeader = (String, String, Vec<(String, String)>);

pub(super) fn header(file: &str, text: &str) -> Result<GuideHeader, SpecError> {
    let mut id = None;
    let mut accepts = vec![];
    for (n, w) in lines(text) {
        match w[0] {
            "guide" if w.len() >= 4 && id.is_none() => {
                id = Some((w[1].to_string(), w[2].to_string()))
            }
            "accepts" if w.len() >= 3 => accepts.push((w[1].to_string(), w[2..].join(" "))),
            "guide" | "accepts" => return Err(err(file, n, "malformed guide or accepts line")),
            _ => {}
        }
    }
    let (transaction, version) = id.ok_or_else(|| err(file, 0, "no guide line"))?;
    Ok((transaction, version, accepts))
}

fn number<T: std::str::FromStr>(
    file: &str,
    line: usize,
    text: &str,
    what: &str,
) -> Result<T, SpecError> {
    text.parse().map_err(|_| {
        err(
            file,
            line,
            format!("{what} must be a number, found {text:?}"),
        )
    })
}

/// `>1` means unbounded.
fn max_count(file: &str, line: usize, text: &str) -> Result<Option<u32>, SpecError> {
    if text == ">1" {
        Ok(None)
    } else {
        number(file, line, text, "repeat").map(Some)
    }
}

/// Parses the data element and segment dictionaries.
pub(super) fn dictionary(elements: &str, segments: &str) -> Result<Dictionary, SpecError> {
    let mut dict = Dictionary::default();
    let file = "elements.spec";
    for (n, w) in lines(elements) {
        // `codes NUMBER CODE...`: the element's external code list.
        if w.first() == Some(&"codes") {
            let Some(element) = w.get(1).and_then(|number| dict.elements.get_mut(*number)) else {
                return Err(err(
                    file,
                    n,
                    "expected: codes NUMBER CODE... after the element",
                ));
            };
            if w.len() < 3 {
                return Err(err(file, n, "a code list needs at least one code"));
            }
            element.codes = Some(w[2..].iter().map(|c| c.to_string()).collect());
            continue;
        }
        if w.len() < 5 {
            return Err(err(file, n, "expected: NUMBER TYPE MIN MAX NAME"));
        }
        let kind = ElementType::parse(w[1])
            .ok_or_else(|| err(file, n, format!("unknown type {:?}", w[1])))?;
        let element = DataElement {
            number: w[0].to_string(),
            kind,
            min: number(file, n, w[2], "min length")?,
            max: number(file, n, w[3], "max length")?,
            name: w[4..].join(" "),
            codes: None,
        };
        if element.min > element.max || element.max == 0 {
            return Err(err(
                file,
                n,
                "min length must be at most max length, and max at least 1",
            ));
        }
        if dict
            .elements
            .insert(element.number.clone(), element)
            .is_some()
        {
            return Err(err(file, n, format!("data element {} defined twice", w[0])));
        }
    }

    let file = "segments.spec";
    let mut current: Option<(bool, StandardLayout)> = None;
    let finish = |dict: &mut Dictionary,
                  block: Option<(bool, StandardLayout)>,
                  n: usize|
     -> Result<(), SpecError> {
        if let Some((is_composite, layout)) = block {
            let map = if is_composite {
                &mut dict.composites
            } else {
                &mut dict.segments
            };
            if layout.elements.is_empty() {
                return Err(err(file, n, format!("{} has no elements", layout.id)));
            }
            if map.insert(layout.id.clone(), layout).is_some() {
                return Err(err(file, n, "defined twice"));
            }
        }
        Ok(())
    };
    for (n, w) in lines(segments) {
        match w[0] {
            "segment" | "composite" => {
                finish(&mut dict, current.take(), n)?;
                if w.len() < 3 {
                    return Err(err(file, n, "expected: segment|composite ID NAME"));
                }
                current = Some((
                    w[0] == "composite",
                    StandardLayout {
                        id: w[1].to_string(),
                        name: w[2..].join(" "),
                        elements: vec![],
                        syntax: vec![],
                    },
                ));
            }
            "syntax" => {
                let Some((_, layout)) = current.as_mut() else {
                    return Err(err(file, n, "syntax outside a segment"));
                };
                for code in &w[1..] {
                    layout
                        .syntax
                        .push(syntax_note(file, n, code, layout.elements.len())?);
                }
            }
            reference => {
                let Some((_, layout)) = current.as_mut() else {
                    return Err(err(file, n, "element outside a segment"));
                };
                if w.len() < 2 || w.len() > 3 {
                    return Err(err(file, n, "expected: REFERENCE M|O|X [REPEAT]"));
                }
                let requirement = match w[1] {
                    "M" => Requirement::M,
                    "O" => Requirement::O,
                    "X" => Requirement::X,
                    other => return Err(err(file, n, format!("unknown requirement {other:?}"))),
                };
                let repeat = if w.len() == 3 {
                    number(file, n, w[2], "repeat")?
                } else {
                    1
                };
                let known = dict.elements.contains_key(reference) || reference.starts_with('C');
                if !known {
                    return Err(err(
                        file,
                        n,
                        format!("data element {reference} is not in elements.spec"),
                    ));
                }
                layout.elements.push(StandardElement {
                    reference: reference.to_string(),
                    requirement,
                    repeat,
                });
            }
        }
    }
    finish(&mut dict, current.take(), 0)?;
    for layout in dict.segments.values().chain(dict.composites.values()) {
        for e in &layout.elements {
            if e.reference.starts_with('C') && !dict.composites.contains_key(&e.reference) {
                return Err(err(
                    file,
                    0,
                    format!("{} refers to unknown composite {}", layout.id, e.reference),
                ));
            }
        }
    }
    Ok(dict)
}

fn syntax_note(file: &str, n: usize, code: &str, elements: usize) -> Result<SyntaxNote, SpecError> {
    let bad = || err(file, n, format!("malformed syntax note {code:?}"));
    let kind = match code.chars().next() {
        Some('P') => SyntaxKind::Paired,
        Some('R') => SyntaxKind::Required,
        Some('E') => SyntaxKind::Exclusion,
        Some('C') => SyntaxKind::Conditional,
        Some('L') => SyntaxKind::ListConditional,
        _ => return Err(bad()),
    };
    let digits = code.get(1..).unwrap_or_default();
    if !digits.is_ascii() || digits.len() < 4 || !digits.len().is_multiple_of(2) {
        return Err(bad());
    }
    let mut positions = vec![];
    for i in (0..digits.len()).step_by(2) {
        let p: u8 = digits
            .get(i..i + 2)
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)?;
        if p == 0 || usize::from(p) > elements {
            return Err(err(
                file,
                n,
                format!("syntax note {code} names position {p}, beyond the layout"),
            ));
        }
        positions.push(p);
    }
    Ok(SyntaxNote::new(kind, positions))
}

/// What a guide says of one element or component before it is resolved against the dictionary.
#[derive(Debug, Default)]
struct ElementLine {
    usage: Option<Usage>,
    repeat: Option<u16>,
    digits: Option<u16>,
    codes: Option<Vec<String>>,
    components: HashMap<u8, (Usage, Option<Vec<String>>)>,
}

/// A segment of a guide while its element lines are being read.
struct PendingSegment {
    spec: SegmentSpec,
    line: usize,
    elements: HashMap<u8, ElementLine>,
    explicit_key: Option<SegmentKey>,
}

/// Parses one guide file against the dictionaries.
/// Expands `define NAME` … `enddefine` blocks where `use NAME [SUFFIX]` names them, so a loop that
/// a guide places twice (the 837 claim loop 2300 sits under both 2000B and 2000C) is written once.
/// `{}` in a defined word becomes SUFFIX (`loop 2220{}` is 2220D under `use claim-status D`).
/// Expanded lines keep their own line numbers, so defects point into the definition.
fn expand(file: &str, text: &str) -> Result<Vec<(usize, Vec<String>)>, SpecError> {
    type Block = Vec<(usize, Vec<String>)>;
    let mut defined: HashMap<String, Block> = HashMap::new();
    let mut open: Option<(String, Block)> = None;
    let mut out = vec![];
    for (n, w) in lines(text) {
        match w[0] {
            "define" => {
                if open.is_some() || w.len() != 2 {
                    return Err(err(
                        file,
                        n,
                        "expected `define NAME`, not inside another define",
                    ));
                }
                open = Some((w[1].to_string(), vec![]));
            }
            "enddefine" => {
                let (name, body) = open
                    .take()
                    .ok_or_else(|| err(file, n, "enddefine without define"))?;
                if defined.contains_key(&name) {
                    return Err(err(file, n, format!("{name} is defined twice")));
                }
                defined.insert(name, body);
            }
            "use" => {
                let name = w.get(1).copied().unwrap_or_default();
                let suffix = w.get(2).copied().unwrap_or_default();
                let body = defined
                    .get(name)
                    .ok_or_else(|| err(file, n, format!("use of {name:?} before its define")))?
                    .iter()
                    .map(|(line, words)| {
                        let words = words.iter().map(|x| x.replace("{}", suffix)).collect();
                        (*line, words)
                    });
                match open.as_mut() {
                    Some((_, into)) => into.extend(body),
                    None => out.extend(body),
                }
            }
            _ => {
                let words = w.iter().map(|x| x.to_string()).collect();
                match open.as_mut() {
                    Some((_, into)) => into.push((n, words)),
                    None => out.push((n, words)),
                }
            }
        }
    }
    if let Some((name, _)) = open {
        return Err(err(
            file,
            0,
            format!("define {name} is not closed with enddefine"),
        ));
    }
    Ok(out)
}

pub(super) fn guide(file: &str, text: &str, dict: &Dictionary) -> Result<Guide, SpecError> {
    let mut guide: Option<Guide> = None;
    let mut stack: Vec<LoopIndex> = vec![];
    let mut pending: Option<PendingSegment> = None;

    for (n, words) in expand(file, text)? {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let keyword = w[0];
        let is_element_line = keyword.as_bytes()[0].is_ascii_digit();
        if !is_element_line
            && keyword != "key"
            && let Some(p) = pending.take()
        {
            let g = guide
                .as_mut()
                .ok_or_else(|| err(file, n, "segment before the guide line"))?;
            g.segments.push(resolve_segment(file, p, dict)?);
        }
        match keyword {
            "guide" => {
                if guide.is_some() || w.len() < 4 {
                    return Err(err(
                        file,
                        n,
                        "expected one line: guide TRANSACTION VERSION NAME",
                    ));
                }
                let root = LoopSpec {
                    id: "ST".into(),
                    name: "Transaction Set".into(),
                    usage: Usage::Required,
                    max_repeat: None,
                    children: vec![],
                    parent: None,
                    index: Default::default(),
                };
                guide = Some(Guide {
                    transaction: w[1].to_string(),
                    version: w[2].to_string(),
                    accepts: vec![],
                    name: w[3..].join(" "),
                    loops: vec![root],
                    segments: vec![],
                    segment_ids: Default::default(),
                });
                stack.push(0);
            }
            "accepts" => {
                let g = guide
                    .as_mut()
                    .ok_or_else(|| err(file, n, "accepts before the guide line"))?;
                if w.len() < 3 {
                    return Err(err(file, n, "expected: accepts VERSION WHY"));
                }
                g.accepts.push((w[1].to_string(), w[2..].join(" ")));
            }
            "loop" => {
                let g = guide
                    .as_mut()
                    .ok_or_else(|| err(file, n, "loop before the guide line"))?;
                if w.len() < 5 {
                    return Err(err(file, n, "expected: loop ID USAGE MAX NAME"));
                }
                let parent = *stack
                    .last()
                    .ok_or_else(|| err(file, n, "loop after the end of the guide"))?;
                let usage =
                    Usage::parse(w[2]).ok_or_else(|| err(file, n, "usage must be R, S or N"))?;
                let index = g.loops.len();
                g.loops.push(LoopSpec {
                    id: w[1].to_string(),
                    name: w[4..].join(" "),
                    usage,
                    max_repeat: max_count(file, n, w[3])?,
                    children: vec![],
                    parent: Some(parent),
                    index: Default::default(),
                });
                g.loops[parent].children.push(Node::Loop(index));
                stack.push(index);
            }
            "end" => {
                let g = guide
                    .as_ref()
                    .ok_or_else(|| err(file, n, "end before the guide line"))?;
                let closed = stack
                    .pop()
                    .ok_or_else(|| err(file, n, "end without a loop"))?;
                if closed == 0 {
                    return Err(err(file, n, "end without a loop"));
                }
                if !matches!(g.loops[closed].children.first(), Some(Node::Segment(_))) {
                    return Err(err(
                        file,
                        n,
                        format!("loop {} must start with a segment", g.loops[closed].id),
                    ));
                }
            }
            "segment" => {
                let g = guide
                    .as_mut()
                    .ok_or_else(|| err(file, n, "segment before the guide line"))?;
                if w.len() < 5 {
                    return Err(err(file, n, "expected: segment ID USAGE MAX NAME"));
                }
                if !dict.segments.contains_key(w[1]) {
                    return Err(err(
                        file,
                        n,
                        format!("segment {} is not in segments.spec", w[1]),
                    ));
                }
                let parent = *stack
                    .last()
                    .ok_or_else(|| err(file, n, "segment after the end of the guide"))?;
                let index = g.segments.len();
                g.loops[parent].children.push(Node::Segment(index));
                pending = Some(PendingSegment {
                    spec: SegmentSpec {
                        id: w[1].to_string(),
                        tag: super::segment_tag(w[1].as_bytes()),
                        name: w[4..].join(" "),
                        usage: Usage::parse(w[2])
                            .ok_or_else(|| err(file, n, "usage must be R, S or N"))?,
                        max_use: max_count(file, n, w[3])?,
                        elements: vec![],
                        syntax: vec![],
                        key: None,
                        required: 0,
                        syntax_quiet: None,
                        parent,
                        rules: Default::default(),
                    },
                    line: n,
                    elements: HashMap::new(),
                    explicit_key: None,
                });
            }
            "key" => {
                let p = pending
                    .as_mut()
                    .ok_or_else(|| err(file, n, "key outside a segment"))?;
                if w.len() < 3 {
                    return Err(err(file, n, "expected: key NN[-MM] CODE..."));
                }
                let (element, component) = position(file, n, w[1])?;
                p.explicit_key = Some(SegmentKey {
                    element,
                    component: component.unwrap_or(0),
                    codes: CodeList::new(w[2..].iter().map(|c| c.to_string()).collect()),
                });
            }
            _ if is_element_line => {
                let p = pending
                    .as_mut()
                    .ok_or_else(|| err(file, n, "element line outside a segment"))?;
                let (element, component) = position(file, n, w[0])?;
                let usage = w
                    .get(1)
                    .and_then(|u| Usage::parse(u))
                    .ok_or_else(|| err(file, n, "expected: NN[-MM] R|S|N [*REPEAT] [CODE...]"))?;
                let mut repeat = None;
                let mut digits = None;
                let mut codes = vec![];
                for word in &w[2..] {
                    if let Some(r) = word.strip_prefix('*') {
                        repeat = Some(number(file, n, r, "repeat")?);
                    } else if let Some(d) = word.strip_prefix("digits=") {
                        if component.is_some() {
                            return Err(err(file, n, "digits= applies to simple elements only"));
                        }
                        digits = Some(number(file, n, d, "digit count")?);
                    } else {
                        codes.push(word.to_string());
                    }
                }
                let codes = (!codes.is_empty()).then_some(codes);
                let entry = p.elements.entry(element).or_default();
                match component {
                    None => {
                        if entry.usage.is_some() {
                            return Err(err(file, n, format!("element {element:02} listed twice")));
                        }
                        entry.usage = Some(usage);
                        entry.repeat = repeat;
                        entry.digits = digits;
                        entry.codes = codes;
                    }
                    Some(c) => {
                        if entry.components.insert(c, (usage, codes)).is_some() {
                            return Err(err(
                                file,
                                n,
                                format!("component {element:02}-{c:02} listed twice"),
                            ));
                        }
                    }
                }
            }
            other => return Err(err(file, n, format!("unknown keyword {other:?}"))),
        }
    }
    if let Some(p) = pending.take() {
        let g = guide
            .as_mut()
            .ok_or_else(|| err(file, 0, "no guide line"))?;
        g.segments.push(resolve_segment(file, p, dict)?);
    }
    let mut g = guide.ok_or_else(|| err(file, 0, "no guide line"))?;
    if stack.len() != 1 {
        return Err(err(file, 0, "a loop is not closed with end"));
    }
    if let Err(id) = g.index_children() {
        return Err(err(
            file,
            0,
            format!("loop {id} has more than {} children", super::MAX_CHILDREN),
        ));
    }
    Ok(g)
}

fn position(file: &str, n: usize, text: &str) -> Result<(u8, Option<u8>), SpecError> {
    let (e, c) = match text.split_once('-') {
        Some((e, c)) => (e, Some(c)),
        None => (text, None),
    };
    let e: u8 = number(file, n, e, "element position")?;
    let c: Option<u8> = c
        .map(|c| number(file, n, c, "component position"))
        .transpose()?;
    if e == 0 || c == Some(0) {
        return Err(err(file, n, "positions start at 1"));
    }
    Ok((e, c))
}

fn requirement_usage(r: Requirement) -> Usage {
    match r {
        Requirement::M => Usage::Required,
        Requirement::O | Requirement::X => Usage::Situational,
    }
}

/// Builds an element spec for a simple data element.
fn simple(
    file: &str,
    line: usize,
    dict: &Dictionary,
    position: u8,
    std: &StandardElement,
    usage: Usage,
    codes: Option<Vec<String>>,
) -> Result<ElementSpec, SpecError> {
    let de = dict.elements.get(&std.reference).ok_or_else(|| {
        err(
            file,
            line,
            format!("data element {} is not in elements.spec", std.reference),
        )
    })?;
    if let Some(codes) = &codes {
        for c in codes {
            if c.len() > usize::from(de.max)
                || (c.len() < usize::from(de.min) && de.kind == ElementType::ID)
            {
                return Err(err(
                    file,
                    line,
                    format!(
                        "code {c:?} does not fit data element {} ({}-{})",
                        de.number, de.min, de.max
                    ),
                ));
            }
        }
    }
    let external_codes = codes.is_none() && de.codes.is_some();
    let codes = codes.or_else(|| de.codes.clone());
    Ok(ElementSpec {
        position,
        reference: std.reference.clone(),
        name: de.name.clone(),
        usage,
        kind: de.kind,
        min: de.min,
        max: de.max,
        repeat: std.repeat,
        codes: codes.map(CodeList::new),
        external_codes,
        digits: None,
        components: None,
        syntax: vec![],
        period: DatePeriod::of(&std.reference),
    })
}

fn resolve_segment(
    file: &str,
    mut p: PendingSegment,
    dict: &Dictionary,
) -> Result<SegmentSpec, SpecError> {
    let line = p.line;
    let layout = &dict.segments[&p.spec.id];
    for &pos in p.elements.keys() {
        if usize::from(pos) > layout.elements.len() {
            return Err(err(
                file,
                line,
                format!("{} has no element {pos:02}", p.spec.id),
            ));
        }
    }
    for (i, std) in layout.elements.iter().enumerate() {
        let position = (i + 1) as u8;
        let given = p.elements.remove(&position).unwrap_or_default();
        let usage = match given.usage {
            Some(u) => u,
            None if !given.components.is_empty() => {
                return Err(err(
                    file,
                    line,
                    format!(
                        "{}{position:02}: components listed but not the element",
                        p.spec.id
                    ),
                ));
            }
            None => Usage::NotUsed,
        };
        let mut spec = if let Some(composite) = dict.composites.get(&std.reference) {
            if given.codes.is_some() || given.digits.is_some() {
                return Err(err(
                    file,
                    line,
                    format!(
                        "{}{position:02} is a composite: codes go on its components",
                        p.spec.id
                    ),
                ));
            }
            let mut components = vec![];
            for (j, cstd) in composite.elements.iter().enumerate() {
                let cpos = (j + 1) as u8;
                let (cusage, ccodes) = if given.components.is_empty() {
                    (
                        if usage == Usage::NotUsed {
                            Usage::NotUsed
                        } else {
                            requirement_usage(cstd.requirement)
                        },
                        None,
                    )
                } else {
                    given
                        .components
                        .get(&cpos)
                        .cloned()
                        .unwrap_or((Usage::NotUsed, None))
                };
                components.push(simple(file, line, dict, cpos, cstd, cusage, ccodes)?);
            }
            if let Some(max) = given.components.keys().max()
                && usize::from(*max) > composite.elements.len()
            {
                return Err(err(
                    file,
                    line,
                    format!("{} has no component {max:02}", composite.id),
                ));
            }
            ElementSpec {
                position,
                reference: std.reference.clone(),
                name: composite.name.clone(),
                usage,
                kind: ElementType::AN,
                min: 0,
                max: 0,
                repeat: std.repeat,
                codes: None,
                external_codes: false,
                digits: None,
                components: Some(components),
                syntax: composite.syntax.clone(),
                period: DatePeriod::None,
            }
        } else {
            if !given.components.is_empty() {
                return Err(err(
                    file,
                    line,
                    format!("{}{position:02} is not a composite", p.spec.id),
                ));
            }
            let mut spec = simple(file, line, dict, position, std, usage, given.codes)?;
            if let Some(d) = given.digits {
                if d < spec.min || d > spec.max {
                    return Err(err(
                        file,
                        line,
                        format!(
                            "{}{position:02}: digits={d} does not fit its length {}-{}",
                            p.spec.id, spec.min, spec.max
                        ),
                    ));
                }
                spec.digits = Some(d);
            }
            spec
        };
        if let Some(r) = given.repeat {
            if r > std.repeat.max(1) && std.repeat > 1 {
                return Err(err(
                    file,
                    line,
                    format!(
                        "{}{position:02}: repeat {r} exceeds the standard's {}",
                        p.spec.id, std.repeat
                    ),
                ));
            }
            spec.repeat = r;
        }
        p.spec.elements.push(spec);
    }
    p.spec.syntax = layout.syntax.clone();
    p.spec.key = p.explicit_key.take().or_else(|| implicit_key(&p.spec));
    p.spec.rules = super::Rules::of(&p.spec.elements).ok_or_else(|| {
        err(
            file,
            p.line,
            format!("{}: a composite has too many components", p.spec.id),
        )
    })?;
    p.spec.required = p
        .spec
        .elements
        .iter()
        .filter(|e| e.usage == Usage::Required)
        .fold(0, |m, e| m | super::position_bit(e.position));
    // Every note but R (at least one of) holds when none of its positions has data.
    p.spec.syntax_quiet = (!p.spec.syntax.iter().any(|n| n.kind == SyntaxKind::Required))
        .then(|| p.spec.syntax.iter().fold(0, |m, n| m | n.mask()));
    Ok(p.spec)
}

/// How pyx12 and most engines tell same-id segments apart: by the codes of a required first
/// element (an identifier) or of its required first component, and HL by its level code (HL03).
fn implicit_key(spec: &SegmentSpec) -> Option<SegmentKey> {
    let first = spec.elements.first()?;
    if spec.id == "HL" {
        let hl03 = spec.elements.get(2)?;
        return hl03.codes.clone().map(|codes| SegmentKey {
            element: 3,
            component: 0,
            codes,
        });
    }
    if first.usage != Usage::Required {
        return None;
    }
    match &first.components {
        None if first.kind == ElementType::ID => first.codes.clone().map(|codes| SegmentKey {
            element: 1,
            component: 0,
            codes,
        }),
        Some(components) => {
            let c = components.first()?;
            // A code list on a required first component tells siblings apart whatever the
            // component's type: the 999's two CTX forms differ by CTX01-1, a string element
            // ("SITUATIONAL TRIGGER" against CLM01, TRN02, ...).
            (c.usage == Usage::Required)
                .then(|| {
                    c.codes.clone().map(|codes| SegmentKey {
                        element: 1,
                        component: 1,
                        codes,
                    })
                })
                .flatten()
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELEMENTS: &str = "98 ID 2 3 Entity Identifier Code\n1065 ID 1 1 Entity Type Qualifier\n1035 AN 1 60 Name\n235 ID 2 2 Qualifier\n234 AN 1 48 Product ID\n";
    const SEGMENTS: &str = "segment NM1 Name\n 98 M\n 1065 M\n 1035 X\n syntax C0302\nsegment SV1 Service\n C003 M\ncomposite C003 Procedure\n 235 M\n 234 M\n";

    #[test]
    fn resolves_guide_against_dictionary() {
        let dict = dictionary(ELEMENTS, SEGMENTS).unwrap();
        let text = "guide 837 X Test\nloop 2010 R 1 Name\n segment NM1 R 1 Payer\n  01 R PR\n  02 R 2\nend\nsegment SV1 S >1 Line\n 01 R\n 01-1 R HC\n 01-2 R\n";
        let g = guide("t.guide", text, &dict).unwrap();
        assert_eq!(g.loops.len(), 2);
        let nm1 = &g.segments[0];
        assert_eq!(
            nm1.key,
            Some(SegmentKey {
                element: 1,
                component: 0,
                codes: CodeList::new(vec!["PR".into()])
            })
        );
        assert_eq!(nm1.elements[2].usage, Usage::NotUsed);
        assert_eq!(nm1.syntax[0].code(), "C0302");
        let sv1 = &g.segments[1];
        assert_eq!(sv1.max_use, None);
        let comps = sv1.elements[0].components.as_ref().unwrap();
        assert_eq!(comps[0].codes.as_deref(), Some(&["HC".to_string()][..]));
        assert_eq!(sv1.key.as_ref().unwrap().component, 1);
    }

    #[test]
    fn define_and_use_expand_with_a_loop_suffix() {
        let dict = dictionary(ELEMENTS, SEGMENTS).unwrap();
        let text = "guide 837 X Test\ndefine name\nloop 2010{} R 1 Name\n segment NM1 R 1 N\n  01 R PR\nend\nenddefine\nuse name A\nuse name B\n";
        let g = guide("t.guide", text, &dict).unwrap();
        let ids: Vec<&str> = g.loops.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["ST", "2010A", "2010B"]);
        assert_eq!(g.segments.len(), 2);

        let e = guide("t.guide", "guide 837 X Test\nuse nothing\n", &dict).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("before its define"), "{e}");
        let e = guide("t.guide", "guide 837 X Test\ndefine open\n", &dict).unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
    }

    #[test]
    fn digits_pattern_is_read_and_bounded_by_the_length() {
        let dict = dictionary(ELEMENTS, SEGMENTS).unwrap();
        let g = guide(
            "t.guide",
            "guide 837 X Test\nsegment NM1 R 1 N\n 01 R\n 03 R digits=9\n",
            &dict,
        )
        .unwrap();
        assert_eq!(g.segments[0].elements[2].digits, Some(9));
        let e = guide(
            "t.guide",
            "guide 837 X Test\nsegment NM1 R 1 N\n 01 R\n 03 R digits=99\n",
            &dict,
        )
        .unwrap_err();
        assert!(e.message.contains("does not fit its length"), "{e}");
    }

    #[test]
    fn reports_defects_with_file_and_line() {
        let dict = dictionary(ELEMENTS, SEGMENTS).unwrap();
        let e = guide(
            "t.guide",
            "guide 837 X Test\nsegment NM1 R 1 N\n 01 R PRXX\n",
            &dict,
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("does not fit"), "{e}");
        let e = guide("t.guide", "guide 837 X Test\nsegment ZZZ R 1 N\n", &dict).unwrap_err();
        assert_eq!(
            (e.line, e.message.contains("not in segments.spec")),
            (2, true)
        );
        let e = guide(
            "t.guide",
            "guide 837 X Test\nloop 1 R 1 L\nsegment NM1 R 1 N\n",
            &dict,
        )
        .unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
        let e = dictionary(ELEMENTS, "segment NM1 N\n 98 M\n syntax P0102\n").unwrap_err();
        let words: Vec<Vec<&str>> = lines("  01 R \"PATIENT NAME NM109\" CLM01 # note\n\n")
            .map(|(_, w)| w)
            .collect();
        assert_eq!(words, vec![vec!["01", "R", "PATIENT NAME NM109", "CLM01"]]);
        assert!(e.message.contains("beyond the layout"), "{e}");
    }
}
