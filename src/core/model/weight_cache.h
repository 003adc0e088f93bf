/*
 * weight_cache.h - the cache of files derived from a model's files
 * (weights converted to fp32, packed for oneDNN, unpacked archives): their
 * names, which change whenever their source does, and writing each once
 * for all the processes that want it.
 */
#ifndef BQ_WEIGHT_CACHE_H
#define BQ_WEIGHT_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "bq_error.h"
#include "safetensors.h"

/*
 * "cache_dir/bertqa-<hash>-<inode>-<size>-<mtime><suffix>", malloc'd (NULL
 * when out of memory): the name of something derived from the file
 * 'source', which changes whenever the source's path, device, inode, size
 * or mtime does, so a changed source is never served from a stale copy.
 */
char	   *bq_cache_path(const char *cache_dir, const char *source,
						  const BqFileIdentity *identity, const char *suffix);

/* Create the cache directory 'cache_dir' unless it exists (as a directory). */
int			bq_cache_dir_make(const char *cache_dir, BqError *err);

/* Writes the cache file 'path' (atomically, e.g. bq_safetensors_create). */
typedef int (*BqCacheWriter) (const char *path, void *arg, BqError *err);

/*
 * Map the cache file 'path', writing it first with 'write' if it does not
 * exist.  Writers hold an exclusive lock on "<path>.lock" and look again
 * once they hold it, so processes wanting the file at once write it once
 * and all map that one copy.  The mapping holds a shared lock on the file
 * until bq_safetensors_close, and sets its access time: its last use.
 */
BqSafetensors *bq_cache_open(const char *path, BqCacheWriter write, void *arg, BqError *err);

/*
 * Record which file the entries named after 'source' (with 'identity')
 * come from, in "<prefix>.source", unless recorded: what bq_cache_list
 * reports and bq_cache_remove_stale decides by.
 */
int			bq_cache_record_source(const char *cache_dir, const char *source,
								   const BqFileIdentity *identity, BqError *err);

/* One entry of the cache: a file or directory made from a source. */
typedef struct BqCacheEntry
{
	char	   *name;			/* in the cache directory */
	char	   *source;			/* the source's path; NULL when not recorded */
	uint64_t	bytes;			/* a directory's: the sum of its files */
	int64_t		last_used;		/* seconds since 1970: last mapped (access time) or
								 * written */
	bool		source_exists;
	bool		stale;			/* a recorded source that is gone, or has changed
								 * (another version would have another name) */
	bool		in_use;			/* a process maps it */
} BqCacheEntry;

/* Every entry of 'cache_dir' (malloc'd; bq_cache_entries_free). */
int			bq_cache_list(const char *cache_dir, BqCacheEntry **entries, size_t *count,
						  BqError *err);

/*
 * Remove every stale entry that no process maps (each checked under an
 * exclusive lock it cannot take while one does), with its lock file, and
 * a source's record with its last entry; then the entries made from those
 * (whose source is now gone), until none is left; 'removed' lists them.
 */
int			bq_cache_remove_stale(const char *cache_dir, BqCacheEntry **removed, size_t *count,
								  BqError *err);

void		bq_cache_entries_free(BqCacheEntry *entries, size_t count);

#endif							/* BQ_WEIGHT_CACHE_H */
