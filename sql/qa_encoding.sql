-- bertqa works in any server encoding that can hold the text; positions are
-- characters.  SQL_ASCII says nothing about characters and is refused.
CREATE DATABASE bertqa_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE bertqa_sql_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;

\c bertqa_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION bertqa;
SELECT id, token, start_pos, end_pos, substr(s, start_pos, end_pos - start_pos) AS source
FROM (SELECT 'Où à Çava' AS s) t, bertqa_tokenize(t.s);
SELECT substr(c, answer_start, answer_end - answer_start) = answer AS substring_identity,
	   answer_start > 0 AS has_position
FROM (SELECT 'La tour Eiffel se trouve à Paris, capitale de la France.' AS c) t,
	 LATERAL qa_answer('Où est la tour?', t.c);

\c bertqa_sql_ascii
CREATE EXTENSION bertqa;
SELECT * FROM qa_answer('Where?', 'Paris');

\c contrib_regression
DROP DATABASE bertqa_latin1;
DROP DATABASE bertqa_sql_ascii;
