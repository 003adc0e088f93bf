/*
 * tokenizer_json.c - reading Hugging Face's tokenizer.json: each component
 * is checked to be one bertqa's tokenizers reproduce exactly, then the
 * tokenizer of its model is built and given the post-processor's pair
 * template.  truncation and padding are not read: bertqa's own settings
 * (max_seq_len, doc_stride) make the windows.
 */
#include "tokenizer_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "byte_bpe.h"
#include "file_util.h"
#include "sentencepiece_unigram.h"
#include "wordpiece.h"

/* A member that is present and not JSON null, else NULL. */
static json_object *
member(json_object *obj, const char *key)
{
	json_object *value;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
		!json_object_object_get_ex(obj, key, &value))
		return NULL;
	return value;
}

/* A component's "type": "null" for an absent component, "" for one without a type. */
static const char *
type_of(json_object *component)
{
	json_object *type = member(component, "type");

	if (component == NULL)
		return "null";
	return type != NULL && json_object_is_type(type, json_type_string) ?
		json_object_get_string(type) : "";
}

static int
unsupported(const char *name, const char *what, const char *value, const char *supported,
			BqError *err)
{
	return bq_fail(err, BQ_ERR_FORMAT,
				   "tokenizer %s: %s \"%s\" is not supported; bertqa reads %s",
				   name, what, value, supported);
}

/*
 * The boolean 'key' of 'component' into *value, 'dflt' when absent.
 */
static int
read_bool(json_object *component, const char *component_name, const char *key, bool dflt,
		  bool *value, const char *name, BqError *err)
{
	json_object *member_value = member(component, key);

	*value = dflt;
	if (member_value == NULL)
		return BQ_OK;
	if (!json_object_is_type(member_value, json_type_boolean))
		return bq_fail(err, BQ_ERR_FORMAT, "tokenizer %s: %s's \"%s\" is not true or false",
					   name, component_name, key);
	*value = json_object_get_boolean(member_value);
	return BQ_OK;
}

/*
 * The boolean 'key' of 'component' ('dflt' when absent) must be 'expected'.
 */
static int
expect_bool(json_object *component, const char *component_name, const char *key, bool dflt,
			bool expected, const char *name, BqError *err)
{
	bool		actual;
	int			rc;

	if ((rc = read_bool(component, component_name, key, dflt, &actual, name, err)) != BQ_OK)
		return rc;
	if (actual != expected)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: %s with \"%s\": %s is not supported; bertqa reproduces it "
					   "with %s only", name, component_name, key, actual ? "true" : "false",
					   expected ? "true" : "false");
	return BQ_OK;
}

/*
 * The string 'key' of 'component' must be absent, null or one of
 * 'allowed' (NULL-terminated); "" stands for absent.
 */
static int
expect_string(json_object *component, const char *component_name, const char *key,
			  const char *const *allowed, const char *name, BqError *err)
{
	json_object *value = member(component, key);
	const char *actual;

	if (value == NULL)
		actual = "";
	else if (!json_object_is_type(value, json_type_string))
		return bq_fail(err, BQ_ERR_FORMAT, "tokenizer %s: %s's \"%s\" is not a string",
					   name, component_name, key);
	else
		actual = json_object_get_string(value);
	for (int i = 0; allowed[i] != NULL; i++)
		if (strcmp(actual, allowed[i]) == 0)
			return BQ_OK;
	return bq_fail(err, BQ_ERR_FORMAT,
				   "tokenizer %s: %s with \"%s\": \"%s\" is not supported; bertqa reproduces "
				   "%s%s%s", name, component_name, key, actual, allowed[0][0] ? "\"" : "",
				   allowed[0][0] ? allowed[0] : "none", allowed[0][0] ? "\"" : "");
}

/*
 * BertNormalizer as BERT's tokenizers set it: clean text, split CJK
 * ideographs, and accents stripped exactly when lowercasing (the default
 * of strip_accents).
 */
static int
read_bert_normalizer(json_object *normalizer, const char *name, bool *lowercase, BqError *err)
{
	int			rc;

	if (strcmp(type_of(normalizer), "BertNormalizer") != 0)
		return unsupported(name, "normalizer", type_of(normalizer),
						   "BertNormalizer with WordPiece", err);
	if ((rc = expect_bool(normalizer, "BertNormalizer", "clean_text", true, true, name,
						  err)) != BQ_OK ||
		(rc = expect_bool(normalizer, "BertNormalizer", "handle_chinese_chars", true, true,
						  name, err)) != BQ_OK)
		return rc;
	if ((rc = read_bool(normalizer, "BertNormalizer", "lowercase", true, lowercase, name,
						err)) != BQ_OK)
		return rc;
	return expect_bool(normalizer, "BertNormalizer", "strip_accents", *lowercase, *lowercase,
					   name, err);
}

/*
 * WordPiece: BertNormalizer, BertPreTokenizer and BERT's WordPiece options.
 */
static int
read_wordpiece(json_object *root, json_object *model, const char *name,
			   BqTokenizer **tokenizer, BqVocab **vocab, BqError *err)
{
	static const char *const unk[] = {"[UNK]", NULL};
	static const char *const prefix[] = {"##", NULL};
	json_object *pre_tokenizer = member(root, "pre_tokenizer");
	json_object *max_chars = member(model, "max_input_chars_per_word");
	bool		lowercase;
	char		label[1100];
	int			rc;

	if ((rc = read_bert_normalizer(member(root, "normalizer"), name, &lowercase, err)) != BQ_OK)
		return rc;
	if (strcmp(type_of(pre_tokenizer), "BertPreTokenizer") != 0)
		return unsupported(name, "pre_tokenizer", type_of(pre_tokenizer),
						   "BertPreTokenizer with WordPiece", err);
	if ((rc = expect_string(model, "WordPiece", "unk_token", unk, name, err)) != BQ_OK ||
		(rc = expect_string(model, "WordPiece", "continuing_subword_prefix", prefix, name,
							err)) != BQ_OK)
		return rc;
	if (max_chars != NULL && json_object_get_int64(max_chars) != BQ_MAX_WORD_CHARS)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: WordPiece with \"max_input_chars_per_word\": %s is not "
					   "supported; bertqa reproduces %d", name,
					   json_object_to_json_string(max_chars), BQ_MAX_WORD_CHARS);
	snprintf(label, sizeof(label), "%s model.vocab", name);
	if ((*vocab = bq_vocab_from_json(member(model, "vocab"), label, err)) == NULL)
		return err->status;
	*tokenizer = bq_wordpiece_new(*vocab, lowercase, err);
	return *tokenizer != NULL ? BQ_OK : err->status;
}

/*
 * One merge rule: "left right" or ["left", "right"].  A string's sides are
 * copied to *text, which moves past them.
 */
static int
read_merge(json_object *rule, size_t i, const char *name, char **text, BqBpeMerge *merge,
		   BqError *err)
{
	if (json_object_is_type(rule, json_type_string))
	{
		const char *spelled = json_object_get_string(rule);
		const char *space = strchr(spelled, ' ');

		if (space != NULL && space != spelled && space[1] != '\0' &&
			strchr(space + 1, ' ') == NULL)
		{
			size_t		len = strlen(spelled);

			memcpy(*text, spelled, len + 1);
			(*text)[space - spelled] = '\0';
			merge->left = *text;
			merge->right = *text + (space - spelled) + 1;
			*text += len + 1;
			return BQ_OK;
		}
	}
	else if (json_object_is_type(rule, json_type_array) && json_object_array_length(rule) == 2 &&
			 json_object_is_type(json_object_array_get_idx(rule, 0), json_type_string) &&
			 json_object_is_type(json_object_array_get_idx(rule, 1), json_type_string))
	{
		merge->left = json_object_get_string(json_object_array_get_idx(rule, 0));
		merge->right = json_object_get_string(json_object_array_get_idx(rule, 1));
		return BQ_OK;
	}
	return bq_fail(err, BQ_ERR_FORMAT,
				   "tokenizer %s: merge %zu is neither \"left right\" nor [\"left\", \"right\"]",
				   name, i);
}

/*
 * The BPE model's merges in rank order; *text holds the split strings.
 */
static int
read_merges(json_object *merges_json, const char *name, BqBpeMerge **merges, size_t *n_merges,
			char **text, BqError *err)
{
	size_t		bytes = 1;
	char	   *cursor;
	int			rc = BQ_OK;

	if (merges_json == NULL || !json_object_is_type(merges_json, json_type_array))
		return bq_fail(err, BQ_ERR_FORMAT, "tokenizer %s: the BPE model has no merges list", name);
	*n_merges = json_object_array_length(merges_json);
	if (*n_merges > INT32_MAX)
		return bq_fail(err, BQ_ERR_FORMAT, "tokenizer %s: too many merges", name);
	for (size_t i = 0; i < *n_merges; i++)
	{
		json_object *rule = json_object_array_get_idx(merges_json, i);

		if (json_object_is_type(rule, json_type_string))
			bytes += (size_t) json_object_get_string_len(rule) + 1;
	}
	*merges = calloc(*n_merges + 1, sizeof(BqBpeMerge));
	*text = cursor = malloc(bytes);
	if (*merges == NULL || *text == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory reading tokenizer %s", name);
	for (size_t i = 0; rc == BQ_OK && i < *n_merges; i++)
		rc = read_merge(json_object_array_get_idx(merges_json, i), i, name, &cursor,
						&(*merges)[i], err);
	if (rc != BQ_OK)
	{
		free(*merges);
		free(*text);
		*merges = NULL;
		*text = NULL;
	}
	return rc;
}

/*
 * Byte-level BPE: no normalizer, GPT-2's ByteLevel pre-tokenizer without
 * a prefix space, and a BPE model without dropout or word affixes.
 */
static int
read_byte_bpe(json_object *root, json_object *model, const char *name,
			  BqTokenizer **tokenizer, BqError *err)
{
	static const char *const empty[] = {"", NULL};
	json_object *normalizer = member(root, "normalizer");
	json_object *pre_tokenizer = member(root, "pre_tokenizer");
	json_object *merges_json = member(model, "merges");
	BqBpeMerge *merges = NULL;
	size_t		n_merges = 0;
	char	   *merges_text = NULL;
	BqVocab    *vocab;
	char		label[1100];
	int			rc;

	if (normalizer != NULL)
		return unsupported(name, "normalizer", type_of(normalizer), "none with BPE", err);
	if (strcmp(type_of(pre_tokenizer), "ByteLevel") != 0)
		return unsupported(name, "pre_tokenizer", type_of(pre_tokenizer),
						   "ByteLevel with BPE", err);
	if ((rc = expect_bool(pre_tokenizer, "ByteLevel", "add_prefix_space", true, false, name,
						  err)) != BQ_OK ||
		(rc = expect_bool(pre_tokenizer, "ByteLevel", "use_regex", true, true, name, err)) != BQ_OK ||
		(rc = expect_string(model, "BPE", "continuing_subword_prefix", empty, name, err)) != BQ_OK ||
		(rc = expect_string(model, "BPE", "end_of_word_suffix", empty, name, err)) != BQ_OK ||
		(rc = expect_bool(model, "BPE", "fuse_unk", false, false, name, err)) != BQ_OK ||
		(rc = expect_bool(model, "BPE", "byte_fallback", false, false, name, err)) != BQ_OK ||
		(rc = expect_bool(model, "BPE", "ignore_merges", false, false, name, err)) != BQ_OK)
		return rc;
	if (member(model, "dropout") != NULL)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: BPE with \"dropout\" is not supported; bertqa's BPE is "
					   "deterministic", name);
	if ((rc = read_merges(merges_json, name, &merges, &n_merges, &merges_text, err)) != BQ_OK)
		return rc;
	snprintf(label, sizeof(label), "%s model.vocab", name);
	vocab = bq_vocab_from_json(member(model, "vocab"), label, err);
	*tokenizer = vocab != NULL ? bq_byte_bpe_new(vocab, merges, (int32_t) n_merges, err) : NULL;
	free(merges);
	free(merges_text);
	return *tokenizer != NULL ? BQ_OK : err->status;
}

/*
 * A Unigram model is SentencePiece's: the library runs it from the model
 * file, with the normalizer and the pre-tokenizer that file holds, so
 * tokenizer.json's vocabulary must be that file's pieces in fairseq's
 * order, piece for piece.
 */
static int
read_unigram(json_object *root, json_object *model, const char *name,
			 const char *sentencepiece_path, BqTokenizer **tokenizer, BqError *err)
{
	json_object *normalizer = member(root, "normalizer");
	json_object *pre_tokenizer = member(root, "pre_tokenizer");
	json_object *vocab = member(model, "vocab");
	int32_t		size;
	int			rc;

	if (normalizer != NULL && strcmp(type_of(normalizer), "Precompiled") != 0 &&
		strcmp(type_of(normalizer), "Sequence") != 0)
		return unsupported(name, "normalizer", type_of(normalizer),
						   "SentencePiece's own (Precompiled) with Unigram", err);
	if (strcmp(type_of(pre_tokenizer), "Metaspace") != 0)
		return unsupported(name, "pre_tokenizer", type_of(pre_tokenizer),
						   "Metaspace with Unigram", err);
	if ((rc = expect_bool(model, "Unigram", "byte_fallback", false, false, name, err)) != BQ_OK)
		return rc;
	if ((*tokenizer = bq_sentencepiece_load(sentencepiece_path, err)) == NULL)
		return err->status;
	size = bq_tokenizer_vocab_size(*tokenizer);
	if (vocab == NULL || !json_object_is_type(vocab, json_type_array) ||
		json_object_array_length(vocab) != (size_t) size)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: the Unigram vocabulary does not have the %d pieces of "
					   "\"%s\"", name, (int) size, sentencepiece_path);
	for (int32_t id = 0; id < size; id++)
	{
		json_object *entry = json_object_array_get_idx(vocab, (size_t) id);
		json_object *piece = json_object_is_type(entry, json_type_array) ?
			json_object_array_get_idx(entry, 0) : NULL;

		if (piece == NULL || !json_object_is_type(piece, json_type_string) ||
			strcmp(json_object_get_string(piece), bq_tokenizer_token(*tokenizer, id)) != 0)
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tokenizer %s: Unigram piece %d is not \"%s\", as in \"%s\"",
						   name, (int) id, bq_tokenizer_token(*tokenizer, id), sentencepiece_path);
	}
	return BQ_OK;
}

/*
 * The id of a post-processor's special token ["<s>", 0] (BertProcessing,
 * RobertaProcessing), which the vocabulary must spell so.
 */
static int
special_pair(json_object *processor, const char *key, const BqTokenizer *tok,
			 const char *name, int32_t *id, BqError *err)
{
	json_object *pair = member(processor, key);
	json_object *text = pair ? json_object_array_get_idx(pair, 0) : NULL;
	json_object *value = pair ? json_object_array_get_idx(pair, 1) : NULL;
	const char *spelled;

	if (pair == NULL || !json_object_is_type(pair, json_type_array) ||
		json_object_array_length(pair) != 2 || !json_object_is_type(text, json_type_string) ||
		!json_object_is_type(value, json_type_int))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: %s's \"%s\" is not a [token, id] pair",
					   name, type_of(processor), key);
	*id = (int32_t) json_object_get_int64(value);
	spelled = bq_tokenizer_token(tok, *id);
	if (spelled == NULL || strcmp(spelled, json_object_get_string(text)) != 0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: %s's %s token \"%s\" is not id %d of the vocabulary",
					   name, type_of(processor), key, json_object_get_string(text), (int) *id);
	return BQ_OK;
}

/* TemplateProcessing's piece i of 'pair': {"SpecialToken": {...}} or {"Sequence": {...}}. */
typedef struct TemplatePiece
{
	bool		special;
	const char *id;				/* the special token's name, or "A" / "B" */
	int64_t		type_id;
} TemplatePiece;

static bool
template_piece(json_object *pair, size_t i, TemplatePiece *piece)
{
	json_object *entry = json_object_array_get_idx(pair, i);
	json_object *body;
	json_object *id;
	json_object *type_id;

	piece->special = (body = member(entry, "SpecialToken")) != NULL;
	if (!piece->special && (body = member(entry, "Sequence")) == NULL)
		return false;
	id = member(body, "id");
	type_id = member(body, "type_id");
	if (id == NULL || !json_object_is_type(id, json_type_string) ||
		(type_id != NULL && !json_object_is_type(type_id, json_type_int)))
		return false;
	piece->id = json_object_get_string(id);
	piece->type_id = type_id ? json_object_get_int64(type_id) : 0;
	return true;
}

/* The single id of TemplateProcessing's special token 'token_name'. */
static bool
template_special_id(json_object *processor, const char *token_name, const BqTokenizer *tok,
					int32_t *id)
{
	json_object *entry = member(member(processor, "special_tokens"), token_name);
	json_object *ids = member(entry, "ids");
	const char *spelled;

	if (ids == NULL || !json_object_is_type(ids, json_type_array) ||
		json_object_array_length(ids) != 1 ||
		!json_object_is_type(json_object_array_get_idx(ids, 0), json_type_int))
		return false;
	*id = (int32_t) json_object_get_int64(json_object_array_get_idx(ids, 0));
	spelled = bq_tokenizer_token(tok, *id);
	return spelled != NULL && strcmp(spelled, token_name) == 0;
}

/*
 * TemplateProcessing's "pair" must be cls $A sep [sep] $B sep, the
 * question and the separators of type 0, the context and its sep of one
 * type: the shapes BERT's and XLM-R's tokenizer.json have.
 */
static int
read_template(json_object *processor, const BqTokenizer *tok, const char *name,
			  BqPairTemplate *pair, BqError *err)
{
	json_object *pieces_json = member(processor, "pair");
	size_t		n = pieces_json && json_object_is_type(pieces_json, json_type_array) ?
		json_object_array_length(pieces_json) : 0;
	TemplatePiece p[6];
	int32_t		sep2 = -1;
	bool		ok = n == 5 || n == 6;

	for (size_t i = 0; ok && i < n; i++)
		ok = template_piece(pieces_json, i, &p[i]);
	pair->separators = (int32_t) n - 4;
	ok = ok && p[0].special && p[0].type_id == 0 &&
		!p[1].special && strcmp(p[1].id, "A") == 0 && p[1].type_id == 0 &&
		p[2].special && p[2].type_id == 0 &&
		(n == 5 || (p[3].special && p[3].type_id == 0 && strcmp(p[3].id, p[2].id) == 0)) &&
		!p[n - 2].special && strcmp(p[n - 2].id, "B") == 0 &&
		(p[n - 2].type_id == 0 || p[n - 2].type_id == 1) &&
		p[n - 1].special && p[n - 1].type_id == p[n - 2].type_id &&
		strcmp(p[n - 1].id, p[2].id) == 0;
	if (!ok)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: TemplateProcessing's pair template is not supported; "
					   "bertqa reads \"CLS $A SEP $B:1 SEP:1\" and \"CLS $A SEP SEP $B SEP\"",
					   name);
	if (!template_special_id(processor, p[0].id, tok, &pair->cls_id) ||
		!template_special_id(processor, p[2].id, tok, &sep2))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "tokenizer %s: TemplateProcessing's special tokens \"%s\" and \"%s\" must "
					   "each be one id of the vocabulary, spelled so", name, p[0].id, p[2].id);
	pair->sep_id = sep2;
	pair->context_type = (int32_t) p[n - 2].type_id;
	return BQ_OK;
}

/*
 * The post-processor's pair template.  Byte-level BPE tokens carry the
 * space before them; only RobertaProcessing's trim_offsets (without a
 * prefix space) trims them from the offsets as bertqa's BPE does.
 */
static int
read_post_processor(json_object *root, BqTokenizer *tok, const char *name, BqError *err)
{
	json_object *processor = member(root, "post_processor");
	const char *type = type_of(processor);
	bool		bpe = bq_tokenizer_kind(tok) == BQ_TOKENIZER_BYTE_BPE;
	BqPairTemplate pair;
	int			rc;

	if (strcmp(type, "BertProcessing") == 0 && !bpe)
	{
		pair.separators = 1;
		pair.context_type = 1;
	}
	else if (strcmp(type, "RobertaProcessing") == 0)
	{
		if (bpe &&
			((rc = expect_bool(processor, type, "trim_offsets", true, true, name, err)) != BQ_OK ||
			 (rc = expect_bool(processor, type, "add_prefix_space", true, false, name,
							   err)) != BQ_OK))
			return rc;
		pair.separators = 2;
		pair.context_type = 0;
	}
	else if (strcmp(type, "TemplateProcessing") == 0 && !bpe)
	{
		if ((rc = read_template(processor, tok, name, &pair, err)) != BQ_OK)
			return rc;
		bq_tokenizer_set_pair_template(tok, &pair);
		return BQ_OK;
	}
	else
		return unsupported(name, "post_processor", type,
						   bpe ? "RobertaProcessing with BPE" :
						   "BertProcessing, RobertaProcessing and TemplateProcessing", err);
	if ((rc = special_pair(processor, "cls", tok, name, &pair.cls_id, err)) != BQ_OK ||
		(rc = special_pair(processor, "sep", tok, name, &pair.sep_id, err)) != BQ_OK)
		return rc;
	bq_tokenizer_set_pair_template(tok, &pair);
	return BQ_OK;
}

/*
 * Added tokens must be special tokens the vocabulary already has: a word
 * added to the vocabulary would be matched in the text before the model
 * runs, which bertqa does not do.
 */
static int
check_added_tokens(json_object *root, const BqTokenizer *tok, const char *name, BqError *err)
{
	json_object *added = member(root, "added_tokens");
	size_t		n = added && json_object_is_type(added, json_type_array) ?
		json_object_array_length(added) : 0;

	for (size_t i = 0; i < n; i++)
	{
		json_object *entry = json_object_array_get_idx(added, i);
		json_object *content = member(entry, "content");
		json_object *id = member(entry, "id");
		json_object *special = member(entry, "special");
		const char *spelled;

		if (content == NULL || id == NULL || !json_object_is_type(content, json_type_string) ||
			!json_object_is_type(id, json_type_int))
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tokenizer %s: added token %zu has no content or id", name, i);
		if (special == NULL || !json_object_get_boolean(special))
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tokenizer %s: added token \"%s\" is not special; bertqa does not "
						   "split text on added words", name, json_object_get_string(content));
		spelled = bq_tokenizer_token(tok, (int32_t) json_object_get_int64(id));
		if (spelled == NULL || strcmp(spelled, json_object_get_string(content)) != 0)
			return bq_fail(err, BQ_ERR_FORMAT,
						   "tokenizer %s: added token \"%s\" is not id %lld of the model's "
						   "vocabulary", name, json_object_get_string(content),
						   (long long) json_object_get_int64(id));
	}
	return BQ_OK;
}

int
bq_tokenizer_json_parse(json_object *root, const char *name, const char *sentencepiece_path,
						BqTokenizer **tokenizer, BqVocab **vocab, BqError *err)
{
	json_object *model = member(root, "model");
	const char *type = type_of(model);
	int			rc;

	*tokenizer = NULL;
	*vocab = NULL;
	if (strcmp(type, "WordPiece") == 0)
		rc = read_wordpiece(root, model, name, tokenizer, vocab, err);
	else if (strcmp(type, "BPE") == 0)
		rc = read_byte_bpe(root, model, name, tokenizer, err);
	else if (strcmp(type, "Unigram") == 0)
		rc = read_unigram(root, model, name, sentencepiece_path, tokenizer, err);
	else
		rc = unsupported(name, "model", type, "WordPiece, BPE and Unigram", err);
	if (rc == BQ_OK)
		rc = read_post_processor(root, *tokenizer, name, err);
	if (rc == BQ_OK)
		rc = check_added_tokens(root, *tokenizer, name, err);
	if (rc != BQ_OK)
	{
		bq_tokenizer_free(*tokenizer);
		bq_vocab_free(*vocab);
		*tokenizer = NULL;
		*vocab = NULL;
	}
	return rc;
}

int
bq_tokenizer_json_load(const char *path, const char *sentencepiece_path,
					   BqTokenizer **tokenizer, BqVocab **vocab, BqError *err)
{
	json_object *root = bq_json_load_file(path, err);
	char		name[1100];
	int			rc;

	*tokenizer = NULL;
	*vocab = NULL;
	if (root == NULL)
		return err->status;
	snprintf(name, sizeof(name), "\"%s\"", path);
	rc = bq_tokenizer_json_parse(root, name, sentencepiece_path, tokenizer, vocab, err);
	json_object_put(root);
	return rc;
}
