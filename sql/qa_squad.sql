-- SQuAD v2.0 in the database: flattening a dataset, official scoring, and
-- the answer-everything-then-score loop.
CREATE EXTENSION IF NOT EXISTS bertqa;

\set dev `cat test/fixtures/squad-v2.0/squad-v2.0-dev.reconstructed.json`
\set google `cat test/fixtures/squad-v2.0/squad-v2.0-dev.predictions.google-bert-single.json`

-- Google BERT's dev predictions score as the official evaluate-v2.0.py says.
SELECT key, value
FROM jsonb_each(qa_squad_eval(:'dev'::jsonb, :'google'::jsonb))
ORDER BY key;
SELECT qa_squad_eval(:'dev'::jsonb, :'google'::jsonb) @> '{"exact": 78.74168280973637, "f1": 81.77528052374723}' AS official_numbers;

-- The flattened dataset.
SELECT count(*) AS questions, count(*) FILTER (WHERE is_impossible) AS impossible,
	   count(DISTINCT context) AS paragraphs, count(DISTINCT title) AS articles
FROM qa_squad_examples(:'dev'::jsonb);
SELECT id, title, question, answers, is_impossible
FROM qa_squad_examples(:'dev'::jsonb) LIMIT 3;

-- Normalization: case, ASCII punctuation and articles are ignored; articles
-- inside words and non-ASCII punctuation are not.
CREATE TEMP TABLE tiny_dataset AS SELECT '{"data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [
	{"id": "q1", "question": "?", "answers": [{"text": "The Theater", "answer_start": 0}]},
	{"id": "q2", "question": "?", "answers": [{"text": "«Paris»", "answer_start": 0}]},
	{"id": "q3", "question": "?", "answers": [], "is_impossible": true},
	{"id": "q4", "question": "?", "answers": [{"text": "a cat sat", "answer_start": 0}]}
]}]}]}'::jsonb AS d;
SELECT qa_squad_eval(d, '{"q1": "theater!", "q2": "Paris", "q3": "", "q4": "the cat"}') FROM tiny_dataset;
SELECT qa_squad_eval(d, '{"q1": "the the theater", "q2": "«paris»", "q3": "x", "q4": "sat cat"}') FROM tiny_dataset;

-- Missing predictions are named in a NOTICE and left out of the scores.
SELECT qa_squad_eval(d, '{"q1": "theater", "q3": ""}') FROM tiny_dataset;

-- No-answer probabilities: the threshold and the best-threshold search.
SELECT qa_squad_eval(d, '{"q1": "theater", "q2": "x", "q3": "y", "q4": "cat"}',
					 '{"q1": 0.1, "q2": 0.9, "q3": 0.8, "q4": 0.2}', 0.5)
FROM tiny_dataset;

-- Bad input is a clear error.
SELECT qa_squad_eval(d, '{"q1": 5}') FROM tiny_dataset;
SELECT qa_squad_eval('{"data": 5}', '{}');
SELECT qa_squad_eval(NULL, '{}') IS NULL AS null_in_null_out;

-- The in-database loop with the bundled model on the dev questions of
-- Google run_squad.py's fixture (test/fixtures/squad): flatten, answer every
-- question, score.  The predictions score exactly as run_squad.py's own
-- for the same questions (under the same no-answer probabilities), and the
-- no-answer probabilities are its n-best "" entry's (which the fixture
-- keeps to 7 decimals).
\set google_ref `cat test/fixtures/squad/google-ref.public.seq384.jsonl`
CREATE TEMP TABLE reference AS
SELECT r ->> 'id' AS id, r ->> 'prediction' AS answer,
	   (SELECT (e ->> 'probability')::float8 FROM jsonb_array_elements(r -> 'nbest') e
		WHERE e ->> 'text' = '') AS no_answer_probability
FROM regexp_split_to_table(:'google_ref', E'\n') AS line, LATERAL (SELECT line::jsonb AS r) j
WHERE line LIKE '{"id": "%' AND line NOT LIKE '{"id": "edge-%';  -- hand-made cases, one with a NUL
CREATE TEMP TABLE subset AS
SELECT jsonb_build_object('version', 'v2.0', 'data', jsonb_build_array(
		jsonb_build_object('title', 'fixture', 'paragraphs', jsonb_agg(paragraph)))) AS d
FROM (SELECT jsonb_build_object('context', p -> 'context', 'qas', jsonb_agg(q)) AS paragraph
	  FROM jsonb_array_elements(:'dev'::jsonb -> 'data') a, jsonb_array_elements(a -> 'paragraphs') p,
		   jsonb_array_elements(p -> 'qas') q
	  WHERE q ->> 'id' IN (SELECT id FROM reference)
	  GROUP BY p) t;
CREATE TEMP TABLE predictions (id text PRIMARY KEY, answer text, no_answer_probability float8);
INSERT INTO predictions
SELECT e.id, coalesce(a.answer, ''), n.score
FROM subset, qa_squad_examples(subset.d) e,
	 LATERAL qa_answer(e.question, e.context) a,
	 LATERAL (SELECT score FROM qa_answers(e.question, e.context, 1000) WHERE answer IS NULL) n;
SELECT count(*) AS answered, count(*) FILTER (WHERE p.answer = '') AS no_answer,
	   count(*) FILTER (WHERE abs(p.no_answer_probability - r.no_answer_probability) <= 1e-6)
		   AS same_no_answer_probability
FROM predictions p JOIN reference r USING (id);
SELECT o.key, round(o.value::numeric, 9) AS score, o.value = r.value AS same_as_reference
FROM subset, LATERAL (SELECT jsonb_object_agg(id, no_answer_probability) AS na FROM predictions) n,
	 jsonb_each(qa_squad_eval(d, (SELECT jsonb_object_agg(id, answer) FROM predictions), na)) o
	 FULL JOIN jsonb_each(qa_squad_eval(d, (SELECT jsonb_object_agg(id, answer) FROM reference), na)) r
	 ON r.key = o.key
ORDER BY o.key;
