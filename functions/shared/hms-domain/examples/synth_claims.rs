//! Writes a JSON array of N professional claims to a file, for measuring batches too large to
//! commit: the fixture batch's claims over and over, each with its own patient control number.
//! `cargo run --release -p hms-domain --example synth_claims -- 50000 /tmp/claims.json`; the
//! 837P batch of them is `hms translate --to x12 --type 837P /tmp/claims.json`.
#![allow(
    clippy::indexing_slicing,
    reason = "a tool for benchmarks: the fixture is ours and holds claims"
)]

use std::io::Write;

const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/claims/batch-professional.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().unwrap_or_else(|| "10000".into()).parse()?;
    let path = args.next().unwrap_or_else(|| "claims.json".into());
    let claims: Vec<serde_json::Value> = serde_json::from_slice(FIXTURE)?;
    if claims.is_empty() {
        return Err("the fixture holds no claims".into());
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    out.write_all(b"[")?;
    for i in 0..count {
        let mut claim = claims[i % claims.len()].clone();
        claim["claim"]["patientControlNumber"] = format!("SYN{i:09}").into();
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
