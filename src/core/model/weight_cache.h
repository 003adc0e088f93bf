/*
 * weight_cache.h - the cache of files derived from a model's files
 * (weights converted to fp32, packed for oneDNN, unpacked archives): their
 * names, which change whenever their source does, and writing each once
 * for all the processes that want it.
 */
#ifndef BQ_WEIGHT_CACHE_H
#define BQ_WEIGHT_CACHE_H

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
 * and all map that one copy.
 */
BqSafetensors *bq_cache_open(const char *path, BqCacheWriter write, void *arg, BqError *err);

#endif							/* BQ_WEIGHT_CACHE_H */
