#!/usr/bin/env bash
# valgrind_cli.sh - the CLI's main paths under valgrind: tokenize, logits,
# answer, squad and eval on small fixture inputs must show no invalid
# access, no use of uninitialised memory and no definite leak.
set -uo pipefail
cd "$(dirname "$0")/.."

MODEL=test/fixtures/tiny-model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# Run the rest of the arguments under valgrind with stdin from $1.
vg() {
	local name=$1 input=$2
	shift 2
	if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file="$tmp/$name.vg" ./bertqa "$@" <"$input" >"$tmp/$name.out" 2>"$tmp/$name.err" &&
		[ ! -s "$tmp/$name.vg" ]; then
		echo "ok: valgrind bertqa $name"
	else
		echo "FAILED: valgrind bertqa $name"
		cat "$tmp/$name.vg" "$tmp/$name.err" | head -40
		failed=1
	fi
}

printf '%s\n' '{"text": "Hello, world! Ça va? 東京"}' '{"text": ""}' >"$tmp/tok.in"
vg tokenize "$tmp/tok.in" tokenize --vocab $MODEL/vocab.txt
printf '%s\n' '{"input_ids": [101, 7592, 1010, 2088, 102]}' >"$tmp/ids.in"
vg logits "$tmp/ids.in" logits --model $MODEL --threads 1
vg answer /dev/null answer --model $MODEL --threads 1 --question "Where is the tower?" \
	--context "The Eiffel Tower is in Paris. It was built in 1889."
# Two questions, one of them impossible, cut to one short window each.
cat >"$tmp/squad.json" <<'JSON'
{"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "The Eiffel Tower is in Paris. It opened in 1889.",
 "qas": [{"id": "q1", "question": "Where is the tower?", "answers": [{"text": "Paris", "answer_start": 23}], "is_impossible": false},
         {"id": "q2", "question": "Who painted it?", "answers": [], "is_impossible": true}]}]}]}
JSON
vg squad /dev/null squad --model $MODEL --threads 1 --max-seq-len 24 --doc-stride 8 \
	--input "$tmp/squad.json" --output "$tmp/pred.json" --na-probs "$tmp/na.json"
vg eval /dev/null eval --data "$tmp/squad.json" --predictions "$tmp/pred.json" --na-prob-file "$tmp/na.json"
exit $failed
