#!/usr/bin/env bash
# make_bad_models.sh - build a corpus of broken model directories.
#
# Usage: test/bad_models/make_bad_models.sh OUTDIR
#
# Each subdirectory of OUTDIR is the good tiny test model with exactly one
# thing wrong, named after what is wrong; "good" is an intact copy.  The
# corpus is generated at test time (it is 100 MB of weights) and must be
# readable by the server's user, so OUTDIR and everything in it get
# world-readable permissions, except the files made unreadable on purpose.
set -euo pipefail

out=${1:?usage: make_bad_models.sh OUTDIR}
src=$(cd "$(dirname "$0")/../fixtures/tiny-model" && pwd)
weights=model.safetensors

mkdir -p "$out"
chmod 755 "$out"

# The 8 little-endian bytes of an unsigned integer.
le64() {
	local n=$1 i
	for i in 0 1 2 3 4 5 6 7; do
		# shellcheck disable=SC2059
		printf "\\$(printf '%03o' $(((n >> (8 * i)) & 255)))"
	done
}

# The JSON header and the data section of a safetensors file.
header_len() { od -An -tu8 -N8 "$1" | tr -d ' '; }
header_of() { head -c "$((8 + $(header_len "$1")))" "$1" | tail -c +9; }
data_of() { tail -c +"$((9 + $(header_len "$1")))" "$1"; }

# A safetensors file from a header text and the data section of another.
rebuild() {
	local header=$1 data_from=$2 dest=$3
	{ le64 "${#header}"; printf '%s' "$header"; data_of "$data_from"; } >"$dest"
}

# A fresh copy of the good model named $1; files it will not modify are
# hard links to the shared good copy to save space.
variant() {
	local dir="$out/$1" f
	mkdir -p "$dir"
	for f in config.json vocab.txt $weights; do
		ln "$out/good/$f" "$dir/$f"
	done
	chmod 755 "$dir"
	echo "$dir"
}

# Replace a hard link by a private copy, so that it can be edited.
unshare() {
	cp "$1" "$1.tmp"
	mv "$1.tmp" "$1"
	chmod 644 "$1"
}

# Overwrite 4 bytes of the first float of tensor $2 in file $1 with $3.
poke_float() {
	local file=$1 tensor=$2 bytes=$3 header begin
	header=$(header_of "$file")
	begin=$(printf '%s' "$header" | sed -E "s/.*\"$tensor\":\\{[^}]*\"data_offsets\":\\[([0-9]+),.*/\\1/")
	# shellcheck disable=SC2059
	printf "$bytes" | dd of="$file" bs=1 seek="$((8 + $(header_len "$file") + begin))" conv=notrunc status=none
}

mkdir -p "$out/good"
cp "$src/config.json" "$src/vocab.txt" "$src/$weights" "$out/good/"
chmod 755 "$out/good"
chmod 644 "$out/good/"*

header=$(header_of "$src/$weights")
size=$(stat -c %s "$src/$weights")

# Weights cut short: the last tensors run past the end of the file.
d=$(variant truncated_weights)
rm "$d/$weights"
head -c "$((size - 1000))" "$src/$weights" >"$d/$weights"

# Fewer bytes than the 8-byte length prefix.
d=$(variant tiny_weights)
rm "$d/$weights"
printf 'abc' >"$d/$weights"

# The header length claims more bytes than the file has.
d=$(variant header_past_eof)
rm "$d/$weights"
{ le64 $((1 << 40)); tail -c +9 "$src/$weights"; } >"$d/$weights"

# The header is not JSON.
d=$(variant header_not_json)
rm "$d/$weights"
rebuild "${header/\{/[}" "$src/$weights" "$d/$weights"

# Two tensors share bytes: LayerNorm.weight is pointed at LayerNorm.bias.
d=$(variant overlapping_tensors)
rm "$d/$weights"
rebuild "${header/\"data_offsets\":\[256,512\]/\"data_offsets\":[0,256]}" "$src/$weights" "$d/$weights"

# A tensor's byte range does not match its dtype and shape.
d=$(variant wrong_byte_count)
rm "$d/$weights"
rebuild "${header/\"data_offsets\":\[256,512\]/\"data_offsets\":[256,516]}" "$src/$weights" "$d/$weights"

# A tensor the encoder needs is absent (renamed).
d=$(variant missing_tensor)
rm "$d/$weights"
rebuild "${header/qa_outputs.weight/qa_outputs.wEight}" "$src/$weights" "$d/$weights"

# An unsupported dtype.
d=$(variant int_dtype)
rm "$d/$weights"
h=$(printf '%s' "$header" | sed -E 's/("bert.embeddings.LayerNorm.bias":\{"dtype":)"F32"/\1"I32"/')
rebuild "$h" "$src/$weights" "$d/$weights"

# config.json disagrees with the weights' shapes.
d=$(variant shape_mismatch)
unshare "$d/config.json"
sed -i 's/"intermediate_size": 256/"intermediate_size": 128/' "$d/config.json"

# config.json is broken JSON holding a secret: errors must not echo it.
d=$(variant config_not_json)
unshare "$d/config.json"
printf '{"hidden_size": 64, "secret": "TOPSECRET-do-not-echo" oops}\n' >"$d/config.json"

# A config.json field of the wrong type whose value is a secret.
d=$(variant config_bad_field)
unshare "$d/config.json"
sed -i 's/"hidden_size": 64/"hidden_size": "TOPSECRET-do-not-echo"/' "$d/config.json"

# A config.json with absurd sizes.
d=$(variant config_huge)
unshare "$d/config.json"
sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 1000000000/' "$d/config.json"

# Non-finite weights.
d=$(variant nan_weights)
unshare "$d/$weights"
poke_float "$d/$weights" 'bert.encoder.layer.1.attention.self.query.weight' '\000\000\300\177'
d=$(variant inf_weights)
unshare "$d/$weights"
poke_float "$d/$weights" 'qa_outputs.bias' '\000\000\200\377'

# The vocabulary has fewer lines than config.json's vocab_size.
d=$(variant short_vocab)
rm "$d/vocab.txt"
head -n 30000 "$src/vocab.txt" >"$d/vocab.txt"

# Files missing.
d=$(variant missing_vocab)
rm "$d/vocab.txt"
d=$(variant missing_config)
rm "$d/config.json"
d=$(variant missing_weights)
rm "$d/$weights"

# A model path that is a file, and one whose weights are a directory.
printf 'not a directory\n' >"$out/file_not_dir"
chmod 644 "$out/file_not_dir"
d=$(variant weights_is_dir)
rm "$d/$weights"
mkdir "$d/$weights"

# Unreadable by the server (which never runs as root).
d=$(variant unreadable_weights)
unshare "$d/$weights"
chmod 000 "$d/$weights"
d=$(variant unreadable_dir)
chmod 000 "$d"
