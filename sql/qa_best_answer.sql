-- qa_best_answer: one question over the contexts of many rows.  With one
-- row it is qa_answer; with several it equals a brute-force merge written
-- here from qa_answers' logits; a parallel plan gives the serial result.
CREATE EXTENSION IF NOT EXISTS bertqa;
\set dev `cat test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json`
CREATE TEMP TABLE ex AS
SELECT row_number() OVER () AS n, question, context FROM qa_squad_examples(:'dev'::jsonb);
CREATE TEMP TABLE paras AS
SELECT row_number() OVER (ORDER BY min(n)) AS pid, context FROM ex GROUP BY context;
SELECT count(*) AS questions, (SELECT count(*) FROM paras) AS paragraphs FROM ex;

-- One row: qa_answer's answer, positions and score, and the row's key; at
-- the default threshold and at one that leaves some questions unanswered.
CREATE TEMP VIEW one_row AS
SELECT count(*) AS questions,
	   count(*) FILTER (WHERE a.answer IS NULL) AS unanswered,
	   count(*) FILTER (WHERE (b.answer, b.answer_start, b.answer_end, b.score,
							   b.best_span_score, b.null_score_diff)
							  IS NOT DISTINCT FROM (a.answer, a.answer_start, a.answer_end, a.score,
													a.best_span_score, a.null_score_diff)
						 AND b.key IS NOT DISTINCT FROM CASE WHEN a.answer IS NOT NULL THEN e.n END) AS same
FROM (SELECT * FROM ex WHERE n % 6 = 0 LIMIT 200) e,
	 LATERAL qa_answer(e.question, e.context) a,
	 LATERAL (SELECT (r).* FROM (SELECT qa_best_answer(e.question, c, e.n) AS r
								 FROM (VALUES (e.context)) v(c)) s) b;
SELECT * FROM one_row;
SET bertqa.null_threshold = -28.5;
SELECT * FROM one_row;
RESET bertqa.null_threshold;

-- 200 cases: a question over its own paragraph and 1 to 4 others.
CREATE TEMP TABLE cases AS
WITH q AS (
	SELECT c AS case_id, e.question, (SELECT pid FROM paras p WHERE p.context = e.context) AS own
	FROM generate_series(1, 200) c
	JOIN ex e ON e.n = 1 + (c * 37) % (SELECT count(*) FROM ex))
SELECT q.case_id, q.question, p.pid AS key, p.context
FROM q CROSS JOIN LATERAL generate_series(0, 1 + q.case_id % 4) k
JOIN paras p ON p.pid = 1 + (q.own - 1 + k * (1 + q.case_id % 5)) % (SELECT count(*) FROM paras);
SELECT count(DISTINCT case_id) AS cases, count(*) AS contexts FROM cases;

-- The brute force: every context's own spans (qa_answers without the null
-- entry) and null score (its null entry's logits); spans ranked by score,
-- then key, then rank; a text met again skipped (whitespace runs as one
-- space); the smallest null score placed after the spans of its score; the
-- first n_best entries, the null entry appended if missed; softmax; the
-- threshold on null score - best span score.
CREATE TEMP TABLE spans AS
SELECT x.case_id, x.key, a.rank, a.answer, a.answer_start, a.answer_end,
	   a.start_logit::float8 + a.end_logit::float8 AS score,
	   regexp_replace(a.answer, E'[ \\t\\r\\n\u202F]+', ' ', 'g') AS dedup
FROM cases x, LATERAL qa_answers(x.question, x.context, 1000, allow_no_answer => false) a
WHERE a.answer IS NOT NULL;
CREATE TEMP TABLE nulls AS
SELECT DISTINCT ON (x.case_id) x.case_id, x.key, a.start_logit::float8 + a.end_logit::float8 AS score
FROM cases x, LATERAL qa_answers(x.question, x.context, 1000) a
WHERE a.answer IS NULL
ORDER BY x.case_id, a.start_logit::float8 + a.end_logit::float8, x.key;
CREATE TEMP VIEW brute_force AS
WITH uniq AS (
	SELECT DISTINCT ON (case_id, dedup) * FROM spans ORDER BY case_id, dedup, score DESC, key, rank),
entries AS (
	SELECT case_id, false AS is_null, answer, answer_start, answer_end, key, score,
		   row_number() OVER (PARTITION BY case_id ORDER BY score DESC, key, rank)::float8 AS pos
	FROM uniq
	UNION ALL
	SELECT n.case_id, true, NULL, NULL, NULL, n.key, n.score,
		   (SELECT count(*) FROM uniq u WHERE u.case_id = n.case_id AND u.score >= n.score) + 0.5
	FROM nulls n),
listed AS (
	SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY pos) AS place FROM entries),
kept AS (
	SELECT *, exp(score - top) / sum(exp(score - top)) OVER (PARTITION BY case_id) AS probability
	FROM (SELECT *, max(score) OVER (PARTITION BY case_id) AS top
		  FROM listed WHERE place <= current_setting('bertqa.n_best')::int OR is_null) l),
decided AS (
	SELECT b.case_id, b.answer, b.answer_start, b.answer_end, b.probability, b.key,
		   n.score - b.score AS null_score_diff, n.probability AS null_probability
	FROM (SELECT DISTINCT ON (case_id) * FROM kept WHERE NOT is_null ORDER BY case_id, place) b
	JOIN kept n ON n.case_id = b.case_id AND n.is_null)
SELECT case_id,
	   CASE WHEN null_score_diff > current_setting('bertqa.null_threshold')::float8 THEN NULL ELSE answer END AS answer,
	   CASE WHEN null_score_diff > current_setting('bertqa.null_threshold')::float8 THEN NULL ELSE answer_start END AS answer_start,
	   CASE WHEN null_score_diff > current_setting('bertqa.null_threshold')::float8 THEN NULL ELSE answer_end END AS answer_end,
	   CASE WHEN null_score_diff > current_setting('bertqa.null_threshold')::float8 THEN null_probability ELSE probability END AS score,
	   CASE WHEN null_score_diff > current_setting('bertqa.null_threshold')::float8 THEN NULL ELSE key END AS key
FROM decided;
CREATE TEMP VIEW many_rows AS
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE g.answer IS NULL) AS unanswered,
	   count(*) FILTER (WHERE g.key <> (SELECT min(key) FROM cases c WHERE c.case_id = g.case_id
											AND c.context = (SELECT context FROM ex WHERE n = 1 + (g.case_id * 37) % (SELECT count(*) FROM ex)))) AS from_other_rows,
	   count(*) FILTER (WHERE (g.answer, g.answer_start, g.answer_end, g.key) IS NOT DISTINCT FROM
							  (w.answer, w.answer_start, w.answer_end, w.key)
						 AND abs(g.score - w.score) < 1e-12) AS same
FROM (SELECT case_id, (qa_best_answer(question, context, key)).* FROM cases GROUP BY case_id) g
JOIN brute_force w USING (case_id);
SELECT * FROM many_rows;
SET bertqa.null_threshold = -28.5;
SELECT * FROM many_rows;
RESET bertqa.null_threshold;

-- The scores that compare across rows: over several rows the best span's
-- score is the best of the rows' own, and the null score (best span's
-- score + null_score_diff) the smallest of theirs.
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE g.best_span_score = r.best_span_score
						 AND abs(g.null_score_diff - (r.null_score - r.best_span_score)) < 1e-9) AS consistent
FROM (SELECT case_id, (qa_best_answer(question, context, key)).* FROM cases GROUP BY case_id) g
JOIN (SELECT x.case_id, max(a.best_span_score) AS best_span_score,
			 min(a.best_span_score + a.null_score_diff) AS null_score
	  FROM cases x, LATERAL qa_answer(x.question, x.context) a GROUP BY x.case_id) r USING (case_id);

-- qa_best_answers over an array: with one context, qa_answers' list; with
-- several, a list holding the aggregate's decision at its row's index.
SELECT count(*) AS questions,
	   count(*) FILTER (WHERE NOT EXISTS (
		   SELECT rank, answer, answer_start, answer_end, score, start_logit, end_logit
		   FROM qa_answers(e.question, e.context, 1000)
		   EXCEPT
		   SELECT rank, answer, answer_start, answer_end, score, start_logit, end_logit
		   FROM qa_best_answers(e.question, ARRAY[e.context], 1000) b WHERE b.context = 1)
		   AND (SELECT count(*) FROM qa_answers(e.question, e.context, 1000)) =
			   (SELECT count(*) FROM qa_best_answers(e.question, ARRAY[e.context], 1000))) AS same
FROM (SELECT * FROM ex WHERE n % 6 = 0 LIMIT 200) e;
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE EXISTS (
		   SELECT FROM qa_best_answers(c.question, c.contexts, 1000) b
		   WHERE (b.answer, b.answer_start, b.answer_end, b.score)
				 IS NOT DISTINCT FROM (g.answer, g.answer_start, g.answer_end, g.score)
			 AND (g.key IS NULL OR c.keys[b.context] = g.key))) AS decision_listed
FROM (SELECT case_id, question, array_agg(context ORDER BY key) AS contexts,
			 array_agg(key ORDER BY key) AS keys
	  FROM cases GROUP BY case_id, question) c
JOIN (SELECT case_id, (qa_best_answer(question, context, key)).* FROM cases GROUP BY case_id) g
	USING (case_id);
-- Settings as arguments; NULL elements skipped; NULL arguments: no rows.
SELECT rank, context, answer FROM qa_best_answers('Who ruled?',
	ARRAY['Richard ruled Normandy.', NULL, 'Rollo was its first duke.'], 3, max_answer_len => 1);
SELECT count(*) AS no_rows FROM qa_best_answers('Who ruled?', NULL::text[]);
SELECT * FROM qa_best_answers('Who ruled?', ARRAY['x'], 0);

-- NULL contexts and questions are skipped; no rows, or only skipped ones: NULL.
SELECT (qa_best_answer('Who ruled?', c, k)).*
FROM (VALUES (1, 'Richard ruled Normandy.'), (2, NULL), (3, 'Rollo was its first duke.')) v(k, c);
SELECT qa_best_answer('Who ruled?', c, 1) IS NULL AS no_rows FROM (SELECT 'x'::text c WHERE false) s;
SELECT qa_best_answer('Who ruled?', NULL, 1) IS NULL AS only_null_contexts;
-- One question per aggregate; a key for every context.
SELECT qa_best_answer(q, 'Richard ruled Normandy.', 1) FROM (VALUES ('Who?'), ('When?')) v(q);
SELECT qa_best_answer('Who?', 'Richard ruled Normandy.', NULL);

-- A parallel plan merges the workers' partial n-best lists: the serial result.
CREATE TABLE best_answer_paragraphs AS SELECT pid, context FROM paras;
ANALYZE best_answer_paragraphs;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT qa_best_answer('Who ruled the duchy of Normandy?', context, pid) FROM best_answer_paragraphs;
CREATE TEMP TABLE parallel_result AS
SELECT (qa_best_answer('Who ruled the duchy of Normandy?', context, pid)).* FROM best_answer_paragraphs;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_result AS
SELECT (qa_best_answer('Who ruled the duchy of Normandy?', context, pid)).* FROM best_answer_paragraphs;
SELECT p.* IS NOT DISTINCT FROM s.* AS same, p.answer IS NOT NULL AS answered
FROM parallel_result p, serial_result s;
RESET ALL;
DROP TABLE best_answer_paragraphs;
