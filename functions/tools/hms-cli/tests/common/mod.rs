//! What the CLI's test binaries share: running `hms` as a user does.
#![allow(clippy::expect_used)] // test code: a failed expectation is the test failing

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `hms` with `args`, `stdin` on its standard input; what it printed and how it ended.
pub fn hms(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hms"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hms starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("stdin written");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("hms finishes")
}
