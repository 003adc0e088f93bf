-- bertqa for the DBA: bertqa.max_threads caps bertqa.threads (lowered with a
-- notice; qa_model_info() reports the threads used); bertqa.max_threads and
-- bertqa.cache_dir are server settings, and a relative cache directory is
-- refused; the cache's functions are the superuser's.  test/pg/operations.sh
-- covers base backups, cleaning and an unusable cache directory.
CREATE EXTENSION IF NOT EXISTS bertqa;
LOAD 'bertqa';

-- the cap defaults to the CPUs the server may use
SELECT current_setting('bertqa.max_threads')::int BETWEEN 1 AND 64 AS cap_is_a_cpu_count;
SHOW bertqa.cache_dir;
SET bertqa.max_threads = 1;
SET bertqa.cache_dir = '/tmp';
ALTER SYSTEM SET bertqa.cache_dir = 'relative/dir';

-- a cap below bertqa.threads lowers it, with a notice
ALTER SYSTEM SET bertqa.max_threads = 1;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW bertqa.max_threads;
SET bertqa.threads = 2;
SELECT answer FROM qa_answer('Who went home?', 'Bob went home after work.');
SELECT threads FROM qa_model_info();
-- lifted, the threads asked for are used (up to the CPUs there are)
ALTER SYSTEM RESET bertqa.max_threads;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT threads = least(2, current_setting('bertqa.max_threads')::int) AS threads_as_asked
FROM qa_model_info();
RESET bertqa.threads;

-- the cache lists the bundled model's packed weights, fresh and mapped
SELECT count(*) > 0 AS listed, bool_and(source_exists) AS source_exists,
	bool_and(NOT stale) AS fresh, bool_or(in_use) AS in_use, bool_and(bytes >= 0) AS sized,
	bool_and(last_used IS NOT NULL) AS used
FROM qa_cache_entries() WHERE source LIKE '%/tiny-model/model.safetensors';
SELECT count(*) AS removed FROM qa_cache_clean() WHERE source LIKE '%/tiny-model/%';

-- others may not see or clean the server's files, nor change the settings
CREATE ROLE bertqa_operator;
SET ROLE bertqa_operator;
SELECT * FROM qa_cache_entries();
SELECT * FROM qa_cache_clean();
ALTER SYSTEM SET bertqa.max_threads = 64;
ALTER SYSTEM SET bertqa.cache_dir = '/tmp';
RESET ROLE;
DROP ROLE bertqa_operator;
