-- Broken model directories, made by test/bad_models/make_bad_models.sh into
-- the directory that test/run exports as BQ_BAD_MODELS: each one must fail
-- with a clear error and the right SQLSTATE, never crash the backend, and
-- the same backend must then answer with a good model.
CREATE EXTENSION IF NOT EXISTS bertqa;
\getenv bad_models BQ_BAD_MODELS
SELECT set_config('bertqa_test.bad_models', :'bad_models', false) IS NOT NULL AS have_corpus;

-- Load the model in directory 'name' of the corpus and answer one question;
-- the error (SQLSTATE, message, detail) with the corpus path shown as $DIR.
CREATE FUNCTION try_model(name text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	dir text := current_setting('bertqa_test.bad_models');
	state text;
	msg text;
	detail text;
	answer text;
BEGIN
	PERFORM set_config('bertqa.model', dir || '/' || name, false);
	SELECT (qa_answer('Who went home?', 'Bob went home.')).answer INTO answer;
	RETURN 'ok: ' || answer;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL;
	RETURN replace(state || ' ' || msg || E'\n      ' || coalesce(detail, ''), dir, '$DIR');
END $$;

\pset format unaligned
\pset tuples_only on
SELECT name || ': ' || try_model(name)
FROM unnest(ARRAY[
	'no_such_dir', 'file_not_dir', 'unreadable_dir',
	'missing_config', 'config_not_json', 'config_bad_field', 'config_huge',
	'shape_mismatch',
	'missing_vocab', 'short_vocab',
	'missing_weights', 'weights_is_dir', 'unreadable_weights', 'tiny_weights',
	'truncated_weights', 'header_past_eof', 'header_not_json',
	'overlapping_tensors', 'wrong_byte_count', 'missing_tensor', 'int_dtype',
	'nan_weights', 'inf_weights',
	'good']) AS name;
\pset format aligned
\pset tuples_only off

-- A relative path is refused before anything is read.
SET bertqa.model = 'relative/model';
SELECT qa_answer('Who went home?', 'Bob went home.');

-- Failing loads leave nothing behind: the same backend answers with the
-- good copy and with the bundled model, as before.
SELECT set_config('bertqa.model', current_setting('bertqa_test.bad_models') || '/good', false) IS NOT NULL AS set;
SELECT answer, answer_start, answer_end FROM qa_answer('Who went home?', 'Bob went home.');
SELECT try_model('truncated_weights');
RESET bertqa.model;
SELECT answer, answer_start, answer_end FROM qa_answer('Who went home?', 'Bob went home.');

-- No error message repeats the secret the broken config.json files hold.
SELECT count(*) AS leaks
FROM unnest(ARRAY['config_not_json', 'config_bad_field']) AS name
WHERE try_model(name) LIKE '%TOPSECRET%';

DROP FUNCTION try_model(text);
