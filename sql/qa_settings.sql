-- Odd settings give defined results or clear errors, never a hang.
CREATE EXTENSION IF NOT EXISTS bertqa;
CREATE TEMP TABLE odd_case AS SELECT
	'What sport is growing in all California schools?'::text AS q,
	'Rugby is also a growing sport in southern California, particularly at the high school level, with increasing numbers of schools adding rugby as an official school sport.'::text AS c;

-- Windows too short for the question plus [CLS] and two [SEP]s, and for
-- the question plus one context token.
SET bertqa.max_seq_len = 8;
SELECT answer FROM odd_case, qa_answer(q, c);
SET bertqa.max_seq_len = 13;
SELECT answer FROM odd_case, qa_answer(q, c);
-- The question cut to fit leaves room for context, one token per window:
-- every candidate span is one token of the context.
SET bertqa.max_query_len = 4;
SET bertqa.max_seq_len = 8;
SELECT count(*) FILTER (WHERE a.answer IS NOT NULL) AS spans,
	   count(*) FILTER (WHERE EXISTS (SELECT FROM bertqa_tokenize(c) t
									  WHERE t.start_pos = a.answer_start AND t.end_pos = a.answer_end)) AS one_token_spans,
	   count(*) FILTER (WHERE a.answer IS NULL) AS null_entries
FROM odd_case, qa_answers(q, c, 100) a;
SELECT answer, answer_start, answer_end FROM odd_case, qa_answer(q, c);
RESET bertqa.max_query_len;
-- Longer than the model's positions.
SET bertqa.max_seq_len = 513;
SELECT answer FROM odd_case, qa_answer(q, c);
RESET bertqa.max_seq_len;
-- Out of the settings' ranges.
SET bertqa.max_seq_len = 7;
SET bertqa.n_best = 0;
SET bertqa.threads = 65;
SET bertqa.null_threshold = 'NaN';

-- A stride longer than a window: the answer is the same as with a normal
-- stride when the context fits in one window; when it does not, windows
-- follow each other without overlap (as run_squad.py steps by the shorter
-- of the stride and the window), so of 100 candidate spans none crosses
-- from one window's tokens into the next, and many lie after the first.
-- With a stride of 3 (or the window's length less one), windows overlap
-- and some do.
SET bertqa.doc_stride = 4000;
SELECT answer, answer_start, answer_end FROM odd_case, qa_answer(q, c);
CREATE TEMP VIEW window_crossings AS
SELECT count(*) AS spans,
	   count(*) FILTER (WHERE first_token / per_window <> last_token / per_window) AS crossing,
	   count(*) FILTER (WHERE first_token >= per_window) AS after_first_window
FROM (SELECT (SELECT count(*) FROM bertqa_tokenize(c) t WHERE t.start_pos < a.answer_start) AS first_token,
			 (SELECT count(*) FROM bertqa_tokenize(c) t WHERE t.start_pos < a.answer_end) - 1 AS last_token,
			 current_setting('bertqa.max_seq_len')::int - 3 - (SELECT count(*) FROM bertqa_tokenize(q)) AS per_window
	  FROM odd_case, qa_answers(q, c, 100) a WHERE a.answer IS NOT NULL) s;
SET bertqa.max_seq_len = 24;
SET bertqa.n_best = 200;
SELECT * FROM window_crossings;
SET bertqa.doc_stride = 3;
SELECT * FROM window_crossings;
SET bertqa.doc_stride = 11;
SELECT * FROM window_crossings;
RESET bertqa.n_best;
RESET bertqa.max_seq_len;
RESET bertqa.doc_stride;

-- One candidate, one-token answers.
SET bertqa.n_best = 1;
SELECT rank, answer FROM odd_case, qa_answers(q, c, 5);
RESET bertqa.n_best;
SET bertqa.max_answer_len = 1;
SELECT rank, answer, answer_end - answer_start <= 12 AS one_token FROM odd_case, qa_answers(q, c, 3);
RESET bertqa.max_answer_len;

-- k out of range.
SELECT count(*) FROM odd_case, qa_answers(q, c, 0);
SELECT count(*) FROM odd_case, qa_answers(q, c, -1);
SELECT count(*) FROM odd_case, qa_answers(q, c, 1000000);

-- More threads than cores: lowered to bertqa.max_threads (the CPUs there are;
-- its notice, which names them, is hidden here), the same answer.
SET bertqa.threads = 64;
SET client_min_messages = warning;
SELECT answer, answer_start, answer_end FROM odd_case, qa_answer(q, c);
RESET client_min_messages;
SELECT threads = current_setting('bertqa.max_threads')::int AS lowered_to_the_cap
FROM qa_model_info();
RESET bertqa.threads;
SELECT answer, answer_start, answer_end FROM odd_case, qa_answer(q, c);

-- Empty and whitespace-only inputs.
SELECT answer, answer_start, answer_end FROM qa_answer('', '');
SELECT answer, answer_start, answer_end FROM qa_answer('Who?', '   ');
SELECT answer, answer_start, answer_end FROM qa_answer(repeat('why ', 200), 'Bob went home.');

-- A model that always answers (bertqa.allow_no_answer off, as for a SQuAD
-- v1.1 checkpoint): where a threshold says "no answer" to every span, the
-- best span is the answer all the same, and the n-best list has no null
-- entry; a context without tokens still has nothing to answer.
SET bertqa.null_threshold = -1000;
SELECT answer IS NULL AS no_answer FROM odd_case, qa_answer(q, c);
SET bertqa.allow_no_answer = off;
SELECT answer, answer_start, answer_end FROM odd_case, qa_answer(q, c);
SELECT count(*) AS entries, count(*) FILTER (WHERE answer IS NULL) AS null_entries,
	   round(sum(score)::numeric, 12) AS score_sum
FROM odd_case, qa_answers(q, c, 100);
SELECT answer, answer_start, answer_end, score FROM qa_answer('Who?', '');
RESET bertqa.allow_no_answer;
RESET bertqa.null_threshold;
