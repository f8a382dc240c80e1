//! Writes a JSON array of N professional claims to a file, for measuring batches too large to
//! commit: the fixture batch's claims over and over, each with its own patient control number
//! (`hms_test_support::synthetic_claims`).
//! `cargo run --release -p hms-domain --example synth_claims -- 50000 /tmp/claims.json`; the
//! 837P batch of them is `hms translate --to x12 --type 837P /tmp/claims.json`.
//! With `--fhir` first, a FHIR transaction Bundle of N Claims with their Patients, Coverages,
//! providers and Conditions instead (`hms_test_support::synthetic_bundle_entries`).

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let fhir = args.next_if(|a| a == "--fhir").is_some();
    let count: usize = args.next().unwrap_or_else(|| "10000".into()).parse()?;
    let path = args.next().unwrap_or_else(|| "claims.json".into());
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    if fhir {
        out.write_all(br#"{"resourceType":"Bundle","type":"transaction","entry":["#)?;
        for (i, entry) in hms_test_support::synthetic_bundle_entries(count).enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut out, &entry)?;
        }
        out.write_all(b"]}\n")?;
        out.flush()?;
        eprintln!("{path}: a Bundle of {count} Claims");
        return Ok(());
    }
    out.write_all(b"[")?;
    for (i, claim) in hms_test_support::synthetic_claims("SYN", count).enumerate() {
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut out, &claim)?;
    }
    out.write_all(b"]\n")?;
    out.flush()?;
    eprintln!("{path}: {count} claims");
    Ok(())
}
