// Times the npm peers on one X12 file, in-process (no Node start-up in the numbers):
//   @stedi/x12-tools ack() — Stedi's Rust-compiled-to-WASM 997 generator
//   node-x12 X12Parser.parse() — a pure-JS parser
// Prints one JSON line per peer: {"peer", "op", "bytes", "runs", "best_ms", "mb_per_s"}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const file = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
const text = readFileSync(file, "latin1");
const bytes = Buffer.byteLength(text, "latin1");

function time(peer, op, fn) {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    best = Math.min(best, ms);
  }
  const mbPerS = bytes / 1e6 / (best / 1000);
  console.log(JSON.stringify({ peer, op, bytes, runs, best_ms: Math.round(best), mb_per_s: Number(mbPerS.toFixed(2)) }));
}

const stedi = require("@stedi/x12-tools");
stedi.init_x12_translate_wasm?.();
time("@stedi/x12-tools", "ack (997)", () => {
  const out = stedi.ack(text, "000000001", "1");
  if (!out) throw new Error("stedi ack returned nothing");
});

const { X12Parser } = require("node-x12");
time("node-x12", "parse", () => {
  new X12Parser(true).parse(text);
});
