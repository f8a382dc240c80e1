//! Writes a synthetic 835 of at least N megabytes to a file, for benchmarking peers on the same
//! input: `cargo run --release -p hms-x12 --example synth835 -- 8 /tmp/synth.835`.
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let megabytes: usize = args.next().unwrap_or_else(|| "8".into()).parse()?;
    let path = args.next().unwrap_or_else(|| "synth.835".into());
    let bytes = hms_x12::synth::remittance_835(megabytes * 1_000_000)?;
    std::fs::write(&path, &bytes)?;
    eprintln!("{path}: {} bytes", bytes.len());
    Ok(())
}
