//! Function init time: from a `bootstrap`'s process start to its first poll of the Lambda
//! runtime API (`GET /2018-06-01/runtime/invocation/next`), the cold start each function adds
//! before Lambda can hand it a request: the environment read, the AWS clients built, and for
//! the submit function the payer rules fetched from their bucket (precompiled for the Lambda
//! target, all at once) and linked without compiling.
//!
//! Run by `infra/bench-lambda.sh`, which builds the release bootstraps, publishes the example
//! rule sets to a bucket of the local stack and sets `HMS_BOOTSTRAPS` (the `target/lambda`
//! directory) and `HMS_FUNCTION_ENV` (the stack's `functions.env`).
#![allow(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failure is a panic with its reason

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 100;

/// `KEY=VALUE` lines, values quoted as Python's `shlex.quote` writes them.
fn environment(path: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let v = match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(inner) => inner.replace("'\"'\"'", "'"),
                None => v.to_string(),
            };
            (k.to_string(), v)
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    let (Ok(bootstraps), Ok(env_file)) = (
        std::env::var("HMS_BOOTSTRAPS"),
        std::env::var("HMS_FUNCTION_ENV"),
    ) else {
        eprintln!("init: set HMS_BOOTSTRAPS and HMS_FUNCTION_ENV (infra/bench-lambda.sh does)");
        return;
    };
    let env = environment(&env_file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listener.local_addr().unwrap().to_string();
    println!(
        "function       first ms   p50 ms   p99 ms   max ms   (n = {RUNS} after the first; start to first poll)"
    );
    for function in ["eligibility", "submit", "submit-worker", "status"] {
        let binary = format!("{bootstraps}/{function}/bootstrap");
        let mut times = Vec::with_capacity(RUNS);
        let mut first = Duration::ZERO;
        for run in 0..=RUNS {
            let started = Instant::now();
            let mut child = Command::new(&binary)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_LAMBDA_RUNTIME_API", &api)
                .env("AWS_LAMBDA_FUNCTION_NAME", function)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
                .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("{binary}: {e}"));
            // A function that cannot start exits; waiting for its poll would wait forever.
            listener.set_nonblocking(true).unwrap();
            let stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        if let Some(status) = child.try_wait().unwrap() {
                            panic!("{function} exited before polling for work: {status}");
                        }
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            };
            stream.set_nonblocking(false).unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let took = started.elapsed();
            assert!(
                line.contains("/runtime/invocation/next"),
                "{function} asked the runtime API for {line:?} first"
            );
            child.kill().unwrap();
            child.wait().unwrap();
            // The first run also pays for a cold page cache; it is shown apart.
            if run == 0 {
                first = took;
            } else {
                times.push(took);
            }
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{function:<14} {:>8.2}  {:>7.2}  {:>7.2}  {:>7.2}",
            ms(first),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(times[times.len() - 1]),
        );
    }
}
