-- Checkpoint formats: a NeMo archive (.nemo) and a directory holding
-- pytorch_model.bin give exactly the answers of the bundled safetensors
-- model (same weights), the archive is unpacked once into the cluster's
-- shared cache, and qa_model_info() reports the format.  test/run copies
-- test/fixtures/tiny-model-formats to BERTQA_FORMATS_DIR (readable by the
-- server), with pytorch/ = config.json + vocab.txt + pytorch_model.bin.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bertqa;
RESET client_min_messages;
\getenv formats BERTQA_FORMATS_DIR
\set nemo :formats '/tiny-qa.nemo'
\set pytorch :formats '/pytorch'

CREATE TEMP TABLE cases (id int, question text, context text);
INSERT INTO cases VALUES
	(1, 'Where is the tower?', 'The Eiffel Tower is in Paris.'),
	(2, 'Who went home?', 'Bob went home after the match, and Alice stayed.'),
	(3, 'In what country is Normandy located?',
	 'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France.');

-- The bundled model's n-best lists.
RESET bertqa.model;
SELECT format FROM qa_model_info();
CREATE TEMP TABLE bundled AS
	SELECT id, r.* FROM cases, qa_answers(question, context, 5) r;

SET bertqa.model = :'nemo';
SELECT format, layers, hidden_size, heads, intermediate_size, vocab_size, parameters,
	   dtype, bundled, lowercase, path = :'nemo' AS path_is_archive
FROM qa_model_info();
CREATE TEMP TABLE nemo AS
	SELECT id, r.* FROM cases, qa_answers(question, context, 5) r;
SELECT (SELECT count(*) FROM nemo) AS nemo_rows,
	   (SELECT count(*) FROM (TABLE nemo EXCEPT ALL TABLE bundled) d) AS nemo_differences;
-- One unpacked copy in the shared cache.
SELECT count(*) AS unpacked FROM pg_ls_dir('pgsql_tmp_bertqa') f WHERE f LIKE '%.nemo.d';

SET bertqa.model = :'pytorch';
SELECT format, dtype, parameters FROM qa_model_info();
CREATE TEMP TABLE pytorch AS
	SELECT id, r.* FROM cases, qa_answers(question, context, 5) r;
SELECT (SELECT count(*) FROM pytorch) AS pytorch_rows,
	   (SELECT count(*) FROM (TABLE pytorch EXCEPT ALL TABLE bundled) d) AS pytorch_differences;

-- A new backend reuses the unpacked archive.
\c
\set nemo :formats '/tiny-qa.nemo'
SET bertqa.model = :'nemo';
SELECT answer FROM qa_answer('Where is the tower?', 'The Eiffel Tower is in Paris.');
SELECT count(*) AS unpacked FROM pg_ls_dir('pgsql_tmp_bertqa') f WHERE f LIKE '%.nemo.d';

-- A missing archive is a clear error.
SET bertqa.model = '/nonexistent/model.nemo';
SELECT format FROM qa_model_info();
RESET bertqa.model;
