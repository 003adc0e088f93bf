#!/usr/bin/env bash
# The checkpoint formats from the command line: "bertqa convert" turns the
# .nemo fixture and a pytorch_model.bin directory into Hugging Face
# directories whose logits equal the safetensors fixture's bit for bit;
# "info" reports each format; broken inputs fail with a message naming them.
set -uo pipefail
cd "$(dirname "$0")/../.."

BQ=./bertqa
MODEL=test/fixtures/tiny-model
FORMATS=test/fixtures/tiny-model-formats
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. test/lib/check.sh

# A few windows of ids: a question, a context, and one of 384 tokens.
{
	echo '{"input_ids": [101, 2073, 2003, 1996, 3578, 1029, 102, 1996, 1041, 13355, 2884, 3578, 2003, 1999, 3000, 1012, 102], "token_type_ids": [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}'
	printf '{"input_ids": [101'
	for i in $(seq 1 382); do printf ', %d' $(((i * 7919) % 30000 + 500)); done
	printf ', 102]}\n'
} >"$tmp/windows.jsonl"

mkdir "$tmp/pytorch"
cp $MODEL/config.json $MODEL/vocab.txt $FORMATS/pytorch_model.bin "$tmp/pytorch/"

$BQ logits --model $MODEL <"$tmp/windows.jsonl" >"$tmp/ref.out"
check "reference logits" test -s "$tmp/ref.out"
for src in "$FORMATS/tiny-qa.nemo" "$tmp/pytorch"; do
	name=$(basename "$src")
	$BQ logits --model "$src" <"$tmp/windows.jsonl" >"$tmp/$name.direct"
	check "$name: logits equal the safetensors model's" cmp -s "$tmp/ref.out" "$tmp/$name.direct"
	$BQ convert --in "$src" --out "$tmp/$name.hf"
	check "$name: convert succeeds" test $? = 0
	check "$name: convert writes the HF layout" test -s "$tmp/$name.hf/config.json" -a \
		-s "$tmp/$name.hf/vocab.txt" -a -s "$tmp/$name.hf/model.safetensors"
	check "$name: converted vocabulary" cmp -s "$MODEL/vocab.txt" "$tmp/$name.hf/vocab.txt"
	$BQ logits --model "$tmp/$name.hf" <"$tmp/windows.jsonl" >"$tmp/$name.converted"
	check "$name: converted logits equal the safetensors model's" cmp -s "$tmp/ref.out" "$tmp/$name.converted"
done

$BQ info --model "$FORMATS/tiny-qa.nemo" >"$tmp/info.nemo"
check "info reports nemo" grep -q '"format": "nemo"' "$tmp/info.nemo"
$BQ info --model "$tmp/pytorch" >"$tmp/info.pt"
check "info reports pytorch" grep -q '"format": "pytorch"' "$tmp/info.pt"

# Broken inputs.
head -c 5000 $FORMATS/tiny-qa.nemo >"$tmp/cut.nemo"
$BQ convert --in "$tmp/cut.nemo" --out "$tmp/cut.hf" 2>"$tmp/cut.err"
check "a truncated .nemo fails" test $? = 1
check "the error names the archive" grep -q 'cut.nemo' "$tmp/cut.err"
check "nothing is left behind" test ! -e "$tmp/cut.hf"
head -c 100000 $FORMATS/pytorch_model.bin >"$tmp/pytorch/pytorch_model.bin"
$BQ info --model "$tmp/pytorch" 2>"$tmp/cutpt.err" >/dev/null
check "a truncated pytorch_model.bin fails" test $? = 1
check "the error names the checkpoint" grep -q 'pytorch_model.bin' "$tmp/cutpt.err"
$BQ convert --in "$tmp/missing.nemo" --out "$tmp/x" 2>/dev/null
check "a missing input fails" test $? = 1
$BQ convert --in "$tmp/pytorch" 2>/dev/null
check "convert without --out is a usage error" test $? = 2

check_summary test/cli/test_formats.sh
