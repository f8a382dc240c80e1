//! Parse-then-write is byte-identical for canonical X12 (no trailing empty elements or
//! components), whatever the delimiters: the tokenizer's and the streaming reader's view of every
//! segment, written back with the writer, reproduces the input exactly.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_x12::writer::{Field, SegmentWriter};
use hms_x12::{Reader, Segment, Tokenizer};
use proptest::prelude::*;

/// Element, repetition, component and segment delimiters that are not letters, digits or space.
fn delimiters() -> impl Strategy<Value = [u8; 4]> {
    Just(b"*^:~|!>\n+`".to_vec())
        .prop_shuffle()
        .prop_map(|d| [d[0], d[1], d[2], d[3]])
}

/// A value made of characters no delimiter can be.
fn value(min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z0-9 .,-]{{{min},8}}")).unwrap()
}

/// One element, as the writer takes it: simple, composite or repeated, never entirely empty at
/// the end of a segment (that would not be canonical).
#[derive(Debug, Clone)]
enum Shape {
    Simple(String),
    Composite(Vec<String>),
    Repeated(Vec<Vec<String>>),
}

fn components() -> impl Strategy<Value = Vec<String>> {
    // Two or more components, the last one non-empty (canonical), the others anything.
    (prop::collection::vec(value(0), 1..4), value(1)).prop_map(|(mut c, last)| {
        c.push(last);
        c
    })
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => value(0).prop_map(Shape::Simple),
        1 => components().prop_map(Shape::Composite),
        1 => prop::collection::vec(prop_oneof![value(1).prop_map(|v| vec![v]), components()], 2..4)
            .prop_map(Shape::Repeated),
    ]
}

fn segment() -> impl Strategy<Value = (String, Vec<Shape>)> {
    (
        proptest::string::string_regex("[A-HJ-Z][A-Z0-9]{1,2}").unwrap(),
        prop::collection::vec(shape(), 0..8),
        value(1),
    )
        .prop_map(|(id, mut elements, last)| {
            elements.push(Shape::Simple(last));
            (id, elements)
        })
}

fn isa(d: [u8; 4]) -> Vec<u8> {
    let [e, r, c, s] = d.map(char::from);
    format!(
        "ISA{e}00{e}          {e}00{e}          {e}ZZ{e}SENDER         {e}ZZ{e}RECEIVER       {e}261120{e}0930{e}{r}{e}00501{e}000000001{e}0{e}T{e}{c}{s}"
    )
    .into_bytes()
}

/// The writer's input for a parsed segment, split with the segment's own delimiters.
fn fields<'a>(segment: &Segment<'a>) -> Vec<(Vec<Vec<&'a str>>, bool, bool)> {
    let d = segment.delimiters();
    segment
        .elements()
        .map(|e| {
            let raw = e.raw();
            let repeated = raw.contains(&d.repetition);
            let composite = raw.contains(&d.component);
            let reps = raw
                .split(|b| *b == d.repetition)
                .map(|r| {
                    r.split(|b| *b == d.component)
                        .map(|c| std::str::from_utf8(c).unwrap())
                        .collect()
                })
                .collect();
            (reps, repeated, composite)
        })
        .collect()
}

fn write(writer: &mut SegmentWriter, segment: &Segment<'_>) {
    if segment.id() == b"ISA" {
        writer.raw_segment(segment.raw());
        return;
    }
    let parsed = fields(segment);
    let fields: Vec<Field<'_>> = parsed
        .iter()
        .map(|(reps, repeated, composite)| {
            if *repeated {
                Field::Repeated(reps.clone())
            } else if *composite {
                Field::Composite(reps[0].clone())
            } else {
                Field::Simple(reps[0][0])
            }
        })
        .collect();
    writer.segment(segment.id_str(), &fields).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_then_write_is_byte_identical(d in delimiters(), segments in prop::collection::vec(segment(), 0..20)) {
        let delims = hms_x12::Delimiters {
            element: d[0],
            repetition: d[1],
            component: d[2],
            segment: d[3],
        };
        // The canonical input, written by hand (not by the writer under test).
        let mut input = isa(d);
        for (id, elements) in &segments {
            input.extend_from_slice(id.as_bytes());
            for element in elements {
                input.push(d[0]);
                let text = match element {
                    Shape::Simple(v) => v.clone(),
                    Shape::Composite(c) => c.join(&char::from(d[2]).to_string()),
                    Shape::Repeated(reps) => reps
                        .iter()
                        .map(|c| c.join(&char::from(d[2]).to_string()))
                        .collect::<Vec<_>>()
                        .join(&char::from(d[1]).to_string()),
                };
                input.extend_from_slice(text.as_bytes());
            }
            input.push(d[3]);
        }
        input.extend_from_slice(format!("IEA{}1{}000000001", char::from(d[0]), char::from(d[0])).as_bytes());
        input.push(d[3]);

        let mut from_tokens = SegmentWriter::new(delims, false);
        for segment in Tokenizer::new(&input) {
            write(&mut from_tokens, &segment.unwrap());
        }
        prop_assert_eq!(from_tokens.as_bytes(), &input[..]);

        let mut from_stream = SegmentWriter::new(delims, false);
        let mut reader = Reader::with_capacity(&input[..], 64);
        while let Some(segment) = reader.next_segment() {
            write(&mut from_stream, &segment.unwrap());
        }
        prop_assert_eq!(from_stream.as_bytes(), &input[..]);
    }
}
