/*
 * pg_model.c - the per-backend model cache.
 *
 * Each backend maps the model on first use (the weights are shared with
 * every other backend through the page cache) and keeps it until
 * bertqa.model names another model or the files on disk change.
 */
#include "pg_bertqa.h"

#include <sys/stat.h>
#include <unistd.h>

#include "compute.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/fd.h"
#include "utils/memutils.h"

/*
 * Files whose identity decides whether a loaded model directory is still
 * current; a model given as a file (.nemo) is identified by that file.
 */
static const char *const model_files[] = {"config.json", "vocab.txt", "model.safetensors",
"pytorch_model.bin"};

#define N_MODEL_FILES lengthof(model_files)

/* What a model file looked like when it was loaded. */
typedef struct FileIdentity
{
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec mtime;
	bool		exists;
} FileIdentity;

static BertqaSession session;
static char *loaded_path = NULL;	/* in TopMemoryContext */
static FileIdentity loaded_files[N_MODEL_FILES];

/*
 * The directory of the test model installed with the extension.
 */
static char *
bundled_model_dir(void)
{
	char		sharepath[MAXPGPATH];

	get_share_path(my_exec_path, sharepath);
	return psprintf("%s/extension/bertqa/tiny-model", sharepath);
}

/*
 * The weight cache, where F16/BF16 weights are converted to fp32, weights
 * packed for oneDNN and .nemo archives unpacked, once for all backends:
 * bertqa.cache_dir, by default pgsql_tmp_bertqa in the data directory
 * (made here).  Base backups and pg_rewind skip names that start with
 * pgsql_tmp, and PostgreSQL removes only its own pgsql_tmp directories at
 * start, so the cache survives restarts but no backup or replica carries
 * it.  NULL, after a warning, when bertqa.cache_dir is not a writable
 * directory: backends then convert and pack in private memory.
 */
char *
bertqa_cache_dir_path(void)
{
	bool		chosen = bertqa_cache_dir != NULL && bertqa_cache_dir[0] != '\0';
	char	   *dir = chosen ? pstrdup(bertqa_cache_dir) : psprintf("%s/pgsql_tmp_bertqa", DataDir);
	struct stat sb;

	if (!chosen && MakePGDirectory(dir) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK | X_OK) != 0)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bertqa.cache_dir \"%s\" cannot hold the weight cache", dir),
				 errdetail("%s", stat(dir, &sb) != 0 ? "It does not exist." :
						   !S_ISDIR(sb.st_mode) ? "It is not a directory." :
						   "The server cannot write to it."),
				 errhint("Answering goes on without the cache: each backend converts and packs the weights itself.")));
		return NULL;
	}
	return dir;
}

/*
 * The threads a forward pass uses: bertqa.threads, lowered to
 * bertqa.max_threads with a notice (once per value asked for).
 */
static int
threads_to_use(void)
{
	static int	noticed = 0;

	if (bertqa_threads <= bertqa_max_threads)
		return bertqa_threads;
	if (noticed != bertqa_threads)
		ereport(NOTICE,
				(errmsg("bertqa.threads is lowered from %d to bertqa.max_threads, %d",
						bertqa_threads, bertqa_max_threads)));
	noticed = bertqa_threads;
	return bertqa_max_threads;
}

/*
 * Record the identity of each model file in 'dir', or of 'dir' itself when
 * it is a file.
 */
static void
identify_files(const char *dir, FileIdentity *ids)
{
	struct stat top;
	bool		is_file = stat(dir, &top) == 0 && S_ISREG(top.st_mode);

	for (int i = 0; i < (int) N_MODEL_FILES; i++)
	{
		char		path[MAXPGPATH];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, model_files[i]);
		memset(&ids[i], 0, sizeof(FileIdentity));
		if (is_file ? i > 0 : stat(path, &st) != 0)
			continue;
		if (is_file)
			st = top;
		ids[i].exists = true;
		ids[i].dev = st.st_dev;
		ids[i].ino = st.st_ino;
		ids[i].size = st.st_size;
		ids[i].mtime = st.st_mtim;
	}
}

/*
 * Whether two identities describe the same file contents.
 */
static bool
same_files(const FileIdentity *a, const FileIdentity *b)
{
	for (int i = 0; i < (int) N_MODEL_FILES; i++)
	{
		if (a[i].exists != b[i].exists || a[i].dev != b[i].dev ||
			a[i].ino != b[i].ino || a[i].size != b[i].size ||
			a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
			a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
			return false;
	}
	return true;
}

/*
 * Drop the loaded model, if any.
 */
static void
unload_model(void)
{
	bq_encoder_free(session.encoder);
	bq_model_free(session.model);
	session.encoder = NULL;
	session.model = NULL;
	if (loaded_path != NULL)
		pfree(loaded_path);
	loaded_path = NULL;
}

/*
 * Make the session's encoder for bertqa.precision and bertqa.threads
 * unless it has one: oneDNN lays out a product's work for the threads
 * there are when its primitive is made, so an encoder made for one thread
 * would keep running on one.
 */
static void
prepare_encoder(void)
{
	BqError		err;

	if (session.encoder != NULL && session.requested == (BqPrecision) bertqa_precision &&
		session.threads == bq_compute_threads())
		return;
	bq_encoder_free(session.encoder);
	session.encoder = bq_encoder_new(session.model, (BqPrecision) bertqa_precision, &err);
	if (session.encoder == NULL)
		bertqa_report_error(&err, "could not prepare the bertqa encoder");
	session.requested = (BqPrecision) bertqa_precision;
	session.threads = bq_compute_threads();
}

/* Milliseconds since *since, which is then reset to now. */
static double
lap_ms(instr_time *since)
{
	instr_time	now;
	double		ms;

	INSTR_TIME_SET_CURRENT(now);
	ms = INSTR_TIME_GET_MILLISEC(now) - INSTR_TIME_GET_MILLISEC(*since);
	*since = now;
	return ms;
}

/*
 * Return the session for the model bertqa.model selects, loading it when
 * this backend has none, another one, or one whose files changed since.
 * A load reports where its time went at DEBUG1: it is what the first call
 * of a connection adds.
 */
BertqaSession *
bertqa_session(void)
{
	bool		bundled = bertqa_model_path == NULL || bertqa_model_path[0] == '\0';
	char	   *dir = bundled ? bundled_model_dir() : bertqa_model_path;
	FileIdentity current[N_MODEL_FILES];
	BqModelLoadOptions load_options = {0};
	BqError		err;
	instr_time	lap;
	double		libraries_ms,
				model_ms;

	identify_files(dir, current);
	if (session.model != NULL && strcmp(loaded_path, dir) == 0 &&
		same_files(current, loaded_files))
	{
		bq_compute_set_threads(threads_to_use());
		prepare_encoder();
		return &session;
	}

	unload_model();
	bq_error_clear(&err);
	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bertqa.model must be an absolute path"),
				 errdetail("The setting is \"%s\".", dir)));
	load_options.cache_dir = bertqa_cache_dir_path();
	INSTR_TIME_SET_CURRENT(lap);
	if (bq_compute_init(&err) != BQ_OK)
		bertqa_report_error(&err, "could not start the matrix-product library");
	libraries_ms = lap_ms(&lap);
	session.model = bq_model_load_with(dir, &load_options, &err);
	session.loads++;
	model_ms = lap_ms(&lap);
	if (session.model == NULL)
		ereport(ERROR,
				(errcode(bertqa_sqlstate(err.status)),
				 errmsg("could not load bertqa model \"%s\"", dir),
				 errdetail("%s%s%s", err.message,
						   err.detail[0] != '\0' ? ": " : "", err.detail),
				 errhint("bertqa.model must name a directory holding config.json, "
						 "vocab.txt and model.safetensors or pytorch_model.bin, "
						 "or a .nemo file.")));
	session.bundled = bundled;
	loaded_path = MemoryContextStrdup(TopMemoryContext, dir);
	memcpy(loaded_files, current, sizeof(loaded_files));
	bq_compute_set_threads(threads_to_use());
	prepare_encoder();
	ereport(DEBUG1,
			(errmsg_internal("bertqa: loaded model \"%s\": matrix-product libraries %.1f ms, "
							 "model files %.1f ms, encoder and packed weights %.1f ms",
							 dir, libraries_ms, model_ms, lap_ms(&lap))));
	return &session;
}
