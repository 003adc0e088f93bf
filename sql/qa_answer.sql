-- qa_answer / qa_answers against Google BERT run_squad.py's own predictions
-- for the bundled (random-weight) test model.
CREATE EXTENSION IF NOT EXISTS bertqa;

CREATE TABLE reference_cases (id text, question text, context text,
							  google_prediction text, google_null_score_diff float8);
INSERT INTO reference_cases VALUES
	('56e1b8f3e3433e14004230e9', 'Case complexities provide three likelihoods of what differing variable that remains the same size? ',
	 'The best, worst and average case complexity refer to three different ways of measuring the time complexity (or any other complexity measure) of different inputs of the same size. Since some inputs of size n may be faster to solve than others, we define the following complexities:',
	 'best, worst and average case complexity refer to three', -24.085039),
	('5ad051be77cf76001a686fd0', 'What sport is growing in all California schools?',
	 'Rugby is also a growing sport in southern California, particularly at the high school level, with increasing numbers of schools adding rugby as an official school sport.',
	 'also a growing', -27.804778),
	('edge-empty-question', '',
	 'The Eiffel Tower is in Paris.',
	 'E', -21.220405),
	('edge-unicode-accents', 'Où se trouve la tour Eiffel ?',
	 'La tour Eiffel se trouve à Paris, capitale de la France. Elle fut érigée en 1889.',
	 've à Paris, capitale de la France.', -23.710591),
	('edge-unicode-cjk', 'Where is Tokyo Tower?',
	 '東京タワー (Tokyo Tower) is located in Minato, 東京都, Japan; it opened in 1958.',
	 '京タワー (Tokyo Tower', -28.911613),
	('5726baf2dd62a815002e8e76', 'What was free movement increasingly based on?',
	 'Since its foundation, the Treaties sought to enable people to pursue their life goals in any country through free movement. Reflecting the economic nature of the project, the European Community originally focused upon free movement of workers: as a "factor of production". However, from the 1970s, this focus shifted towards developing a more "social" Europe. Free movement was increasingly based on "citizenship", so that people had rights to empower them to become economically and socially active, rather than economic activity being a precondition for rights. This means the basic "worker" rights in TFEU article 45 function as a specific expression of the general rights of citizens in TFEU articles 18 to 21. According to the Court of Justice, a "worker" is anybody who is economically active, which includes everyone in an employment relationship, "under the direction of another person" for "remuneration". A job, however, need not be paid in money for someone to be protected as a worker. For example, in Steymann v Staatssecretaris van Justitie, a German man claimed the right to residence in the Netherlands, while he volunteered plumbing and household duties in the Bhagwan community, which provided for everyone''s material needs irrespective of their contributions. The Court of Justice held that Mr Steymann was entitled to stay, so long as there was at least an "indirect quid pro quo" for the work he did. Having "worker" status means protection against all forms of discrimination by governments, and employers, in access to employment, tax, and social security rights. By contrast a citizen, who is "any person having the nationality of a Member State" (TFEU article 20(1)), has rights to seek work, vote in local and European elections, but more restricted rights to claim social security. In practice, free movement has become politically contentious as nationalist political parties have manipulated fears about immigrants taking away people''s jobs and benefits (paradoxically at the same time). Nevertheless, practically "all available research finds little impact" of "labour mobility on wages and employment of local workers".',
	 ', who is "any person having the nationality of a Member State" (TFEU article 20(1)), has', -30.56325);

-- The same answers as the reference (whitespace collapsed, as its text joins
-- words with single spaces), and positions that cut exactly the answer.
SELECT r.id,
	   regexp_replace(a.answer, '\s+', ' ', 'g') = r.google_prediction AS same_as_reference,
	   substr(r.context, a.answer_start, a.answer_end - a.answer_start) = a.answer AS substring_identity,
	   a.score > 0 AND a.score <= 1 AS score_is_probability
FROM reference_cases r, LATERAL qa_answer(r.question, r.context) a
ORDER BY r.id;

SELECT answer, answer_start, answer_end, round(score::numeric, 5) AS score
FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');

-- The n-best list: ranks, probabilities that sum to 1, the null entry.
SELECT rank, answer, answer_start, answer_end, round(score::numeric, 5) AS score,
	   round(start_logit::numeric, 3) AS start_logit, round(end_logit::numeric, 3) AS end_logit
FROM qa_answers('Where is the tower?', 'The Eiffel Tower is in Paris.', 3);
SELECT count(*) AS entries, count(*) FILTER (WHERE answer IS NULL) AS null_entries,
	   round(sum(score)::numeric, 12) = 1 AS probabilities_sum_to_1
FROM qa_answers('Where is the tower?', 'The Eiffel Tower is in Paris.', 100);
SELECT * FROM qa_answers('q', 'c', 0);

-- NULL in, NULL out; contexts without tokens have no answer (score 1).
SELECT qa_answer(NULL, 'context') IS NULL AS null_question,
	   qa_answer('question', NULL) IS NULL AS null_context;
SELECT * FROM qa_answer('What is this?', '');
SELECT * FROM qa_answer('What is this?', E'  \t\n ');
SELECT * FROM qa_answers('What is this?', '', 5);

-- bertqa.null_threshold: answers flip to NULL exactly where the reference's
-- null_score_diff exceeds the threshold.
SET bertqa.null_threshold = -25;
SELECT r.id, a.answer IS NULL AS no_answer,
	   r.google_null_score_diff > -25 AS reference_says_no_answer
FROM reference_cases r, LATERAL qa_answer(r.question, r.context) a
ORDER BY r.id;
RESET bertqa.null_threshold;

-- Settings are validated.
SET bertqa.max_seq_len = 4;
SET bertqa.n_best = 0;
SET bertqa.null_threshold = 'NaN';
SET bertqa.threads = 0;
SET bertqa.max_seq_len = 1024;
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');
RESET bertqa.max_seq_len;

-- A bad model path is an error, and the backend goes on working.
SET bertqa.model = '/nonexistent/bertqa-model';
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');
SET bertqa.model = 'relative/path';
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');
RESET bertqa.model;
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');

-- LATERAL over a table, and INSERT ... SELECT.
CREATE TABLE docs (id int, body text);
INSERT INTO docs SELECT row_number() OVER (), context FROM reference_cases, generate_series(1, 2);
CREATE TABLE answers (doc_id int, answer text, answer_start int, answer_end int, score float8,
	best_span_score float8, null_score_diff float8);
INSERT INTO answers SELECT d.id, a.* FROM docs d, LATERAL qa_answer('Where?', d.body) a;
SELECT count(*), count(answer) FROM answers;
SELECT bool_and(substr(d.body, a.answer_start, a.answer_end - a.answer_start) = a.answer)
FROM docs d JOIN answers a ON a.doc_id = d.id AND a.answer IS NOT NULL;

-- A long context in many windows: with run_squad.py's 64-token windows
-- (stride 16), the reference answers this case of its fixture from the
-- 254th context token, 15 windows in; the first window holds 44.
\set long_case `grep -F '"id": "5ad11374645df0001a2d0c70"' test/fixtures/squad/google-ref.public.seq64.jsonl`
SET bertqa.max_seq_len = 64;
SET bertqa.doc_stride = 16;
SET bertqa.max_query_len = 24;
SET bertqa.max_answer_len = 8;
SELECT jsonb_array_length(r -> 'features') AS windows, length(r ->> 'context') AS chars,
	   regexp_replace(a.answer, '\s+', ' ', 'g') = r ->> 'prediction' AS same_as_reference,
	   (SELECT count(*) FROM bertqa_tokenize(r ->> 'context') t WHERE t.start_pos < a.answer_start) AS answer_token,
	   61 - least(24, (SELECT count(*) FROM bertqa_tokenize(r ->> 'question'))) AS first_window_tokens
FROM (SELECT :'long_case'::jsonb AS r) t, qa_answer(r ->> 'question', r ->> 'context') a;
RESET bertqa.max_seq_len;
RESET bertqa.doc_stride;
RESET bertqa.max_query_len;
RESET bertqa.max_answer_len;

-- A 2 MB context under statement_timeout is cancelled, not run to the end.
SET statement_timeout = '1s';
SELECT qa_answer('What?', repeat('The Normans were the people who gave their name to Normandy. ', 33000));
RESET statement_timeout;
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');

-- The model in use.
SELECT format, layers, hidden_size, heads, intermediate_size, vocab_size, parameters,
	   dtype, bundled, lowercase
FROM qa_model_info();

DROP TABLE reference_cases, docs, answers;
