-- Retrieve, then read: full-text search picks a question's top paragraphs
-- among the 1,204 of SQuAD v2.0 dev, and qa_best_answer reads only those.
CREATE EXTENSION IF NOT EXISTS bertqa;
\set dev `cat test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json`
CREATE TABLE rr_paragraphs (
	id bigint PRIMARY KEY,
	body text NOT NULL,
	tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED
);
INSERT INTO rr_paragraphs (id, body)
SELECT row_number() OVER (ORDER BY min(n)), context
FROM (SELECT row_number() OVER () AS n, context FROM qa_squad_examples(:'dev'::jsonb)) e
GROUP BY context;
CREATE INDEX rr_paragraphs_tsv ON rr_paragraphs USING gin (tsv);
ANALYZE rr_paragraphs;
SELECT count(*) AS paragraphs FROM rr_paragraphs;

-- Any of the question's words (websearch_to_tsquery joins them with AND,
-- which most paragraphs that hold the answer fail), ranked by cover density.
CREATE FUNCTION rr_top(question text, k int) RETURNS TABLE (id bigint, body text)
LANGUAGE sql STABLE AS $$
	SELECT p.id, p.body
	FROM rr_paragraphs p,
		 CAST(replace(websearch_to_tsquery('english', question)::text, '&', '|') AS tsquery) AS q
	WHERE p.tsv @@ q
	ORDER BY ts_rank_cd(p.tsv, q) DESC, p.id
	LIMIT k
$$;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT p.id FROM rr_paragraphs p, to_tsquery('english', 'duchy | normandy') q WHERE p.tsv @@ q;
RESET enable_seqscan;

-- Three dev questions: the top 5 paragraphs hold the gold one, and the
-- answer read from them comes from one of them, as the same merge over
-- exactly those paragraphs gives it.
CREATE TEMP TABLE rr_questions AS
SELECT question, context FROM qa_squad_examples(:'dev'::jsonb)
WHERE question IN ('In what country is Normandy located?',
				   'What is the original meaning of the word Norman?',
				   'Who was the duke in the battle of Hastings?');
SELECT q.question,
	   (SELECT id FROM rr_paragraphs WHERE body = q.context) IN (SELECT id FROM rr_top(q.question, 5)) AS gold_in_top5,
	   a.key IN (SELECT id FROM rr_top(q.question, 5)) AS answer_from_top5,
	   (a.answer, a.answer_start, a.answer_end, a.score) IS NOT DISTINCT FROM
	   (SELECT (b.answer, b.answer_start, b.answer_end, b.score)
		FROM qa_best_answers(q.question, ARRAY(SELECT body FROM rr_top(q.question, 5) ORDER BY id), 1000) b
		WHERE b.answer IS NOT NULL AND b.answer = a.answer
		ORDER BY b.rank LIMIT 1) AS same_as_array
FROM rr_questions q,
	 LATERAL (SELECT (qa_best_answer(q.question, t.body, t.id)).* FROM rr_top(q.question, 5) t) a
ORDER BY q.question;
DROP FUNCTION rr_top(text, int);
DROP TABLE rr_paragraphs;
