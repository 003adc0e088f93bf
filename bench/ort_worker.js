// ONNX Runtime side of bench/run: one InferenceSession with a fixed
// thread count, driven by JSON lines on stdin, one JSON line out per request.
//   {"cmd": "logits", "input_ids": [...], "token_type_ids": [...]}
//       -> {"start": [...], "end": [...]}
//   {"cmd": "time", "input_ids": [...], "token_type_ids": [...], "runs": R, "warmup": W}
//       -> {"times_ms": [...]}
// Usage: node ort_worker.js MODEL.onnx THREADS
'use strict';

const ort = require('onnxruntime-node');
const readline = require('readline');

function feeds(req) {
  const n = req.input_ids.length;
  const tensor = (values) =>
    new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [1, n]);
  return { input_ids: tensor(req.input_ids), token_type_ids: tensor(req.token_type_ids) };
}

async function handle(session, req) {
  const input = feeds(req);
  if (req.cmd === 'logits') {
    const out = await session.run(input);
    return { start: Array.from(out.start_logits.data), end: Array.from(out.end_logits.data) };
  }
  if (req.cmd === 'time') {
    const times = [];
    for (let r = -req.warmup; r < req.runs; r++) {
      const t0 = process.hrtime.bigint();
      await session.run(input);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r >= 0) times.push(ms);
    }
    return { times_ms: times };
  }
  throw new Error(`unknown command ${req.cmd}`);
}

async function main() {
  const [modelPath, threads] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const version = require('onnxruntime-node/package.json').version;
  process.stdout.write(JSON.stringify({ ready: true, version }) + '\n');
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    process.stdout.write(JSON.stringify(await handle(session, JSON.parse(line))) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`ort_worker: ${e.stack || e}\n`);
  process.exit(1);
});
