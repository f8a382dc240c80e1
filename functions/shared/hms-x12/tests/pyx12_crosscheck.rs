//! Cross-checks our guide tables against pyx12's maps of the same guides (`../shared/x12-specs`),
//! read in place. Both sides are rendered as canonical lines (loops, segments, element usage and
//! codes, data element types and lengths) and diffed; every difference must be listed, with the
//! reason, in `tests/fixtures/pyx12-differences.txt`. A difference that is not listed fails the
//! test, and so does a listed one that no longer occurs (so the list stays true).
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use hms_x12::spec::{Catalog, Guide, Node, Usage};

fn shared() -> PathBuf {
    hms_test_support::shared()
}

fn read_map(name: &str) -> String {
    let path = shared().join("x12-specs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set HMS_SHARED to the shared folder)",
            path.display()
        )
    })
}

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, tag: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
        .map(str::trim)
}

fn codes_of(node: roxmltree::Node<'_, '_>) -> Vec<String> {
    let mut codes: Vec<String> = node
        .children()
        .filter(|c| c.has_tag_name("valid_codes"))
        .flat_map(|v| v.children().filter(|c| c.has_tag_name("code")))
        .filter_map(|c| c.text().map(|t| t.trim().to_string()))
        .collect();
    codes.sort();
    codes
}

fn repeat_text(text: Option<&str>) -> String {
    text.unwrap_or("?").to_string()
}

/// Canonical lines for one element (or component).
fn element_line(path: &str, seq: &str, usage: &str, codes: &[String]) -> String {
    if codes.is_empty() {
        format!("element {path}/{seq} {usage}")
    } else {
        format!("element {path}/{seq} {usage} codes={}", codes.join(","))
    }
}

/// The same, with the value pattern a guide adds (pyx12's `regex`, our `digits=N`).
fn element_line_with_pattern(
    path: &str,
    seq: &str,
    usage: &str,
    codes: &[String],
    pattern: Option<String>,
) -> String {
    let line = element_line(path, seq, usage, codes);
    match pattern {
        Some(p) => format!("{line} pattern={p}"),
        None => line,
    }
}

/// Renders a pyx12 map as canonical lines, skipping the ISA/GS envelope and wrapper loops.
fn render_pyx12(xml: &str, data_elements: &mut BTreeSet<String>) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("pyx12 map is XML");
    let mut out = vec![];
    fn walk(
        node: roxmltree::Node<'_, '_>,
        path: &str,
        out: &mut Vec<String>,
        des: &mut BTreeSet<String>,
    ) {
        for child in node.children().filter(|c| c.is_element()) {
            if child.has_tag_name("loop") {
                let xid = child.attribute("xid").unwrap_or("?");
                let transparent = child.attribute("type") == Some("wrapper")
                    || ["ISA_LOOP", "GS_LOOP", "ST_LOOP"].contains(&xid);
                if transparent {
                    walk(child, path, out, des);
                } else {
                    let p = format!("{path}/{xid}");
                    let usage = child_text(child, "usage").unwrap_or("?");
                    out.push(format!(
                        "loop {p} {usage} repeat={}",
                        repeat_text(child_text(child, "repeat"))
                    ));
                    walk(child, &p, out, des);
                }
            } else if child.has_tag_name("segment") {
                let id = child.attribute("xid").unwrap_or("?");
                if ["ISA", "GS", "GE", "IEA", "TA1"].contains(&id) {
                    continue;
                }
                let first = child.children().find(|c| {
                    c.is_element() && (c.has_tag_name("element") || c.has_tag_name("composite"))
                });
                let mut key = first
                    .filter(|f| f.has_tag_name("element"))
                    .map(codes_of)
                    .unwrap_or_default();
                if id == "HL" {
                    let hl03 = child
                        .children()
                        .filter(|c| c.has_tag_name("element"))
                        .nth(2);
                    key = hl03.map(codes_of).unwrap_or_default();
                }
                let seg = format!("{path}/{id}[{}]", key.join(","));
                let usage = child_text(child, "usage").unwrap_or("?");
                out.push(format!(
                    "segment {seg} {usage} max={}",
                    repeat_text(child_text(child, "max_use"))
                ));
                for e in child.children().filter(|c| c.is_element()) {
                    let seq = child_text(e, "seq").unwrap_or("?");
                    let usage = child_text(e, "usage").unwrap_or("?");
                    if e.has_tag_name("element") {
                        if let Some(de) = child_text(e, "data_ele") {
                            des.insert(de.to_string());
                        }
                        if usage != "N" {
                            let pattern = child_text(e, "regex").map(str::to_string);
                            out.push(element_line_with_pattern(
                                &seg,
                                seq,
                                usage,
                                &codes_of(e),
                                pattern,
                            ));
                        }
                    } else if e.has_tag_name("composite") && usage != "N" {
                        out.push(element_line(&seg, seq, usage, &[]));
                        for c in e.children().filter(|c| c.has_tag_name("element")) {
                            let cseq = child_text(c, "seq").unwrap_or("?");
                            let cusage = child_text(c, "usage").unwrap_or("?");
                            if let Some(de) = child_text(c, "data_ele") {
                                des.insert(de.to_string());
                            }
                            if cusage != "N" {
                                out.push(element_line(
                                    &seg,
                                    &format!("{seq}-{cseq}"),
                                    cusage,
                                    &codes_of(c),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    walk(doc.root_element(), "", &mut out, data_elements);
    out
}

fn usage_letter(u: Usage) -> char {
    u.letter()
}

/// Renders one of our guides the same way.
fn render_ours(guide: &Guide) -> Vec<String> {
    let mut out = vec![];
    fn walk(guide: &Guide, loop_index: usize, path: &str, out: &mut Vec<String>) {
        for node in &guide.loops[loop_index].children {
            match *node {
                Node::Loop(l) => {
                    let spec = &guide.loops[l];
                    let p = format!("{path}/{}", spec.id);
                    let repeat = spec.max_repeat.map_or(">1".to_string(), |r| r.to_string());
                    out.push(format!(
                        "loop {p} {} repeat={repeat}",
                        usage_letter(spec.usage)
                    ));
                    walk(guide, l, &p, out);
                }
                Node::Segment(s) => {
                    let spec = &guide.segments[s];
                    let first = spec.elements.first();
                    let mut key: Vec<String> = if spec.id == "HL" {
                        spec.elements
                            .get(2)
                            .and_then(|e| e.codes.as_ref().map(|c| c.to_vec()))
                            .unwrap_or_default()
                    } else {
                        first
                            .filter(|e| e.components.is_none())
                            .and_then(|e| e.codes.as_ref().map(|c| c.to_vec()))
                            .unwrap_or_default()
                    };
                    key.sort();
                    let seg = format!("{path}/{}[{}]", spec.id, key.join(","));
                    let max = spec.max_use.map_or(">1".to_string(), |m| m.to_string());
                    out.push(format!(
                        "segment {seg} {} max={max}",
                        usage_letter(spec.usage)
                    ));
                    for e in &spec.elements {
                        if e.usage == Usage::NotUsed {
                            continue;
                        }
                        let seq = format!("{:02}", e.position);
                        // pyx12 keeps external code lists (states, countries) out of its maps;
                        // so is the dictionary's here.
                        let mut codes = e
                            .codes
                            .as_ref()
                            .filter(|_| !e.external_codes)
                            .map(|c| c.to_vec())
                            .unwrap_or_default();
                        codes.sort();
                        out.push(element_line_with_pattern(
                            &seg,
                            &seq,
                            &usage_letter(e.usage).to_string(),
                            &codes,
                            e.digits.map(|n| format!("[0-9]{{{n}}}")),
                        ));
                        for c in e
                            .components
                            .iter()
                            .flatten()
                            .filter(|c| c.usage != Usage::NotUsed)
                        {
                            let mut codes = c
                                .codes
                                .as_ref()
                                .filter(|_| !c.external_codes)
                                .map(|c| c.to_vec())
                                .unwrap_or_default();
                            codes.sort();
                            out.push(element_line(
                                &seg,
                                &format!("{seq}-{:02}", c.position),
                                &usage_letter(c.usage).to_string(),
                                &codes,
                            ));
                        }
                    }
                }
            }
        }
    }
    walk(guide, 0, "", &mut out);
    out
}

/// Line diff (longest common subsequence): lines only in `a` get `-`, only in `b` get `+`.
fn diff(a: &[String], b: &[String]) -> Vec<String> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, vec![]);
    while i < n && j < m {
        if a[i] == b[j] {
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(format!("- {}", a[i]));
            i += 1;
        } else {
            out.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| format!("- {l}")));
    out.extend(b[j..].iter().map(|l| format!("+ {l}")));
    out
}

/// Listed differences: `GUIDE-VERSION - line` or `+ line`, each under a `# why` comment.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let text = include_str!("fixtures/pyx12-differences.txt");
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (guide, rest) = line.split_once(' ').expect("`VERSION -|+ line`");
        map.entry(guide.to_string())
            .or_default()
            .insert(rest.to_string());
    }
    map
}

/// Our guides and the pyx12 map each is checked against.
const PAIRS: &[(&str, &str)] = &[
    ("005010X221A1", "835.5010.X221.A1.xml"),
    ("005010X231A1", "999.5010X231.A1.xml"),
    ("005010X222A1", "837.5010.X222.A1.xml"),
    ("005010X223A2", "837Q3.I.5010.X223.A1.xml"),
    ("005010X212", "277.5010.X212.xml"),
    ("005010X214", "277.5010.X214.xml"),
];

#[test]
fn guides_agree_with_pyx12_maps() {
    let catalog = Catalog::load_embedded().expect("embedded specs load");
    let allowed = allowed();
    let mut unexplained = vec![];
    let mut stale = vec![];
    let mut data_elements = BTreeSet::new();
    for (version, map) in PAIRS {
        let guide = catalog
            .guides()
            .find(|g| g.version == *version)
            .expect("guide exists");
        let theirs = render_pyx12(&read_map(map), &mut data_elements);
        let ours = render_ours(guide);
        let diffs: BTreeSet<String> = diff(&theirs, &ours).into_iter().collect();
        let listed = allowed.get(*version).cloned().unwrap_or_default();
        unexplained.extend(diffs.difference(&listed).map(|d| format!("{version} {d}")));
        stale.extend(listed.difference(&diffs).map(|d| format!("{version} {d}")));
    }
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "unexplained differences from pyx12 (fix the guide, or list them with a reason in tests/fixtures/pyx12-differences.txt):\n{}\n\nlisted differences that no longer occur:\n{}",
        unexplained.join("\n"),
        stale.join("\n")
    );
}

#[test]
fn data_elements_agree_with_pyx12_dictionary() {
    let catalog = Catalog::load_embedded().expect("embedded specs load");
    let xml = read_map("dataele.xml");
    let doc = roxmltree::Document::parse(&xml).expect("dataele.xml is XML");
    let mut mismatches = vec![];
    let mut checked = 0;
    for de in doc.descendants().filter(|n| n.has_tag_name("data_ele")) {
        let Some(number) = de.attribute("ele_num") else {
            continue;
        };
        let Some(ours) = catalog.dictionary.elements.get(number) else {
            continue;
        };
        checked += 1;
        let theirs = (
            de.attribute("data_type").unwrap_or("?").to_string(),
            de.attribute("min_len").unwrap_or("?").to_string(),
            de.attribute("max_len").unwrap_or("?").to_string(),
        );
        let mine = (ours.kind.name(), ours.min.to_string(), ours.max.to_string());
        if theirs != mine {
            mismatches.push(format!("{number}: pyx12 {theirs:?}, ours {mine:?}"));
        }
    }
    assert!(checked > 100, "only {checked} data elements were compared");
    assert!(
        mismatches.is_empty(),
        "data element dictionary differs from pyx12:\n{}",
        mismatches.join("\n")
    );
}
