//! The parse tree streamed: its JSON written step by step is byte for byte the whole tree's,
//! over every shared sample, our fixtures and synthetic files, fed a few bytes at a time; an
//! input whose envelopes do not hold together stops it with the same error.
#![allow(
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use hms_test_support::Trickle;
use hms_x12::spec::Catalog;
use hms_x12::tree::{JsonTreeWriter, Step, TreeError, TreeWriteError, parse, read_steps};

fn streamed(input: &[u8]) -> Result<Vec<u8>, TreeWriteError> {
    let catalog = Catalog::embedded().unwrap();
    let mut writer = JsonTreeWriter::new(vec![]);
    read_steps(Trickle(input), catalog, |step| writer.step(step))?;
    Ok(writer.finish().unwrap())
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all = vec![(
        "synthetic 835".to_string(),
        hms_x12::synth::remittance_835(100_000).unwrap(),
    )];
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = hms_test_support::x12_sample_files().into_iter().chain(
        std::fs::read_dir(fixtures)
            .unwrap()
            .flatten()
            .map(|e| e.path()),
    );
    for path in files {
        if path.is_file() {
            all.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    assert!(all.len() > 40, "only {} inputs", all.len());
    all
}

#[test]
fn streamed_json_is_the_whole_trees() {
    let catalog = Catalog::embedded().unwrap();
    let mut compared = 0;
    for (name, bytes) in inputs() {
        match parse(&bytes, catalog) {
            Ok(doc) => {
                let whole = serde_json::to_vec(&doc).unwrap();
                let streamed = streamed(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(whole == streamed, "{name}: the streamed JSON differs");
                compared += 1;
            }
            Err(whole) => match streamed(&bytes) {
                Err(TreeWriteError::Tree(e)) => assert_eq!(e, whole, "{name}"),
                other => panic!("{name}: whole tree failed with {whole}, streamed gave {other:?}"),
            },
        }
    }
    assert!(compared > 40, "only {compared} inputs parsed");
}

#[test]
fn a_group_after_its_interchange_ended_stops_the_stream() {
    let catalog = Catalog::embedded().unwrap();
    let mut input = hms_x12::synth::remittance_835(2_000).unwrap();
    input.extend_from_slice(b"GS*HP*A*B*20260101*1200*1*X*005010X221A1~");
    let mut ended = false;
    let result = read_steps(&input[..], catalog, |step: Step<'_, '_>| {
        ended |= matches!(step, Step::InterchangeEnd(Some(_)));
        Ok::<(), TreeError>(())
    });
    assert!(
        matches!(&result, Err(TreeError::Structure { id, needed: "an interchange", .. }) if id == "GS"),
        "{result:?}"
    );
    assert!(ended);
    assert_eq!(parse(&input, catalog).unwrap_err(), result.unwrap_err());
}

#[test]
fn segments_outside_groups_are_written_after_them() {
    let x12 = hms_x12::synth::remittance_835(2_000).unwrap();
    let text = String::from_utf8(x12).unwrap();
    // A TA1 after the ISA, as an interchange acknowledging another carries it.
    let (isa, rest) = text.split_once('~').unwrap();
    let with_ta1 = format!("{isa}~TA1*000000001*260101*1200*A*000~{rest}");
    let doc = parse(with_ta1.as_bytes(), Catalog::embedded().unwrap()).unwrap();
    assert_eq!(doc.interchanges[0].segments.len(), 1);
    let json: serde_json::Value =
        serde_json::from_slice(&streamed(with_ta1.as_bytes()).unwrap()).unwrap();
    let keys: Vec<&str> = json["interchanges"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["groups", "header", "segments", "trailer"]);
    assert_eq!(json["interchanges"][0]["segments"][0]["id"], "TA1");
}

#[test]
fn an_empty_input_is_refused_as_the_whole_tree_refuses_it() {
    let catalog = Catalog::embedded().unwrap();
    let whole = parse(b"", catalog).unwrap_err();
    assert!(matches!(streamed(b""), Err(TreeWriteError::Tree(e)) if e == whole));
}
