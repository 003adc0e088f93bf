#!/usr/bin/env bash
# Tests of the bertqa command-line tool as a user runs it: exit codes,
# messages, output shapes, precisions, and answers: answer and squad against
# Google run_squad.py's on its fixtures, eval against the official script's
# numbers.
set -uo pipefail
cd "$(dirname "$0")/../.."

BQ=./bertqa
MODEL=test/fixtures/tiny-model
VOCAB=$MODEL/vocab.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. test/lib/check.sh
. test/lib/precision_expected.sh

# tokenize: good lines are written, bad lines are named on stderr, exit 2.
printf '%s\n' '{"text": "Hello, World!"}' '{"text": 5}' 'not json' '{"text": "caf\u00e9"}' |
	$BQ tokenize --vocab $VOCAB >"$tmp/tok.out" 2>"$tmp/tok.err"
check "tokenize exits 2 on bad lines" test $? = 2
check "tokenize writes only the good lines" test "$(wc -l <"$tmp/tok.out")" = 2
check "tokenize output" grep -qx '{"ids": \[7592, 1010, 2088, 999\], "offsets": \[\[0, 5\], \[5, 6\], \[7, 12\], \[12, 13\]\]}' "$tmp/tok.out"
check "tokenize names line 2" grep -q 'line 2' "$tmp/tok.err"
check "tokenize names line 3" grep -q 'line 3' "$tmp/tok.err"
printf '{"text": "ok \xff"}\n' | $BQ tokenize --vocab $VOCAB >"$tmp/bad.out" 2>"$tmp/bad.err"
check "tokenize rejects invalid UTF-8" test $? = 2 -a ! -s "$tmp/bad.out"
$BQ tokenize --vocab "$tmp/missing.txt" </dev/null 2>"$tmp/miss.err"
check "tokenize fails on a missing vocabulary" test $? = 1
check "tokenize names the missing file" grep -q 'missing.txt' "$tmp/miss.err"

# tokenize --model: the model's own tokenizer, whatever its kind.  A
# RoBERTa over GPT-2's real BPE files tokenizes the corpus exactly as
# tokenizers.js does (test/fixtures/bpe/reference.jsonl).
printf '{"text": "Hello, World!"}\n' | $BQ tokenize --model $MODEL >"$tmp/tok-model.out"
check "tokenize --model: a BERT's WordPiece" \
	grep -qx '{"ids": \[7592, 1010, 2088, 999\], "offsets": \[\[0, 5\], \[5, 6\], \[7, 12\], \[12, 13\]\]}' "$tmp/tok-model.out"
$BQ init-model --out "$tmp/gpt2-roberta" --family roberta --tokenizer test/fixtures/bpe \
	--layers 1 --hidden 8 --heads 1 --intermediate 8 >/dev/null
check "init-model writes a RoBERTa with GPT-2's vocabulary" test $? = 0
$BQ tokenize --model "$tmp/gpt2-roberta" <test/fixtures/tokenizer/hf-tokenizers.public.jsonl >"$tmp/bpe.out"
check "tokenize --model: byte-level BPE equal to tokenizers.js on all 8,540 texts" python3 -c '
import json, sys
got = [json.loads(line) for line in open(sys.argv[1])]
want = [json.loads(line) for line in open(sys.argv[2])]
sys.exit(not (len(got) == len(want) == 8540 and got == want))
' "$tmp/bpe.out" test/fixtures/bpe/reference.jsonl
$BQ tokenize --model "$tmp/gpt2-roberta" --cased </dev/null 2>/dev/null
check "tokenize --model refuses --cased" test $? = 2
$BQ tokenize --model "$tmp/no-model" </dev/null 2>"$tmp/nomodel.err"
check "tokenize --model fails on a missing model" test $? = 1

# logits: one output line per input line, logits as long as the input.
printf '%s\n' '{"input_ids": [101, 2054, 102, 3000, 102], "token_type_ids": [0, 0, 0, 1, 1]}' |
	$BQ logits --model $MODEL >"$tmp/logits.out"
check "logits succeeds" test $? = 0
check "logits has 5 start logits" test "$(grep -o '"start_logits": \[[^]]*\]' "$tmp/logits.out" | tr ',' '\n' | wc -l)" = 5
printf '%s\n' '{"input_ids": [101, 999999, 102]}' | $BQ logits --model $MODEL >/dev/null 2>"$tmp/logits.err"
check "logits rejects an out-of-range id" test $? = 2

# precisions: int8 runs where oneDNN has int8 kernels and moves the logits
# only a little; where it cannot (forced here: OpenBLAS runs everything, or
# oneDNN limited to AVX-512 without bf16), the tool says so and runs fp32.
ids='{"input_ids": [101, 2054, 102, 3000, 102], "token_type_ids": [0, 0, 0, 1, 1]}'
echo "$ids" | BERTQA_SGEMM=openblas $BQ logits --model $MODEL >"$tmp/fp32.out"
echo "$ids" | BERTQA_SGEMM=openblas $BQ logits --model $MODEL --precision int8 >"$tmp/int8.out" 2>"$tmp/int8.err"
check "int8 falls back to fp32 on OpenBLAS" cmp -s "$tmp/fp32.out" "$tmp/int8.out"
check "the fallback is announced" grep -q 'int8 is not available on this machine; running fp32' "$tmp/int8.err"
echo "$ids" | ONEDNN_MAX_CPU_ISA=AVX512_CORE $BQ logits --model $MODEL >"$tmp/fp32.out"
echo "$ids" | ONEDNN_MAX_CPU_ISA=AVX512_CORE $BQ logits --model $MODEL --precision bf16 >"$tmp/bf16.out" 2>"$tmp/bf16.err"
check "bf16 falls back without AVX512-BF16" grep -q 'bf16 is not available on this machine; running fp32' "$tmp/bf16.err"
check "bf16's fallback gives fp32's logits" cmp -s "$tmp/fp32.out" "$tmp/bf16.out"
# Where int8 or bf16 runs, it runs quietly and moves the logits a little;
# where the CPU has its instructions, it must run (test/lib/precision_expected.sh).
for precision in int8 bf16; do
	echo "$ids" | $BQ logits --model $MODEL --precision $precision >"$tmp/$precision.out" 2>"$tmp/$precision.err"
	if grep -q "$precision is not available" "$tmp/$precision.err" && ! precision_expected $precision; then
		skip "$precision logits" "$precision does not run here (fp32 runs instead)"
		continue
	fi
	check "$precision runs quietly" test ! -s "$tmp/$precision.err"
	check "$precision logits move from fp32's, by less than 0.5" python3 - "$tmp/logits.out" "$tmp/$precision.out" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
diff = max(abs(x - y) for k in ("start_logits", "end_logits") for x, y in zip(a[k], b[k]))
sys.exit(0 if 0 < diff < 0.5 else 1)
PY
done
$BQ logits --model $MODEL --precision fp16 </dev/null 2>"$tmp/prec.err"
check "an unknown precision is a usage error" test $? = 2
check "the usage error names the choices" grep -q 'fp32, bf16 or int8' "$tmp/prec.err"

# answer, on every case of the run_squad.py fixtures with their settings:
# Google's answers and n-best lists, and every answer and n-best entry is
# the context's own text at its offsets (see test/cli/squad_reference.py).
REF384=test/fixtures/squad/google-ref.public.seq384.jsonl
REF64=test/fixtures/squad/google-ref.public.seq64.jsonl
SEQ64_SETTINGS=(--max-seq-len 64 --doc-stride 16 --max-query-len 24 --max-answer-len 8 --n-best 20)
check "answer gives run_squad.py's answers at 384 tokens" \
	python3 test/cli/squad_reference.py answer $REF384 $BQ --model $MODEL
check "answer gives run_squad.py's answers at 64 tokens (many windows)" \
	python3 test/cli/squad_reference.py answer $REF64 $BQ --model $MODEL
check "answer over one context as many gives the same, every case at 384 tokens" \
	python3 test/cli/squad_reference.py pooled $REF384 $BQ --model $MODEL
check "answer over one context as many gives the same, every case at 64 tokens" \
	python3 test/cli/squad_reference.py pooled $REF64 $BQ --model $MODEL

# --allow-no-answer false: a threshold that says "no answer" to every span
# still gives the best span, and no null entry in the n-best list.
$BQ answer --model $MODEL --question "Where is the tower?" --context "The Eiffel Tower is in Paris." \
	--null-threshold -1000 >"$tmp/null.json"
check "a threshold of -1000 answers nothing" grep -q '"answer": null' "$tmp/null.json"
$BQ answer --model $MODEL --question "Where is the tower?" --context "The Eiffel Tower is in Paris." \
	--null-threshold -1000 --allow-no-answer false --top-k 100 >"$tmp/always.json"
check "--allow-no-answer false answers the best span, no null entry" python3 -c '
import json, sys
a, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
best = next(e for e in ref["nbest"] if e["start"] is not None)
sys.exit(not (a["answer"] == best["text"] and all(e["start"] is not None for e in a["nbest"])))
' "$tmp/always.json" "$tmp/null.json"
$BQ answer --model $MODEL --question "?" --context "c" --allow-no-answer maybe 2>"$tmp/allow.err"
check "--allow-no-answer takes true or false" test $? = 2

# Several contexts: one long document (the rule of SQL's qa_best_answer).
# Over one context it is the single-context answer; over several the
# answer is its context's text at its offsets, and --contexts gives what
# the same --context options give.
ctx_a="The Eiffel Tower is in Paris. It opened in 1889."
ctx_b="Big Ben is a clock tower in London, finished in 1859."
printf '{"text": "%s"}\n' "$ctx_a" >"$tmp/one_context.jsonl"
printf '{"text": "%s"}\n{"text": "%s"}\n' "$ctx_a" "$ctx_b" >"$tmp/contexts.jsonl"
$BQ answer --model $MODEL --question "Where is the tower?" --context "$ctx_a" --top-k 100 >"$tmp/single.json"
$BQ answer --model $MODEL --question "Where is the tower?" --contexts "$tmp/one_context.jsonl" \
	--top-k 100 >"$tmp/pooled.json"
check "answer over one context from --contexts: the single-context answer and list" python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
keys = ("answer", "start", "end", "score", "null_score_diff")
entry = ("text", "start", "end", "probability", "start_logit", "end_logit")
sys.exit(not (all(a[k] == b[k] for k in keys) and len(a["nbest"]) == len(b["nbest"])
              and all(x[k] == y[k] for x, y in zip(a["nbest"], b["nbest"]) for k in entry)
              and b["context"] in (0, None)))
' "$tmp/single.json" "$tmp/pooled.json"
$BQ answer --model $MODEL --question "When did the tower open?" --context "$ctx_a" --context "$ctx_b" \
	--top-k 100 >"$tmp/two.json"
check "answer over two contexts: every entry is its context's text at its offsets" python3 -c '
import json, sys
ctx = sys.argv[2:4]
a = json.load(open(sys.argv[1]))
spans = [e for e in a["nbest"] if e["start"] is not None]
sys.exit(not (a["answer"] == ctx[a["context"]][a["start"]:a["end"]]
              and all(e["text"] == ctx[e["context"]][e["start"]:e["end"]] for e in spans)
              and {e["context"] for e in spans} == {0, 1}
              and abs(sum(e["probability"] for e in a["nbest"]) - 1) < 1e-9))
' "$tmp/two.json" "$ctx_a" "$ctx_b"
$BQ answer --model $MODEL --question "When did the tower open?" --contexts "$tmp/contexts.jsonl" \
	--top-k 100 >"$tmp/two_file.json"
check "--contexts gives what the same --context options give" cmp -s "$tmp/two.json" "$tmp/two_file.json"
printf '{"text": "fine"}\n[1, 2]\n' >"$tmp/bad_contexts.jsonl"
$BQ answer --model $MODEL --question "?" --contexts "$tmp/bad_contexts.jsonl" 2>"$tmp/bad_contexts.err"
check "a bad --contexts line is bad input, named" sh -c "test $? = 2 && grep -q 'line 2' '$tmp/bad_contexts.err'"

# squad: the fixtures' SQuAD cases as SQuAD files; every output file equals
# run_squad.py's (predictions, n-best lists, null odds, no-answer
# probabilities).
for seq in 384 64; do
	ref=test/fixtures/squad/google-ref.public.seq$seq.jsonl
	settings=()
	[ $seq = 64 ] && settings=("${SEQ64_SETTINGS[@]}")
	python3 test/cli/squad_reference.py dataset $ref \
		test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json "$tmp/squad$seq.json"
	$BQ squad --model $MODEL --input "$tmp/squad$seq.json" --output "$tmp/pred$seq.json" \
		--nbest "$tmp/nbest$seq.json" --null-odds "$tmp/odds$seq.json" --na-probs "$tmp/na$seq.json" \
		"${settings[@]}" 2>"$tmp/squad.err"
	check "squad succeeds at $seq tokens" test $? = 0
	check "squad prints a summary line" grep -q 'questions' "$tmp/squad.err"
	check "squad writes run_squad.py's outputs at $seq tokens" python3 test/cli/squad_reference.py squad \
		$ref "$tmp/pred$seq.json" "$tmp/nbest$seq.json" "$tmp/odds$seq.json" "$tmp/na$seq.json"
done

# eval: the official evaluate-v2.0.py's numbers for Google BERT's dev
# predictions, printed as Python prints them.
DEV=test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json
$BQ eval --data $DEV --predictions test/fixtures/squad-v2.0/squad-v2.0-dev.predictions.google-bert-single.json \
	>"$tmp/official.json"
check "eval succeeds" test $? = 0
for score in '"exact": 78.74168280973637' '"f1": 81.77528052374723' '"total": 11873' \
	'"HasAns_exact": 74.10593792172739' '"HasAns_f1": 80.18183293833508' '"HasAns_total": 5928' \
	'"NoAns_exact": 83.36417157275021' '"NoAns_f1": 83.36417157275021' '"NoAns_total": 5945'; do
	check "eval reports $score" grep -qF "$score" "$tmp/official.json"
done
# Our predictions score as the reference's on the same questions.
python3 - "$REF384" "$tmp/reference384.json" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    cases = [json.loads(line) for line in f if line.strip()]
json.dump({c["id"]: c["prediction"] for c in cases if "prediction" in c}, open(sys.argv[2], "w"))
PY
$BQ eval --data "$tmp/squad384.json" --predictions "$tmp/pred384.json" >"$tmp/ours.json"
$BQ eval --data "$tmp/squad384.json" --predictions "$tmp/reference384.json" >"$tmp/theirs.json"
check "eval of squad's predictions equals eval of run_squad.py's" cmp -s "$tmp/ours.json" "$tmp/theirs.json"
check "eval counts the 237 questions" grep -q '"total": 237' "$tmp/ours.json"
$BQ eval --data "$tmp/squad384.json" --predictions "$tmp/pred384.json" --na-prob-file "$tmp/na384.json" \
	>"$tmp/eval.json"
check "eval reports best_f1_thresh" grep -q '"best_f1_thresh"' "$tmp/eval.json"
$BQ eval --data "$tmp/squad384.json" --predictions "$tmp/pred384.json" --out-file "$tmp/report.json" >/dev/null
# The official script's --out-file layout: one line, the same scores.
check "eval --out-file writes the report" python3 -c '
import json, sys
report = open(sys.argv[2]).read()
sys.exit(report.count("\n") > 1 or json.loads(report) != json.load(open(sys.argv[1])))
' "$tmp/ours.json" "$tmp/report.json"
$BQ eval --data "$tmp/squad384.json" --predictions "$tmp/pred384.json" --out-file "$tmp/no/report.json" \
	>/dev/null 2>"$tmp/report.err"
check "eval fails when --out-file cannot be written" test $? = 1
check "eval names the file it could not write" grep -q 'could not write ".*no/report.json"' "$tmp/report.err"

# init-model, info and bench on a small random model.
$BQ init-model --out "$tmp/random" --layers 1 --hidden 32 --heads 2 --intermediate 64 \
	--vocab $VOCAB --seed 7 >/dev/null
check "init-model succeeds" test $? = 0
check "init-model copies the vocabulary" cmp -s $VOCAB "$tmp/random/vocab.txt"
check "info reads the random model" sh -c "$BQ info --model '$tmp/random' | grep -q '\"num_hidden_layers\": 1'"
$BQ bench --model "$tmp/random" --seq-len 16 --runs 3 >"$tmp/bench.json"
check "bench succeeds" test $? = 0
for key in median_ms min_ms gflops seq_len batch threads; do
	check "bench reports $key" grep -q "\"$key\"" "$tmp/bench.json"
done
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) (family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1), model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1))"
check "bench names the CPU" grep -qF "\"cpu\": \"$cpu\"" "$tmp/bench.json"
printf '{"seq_len": 16, "runs": 2}\n{"seq_len": 8, "runs": 1, "warmup": 0}\n' |
	$BQ bench --model "$tmp/random" --serve >"$tmp/serve.json"
check "bench --serve answers two requests" test $? = 0
check "bench --serve says it is ready first" sh -c "head -1 '$tmp/serve.json' | grep -q '\"ready\": true'"
check "bench --serve times each request's length" \
	sh -c "sed -n 2p '$tmp/serve.json' | grep -q '\"seq_len\": 16' && sed -n 3p '$tmp/serve.json' | grep -q '\"seq_len\": 8'"
check "bench --serve times each request's runs" \
	sh -c "sed -n 3p '$tmp/serve.json' | grep -q '\"times_ms\": \[[0-9.]*\]'"
echo '{"seq_len": 0}' | $BQ bench --model "$tmp/random" --serve >/dev/null 2>&1
check "bench --serve rejects a bad request" test $? = 1
$BQ bench --model "$tmp/random" --serve --seq-len 8 </dev/null >/dev/null 2>&1
check "bench --serve with --seq-len is a usage error" test $? = 2
$BQ bench --attention --seq-len 40 --runs 2 --warmup 0 >"$tmp/attention.json"
check "bench --attention succeeds" test $? = 0
check "bench --attention times heads of 32, 64 and 128 over the tokens asked" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
sys.exit(not (a["seq_len"] == 40 and [h["head_size"] for h in a["attention"]] == [32, 64, 128]
              and [h["heads"] for h in a["attention"]] == [24, 12, 6]
              and all(h["median_ms"] > 0 and h["gflops"] > 0 for h in a["attention"])))
' "$tmp/attention.json"
$BQ bench --attention --model "$tmp/random" >/dev/null 2>&1
check "bench --attention with --model is a usage error" test $? = 2

# Usage errors.
$BQ no-such-command 2>/dev/null
check "unknown command exits 2" test $? = 2

check_summary test/cli/test_cli.sh
