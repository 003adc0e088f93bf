#!/usr/bin/env bash
# precision.sh - bertqa.precision int8 and bf16 in a server.  Where the CPU
# has the instructions for a precision (test/lib/precision_expected.sh),
# qa_model_info() must say that it runs, and the start and end logits of the
# n-best spans must move from fp32's by more than zero and less than the
# bound test_encoder_parity uses.  Where it does not run, the test says so
# and is skipped, unless the CPU has those instructions.  Needs a running
# cluster with the extension installed; test/run provides it.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib/check.sh
. test/lib/precision_expected.sh

psql -X -q -c "CREATE EXTENSION IF NOT EXISTS bertqa" 2>/dev/null || exit 1

# Three questions and contexts of SQuAD v2.0 dev paragraphs.
cases="VALUES
	('What is the name of the region in France?',
	 'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway.'),
	('What sport is growing in all California schools?',
	 'Rugby is also a growing sport in southern California, particularly at the high school level, with increasing numbers of schools adding rugby as an official school sport.'),
	('When was the Latin version recorded?',
	 'The legend was recorded in a Latin version in the 11th century, and it was later translated into Old French and Middle English.')"

# Whether $1 lies strictly between 0 and $2.
within() { awk -v d="$1" -v b="$2" 'BEGIN { exit !(d > 0 && d < b) }'; }

for precision in int8 bf16; do
	case $precision in int8) bound=1.0 ;; bf16) bound=0.5 ;; esac
	# The n-best spans' logits in fp32, then in $precision, spans matched
	# by position (the null entry by its NULL position).
	result=$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 2>&1 <<-SQL
	CREATE TEMP TABLE cases (n serial, q text, c text);
	INSERT INTO cases (q, c) $cases;
	CREATE TEMP TABLE fp32 AS SELECT n, a.* FROM cases, qa_answers(q, c, 20) a;
	SET bertqa.precision = '$precision';
	CREATE TEMP TABLE other AS SELECT n, a.* FROM cases, qa_answers(q, c, 20) a;
	SELECT compute_precision, count(*),
		   max(greatest(abs(f.start_logit - o.start_logit), abs(f.end_logit - o.end_logit)))
	FROM qa_model_info(), fp32 f
	JOIN other o ON o.n = f.n AND o.answer_start IS NOT DISTINCT FROM f.answer_start
		AND o.answer_end IS NOT DISTINCT FROM f.answer_end
	GROUP BY compute_precision;
	SQL
	)
	read -r ran matched worst <<<"$result"
	if [ "$ran" = fp32 ] && ! precision_expected $precision; then
		skip "$precision" "$precision does not run here (fp32 runs instead)"
		continue
	fi
	echo "$precision: runs as ${ran:-?}; $matched n-best spans matched, logits against fp32:" \
		"max |diff| $worst (bound $bound)"
	check "$precision runs where the CPU has its instructions" test "$ran" = "$precision"
	check "$precision: n-best spans to compare" test "${matched:-0}" -gt 3
	check "$precision moves the logits, within the bound" within "${worst:-0}" $bound
done
check_summary test/pg/precision.sh
