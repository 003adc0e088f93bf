/*
 * weight_cache.c - names and atomic, once-only writes of cache files.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE			/* flock */
#endif
#include "weight_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.h"
#include "grow_array.h"
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

/*
 * Hold a shared lock on the mapped cache file 'file' until it is closed,
 * so that bq_cache_remove_stale leaves it, and mark its use in its access
 * time (not its mtime: entries made from this one are named after it).
 */
static void
hold(BqSafetensors *file)
{
	const struct timespec now_and_unchanged[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
	int			fd = open(file->name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;					/* removed since it was mapped: nothing to hold */
	if (flock(fd, LOCK_SH) != 0)
	{
		close(fd);
		return;
	}
	futimens(fd, now_and_unchanged);
	file->hold_fd = fd;
}

BqSafetensors *
bq_cache_open(const char *path, BqCacheWriter write, void *arg, BqError *err)
{
	BqSafetensors *file = bq_safetensors_open(path, err);
	int			lock;

	if (file == NULL && err->status == BQ_ERR_NOT_FOUND && (lock = cache_lock(path, err)) >= 0)
	{
		if ((file = bq_safetensors_open(path, err)) == NULL && err->status == BQ_ERR_NOT_FOUND &&
			write(path, arg, err) == BQ_OK)
			file = bq_safetensors_open(path, err);
		close(lock);			/* releases the lock */
	}
	if (file != NULL)
		hold(file);
	return file;
}

int
bq_cache_record_source(const char *cache_dir, const char *source,
					   const BqFileIdentity *identity, BqError *err)
{
	char	   *record = bq_cache_path(cache_dir, source, identity, ".source");
	char	   *real = realpath(source, NULL);
	char	   *tmp = record != NULL ? malloc(strlen(record) + 24) : NULL;
	int			rc = BQ_OK;

	if (record == NULL || real == NULL || tmp == NULL)
		rc = real == NULL && record != NULL && tmp != NULL ?
			bq_fail(err, BQ_ERR_IO, "could not resolve \"%s\": %s", source, strerror(errno)) :
			bq_fail(err, BQ_ERR_NOMEM, "out of memory recording the source of a cache entry");
	else if (access(record, F_OK) != 0)
	{
		/* written whole under a name of this process's, then renamed into place */
		sprintf(tmp, "%s.%ld", record, (long) getpid());
		if ((rc = bq_write_file(tmp, real, strlen(real), false, err)) == BQ_OK &&
			rename(tmp, record) != 0)
			rc = bq_fail(err, BQ_ERR_IO, "could not write \"%s\": %s", record, strerror(errno));
		if (rc != BQ_OK)
			unlink(tmp);
	}
	free(record);
	free(real);
	free(tmp);
	return rc;
}

/* Length of the "bertqa-<hash>-<inode>-<size>-<sec>.<nsec>" that starts 'name', or 0. */
static size_t
prefix_length(const char *name)
{
	unsigned long long hash,
				inode,
				size;
	long long	sec,
				nsec;
	int			end = 0;

	if (sscanf(name, "bertqa-%16llx-%llu-%llu-%lld.%9lld%n", &hash, &inode, &size, &sec,
			   &nsec, &end) != 5)
		return 0;
	return (size_t) end;
}

/* Whether 'suffix' (after the prefix) names an entry: not a lock, record or temporary file. */
static bool
entry_suffix(const char *suffix)
{
	size_t		len = strlen(suffix);
	const char *tail = ".safetensors";

	return strcmp(suffix, ".finite") == 0 || strcmp(suffix, ".nemo.d") == 0 ||
		(len >= strlen(tail) && strcmp(suffix + len - strlen(tail), tail) == 0);
}

/* Bytes under 'path': a file's size, or the sum over a directory's tree. */
static uint64_t
tree_bytes(const char *path)
{
	struct stat sb;
	uint64_t	total = 0;
	DIR		   *dir;
	struct dirent *de;

	if (lstat(path, &sb) != 0)
		return 0;
	if (!S_ISDIR(sb.st_mode))
		return (uint64_t) sb.st_size;
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL)
	{
		char	   *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			(child = bq_model_path(path, de->d_name)) == NULL)
			continue;
		total += tree_bytes(child);
		free(child);
	}
	closedir(dir);
	return total;
}

/* Remove 'path' and, for a directory, everything under it. */
static int
remove_tree(const char *path)
{
	struct stat sb;
	DIR		   *dir;
	struct dirent *de;
	int			rc = 0;

	if (lstat(path, &sb) != 0)
		return -1;
	if (!S_ISDIR(sb.st_mode))
		return unlink(path);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL)
	{
		char	   *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((child = bq_model_path(path, de->d_name)) == NULL)
			rc = -1;
		else if (remove_tree(child) != 0)
			rc = -1;
		free(child);
	}
	closedir(dir);
	return rc == 0 ? rmdir(path) : rc;
}

/*
 * An exclusive lock on the entry 'path' if no process holds it (see
 * hold()): its descriptor, closed to release it; -1 when it is in use
 * (or cannot be opened).
 */
static int
lock_unused(const char *path)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0)
	{
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * "<cache_dir>/<the first 'len' bytes of name><suffix>" (malloc'd), an
 * entry's lock file or its source's record; NULL when out of memory.
 */
static char *
companion_path(const char *cache_dir, const char *name, size_t len, const char *suffix)
{
	char	   *file = malloc(len + strlen(suffix) + 1);
	char	   *path;

	if (file == NULL)
		return NULL;
	memcpy(file, name, len);
	strcpy(file + len, suffix);
	path = bq_model_path(cache_dir, file);
	free(file);
	return path;
}

/* The source a prefix's record names (malloc'd), or NULL. */
static char *
read_source(const char *cache_dir, const char *name, size_t prefix)
{
	char	   *record = companion_path(cache_dir, name, prefix, ".source");
	char	   *text = NULL;
	size_t		len;
	BqError		ignored;

	if (record != NULL)
		text = bq_read_file(record, &len, &ignored);
	free(record);
	return text;
}

/*
 * Fill 'entry' for the cache entry 'name' (its prefix 'prefix' long):
 * its source, whether that still exists and still has the identity the
 * name was made from, its size, last use, and whether a process holds it.
 */
static int
describe(const char *cache_dir, const char *name, size_t prefix, BqCacheEntry *entry)
{
	char	   *path = bq_model_path(cache_dir, name);
	struct stat sb;
	int			fd;

	memset(entry, 0, sizeof(*entry));
	if (path == NULL || (entry->name = strdup(name)) == NULL)
	{
		free(path);
		return -1;
	}
	entry->source = read_source(cache_dir, name, prefix);
	if (entry->source != NULL && stat(entry->source, &sb) == 0)
	{
		BqFileIdentity now = bq_file_identity(&sb);
		char	   *current = bq_cache_path(cache_dir, entry->source, &now, "");

		entry->source_exists = true;
		/* out of memory tells nothing: never call an entry stale for it */
		entry->stale = current != NULL &&
			strncmp(current + strlen(cache_dir) + 1, name, prefix) != 0;
		free(current);
	}
	else
		entry->stale = entry->source != NULL;
	if (lstat(path, &sb) == 0)
		entry->last_used = (int64_t) (sb.st_atim.tv_sec > sb.st_mtim.tv_sec ?
									  sb.st_atim.tv_sec : sb.st_mtim.tv_sec);
	entry->bytes = tree_bytes(path);
	if ((fd = lock_unused(path)) >= 0)
		close(fd);
	else
		entry->in_use = true;
	free(path);
	return 0;
}

void
bq_cache_entries_free(BqCacheEntry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++)
	{
		free(entries[i].name);
		free(entries[i].source);
	}
	free(entries);
}

int
bq_cache_list(const char *cache_dir, BqCacheEntry **entries, size_t *count, BqError *err)
{
	DIR		   *dir = opendir(cache_dir);
	struct dirent *de;
	size_t		capacity = 0;
	int			rc = BQ_OK;

	*entries = NULL;
	*count = 0;
	if (dir == NULL)
		return bq_fail(err, errno == ENOENT ? BQ_ERR_NOT_FOUND : BQ_ERR_IO,
					   "could not open the weight cache \"%s\": %s", cache_dir, strerror(errno));
	while (rc == BQ_OK && (de = readdir(dir)) != NULL)
	{
		size_t		prefix = prefix_length(de->d_name);

		if (prefix == 0 || !entry_suffix(de->d_name + prefix))
			continue;
		if (!bq_grow_array((void **) entries, &capacity, *count + 1, sizeof(BqCacheEntry)) ||
			describe(cache_dir, de->d_name, prefix, &(*entries)[*count]) != 0)
			rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory listing the weight cache");
		else
			(*count)++;
	}
	closedir(dir);
	if (rc != BQ_OK)
	{
		bq_cache_entries_free(*entries, *count);
		*entries = NULL;
		*count = 0;
	}
	return rc;
}

/* Remove companion_path(...) if it exists. */
static void
remove_companion(const char *cache_dir, const char *name, size_t len, const char *suffix)
{
	char	   *path = companion_path(cache_dir, name, len, suffix);

	if (path != NULL)
		unlink(path);
	free(path);
}

/* Whether an entry made from the source version 'name''s prefix names is left. */
static bool
source_has_entries(const char *cache_dir, const char *name, size_t prefix)
{
	DIR		   *dir = opendir(cache_dir);
	struct dirent *de;
	bool		found = false;

	while (dir != NULL && !found && (de = readdir(dir)) != NULL)
		found = strncmp(de->d_name, name, prefix) == 0 && prefix_length(de->d_name) == prefix &&
			entry_suffix(de->d_name + prefix);
	if (dir != NULL)
		closedir(dir);
	return found;
}

/*
 * One pass of bq_cache_remove_stale, appending what it removed to
 * removed[*count] (capacity *capacity).
 */
static int
remove_stale_pass(const char *cache_dir, BqCacheEntry **removed, size_t *count,
				  size_t *capacity, BqError *err)
{
	BqCacheEntry *entries;
	size_t		n;
	int			rc = bq_cache_list(cache_dir, &entries, &n, err);

	for (size_t i = 0; rc == BQ_OK && i < n; i++)
	{
		BqCacheEntry *e = &entries[i];
		char	   *path = e->stale && !e->in_use ? bq_model_path(cache_dir, e->name) : NULL;
		int			fd = path != NULL ? lock_unused(path) : -1;
		bool		gone = fd >= 0 && remove_tree(path) == 0;

		if (fd >= 0)
			close(fd);
		free(path);
		if (!gone)
			continue;
		remove_companion(cache_dir, e->name, strlen(e->name), ".lock");
		/* the source's record goes with the last entry made from that version */
		if (!source_has_entries(cache_dir, e->name, prefix_length(e->name)))
			remove_companion(cache_dir, e->name, prefix_length(e->name), ".source");
		if (!bq_grow_array((void **) removed, capacity, *count + 1, sizeof(BqCacheEntry)))
		{
			rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory cleaning the weight cache");
			break;
		}
		(*removed)[(*count)++] = *e;
		e->name = e->source = NULL;
	}
	bq_cache_entries_free(entries, n);
	return rc;
}

int
bq_cache_remove_stale(const char *cache_dir, BqCacheEntry **removed, size_t *count,
					  BqError *err)
{
	size_t		capacity = 0;
	size_t		before;
	int			rc;

	*removed = NULL;
	*count = 0;
	/* entries made from removed ones (a copy's marker, its packed weights) are stale next */
	do
	{
		before = *count;
		rc = remove_stale_pass(cache_dir, removed, count, &capacity, err);
	} while (rc == BQ_OK && *count > before);
	if (rc != BQ_OK)
	{
		bq_cache_entries_free(*removed, *count);
		*removed = NULL;
		*count = 0;
	}
	return rc;
}
