-- Model families: a DistilBERT and an ELECTRA (embeddings narrower than the
-- hidden size), small random models that test/run writes with 'bertqa
-- init-model' into BERTQA_FAMILIES_DIR (test/cli/test_families.sh checks
-- the same models' logits against PyTorch).  Each loads from its Hugging
-- Face directory, says what it is, and answers with the context's own
-- text, its n-best probabilities summing to 1, through the shared cache.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bertqa;
RESET client_min_messages;
\getenv families BERTQA_FAMILIES_DIR
\set distilbert :families '/distilbert'
\set electra :families '/electra'

CREATE TEMP TABLE cases (id int, question text, context text);
INSERT INTO cases VALUES
	(1, 'Where is the tower?', 'The Eiffel Tower is in Paris.'),
	(2, 'Who went home?', 'Bob went home after the match, and Alice stayed.'),
	(3, 'In what country is Normandy located?',
	 'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France.');

CREATE TEMP VIEW family_answers AS
SELECT c.id, a.answer, a.answer_start, a.answer_end,
	   substr(c.context, a.answer_start, a.answer_end - a.answer_start) = a.answer AS substring_identity,
	   (SELECT round(sum(score)::numeric, 12) FROM qa_answers(c.question, c.context, 100)) AS score_sum
FROM cases c, qa_answer(c.question, c.context) a
ORDER BY c.id;

SET bertqa.model = :'distilbert';
SELECT family, format, layers, hidden_size, heads, intermediate_size, parameters, bundled
FROM qa_model_info();
SELECT * FROM family_answers;

SET bertqa.model = :'electra';
SELECT family, format, layers, hidden_size, heads, intermediate_size, parameters, bundled
FROM qa_model_info();
SELECT * FROM family_answers;

-- Back to the bundled BERT.
RESET bertqa.model;
SELECT family, layers, hidden_size FROM qa_model_info();
