#!/usr/bin/env python3
"""The CLI's answers against Google BERT's run_squad.py on the SQuAD cases of
test/fixtures/squad/google-ref.public.seq{384,64}.jsonl, with the rules of
test/unit/test_qa_parity.c: texts compared with whitespace runs collapsed (the
reference joins words with single spaces), at least 99% of final answers
equal, every null_score_diff within 1e-3, at least 95% of n-best lists equal
(texts, probabilities and logits within 1e-4).  The hand-made "edge-" cases
hold the known differences and cases where the reference crashed have
nothing to compare; both are left out.

  squad_reference.py dataset FIXTURE DEV OUT.json
      writes the fixture's SQuAD cases as a SQuAD v2.0 file, gold answers
      taken from the dev set DEV by question id
  squad_reference.py squad FIXTURE PRED NBEST NULL_ODDS NA_PROBS
      checks 'bertqa squad' output files
  squad_reference.py answer FIXTURE BERTQA [ARGS...]
      runs 'BERTQA answer ARGS...' on every case with its settings and checks
      its JSON against the reference, and that the answer and every n-best
      entry are the context's text at their offsets (code points, end
      exclusive), on the hand-made cases too
  squad_reference.py pooled FIXTURE BERTQA [ARGS...]
      runs 'BERTQA answer' on every case twice, with --context and with the
      context as a one-line --contexts file (the rule over many contexts),
      and checks that both give the same decision and n-best list exactly

Prints one line per failed rule on stderr and exits 1 if any failed.
"""
import json
import subprocess
import sys

TOLERANCE = 1e-4


def collapsed(text):
    return " ".join(text.split())


def fixture_cases(path):
    """The fixture's cases that the reference answered."""
    with open(path, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c for c in cases if "google_error" not in c]


def from_squad(case):
    """Whether a case is taken from SQuAD (not one of the hand-made ones)."""
    return not case["id"].startswith("edge-")


def squad_cases(path):
    return [c for c in fixture_cases(path) if from_squad(c)]


def nbest_equal(ours, theirs):
    """n-best lists equal as test_qa_parity compares them."""
    return len(ours) == len(theirs) and all(
        collapsed(a["text"]) == collapsed(b["text"])
        and abs(a["probability"] - b["probability"]) <= TOLERANCE
        and abs(a["start_logit"] - b["start_logit"]) <= TOLERANCE
        and abs(a["end_logit"] - b["end_logit"]) <= TOLERANCE
        for a, b in zip(ours, theirs)
    )


class Rules:
    """Counts per rule; report() names the broken ones."""

    def __init__(self, name, total):
        self.name = name
        self.total = total
        self.counts = {}
        self.failures = []

    def tally(self, rule, ok, case_id, detail=""):
        self.counts[rule] = self.counts.get(rule, 0) + bool(ok)
        if not ok and len(self.failures) < 10:
            self.failures.append(f"  {case_id}: {rule} {detail}")

    def require(self, rule, min_percent):
        got = self.counts.get(rule, 0)
        ok = self.total > 0 and 100.0 * got >= min_percent * self.total
        print(f"{self.name}: {rule}: {got}/{self.total}" + ("" if ok else f", below {min_percent}%"))
        return ok

    def report(self, requirements):
        ok = all([self.require(rule, pct) for rule, pct in requirements])
        if not ok:
            print("\n".join(self.failures), file=sys.stderr)
        return ok


def write_dataset(fixture, dev_path, out):
    with open(dev_path, encoding="utf-8") as f:
        dev = json.load(f)
    gold = {q["id"]: q for a in dev["data"] for p in a["paragraphs"] for q in p["qas"]}
    paragraphs = []
    for c in squad_cases(fixture):
        # The fixture's long cases join several paragraphs under the id of
        # one of their questions, prefixed "pub-long-".
        g = gold.get(c["id"].removeprefix("pub-long-"), {"answers": [], "is_impossible": True})
        paragraphs.append({"context": c["context"], "qas": [{
            "id": c["id"], "question": c["question"],
            "answers": g["answers"], "is_impossible": g["is_impossible"]}]})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"version": "v2.0", "data": [{"title": "fixture", "paragraphs": paragraphs}]},
                  f, ensure_ascii=False)
    return True


def check_squad(fixture, pred_path, nbest_path, odds_path, na_path):
    files = []
    for path in (pred_path, nbest_path, odds_path, na_path):
        with open(path, encoding="utf-8") as f:
            files.append(json.load(f))
    pred, nbest, odds, na = files
    cases = squad_cases(fixture)
    rules = Rules(f"bertqa squad on {fixture}", len(cases))
    for c in cases:
        i = c["id"]
        rules.tally("prediction equal", i in pred and collapsed(pred[i]) == collapsed(c["prediction"]),
                    i, f'"{pred.get(i)}", reference "{c["prediction"]}"')
        rules.tally("null odds equal", i in odds and abs(odds[i] - c["null_score_diff"]) <= 1e-3,
                    i, f"{odds.get(i)}, reference {c['null_score_diff']}")
        rules.tally("n-best equal", nbest_equal(nbest.get(i, []), c["nbest"]), i)
        null = [e["probability"] for e in c["nbest"] if e["text"] == ""]
        rules.tally("no-answer probability equal",
                    i in na and len(null) == 1 and abs(na[i] - null[0]) <= TOLERANCE,
                    i, f"{na.get(i)}, reference {null}")
    return rules.report([("prediction equal", 99.0), ("null odds equal", 100.0),
                         ("n-best equal", 95.0), ("no-answer probability equal", 95.0)])


def code_point_span(context, entry):
    """The context's text at an entry's offsets, or None if they are not a span."""
    start, end = entry.get("start"), entry.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(context):
        return None
    return context[start:end]


def check_answer(fixture, command):
    cases = fixture_cases(fixture)
    spans = Rules(f"bertqa answer on {fixture} (all cases)", len(cases))
    rules = Rules(f"bertqa answer on {fixture}", len([c for c in cases if from_squad(c)]))
    for c in cases:
        s = c["settings"]
        args = command[:1] + ["answer"] + command[1:] + [
            "--question", c["question"], "--context", c["context"], "--top-k", "5",
            "--max-seq-len", str(s["max_seq_length"]), "--doc-stride", str(s["doc_stride"]),
            "--max-query-len", str(s["max_query_length"]),
            "--max-answer-len", str(s["max_answer_length"]), "--n-best", str(s["n_best_size"])]
        if any("\0" in a for a in args):
            spans.total -= 1  # a command line cannot carry a NUL character
            continue
        run = subprocess.run(args, capture_output=True, text=True)
        try:
            got = json.loads(run.stdout) if run.returncode == 0 else {}
        except json.JSONDecodeError:
            got = {}
        i = c["id"]
        answer = got.get("answer")
        entries = got.get("nbest", [])
        # Every answer is the context's own text at its offsets, hand-made
        # cases (emoji, combining marks, CJK) included.
        spans.tally("answer is the context at its offsets",
                    answer is not None and code_point_span(c["context"], got) == answer,
                    i, f'[{got.get("start")}, {got.get("end")}) for "{answer}" {run.stderr.strip()[:200]}')
        spans.tally("n-best entries are the context at their offsets",
                    0 < len(entries) <= 5 and all(
                        code_point_span(c["context"], e) == e["text"]
                        or (e["start"] is None and e["text"] == "")  # the null entry
                        for e in entries), i)
        if not from_squad(c):
            continue
        rules.tally("answer equal", answer is not None and collapsed(answer) == collapsed(c["prediction"]),
                    i, f'"{answer}", reference "{c["prediction"]}"')
        rules.tally("n-best equal", nbest_equal(entries, c["nbest"][:5]), i)
        rules.tally("null_score_diff equal",
                    abs(got.get("null_score_diff", 1e9) - c["null_score_diff"]) <= 1e-3, i)
    spans_ok = spans.report([("answer is the context at its offsets", 100.0),
                             ("n-best entries are the context at their offsets", 100.0)])
    return rules.report([("answer equal", 99.0), ("n-best equal", 95.0),
                         ("null_score_diff equal", 100.0)]) and spans_ok


def answer_args(command, case, context_args):
    """'bertqa answer' on a case with its settings."""
    s = case["settings"]
    return command[:1] + ["answer"] + command[1:] + [
        "--question", case["question"]] + context_args + ["--top-k", "100",
        "--max-seq-len", str(s["max_seq_length"]), "--doc-stride", str(s["doc_stride"]),
        "--max-query-len", str(s["max_query_length"]),
        "--max-answer-len", str(s["max_answer_length"]), "--n-best", str(s["n_best_size"])]


def check_pooled(fixture, command):
    import os
    import tempfile

    cases = [c for c in fixture_cases(fixture) if "\0" not in c["context"] + c["question"]]
    keys = ("answer", "start", "end", "score", "null_score_diff")
    entry = ("text", "start", "end", "probability", "start_logit", "end_logit")
    rules = Rules(f"bertqa answer over one context as many, on {fixture}", len(cases))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "context.jsonl")
        for c in cases:
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps({"text": c["context"]}) + "\n")
            runs = [subprocess.run(answer_args(command, c, args), capture_output=True, text=True)
                    for args in (["--context", c["context"]], ["--contexts", path])]
            try:
                a, b = (json.loads(r.stdout) for r in runs)
                same = (all(a[k] == b[k] for k in keys) and b["context"] in (0, None)
                        and len(a["nbest"]) == len(b["nbest"])
                        and all(x[k] == y[k] for x, y in zip(a["nbest"], b["nbest"]) for k in entry))
            except (json.JSONDecodeError, KeyError):
                same = False
            rules.tally("same decision and n-best list", same, c["id"])
    return rules.report([("same decision and n-best list", 100.0)])


def main(argv):
    commands = {"dataset": (write_dataset, 3), "squad": (check_squad, 5)}
    if len(argv) >= 3 and argv[0] == "answer":
        return check_answer(argv[1], argv[2:])
    if len(argv) >= 3 and argv[0] == "pooled":
        return check_pooled(argv[1], argv[2:])
    if len(argv) >= 1 and argv[0] in commands and len(argv) - 1 == commands[argv[0]][1]:
        return commands[argv[0]][0](*argv[1:])
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
