//! What the CLI's test binaries share: running `hms` as a user does.
#![allow(clippy::expect_used)] // test code: a failed expectation is the test failing

use std::io::{Read, Write};
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

/// Runs `hms` with `args` and a reader of its standard output that takes `head` bytes and
/// goes away (`| head -c HEAD`), then asserts that the command ended quietly: no panic, and
/// not the exit of one.
pub fn ends_quietly_when_the_reader_goes_away(args: &[&str], head: usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hms"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hms starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut taken = vec![0u8; head];
    stdout
        .read_exact(&mut taken)
        .expect("the head of the output");
    // The pipe's read end closes here, with the rest of the output still to come.
    drop(stdout);
    let out = child.wait_with_output().expect("hms finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
}
