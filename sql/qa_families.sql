-- Model families: a DistilBERT, an ELECTRA (embeddings narrower than the
-- hidden size), a RoBERTa (byte-level BPE) and an XLM-RoBERTa
-- (SentencePiece), small random models that
-- test/run writes with 'bertqa init-model' into BERTQA_FAMILIES_DIR
-- (test/cli/test_families.sh checks the same models' logits against
-- PyTorch).  Each loads from its Hugging Face directory, says what it is,
-- and answers with the context's own text, its n-best probabilities
-- summing to 1, through the shared cache.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bertqa;
RESET client_min_messages;
\getenv families BERTQA_FAMILIES_DIR
\set distilbert :families '/distilbert'
\set electra :families '/electra'
\set roberta :families '/roberta'
\set xlm_roberta :families '/xlm-roberta'

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
SELECT family, tokenizer, format, layers, hidden_size, heads, intermediate_size, parameters, bundled
FROM qa_model_info();
SELECT * FROM family_answers;

SET bertqa.model = :'electra';
SELECT family, tokenizer, format, layers, hidden_size, heads, intermediate_size, parameters, bundled
FROM qa_model_info();
SELECT * FROM family_answers;

-- RoBERTa: GPT-2's byte-level BPE (the first 1,000 merges), positions
-- from 2, <s> q </s></s> c </s> windows; a token's span leaves out the
-- space it starts with, and a lone space token spans nothing.
SET bertqa.model = :'roberta';
SELECT family, tokenizer, format, layers, hidden_size, heads, vocab_size,
	   max_position_embeddings, parameters, bundled
FROM qa_model_info();
SELECT * FROM family_answers;
SELECT * FROM bertqa_tokenize('Normandy''s rulers,  in 1066 ❤');
-- 512 tokens fit in the 514 positions, 513 do not.
SET bertqa.max_seq_len = 512;
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');
SET bertqa.max_seq_len = 513;
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');
RESET bertqa.max_seq_len;

-- XLM-RoBERTa: SentencePiece pieces in fairseq's ids; a piece that starts
-- a word spans the space before it, yet no answer starts or ends with
-- white space.
SET bertqa.model = :'xlm_roberta';
SELECT family, tokenizer, layers, hidden_size, vocab_size, max_position_embeddings, bundled
FROM qa_model_info();
SELECT * FROM family_answers;
SELECT count(*) AS answers_with_outer_space
FROM cases c, qa_answers(c.question, c.context, 100) a
WHERE a.answer ~ '^\s|\s$';
SELECT * FROM bertqa_tokenize('Who ruled  Normandy? 😀');

-- Back to the bundled BERT.
RESET bertqa.model;
SELECT family, tokenizer, layers, hidden_size FROM qa_model_info();
