//! Streamed 835 translation holds one claim payment at a time: the most memory live at once
//! while an 8 MB 835 becomes JSON and FHIR is no more than for a 1 MB one (the same few
//! hundred kilobytes), where reading the whole model grows with the file. Counted by a global
//! allocator that tracks the bytes live, so this binary has its own.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use hms_domain::remittance::stream::{FhirWriter, Framing, JsonWriter, read_835_events};
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
        let mut writer = JsonWriter::new(std::io::sink(), Framing::Document);
        let file = std::fs::File::open(path).unwrap();
        read_835_events(file, catalog, |e| writer.event(&e)).unwrap();
        writer.finish().unwrap();
    });
    let fhir = peak_during(|| {
        let created = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut writer = FhirWriter::new(std::io::sink(), Framing::Ndjson, created);
        let file = std::fs::File::open(path).unwrap();
        read_835_events(file, catalog, |e| writer.event(&e)).unwrap();
        writer.finish().unwrap();
    });
    (json, fhir)
}

#[test]
fn memory_does_not_grow_with_the_835() {
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
