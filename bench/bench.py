"""Side-by-side benchmark of bertqa, PyTorch and ONNX Runtime (see bench/run).

    bench.py compare --bertqa BIN --model DIR --work DIR [--rounds R] [--runs N]
                     [--also NAME=COMMAND ...]
    bench.py torch-worker MODEL_DIR [fp32|bf16|int8]  (internal: JSON lines on stdin)
    bench.py export MODEL_DIR OUT.onnx       (internal: torch.onnx.export)

Every engine runs in its own long-lived process with its thread count fixed
at start (one per engine and thread count; bertqa's is 'bertqa bench
--serve'), so no engine's threads compete with another's and no engine
reloads its model between turns; the driver runs them in turn, a few runs
each, round after round, so that a spell of load from other tenants of the
machine falls on every engine alike, and pools each configuration's timed
runs into one median.  --also adds another bertqa build, run by COMMAND (e.g.
"chroot /var/cache/bertqa-chroot/trixie /build/bertqa/bertqa": the same tree
built on another Debian release), timed in every cell beside the first.
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SEQ_LENS = (128, 384)
THREADS = (1, 2)
LOGIT_TOLERANCE = 1e-4
OPENBLAS = "bertqa, BERTQA_SGEMM=openblas"
# the reduced-precision engines: bertqa's --precision and PyTorch's own
LOW_PRECISIONS = ("bf16", "int8")
CLS, SEP = 101, 102


def encoder_flops(c, s):
    """Matrix-product FLOPs of one forward pass, as bq_encoder_flops counts them."""
    h, inter = c["hidden_size"], c["intermediate_size"]
    per_layer = 3 * s * h * h + 2 * s * s * h + s * h * h + 2 * s * h * inter
    return 2.0 * (c["num_hidden_layers"] * per_layer + 2 * s * h)


def make_input(seq_len, seed):
    """A question/context pair shaped like run_squad.py's: [CLS] q [SEP] c [SEP]."""
    import random

    rng = random.Random(seed)
    q_len = min(24, seq_len // 4)
    ids = [CLS] + [rng.randrange(1000, 30000) for _ in range(q_len)] + [SEP]
    types = [0] * len(ids)
    rest = seq_len - len(ids) - 1
    ids += [rng.randrange(1000, 30000) for _ in range(rest)] + [SEP]
    types += [1] * (rest + 1)
    return ids, types


def fast_blas_env(env):
    """OpenBLAS 0.3.21 does not know this CPU: force the kernels bertqa picks."""
    flags = open("/proc/cpuinfo").read()
    if "OPENBLAS_CORETYPE" not in env:
        if all(f in flags for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl")):
            env["OPENBLAS_CORETYPE"] = "SkylakeX"
        elif "avx2" in flags and "fma" in flags:
            env["OPENBLAS_CORETYPE"] = "Haswell"
    return env


class Worker:
    """A child process that answers one JSON line per JSON line."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, text=True)
        self.hello = self.read()

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.proc.args} died")
        return json.loads(line)

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def worker_env(threads):
    env = fast_blas_env(dict(os.environ))
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    return env


def bertqa_logits(args, bertqa, ids, types, precision="fp32", emulate=False):
    env = fast_blas_env(dict(os.environ))
    if emulate:
        # oneDNN's emulated kernels (see src/core/compute/onednn.c): for the numbers only
        env["BERTQA_ONEDNN_ANY_KERNELS"] = "1"
    out = subprocess.run(bertqa + ["logits", "--model", args.model, "--threads", "1",
                                   "--precision", precision],
                         input=json.dumps({"input_ids": ids, "token_type_ids": types}) + "\n",
                         capture_output=True, text=True, check=True, env=env)
    row = json.loads(out.stdout)
    return row["start_logits"], row["end_logits"]


def bertqa_worker(args, bertqa, threads, sgemm=None, precision="fp32"):
    """A 'bertqa bench --serve' process: the model loaded once, timings on request."""
    env = dict(os.environ)
    if sgemm is not None:
        env["BERTQA_SGEMM"] = sgemm
    return Worker(bertqa + ["bench", "--model", args.model, "--serve", "--threads",
                            str(threads), "--precision", precision], env)


def bertqa_precision_runs(args, bertqa, precision):
    """Whether this machine runs bertqa's 'precision' as itself (not as fp32)."""
    out = subprocess.run(bertqa + ["bench", "--model", args.model, "--seq-len", "8",
                                   "--runs", "1", "--warmup", "0", "--precision", precision],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["precision"] == precision


def gemm_ceiling(args, threads):
    """The best BERT-base projection rate of either of bertqa's engines."""
    best = 0.0
    for engine in ("onednn", "openblas"):
        out = subprocess.run([args.bertqa, "bench", "--gemm", "--threads", str(threads),
                              "--runs", "10", "--warmup", "2"],
                             capture_output=True, text=True, check=True,
                             env=dict(os.environ, BERTQA_SGEMM=engine))
        best = max([best] + [g["gflops"] for g in json.loads(out.stdout)["gemm"]])
    return best


def max_diff(a, b):
    return max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")


def rms_diff(a, b):
    return (sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)) ** 0.5


def compare(args):
    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    onnx_path = os.path.join(args.work, "model.onnx")
    if not os.path.exists(onnx_path):
        subprocess.run([sys.executable, __file__, "export", args.model, onnx_path], check=True,
                       env=worker_env(2))

    # every bertqa build: "bertqa" and those of --also, each run by its command
    builds = [("bertqa", [args.bertqa])]
    for also in args.also:
        name, _, command = also.partition("=")
        builds.append((name, shlex.split(command)))
    torch_workers = {t: Worker([sys.executable, __file__, "torch-worker", args.model], worker_env(t))
                     for t in THREADS}
    # reduced precisions at S=384 on 2 threads, where the issue sets its targets
    low = [p for p in LOW_PRECISIONS if bertqa_precision_runs(args, [args.bertqa], p)]
    torch_low = {p: Worker([sys.executable, __file__, "torch-worker", args.model, p], worker_env(2))
                 for p in LOW_PRECISIONS}
    ort_workers = {t: Worker(["node", os.path.join(HERE, "ort_worker.js"), onnx_path, str(t)],
                             worker_env(t)) for t in THREADS}
    bertqa_workers = {(name, t): bertqa_worker(args, bertqa, t) for t in THREADS
                      for name, bertqa in builds}
    bertqa_workers.update({(OPENBLAS, t): bertqa_worker(args, [args.bertqa], t, "openblas")
                           for t in THREADS})
    bertqa_low = {f"{name} {p}": bertqa_worker(args, bertqa, 2, precision=p)
                  for name, bertqa in builds for p in LOW_PRECISIONS
                  if bertqa_precision_runs(args, bertqa, p)}

    # 1. the engines agree on the logits of identical inputs
    agree = True
    for s in SEQ_LENS:
        ids, types = make_input(s, seed=s)
        ref_start, ref_end = bertqa_logits(args, [args.bertqa], ids, types)
        peers = [(name, worker.ask({"cmd": "logits", "input_ids": ids, "token_type_ids": types}))
                 for name, worker in (("PyTorch", torch_workers[1]), ("ONNX Runtime", ort_workers[1]))]
        for name, bertqa in builds[1:]:
            start, end = bertqa_logits(args, bertqa, ids, types)
            peers.append((name, {"start": start, "end": end}))
        for name, out in peers:
            diff = max(max_diff(ref_start, out["start"]), max_diff(ref_end, out["end"]))
            ok = diff <= LOGIT_TOLERANCE
            agree &= ok
            print(f"logits S={s}: bertqa vs {name}: max |diff| {diff:.2e} "
                  f"({'ok' if ok else 'MISMATCH'})", flush=True)
        # how far the reduced precisions move the logits (not a check: a measurement)
        fidelity = {}
        for p in LOW_PRECISIONS:
            start, end = bertqa_logits(args, [args.bertqa], ids, types, p, emulate=p not in low)
            name = f"bertqa {p}" + ("" if p in low else " (emulated)")
            fidelity[name] = (start + end, ref_start + ref_end)
        for p, w in torch_low.items():
            out = w.ask({"cmd": "logits", "input_ids": ids, "token_type_ids": types})
            fidelity[f"PyTorch {p}"] = (out["start"] + out["end"], ref_start + ref_end)
        for name, (got, want) in fidelity.items():
            print(f"logits S={s}: {name} vs bertqa fp32: max |diff| {max_diff(got, want):.4f}, "
                  f"rms {rms_diff(got, want):.4f}", flush=True)

    # 2. timings, engines interleaved round by round
    times = {}
    ceilings = {t: [] for t in THREADS}
    for rnd in range(args.rounds):
        for t in THREADS:
            ceilings[t].append(gemm_ceiling(args, t))
        for s in SEQ_LENS:
            ids, types = make_input(s, seed=s)
            request = {"cmd": "time", "input_ids": ids, "token_type_ids": types,
                       "runs": args.runs, "warmup": 1}
            bertqa_request = {"seq_len": s, "runs": args.runs, "warmup": 1}
            for t in THREADS:
                engines = [(name, bertqa_workers[(name, t)], bertqa_request)
                           for name, _ in builds]
                engines += [("PyTorch", torch_workers[t], request),
                            ("ONNX Runtime", ort_workers[t], request),
                            (OPENBLAS, bertqa_workers[(OPENBLAS, t)], bertqa_request)]
                if s == 384 and t == 2:
                    engines += [(name, w, bertqa_request) for name, w in bertqa_low.items()]
                    engines += [(f"PyTorch {p}", w, request) for p, w in torch_low.items()]
                # rotate the order each round so no engine always runs first
                k = rnd % len(engines)
                for name, worker, req in engines[k:] + engines[:k]:
                    times.setdefault((name, s, t), []).extend(worker.ask(req)["times_ms"])
                print(f"round {rnd + 1}/{args.rounds} S={s} T={t} done", flush=True)

    versions = {"PyTorch": torch_workers[1].hello["version"],
                "ONNX Runtime": ort_workers[1].hello["version"]}
    for w in (list(torch_workers.values()) + list(ort_workers.values()) +
              list(torch_low.values()) + list(bertqa_workers.values()) + list(bertqa_low.values())):
        w.close()

    # other load on the machine only ever slows sgemm down: the best round is the ceiling
    ceiling = {t: max(ceilings[t]) for t in THREADS}
    print()
    print(f"matrix-product ceiling (bertqa bench --gemm, best engine, BERT-base shape and round): "
          + ", ".join(f"{ceiling[t]:.1f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in THREADS))
    print(f"versions: PyTorch {versions['PyTorch']}, onnxruntime-node {versions['ONNX Runtime']}")
    print(f"timed runs per cell: {args.rounds * args.runs}")
    print()
    print("| engine | S | threads | median ms | vs ONNX Runtime | GFLOP/s | % of ceiling |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for s in SEQ_LENS:
        for t in THREADS:
            ort_median = statistics.median(times[("ONNX Runtime", s, t)])
            names = [name for name, _ in builds] + [OPENBLAS, "PyTorch", "ONNX Runtime"]
            names += [f"{engine} {p}" for p in LOW_PRECISIONS
                      for engine in [name for name, _ in builds] + ["PyTorch"]]
            for name in names:
                if (name, s, t) not in times:
                    continue
                med = statistics.median(times[(name, s, t)])
                gflops = encoder_flops(config, s) / (med * 1e6)
                print(f"| {name} | {s} | {t} | {med:.1f} | {med / ort_median:.3f}x | "
                      f"{gflops:.1f} | {100 * gflops / ceiling[t]:.0f}% |")
                results.append({"engine": name, "seq_len": s, "threads": t, "median_ms": med,
                                "ratio_to_ort": med / ort_median, "gflops": gflops,
                                "times_ms": times[(name, s, t)]})
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M %Z"), "versions": versions,
                   "ceiling_gflops": ceiling, "results": results, "logits_agree": agree}, f, indent=1)
    if not agree:
        print("the engines' logits disagree beyond", LOGIT_TOLERANCE, file=sys.stderr)
        return 1
    return 0


# bench/families: the checkpoints' shapes, as bertqa init-model writes them
FAMILY_MODELS = (
    ("BERT-base", ["--family", "bert"]),
    ("RoBERTa-base", ["--family", "roberta", "--tokenizer", os.path.join(HERE, "..", "test", "fixtures", "bpe")]),
    ("DistilBERT-base", ["--family", "distilbert", "--layers", "6"]),
    ("MiniLM (384 hidden, heads of 32)", ["--family", "bert", "--hidden", "384", "--intermediate", "1536"]),
    ("BERT-large", ["--family", "bert", "--layers", "24", "--hidden", "1024", "--heads", "16",
                    "--intermediate", "4096"]),
)
FAMILY_SEQ_LEN = 384


def bert_shapes(config):
    """hidden_size, intermediate_size, layers of any family's config.json."""
    if config.get("model_type") == "distilbert":
        return {"hidden_size": config["dim"], "intermediate_size": config["hidden_dim"],
                "num_hidden_layers": config["n_layers"]}
    return config


def family_input(config, seq_len):
    """make_input's pair, every token of type 0 where the model has one type."""
    ids, types = make_input(seq_len, seed=seq_len)
    if config.get("type_vocab_size", 0) < 2:
        types = [0] * len(types)
    return ids, types


def families(args):
    """Each family's pass at S=384 on 1 and 2 threads, ONNX Runtime beside it."""
    models = []
    for name, init in FAMILY_MODELS:
        out = os.path.join(args.work, "families", name.split()[0])
        if not os.path.exists(os.path.join(out, "model.safetensors")):
            os.makedirs(os.path.dirname(out), exist_ok=True)
            subprocess.run([args.bertqa, "init-model", "--out", out] + init, check=True,
                           stdout=subprocess.DEVNULL)
        onnx_path = os.path.join(out, "model.onnx")
        if not os.path.exists(onnx_path):
            subprocess.run([sys.executable, __file__, "export", out, onnx_path], check=True,
                           env=worker_env(2))
        with open(os.path.join(out, "config.json")) as f:
            config = json.load(f)
        models.append((name, out, onnx_path, config))

    s = FAMILY_SEQ_LEN
    workers = {}
    agree = True
    for name, out, onnx_path, config in models:
        ids, types = family_input(config, s)
        ort = {t: Worker(["node", os.path.join(HERE, "ort_worker.js"), onnx_path, str(t)],
                         worker_env(t)) for t in THREADS}
        model_args = argparse.Namespace(model=out)
        ref_start, ref_end = bertqa_logits(model_args, [args.bertqa], ids, types)
        got = ort[1].ask({"cmd": "logits", "input_ids": ids, "token_type_ids": types})
        diff = max(max_diff(ref_start, got["start"]), max_diff(ref_end, got["end"]))
        agree &= diff <= LOGIT_TOLERANCE
        print(f"logits S={s}: {name}: bertqa vs ONNX Runtime: max |diff| {diff:.2e} "
              f"({'ok' if diff <= LOGIT_TOLERANCE else 'MISMATCH'})", flush=True)
        for t in THREADS:
            workers[(name, "bertqa", t)] = bertqa_worker(model_args, [args.bertqa], t)
            workers[(name, "ONNX Runtime", t)] = ort[t]

    times = {}
    ceilings = {t: [] for t in THREADS}
    for rnd in range(args.rounds):
        for t in THREADS:
            ceilings[t].append(gemm_ceiling(args, t))
        for name, out, onnx_path, config in models:
            ids, types = family_input(config, s)
            for t in THREADS:
                cells = [("bertqa", {"seq_len": s, "runs": args.runs, "warmup": 1}),
                         ("ONNX Runtime", {"cmd": "time", "input_ids": ids, "token_type_ids": types,
                                           "runs": args.runs, "warmup": 1})]
                if rnd % 2:
                    cells.reverse()
                for engine, req in cells:
                    times.setdefault((name, engine, t), []).extend(
                        workers[(name, engine, t)].ask(req)["times_ms"])
        print(f"round {rnd + 1}/{args.rounds} done", flush=True)
    for w in workers.values():
        w.close()

    ceiling = {t: max(ceilings[t]) for t in THREADS}
    print()
    print("matrix-product ceiling (bertqa bench --gemm, best engine, BERT-base shape and round): "
          + ", ".join(f"{ceiling[t]:.1f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in THREADS))
    print(f"timed runs per cell: {args.rounds * args.runs}")
    print()
    print(f"| model | GFLOP per pass | threads | bertqa ms | ONNX Runtime ms | bertqa / ORT "
          f"| bertqa GFLOP/s | % of ceiling |")
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for name, out, onnx_path, config in models:
        flops = encoder_flops(bert_shapes(config), s)
        for t in THREADS:
            med = statistics.median(times[(name, "bertqa", t)])
            ort_med = statistics.median(times[(name, "ONNX Runtime", t)])
            gflops = flops / (med * 1e6)
            print(f"| {name} | {flops / 1e9:.2f} | {t} | {med:.1f} | {ort_med:.1f} | "
                  f"{med / ort_med:.2f}x | {gflops:.1f} | {100 * gflops / ceiling[t]:.0f}% |")
            results.append({"model": name, "threads": t, "bertqa_ms": med, "ort_ms": ort_med,
                             "gflops": gflops, "times_ms": times[(name, "bertqa", t)],
                             "ort_times_ms": times[(name, "ONNX Runtime", t)]})
    with open(os.path.join(args.work, "families.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M %Z"), "ceiling_gflops": ceiling,
                   "results": results, "logits_agree": agree}, f, indent=1)
    if not agree:
        print("bertqa and ONNX Runtime disagree beyond", LOGIT_TOLERANCE, file=sys.stderr)
        return 1
    return 0


def torch_worker(model_dir, precision="fp32"):
    import torch

    import bert_torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model = bert_torch.load_model(model_dir)
    if precision == "bf16":
        model = model.to(torch.bfloat16)
    elif precision == "int8":
        model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    print(json.dumps({"ready": True, "version": torch.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        ids = torch.tensor([req["input_ids"]], dtype=torch.int64)
        types = torch.tensor([req["token_type_ids"]], dtype=torch.int64)
        with torch.inference_mode():
            if req["cmd"] == "logits":
                start, end = model(ids, types)
                reply = {"start": start[0].float().tolist(), "end": end[0].float().tolist()}
            else:
                runs = []
                for r in range(-req["warmup"], req["runs"]):
                    t0 = time.perf_counter()
                    model(ids, types)
                    if r >= 0:
                        runs.append((time.perf_counter() - t0) * 1e3)
                reply = {"times_ms": runs}
        print(json.dumps(reply), flush=True)
    return 0


def main():
    sys.path.insert(0, HERE)
    if len(sys.argv) >= 2 and sys.argv[1] == "torch-worker":
        return torch_worker(*sys.argv[2:4])
    if len(sys.argv) >= 2 and sys.argv[1] == "export":
        import bert_torch

        bert_torch.export_onnx(bert_torch.load_model(sys.argv[2]), sys.argv[3], 128)
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["compare", "families"])
    parser.add_argument("--bertqa", required=True)
    parser.add_argument("--model")
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--also", action="append", default=[], metavar="NAME=COMMAND",
                        help="another bertqa build to time beside the first")
    args = parser.parse_args()
    if args.command == "families":
        return families(args)
    if args.model is None:
        parser.error("compare needs --model")
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
