-- bertqa 0.1.0: extractive question answering with BERT SQuAD 2.0 models.

\echo Use "CREATE EXTENSION bertqa" to load this file. \quit

CREATE TYPE qa_result AS (
	answer text,
	answer_start integer,
	answer_end integer,
	score double precision,
	-- comparable across rows: the best span's start + end logit, and the
	-- null score less it, which bertqa.null_threshold is compared with
	-- (both NULL when the context gives no span)
	best_span_score double precision,
	null_score_diff double precision
);

-- The decided answer to 'question' in 'context'; NULL answer when the model
-- finds none (score is then the probability of "no answer").  The named
-- arguments after the context override the bertqa.* setting of the same
-- name for this call; NULL, their default, means the setting in force.
-- NULL question or context: a NULL result, as a strict function gives.
CREATE FUNCTION qa_answer(question text, context text,
	null_threshold double precision DEFAULT NULL,
	max_answer_len integer DEFAULT NULL,
	max_seq_len integer DEFAULT NULL,
	doc_stride integer DEFAULT NULL,
	max_query_len integer DEFAULT NULL,
	n_best integer DEFAULT NULL,
	"precision" text DEFAULT NULL,
	allow_no_answer boolean DEFAULT NULL)
RETURNS qa_result
AS 'MODULE_PATHNAME', 'bertqa_qa_answer'
LANGUAGE C STABLE PARALLEL SAFE COST 100000;

-- The n-best list, best first, with the "no answer" entry (NULL answer);
-- settings as arguments as for qa_answer.  NULL question, context or k: no
-- rows.
CREATE FUNCTION qa_answers(question text, context text, k integer DEFAULT 5,
	null_threshold double precision DEFAULT NULL,
	max_answer_len integer DEFAULT NULL,
	max_seq_len integer DEFAULT NULL,
	doc_stride integer DEFAULT NULL,
	max_query_len integer DEFAULT NULL,
	n_best integer DEFAULT NULL,
	"precision" text DEFAULT NULL,
	allow_no_answer boolean DEFAULT NULL)
RETURNS TABLE (
	rank integer,
	answer text,
	answer_start integer,
	answer_end integer,
	score double precision,
	start_logit real,
	end_logit real
)
AS 'MODULE_PATHNAME', 'bertqa_qa_answers'
LANGUAGE C STABLE PARALLEL SAFE COST 100000 ROWS 5;

-- The best answer to one question over the contexts of many rows, as if
-- they were one long document whose windows never cross a row: every
-- row's candidate spans ranked together by start + end logit, the null
-- score the smallest over all windows, then run_squad.py's n-best,
-- softmax and threshold.  'key' names the row the answer came from; ties
-- in score rank by key.  Over one row it is qa_answer's result.  Rows with
-- a NULL question or context are skipped; NULL over no rows.
CREATE TYPE qa_best_result AS (
	answer text,
	answer_start integer,
	answer_end integer,
	score double precision,
	key bigint,
	best_span_score double precision,	-- as qa_result's, over all the rows
	null_score_diff double precision
);

CREATE FUNCTION qa_best_answer_step(internal, question text, context text, key bigint)
RETURNS internal
AS 'MODULE_PATHNAME', 'bertqa_best_answer_step'
LANGUAGE C STABLE PARALLEL SAFE COST 100000;

CREATE FUNCTION qa_best_answer_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'bertqa_best_answer_combine'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION qa_best_answer_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'bertqa_best_answer_serialize'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE FUNCTION qa_best_answer_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'bertqa_best_answer_deserialize'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE FUNCTION qa_best_answer_final(internal)
RETURNS qa_best_result
AS 'MODULE_PATHNAME', 'bertqa_best_answer_final'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE AGGREGATE qa_best_answer(question text, context text, key bigint) (
	SFUNC = qa_best_answer_step,
	STYPE = internal,
	SSPACE = 100000,
	FINALFUNC = qa_best_answer_final,
	COMBINEFUNC = qa_best_answer_combine,
	SERIALFUNC = qa_best_answer_serialize,
	DESERIALFUNC = qa_best_answer_deserialize,
	PARALLEL = SAFE
);

-- The n-best list merged over an array of contexts, as qa_best_answer
-- merges rows: each entry with the 1-based index of its context; settings
-- as arguments as for qa_answers.  NULL elements are skipped; NULL
-- question, contexts or k: no rows.
CREATE FUNCTION qa_best_answers(question text, contexts text[], k integer DEFAULT 5,
	null_threshold double precision DEFAULT NULL,
	max_answer_len integer DEFAULT NULL,
	max_seq_len integer DEFAULT NULL,
	doc_stride integer DEFAULT NULL,
	max_query_len integer DEFAULT NULL,
	n_best integer DEFAULT NULL,
	"precision" text DEFAULT NULL,
	allow_no_answer boolean DEFAULT NULL)
RETURNS TABLE (
	rank integer,
	context integer,
	answer text,
	answer_start integer,
	answer_end integer,
	score double precision,
	start_logit real,
	end_logit real
)
AS 'MODULE_PATHNAME', 'bertqa_best_answers'
LANGUAGE C STABLE PARALLEL SAFE COST 100000 ROWS 5;

-- The model that bertqa.model selects, loading it if needed.
CREATE FUNCTION qa_model_info()
RETURNS TABLE (
	path text,
	format text,
	family text,
	tokenizer text,
	layers integer,
	hidden_size integer,
	heads integer,
	intermediate_size integer,
	vocab_size integer,
	max_position_embeddings integer,
	lowercase boolean,
	parameters bigint,
	bytes_mapped bigint,
	dtype text,
	bundled boolean,
	kernels text,
	threads integer,
	compute_precision text
)
AS 'MODULE_PATHNAME', 'bertqa_qa_model_info'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- Tokens of 'input' under the current model's tokenizer, without special tokens.
-- Positions are 1-based characters, end exclusive.
CREATE FUNCTION bertqa_tokenize(input text)
RETURNS TABLE (id integer, token text, start_pos integer, end_pos integer)
AS 'MODULE_PATHNAME', 'bertqa_tokenize'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- One row per question of a SQuAD-format document.
CREATE FUNCTION qa_squad_examples(dataset jsonb)
RETURNS TABLE (
	id text,
	title text,
	context text,
	question text,
	answers text[],
	is_impossible boolean
)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT q ->> 'id',
		   coalesce(a ->> 'title', ''),
		   p ->> 'context',
		   q ->> 'question',
		   ARRAY(SELECT ans ->> 'text'
				 FROM jsonb_array_elements(coalesce(q -> 'answers', '[]')) WITH ORDINALITY AS t(ans, n)
				 ORDER BY n),
		   coalesce((q ->> 'is_impossible')::boolean, false)
	FROM jsonb_array_elements(dataset -> 'data') WITH ORDINALITY AS da(a, i),
		 jsonb_array_elements(a -> 'paragraphs') WITH ORDINALITY AS dp(p, j),
		 jsonb_array_elements(p -> 'qas') WITH ORDINALITY AS dq(q, k)
	ORDER BY i, j, k
$$;

-- The official SQuAD v2.0 scores of 'predictions' ({id: text}) on 'dataset'.
CREATE FUNCTION qa_squad_eval(dataset jsonb, predictions jsonb,
							  na_probs jsonb DEFAULT NULL,
							  na_prob_thresh double precision DEFAULT 1.0)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'bertqa_qa_squad_eval'
LANGUAGE C STABLE PARALLEL SAFE;

-- The weight cache (bertqa.cache_dir): its entries, and the removal of those
-- whose source is gone or changed and that no backend maps.  For the
-- superuser, and whom it grants them to: they show and remove server files.
CREATE TYPE qa_cache_entry AS (
	entry text,
	source text,
	bytes bigint,
	last_used timestamptz,
	source_exists boolean,
	stale boolean,
	in_use boolean
);

CREATE FUNCTION qa_cache_entries()
RETURNS SETOF qa_cache_entry
AS 'MODULE_PATHNAME', 'bertqa_qa_cache_entries'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION qa_cache_clean()
RETURNS SETOF qa_cache_entry
AS 'MODULE_PATHNAME', 'bertqa_qa_cache_clean'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

REVOKE ALL ON FUNCTION qa_cache_entries() FROM PUBLIC;
REVOKE ALL ON FUNCTION qa_cache_clean() FROM PUBLIC;
