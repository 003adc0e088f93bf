#!/usr/bin/env bash
# Every model family bertqa runs against a PyTorch reference that follows
# Hugging Face's modeling code (test/fixtures/families/make_reference.py):
# 'bertqa init-model' remakes each fixture's random model, and 'bertqa
# logits' must give the reference's start and end logits within 1e-4 on
# every window; int8 and bf16 run on them (where the CPU has the
# instructions) and stay near fp32; 'bertqa convert' keeps them;
# 'bertqa answer' and 'bertqa squad' answer with the context's own text;
# 'bertqa info' names the tokenizer's kind; 'bertqa bench' runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib/check.sh
. test/lib/precision_expected.sh

BQ=./bertqa
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Largest |a - b| over the logits of two JSON-lines files, or "mismatch".
max_diff() {
	python3 - "$1" "$2" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    ref = [json.loads(line) for line in f][1:]
with open(sys.argv[2]) as f:
    got = [json.loads(line) for line in f]
if len(ref) != len(got) or any(len(r["start_logits"]) != len(g["start_logits"]) for r, g in zip(ref, got)):
    print("mismatch")
else:
    print(max(abs(a - b) for r, g in zip(ref, got) for k in ("start_logits", "end_logits")
              for a, b in zip(r[k], g[k])))
PY
}
# The first two articles of the SQuAD fixture, for 'bertqa squad' on every family.
python3 - test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json "$tmp/squad.json" <<'PY'
import json, sys
with open(sys.argv[1]) as f:
    squad = json.load(f)
squad["data"] = squad["data"][:2]
with open(sys.argv[2], "w") as f:
    json.dump(squad, f)
PY

below() { awk -v d="$1" -v b="$2" 'BEGIN { exit !(d != "mismatch" && d < b) }'; }
between() { awk -v d="$1" -v b="$2" 'BEGIN { exit !(d != "mismatch" && d > 0 && d < b) }'; }

for fixture in test/fixtures/families/*.jsonl; do
	case=$(basename "$fixture" .jsonl)
	model="$tmp/$case"
	mapfile -t args < <(head -1 "$fixture" | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin)["init_model"]))')
	vocab=(--vocab test/fixtures/tiny-model/vocab.txt)
	[[ " ${args[*]} " == *" --tokenizer "* ]] && vocab=()
	$BQ init-model --out "$model" "${vocab[@]}" "${args[@]}" >/dev/null
	check "$case: init-model" test $? = 0
	tail -n +2 "$fixture" | python3 -c '
import json, sys
for line in sys.stdin:
    w = json.loads(line)
    print(json.dumps({"input_ids": w["input_ids"], "token_type_ids": w["token_type_ids"]}))' >"$tmp/$case.in"
	$BQ logits --model "$model" <"$tmp/$case.in" >"$tmp/$case.fp32"
	diff=$(max_diff "$fixture" "$tmp/$case.fp32")
	echo "$case: logits against the PyTorch reference, max |diff| $diff"
	check "$case: logits within 1e-4 of the reference" below "$diff" 1e-4
	for precision in int8 bf16; do
		if ! $BQ logits --model "$model" --precision $precision <"$tmp/$case.in" \
			>"$tmp/$case.$precision" 2>"$tmp/$case.err"; then
			check "$case: $precision logits" false
		elif grep -q "not available" "$tmp/$case.err" && ! precision_expected $precision; then
			skip "$case $precision" "$precision does not run here"
		else
			bound=1.0
			[ $precision = bf16 ] && bound=0.5
			diff=$(max_diff "$fixture" "$tmp/$case.$precision")
			echo "$case: $precision logits against the reference, max |diff| $diff"
			check "$case: $precision moves the logits, less than $bound" between "$diff" $bound
		fi
	done
	kind=$($BQ info --model "$model" | python3 -c 'import json, sys; print(json.load(sys.stdin)["tokenizer"])')
	case $case in roberta) want=bpe ;; xlm-roberta) want=unigram ;; *) want=wordpiece ;; esac
	check "$case: info reports the $want tokenizer" test "$kind" = "$want"
	# convert writes the same model, the tokenizer's files with it
	$BQ convert --in "$model" --out "$model-converted" >/dev/null &&
		$BQ logits --model "$model-converted" <"$tmp/$case.in" >"$tmp/$case.converted"
	check "$case: convert keeps the logits" cmp -s "$tmp/$case.fp32" "$tmp/$case.converted"
	$BQ answer --model "$model" --question "Where is the tower?" \
		--context "The Eiffel Tower is in Paris. It opened in 1889." >"$tmp/$case.answer"
	check "$case: answer is the context at its offsets" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
context = "The Eiffel Tower is in Paris. It opened in 1889."
sys.exit(not all(e["start"] is None or context[e["start"]:e["end"]] == e["text"] for e in a["nbest"]))
' "$tmp/$case.answer"
	# squad answers every question with the context's own text, windows of the family's template
	$BQ squad --model "$model" --input "$tmp/squad.json" --output "$tmp/$case.pred" \
		--max-seq-len 128 --doc-stride 48 2>/dev/null
	check "$case: squad answers" test $? = 0
	check "$case: squad's predictions are the contexts' text, one per question" python3 -c '
import json, sys
squad = json.load(open(sys.argv[1]))
pred = json.load(open(sys.argv[2]))
contexts = {qa["id"]: p["context"] for a in squad["data"] for p in a["paragraphs"] for qa in p["qas"]}
sys.exit(not (set(pred) == set(contexts) and any(pred.values())
              and all(text in contexts[i] for i, text in pred.items())))
' "$tmp/squad.json" "$tmp/$case.pred"
	$BQ bench --model "$model" --seq-len 64 --runs 1 --warmup 0 >/dev/null
	check "$case: bench runs" test $? = 0
done
check_summary test/cli/test_families.sh
