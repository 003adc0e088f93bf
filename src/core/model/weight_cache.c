/*
 * weight_cache.c - names and atomic, once-only writes of cache files.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE			/* flock */
#endif
#include "weight_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_config.h"

/*
 * 64-bit FNV-1a, to fold a source's path into a cache name.
 */
static uint64_t
fnv1a(const void *data, size_t len, uint64_t hash)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		hash = (hash ^ p[i]) * 0x100000001b3ULL;
	return hash;
}

char *
bq_cache_path(const char *cache_dir, const char *source, const BqFileIdentity *identity,
			  const char *suffix)
{
	char	   *real = realpath(source, NULL);
	const char *path = real != NULL ? real : source;
	uint64_t	hash = fnv1a(path, strlen(path), 0xcbf29ce484222325ULL);
	char		file[200];

	hash = fnv1a(&identity->device, sizeof(identity->device), hash);
	free(real);
	snprintf(file, sizeof(file), "bertqa-%016llx-%llu-%llu-%lld.%09lld%s",
			 (unsigned long long) hash, (unsigned long long) identity->inode,
			 (unsigned long long) identity->size, (long long) identity->mtime_sec,
			 (long long) identity->mtime_nsec, suffix);
	return bq_model_path(cache_dir, file);
}

int
bq_cache_dir_make(const char *cache_dir, BqError *err)
{
	struct stat sb;

	if (mkdir(cache_dir, 0700) != 0 && errno != EEXIST)
		return bq_fail(err, BQ_ERR_IO, "could not create weight cache directory \"%s\": %s",
					   cache_dir, strerror(errno));
	if (stat(cache_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return bq_fail(err, BQ_ERR_IO, "weight cache \"%s\" is not a directory", cache_dir);
	return BQ_OK;
}

/*
 * An exclusive lock on "<path>.lock" (created if missing): its descriptor,
 * closed to release it, or -1 with 'err' set.
 */
static int
cache_lock(const char *path, BqError *err)
{
	char	   *lock_path = malloc(strlen(path) + 6);
	int			fd;

	if (lock_path == NULL)
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory locking \"%s\"", path);
		return -1;
	}
	sprintf(lock_path, "%s.lock", path);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0)
	{
		bq_fail(err, BQ_ERR_IO, "could not lock \"%s\": %s", lock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(lock_path);
	return fd;
}

BqSafetensors *
bq_cache_open(const char *path, BqCacheWriter write, void *arg, BqError *err)
{
	BqSafetensors *file = bq_safetensors_open(path, err);
	int			lock;

	if (file != NULL || err->status != BQ_ERR_NOT_FOUND || (lock = cache_lock(path, err)) < 0)
		return file;
	if ((file = bq_safetensors_open(path, err)) == NULL && err->status == BQ_ERR_NOT_FOUND &&
		write(path, arg, err) == BQ_OK)
		file = bq_safetensors_open(path, err);
	close(lock);				/* releases the lock */
	return file;
}
