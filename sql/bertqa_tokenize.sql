-- bertqa_tokenize: WordPiece tokens with 1-based character positions.
CREATE EXTENSION bertqa;

SELECT * FROM bertqa_tokenize('Hello, World!');

-- Accents are stripped and case folded, yet positions point at the source.
SELECT id, token, start_pos, end_pos,
	   substr(t.s, start_pos, end_pos - start_pos) AS source
FROM (SELECT 'Café résumé Straße İstanbul' AS s) t, bertqa_tokenize(t.s);

-- CJK ideographs are single tokens; unknown words become [UNK].
SELECT id, token, start_pos, end_pos FROM bertqa_tokenize('東京 in 2020 😀');

-- Text that looks like a special token is ordinary text.
SELECT id, token FROM bertqa_tokenize('[CLS] hi [SEP]');

-- Empty input, whitespace only, control characters only, NULL.
SELECT count(*) FROM bertqa_tokenize('');
SELECT count(*) FROM bertqa_tokenize(E' \t\n ');
SELECT count(*) FROM bertqa_tokenize(E'\u200b\u00ad');
SELECT count(*) FROM bertqa_tokenize(NULL);

-- Every token's positions lie inside the input, in order.
SELECT bool_and(start_pos >= 1 AND end_pos > start_pos AND end_pos <= length(s) + 1) AS in_range
FROM (SELECT 'The Normans (Norman: Nourmands; French: Normands; Latin: Normanni) were the people' AS s) t,
	 bertqa_tokenize(t.s);
