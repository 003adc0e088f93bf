-- Only a superuser chooses which files bertqa reads: bertqa.model is a
-- superuser setting, and no function takes a path.  A non-superuser can
-- call every function but the weight cache's two (revoked from PUBLIC:
-- qa_operations.sql), and only ever with the model a superuser chose.
CREATE EXTENSION IF NOT EXISTS bertqa;
CREATE ROLE regress_bertqa_user NOLOGIN NOSUPERUSER;
GRANT CREATE ON SCHEMA public TO regress_bertqa_user;

-- No function of the extension takes a file name or runs as its owner.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments, p.prosecdef
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'bertqa'
ORDER BY 1;

SET ROLE regress_bertqa_user;
SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;

-- Before the library is loaded in a session, PostgreSQL keeps an unknown
-- bertqa.* value as a placeholder; when bertqa loads, it re-checks the
-- placeholder with the privileges of whoever set it, warns and drops it.
SET bertqa.model = '/etc';
SELECT answer FROM qa_answer('Who went home?', 'Bob went home.');
SELECT bundled FROM qa_model_info();
SHOW bertqa.model;

-- Once loaded, every way of setting bertqa.model is refused.
SET bertqa.model = '/etc';
BEGIN;
SET LOCAL bertqa.model = '/etc';
ROLLBACK;
SELECT set_config('bertqa.model', '/etc', false);
ALTER ROLE regress_bertqa_user SET bertqa.model = '/etc';
ALTER DATABASE postgres SET bertqa.model = '/etc';
ALTER SYSTEM SET bertqa.model = '/etc';
SHOW bertqa.model;

-- A function that sets it when called is refused too, when the caller is
-- not a superuser.
CREATE FUNCTION sneaky_answer(q text, c text) RETURNS text
LANGUAGE sql SET bertqa.model = '/etc' AS $$ SELECT (qa_answer(q, c)).answer $$;

-- Every function works for the non-superuser, with the bundled model.
SELECT answer FROM qa_answer('Who went home?', 'Bob went home.');
SELECT rank, answer FROM qa_answers('Who went home?', 'Bob went home.', 2);
SELECT format, layers, bundled FROM qa_model_info();
SELECT id, token FROM bertqa_tokenize('Bob went home.');
SELECT id, answers FROM qa_squad_examples('{"data": [{"title": "t", "paragraphs": [{"context": "Bob went home.", "qas": [{"id": "q1", "question": "Who?", "answers": [{"text": "Bob", "answer_start": 0}]}]}]}]}');
SELECT qa_squad_eval('{"data": [{"title": "t", "paragraphs": [{"context": "Bob went home.", "qas": [{"id": "q1", "question": "Who?", "answers": [{"text": "Bob", "answer_start": 0}]}]}]}]}',
					 '{"q1": "Bob"}') ->> 'exact' AS exact;

-- Text that looks like a path is just text.
SELECT qa_squad_eval('"/etc/passwd"', '"/etc/passwd"');
SELECT count(*) FROM bertqa_tokenize('/etc/passwd');
RESET ROLE;

-- A superuser may let others choose the model: GRANT SET ON PARAMETER.
GRANT SET ON PARAMETER bertqa.model TO regress_bertqa_user;
SET ROLE regress_bertqa_user;
SET bertqa.model = '';
RESET ROLE;
REVOKE SET ON PARAMETER bertqa.model FROM regress_bertqa_user;

-- Error messages about a model's files do not show their contents: a
-- config.json that is not JSON is reported by position only.
\getenv bad_models BQ_BAD_MODELS
SELECT set_config('bertqa.model', :'bad_models' || '/config_not_json', false) IS NOT NULL AS set;
DO $$
DECLARE
	msg text;
	detail text;
BEGIN
	PERFORM qa_answer('Who went home?', 'Bob went home.');
EXCEPTION WHEN data_corrupted THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
	RAISE NOTICE 'shows the secret: %, detail: %', (msg || detail) LIKE '%TOPSECRET%',
		regexp_replace(detail, '^.*/', '');
END $$;
RESET bertqa.model;

DROP OWNED BY regress_bertqa_user;
DROP ROLE regress_bertqa_user;
