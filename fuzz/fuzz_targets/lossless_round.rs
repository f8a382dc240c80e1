//! What the X12 targets share (a module of theirs, not a target): a lossless read, each part
//! it made written back.

/// Writes back, with `write`, every part `read` made; only a panic matters.
pub fn write_each_back<T, E, F>(read: Result<Vec<T>, E>, write: impl Fn(&T) -> Result<Vec<u8>, F>) {
    for part in read.iter().flatten() {
        let _ = write(part);
    }
}
