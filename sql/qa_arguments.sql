-- Settings passed to qa_answer and qa_answers as named arguments: they win
-- over the setting in force for that call only, NULL means the setting,
-- bad values are the setting's own errors, and NULL question, context or
-- k still give no answer, as the functions did when they were strict.
CREATE EXTENSION IF NOT EXISTS bertqa;
CREATE TEMP TABLE arg_case AS SELECT
	'What sport is growing in all California schools?'::text AS q,
	'Rugby is also a growing sport in southern California, particularly at the high school level, with increasing numbers of schools adding rugby as an official school sport.'::text AS c;

-- The argument wins over the setting, both ways; the setting is untouched.
-- (A threshold of 1000 always answers; -1000 never does.)
SET bertqa.null_threshold = 1000;
SELECT answer IS NULL AS no_answer FROM arg_case, qa_answer(q, c);
SELECT answer IS NULL AS no_answer FROM arg_case, qa_answer(q, c, null_threshold => -1000);
SHOW bertqa.null_threshold;
SET bertqa.null_threshold = -1000;
SELECT answer IS NULL AS no_answer FROM arg_case, qa_answer(q, c);
SELECT answer IS NULL AS no_answer FROM arg_case, qa_answer(q, c, null_threshold => 1000);
-- NULL is the setting in force.
SELECT a.* IS NOT DISTINCT FROM b.* AS same
FROM arg_case, qa_answer(q, c, null_threshold => NULL) a, qa_answer(q, c) b;
RESET bertqa.null_threshold;

-- Each argument does what its setting does: the same n-best list as SET.
CREATE TEMP VIEW by_setting AS SELECT a.* FROM arg_case, qa_answers(q, c, 100) a;
SET bertqa.max_seq_len = 24;
SET bertqa.doc_stride = 5;
SET bertqa.max_query_len = 6;
SET bertqa.max_answer_len = 3;
SET bertqa.n_best = 7;
SET bertqa.allow_no_answer = off;
CREATE TEMP TABLE set_list AS SELECT * FROM by_setting;
RESET ALL;
CREATE TEMP TABLE argument_list AS
SELECT a.* FROM arg_case, qa_answers(q, c, 100, max_seq_len => 24, doc_stride => 5,
	max_query_len => 6, max_answer_len => 3, n_best => 7, allow_no_answer => false) a;
SELECT count(*) AS entries, count(*) FILTER (WHERE answer IS NULL) AS null_entries,
	   max(answer_end - answer_start) AS longest
FROM argument_list;
SELECT (SELECT count(*) FROM set_list) = (SELECT count(*) FROM argument_list) AS same_count,
	   NOT EXISTS (SELECT * FROM set_list EXCEPT SELECT * FROM argument_list) AS same_entries;
-- ... and differs from the defaults.
SELECT count(*) AS default_entries FROM by_setting;
-- Positional, as the declaration orders them.
SELECT answer IS NULL AS no_answer FROM arg_case, qa_answer(q, c, -1000, 30, 384, 128, 64, 20, 'fp32', true);
-- PRECISION is a keyword: as an argument's name it is quoted.
SELECT answer FROM arg_case, qa_answer(q, c, "precision" => 'fp32');
SELECT answer FROM arg_case, qa_answer(q, c, precision => 'fp32');

-- Bad values: the setting's own error, naming the argument.
SELECT answer FROM arg_case, qa_answer(q, c, max_seq_len => 7);
SELECT answer FROM arg_case, qa_answer(q, c, null_threshold => 'NaN');
SELECT answer FROM arg_case, qa_answer(q, c, "precision" => 'fp16');
SELECT rank FROM arg_case, qa_answers(q, c, 3, n_best => 0);
SELECT answer FROM arg_case, qa_answer(q, c, max_seq_len => 513);
-- A failed call leaves every setting as it was.
SHOW bertqa.max_seq_len;
SHOW bertqa.n_best;
-- The model is a superuser's setting, never an argument.
SELECT answer FROM arg_case, qa_answer(q, c, model => '/tmp');

-- NULL question, context or k: no answer, whatever the other arguments.
SELECT qa_answer(NULL, c) IS NULL AS null_question,
	   qa_answer(q, NULL, null_threshold => -1000) IS NULL AS null_context
FROM arg_case;
SELECT count(*) AS rows_for_nulls FROM arg_case,
	LATERAL (SELECT * FROM qa_answers(NULL, c) UNION ALL SELECT * FROM qa_answers(q, NULL)
			 UNION ALL SELECT * FROM qa_answers(q, c, NULL)) a;
-- A bad argument beside a NULL question is not looked at.
SELECT qa_answer(NULL, 'text', max_seq_len => 7) IS NULL AS not_checked;
