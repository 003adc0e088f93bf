/*
 * pg_cache.c - the weight cache for a DBA: qa_cache_entries() lists it,
 * qa_cache_clean() removes what can be remade and is no longer wanted
 * (entries whose source is gone or changed, which no backend maps).  Both
 * are revoked from PUBLIC by the extension script: they show and remove
 * files of the server.
 */
#include "pg_bertqa.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "weight_cache.h"

PG_FUNCTION_INFO_V1(bertqa_qa_cache_entries);
PG_FUNCTION_INFO_V1(bertqa_qa_cache_clean);

/* The cache's directory; ERROR when bertqa.cache_dir cannot hold it. */
static char *
cache_dir_or_error(void)
{
	char	   *dir = bertqa_cache_dir_path();

	if (dir == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("there is no weight cache to show: bertqa.cache_dir cannot hold one")));
	return dir;
}

/*
 * The rows of 'count' entries, into the result's tuplestore: entry, source,
 * bytes, last_used, source_exists, stale, in_use.
 */
static void
put_rows(ReturnSetInfo *rsinfo, const BqCacheEntry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
	{
		const BqCacheEntry *e = &entries[i];
		Datum		values[7];
		bool		nulls[7] = {false, e->source == NULL, false, e->last_used == 0, false,
		false, false};

		values[0] = CStringGetTextDatum(e->name);
		if (e->source != NULL)
			values[1] = CStringGetTextDatum(e->source);
		values[2] = Int64GetDatum((int64) e->bytes);
		values[3] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) e->last_used));
		values[4] = BoolGetDatum(e->source_exists);
		values[5] = BoolGetDatum(e->stale);
		values[6] = BoolGetDatum(e->in_use);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* put_rows, then free the entries. */
static void
put_entries(FunctionCallInfo fcinfo, BqCacheEntry *entries, size_t count)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	/* the entries are malloc'd: freed even when making a row fails */
	PG_TRY();
	{
		put_rows(rsinfo, entries, count);
	}
	PG_FINALLY();
	{
		bq_cache_entries_free(entries, count);
	}
	PG_END_TRY();
}

/*
 * qa_cache_entries(): one row per cache entry (converted or packed
 * weights, an unpacked archive, a checked-weights marker): its name, the
 * file it was made from, its size, when it was last used, whether its
 * source still exists, whether it is stale (the source gone or changed),
 * and whether a process maps it now.
 */
Datum
bertqa_qa_cache_entries(PG_FUNCTION_ARGS)
{
	char	   *dir;
	BqCacheEntry *entries;
	size_t		count;
	BqError		err;

	InitMaterializedSRF(fcinfo, 0);
	dir = cache_dir_or_error();
	bq_error_clear(&err);
	if (bq_cache_list(dir, &entries, &count, &err) != BQ_OK)
		bertqa_report_error(&err, "could not list the weight cache");
	put_entries(fcinfo, entries, count);
	return (Datum) 0;
}

/*
 * qa_cache_clean(): remove the stale entries no process maps (an entry in
 * use stays until its last user lets go); the rows removed, as
 * qa_cache_entries lists them.
 */
Datum
bertqa_qa_cache_clean(PG_FUNCTION_ARGS)
{
	char	   *dir;
	BqCacheEntry *removed;
	size_t		count;
	BqError		err;

	InitMaterializedSRF(fcinfo, 0);
	dir = cache_dir_or_error();
	bq_error_clear(&err);
	if (bq_cache_remove_stale(dir, &removed, &count, &err) != BQ_OK)
		bertqa_report_error(&err, "could not clean the weight cache");
	put_entries(fcinfo, removed, count);
	return (Datum) 0;
}
