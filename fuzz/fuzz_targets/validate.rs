//! Any byte string through every entry point that takes untrusted X12: the zero-copy tokenizer,
//! the streaming reader (with a tiny buffer, so segments straddle refills), the validator, both
//! acknowledgment builders and the tree parser, whole and streamed. Properties: no panic, no unbounded allocation
//! (libFuzzer's -rss_limit_mb / -malloc_limit_mb enforce it), and the streaming and in-memory
//! paths reach the same findings, as does the path that checks elements on a worker thread.
#![no_main]

use hms_x12::Reader;
use hms_x12::ack::{AckOptions, ack_999, ack_ta1};
use hms_x12::spec::Catalog;
use hms_x12::tree;
use hms_x12::validate::{Options, Validator, validate_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(catalog) = Catalog::embedded() else {
        return;
    };
    let in_memory = validate_bytes(data, catalog);

    let mut reader = Reader::with_capacity(data, 64);
    let mut validator = Validator::new(catalog, Options::default());
    while let Some(next) = reader.next_segment() {
        match next {
            Ok(segment) => validator.segment(&segment),
            Err(e) => validator.read_error(&e),
        }
    }
    validator.set_bytes(reader.position());
    let streamed = validator.finish();
    let summary = |r: &hms_x12::validate::Report| {
        r.findings
            .iter()
            .map(|f| (f.offset, f.segment_id.clone(), f.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&in_memory), summary(&streamed));

    // Element checks on a worker thread: the very same report.
    let parallel = Options {
        parallel: true,
        ..Options::default()
    };
    if let Ok(report) = hms_x12::validate::validate_reader(data, catalog, parallel) {
        assert_eq!(report, streamed);
    }

    let options = AckOptions::now(1);
    let _ = ack_999(&in_memory, &options);
    let _ = ack_ta1(&in_memory, &options);
    // The tree streamed as JSON is the whole tree's, or the same error stops both.
    let mut writer = tree::JsonTreeWriter::new(vec![]);
    let streamed = tree::read_steps(data, catalog, |step| writer.step(step));
    match (tree::parse(data, catalog), streamed) {
        (Ok(doc), Ok(())) => {
            if let (Ok(whole), Ok(written)) = (serde_json::to_vec(&doc), writer.finish()) {
                assert!(whole == written, "the streamed tree differs from the whole tree");
            }
        }
        (Err(whole), Err(tree::TreeWriteError::Tree(streamed))) => assert_eq!(whole, streamed),
        // More than the bound of segments outside groups: only the stream holds it to one.
        (Ok(_), Err(tree::TreeWriteError::OutsideGroups { .. })) => {}
        (whole, streamed) => panic!("whole tree {whole:?}, streamed {streamed:?}"),
    }
});
