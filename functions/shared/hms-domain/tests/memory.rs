//! Streamed translations hold one unit at a time: the most memory live at once while an 8 MB
//! 835 becomes JSON and FHIR is no more than for a 1 MB one (the same few hundred kilobytes),
//! where reading the whole model grows with the file; the same for 837 batches read into
//! claims, claim arrays written as one 837, and the parse tree's JSON, at 300 and at 3,000
//! claims. Counted by a global allocator that tracks the bytes live, so this binary has its
//! own; its tests take turns (one lock), since the count is the process's.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use hms_domain::remittance::stream::{Framing, RemitWriter, read_835_events};
use hms_x12::spec::Catalog;

/// The system allocator, counting the bytes live and the most there were.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the counters only observe.
// Needed: counting live bytes takes a global allocator, which is an unsafe trait; this test
// binary is the only user, and it is its own test.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout contract is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One test measures at a time.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The most bytes live above what was live before `run`.
fn peak_during(run: impl FnOnce()) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    run();
    PEAK.load(Ordering::Relaxed) - before
}

/// Peaks of streaming `input` to JSON and to FHIR (into a sink), read from a file.
fn streamed_peaks(path: &std::path::Path) -> (usize, usize) {
    let catalog = Catalog::embedded().unwrap();
    let json = peak_during(|| {
        let mut writer = RemitWriter::json(std::io::sink(), Framing::Document);
        let file = std::fs::File::open(path).unwrap();
        read_835_events(file, catalog, |e| writer.event(&e)).unwrap();
        writer.finish().unwrap();
    });
    let fhir = peak_during(|| {
        let created = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut writer = RemitWriter::fhir(std::io::sink(), Framing::Ndjson, created);
        let file = std::fs::File::open(path).unwrap();
        read_835_events(file, catalog, |e| writer.event(&e)).unwrap();
        writer.finish().unwrap();
    });
    (json, fhir)
}

#[test]
fn memory_does_not_grow_with_the_835() {
    let _turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The catalog is loaded once, before anything is counted.
    Catalog::embedded().unwrap();
    let dir = std::env::temp_dir().join(format!("hms-remittance-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: usize| {
        let path = dir.join(name);
        std::fs::write(&path, hms_x12::synth::remittance_835(bytes).unwrap()).unwrap();
        path
    };
    let small = write("small.835", 1 << 20);
    let large = write("large.835", 8 << 20);
    let (small_json, small_fhir) = streamed_peaks(&small);
    let (large_json, large_fhir) = streamed_peaks(&large);
    // Reading the whole model of the large file holds far more.
    let whole = peak_during(|| {
        let bytes = std::fs::read(&large).unwrap();
        let remits =
            hms_domain::remittance::read_835(&bytes, Catalog::embedded().unwrap()).unwrap();
        assert!(!remits.is_empty());
    });
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "peak live bytes: json {small_json} (1 MB) {large_json} (8 MB); fhir {small_fhir} {large_fhir}; whole model of 8 MB {whole}"
    );
    for (small, large) in [(small_json, large_json), (small_fhir, large_fhir)] {
        assert!(large <= small + small / 4 + (64 << 10), "{small} → {large}");
        assert!(large < 4 << 20, "{large}");
    }
    assert!(whole > 20 * large_json, "{whole} vs {large_json}");
}

/// `count` professional claims as a JSON array file.
fn claim_array(dir: &std::path::Path, count: usize) -> std::path::PathBuf {
    let all: Vec<serde_json::Value> = hms_test_support::synthetic_claims("MEM", count).collect();
    let path = dir.join(format!("claims-{count}.json"));
    std::fs::write(&path, serde_json::to_vec(&all).unwrap()).unwrap();
    path
}

/// Peaks of the three 837 paths for the array at `claims` (its 837 written to `x12`): the
/// array read and written as one 837 batch, the 837 read back into claims as JSON, and the
/// 837's parse tree as JSON.
fn batch_peaks(claims: &std::path::Path, x12: &std::path::Path) -> [usize; 3] {
    use hms_domain::claims::{
        BatchSize, ClaimKind, StreamedBatch, read_837_claims, read_claim_array,
    };
    let catalog = Catalog::embedded().unwrap();
    let partner = hms_domain::partner::TradingPartner::test_to("KEYINS");
    let created = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
        .unwrap()
        .and_hms_opt(9, 30, 0)
        .unwrap();
    let envelope = hms_domain::partner::Envelope::new(7, created);
    let count = std::cell::Cell::new(0);
    let write = peak_during(|| {
        // The first pass counts (the CLI's scrubs too); the second writes.
        let open = || std::io::BufReader::new(std::fs::File::open(claims).unwrap());
        let n = read_claim_array(open(), Some(ClaimKind::Professional), |_, c| {
            c.map(drop)
                .map_err(|o| std::io::Error::other(format!("{o:?}")))
        })
        .unwrap();
        count.set(n);
        let out = std::io::BufWriter::new(std::fs::File::create(x12).unwrap());
        let mut batch: Option<StreamedBatch<_>> = None;
        let mut out = Some(out);
        read_claim_array(open(), Some(ClaimKind::Professional), |_, claim| {
            let claim = claim.unwrap();
            match batch.as_mut() {
                Some(b) => b.claim(&claim).unwrap(),
                None => {
                    let mut b = StreamedBatch::new(
                        &claim,
                        BatchSize::of(n),
                        &partner,
                        &envelope,
                        out.take().unwrap(),
                    )
                    .unwrap();
                    b.claim(&claim).unwrap();
                    batch = Some(b);
                }
            }
            Ok::<(), std::io::Error>(())
        })
        .unwrap();
        batch.unwrap().finish().unwrap();
    });
    let read = peak_during(|| {
        let mut out = std::io::sink();
        let file = std::io::BufReader::new(std::fs::File::open(x12).unwrap());
        let mut read = 0;
        read_837_claims(file, catalog, |claim| {
            read += 1;
            serde_json::to_writer(&mut out, &claim).map_err(std::io::Error::from)
        })
        .unwrap();
        assert_eq!(read, count.get());
    });
    let tree = peak_during(|| {
        let mut writer = hms_x12::tree::JsonTreeWriter::new(std::io::sink());
        let file = std::io::BufReader::new(std::fs::File::open(x12).unwrap());
        hms_x12::tree::read_steps(file, catalog, |step| writer.step(step)).unwrap();
        writer.finish().unwrap();
    });
    [write, read, tree]
}

#[test]
fn memory_does_not_grow_with_the_837_batch() {
    let _turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Catalog::embedded().unwrap();
    let dir = std::env::temp_dir().join(format!("hms-batch-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Once first, so what is loaded on first use (the 837 guides) is not counted.
    batch_peaks(&claim_array(&dir, 30), &dir.join("warm.837"));
    let small = batch_peaks(&claim_array(&dir, 300), &dir.join("small.837"));
    let large = batch_peaks(&claim_array(&dir, 3_000), &dir.join("large.837"));
    // The whole-batch readers hold every claim.
    let whole = peak_during(|| {
        let bytes = std::fs::read(dir.join("large.837")).unwrap();
        let claims = hms_domain::claims::read_837p(&bytes, Catalog::embedded().unwrap()).unwrap();
        assert_eq!(claims.len(), 3_000);
    });
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "peak live bytes (write, read, tree): 300 claims {small:?}; 3,000 claims {large:?}; whole read of 3,000 {whole}"
    );
    for (small, large) in small.into_iter().zip(large) {
        assert!(large <= small + small / 4 + (64 << 10), "{small} → {large}");
        assert!(large < 4 << 20, "{large}");
    }
    assert!(whole > 10 * large[1], "{whole} vs {}", large[1]);
}

/// Peak of reading every Claim of the Bundle at `path` a Claim at a time (with what each
/// refers to), and how many entries it has.
fn bundle_peak(path: &std::path::Path) -> (usize, usize) {
    use hms_domain::claims::StoredBundle;
    let connections = hms_domain::partner::Connections::local();
    let mut entries = 0;
    let peak = peak_during(|| {
        let file = std::fs::File::open(path).unwrap();
        let mut bundle = StoredBundle::open(&file).unwrap().unwrap();
        let mut read = 0;
        bundle
            .read_claims(None, &connections, |_, claim| {
                claim.unwrap();
                read += 1;
                Ok::<(), std::io::Error>(())
            })
            .unwrap();
        assert_eq!(read, bundle.claims());
        entries = read * 9;
    });
    (peak, entries)
}

#[test]
fn a_bundle_of_claims_holds_its_index_and_one_claim() {
    let _turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = std::env::temp_dir().join(format!("hms-bundle-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |copies: usize| {
        let path = dir.join(format!("bundle-{copies}.json"));
        let bundle = hms_test_support::synthetic_bundle(copies);
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        path
    };
    bundle_peak(&write(10));
    let small_path = write(300);
    let (small, small_entries) = bundle_peak(&small_path);
    let (large, large_entries) = bundle_peak(&write(3_000));
    // Read whole, the small Bundle already takes tens of times what the large one streamed
    // does (and its conditional references are looked up in every resource, Claim by Claim).
    let whole = peak_during(|| {
        let bytes = std::fs::read(&small_path).unwrap();
        let batch = hms_domain::claims::Batch::read(
            &bytes,
            None,
            &hms_domain::partner::Connections::local(),
        )
        .unwrap();
        assert_eq!(batch.claims.len(), 300);
    });
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "peak live bytes: 300 Claims {small} ({small_entries} entries); 3,000 Claims {large} ({large_entries} entries); whole read of 300 {whole}"
    );
    // What grows is the index: a word an entry for its span, a word a key (its fullUrl, type
    // and id, identifiers), and the vectors' slack while they grow (about 45 bytes an entry).
    let per_entry = (large - small) / (large_entries - small_entries);
    assert!(per_entry <= 64, "{per_entry} bytes an entry");
    assert!(large < 4 << 20, "{large}");
    assert!(whole > 10 * large, "{whole} vs {large}");
}
