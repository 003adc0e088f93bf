/*
 * zip_reader.h - the entries of a zip archive whose members are stored
 * uncompressed, as torch.save writes them.
 *
 * Entries are slices of the caller's buffer (usually a shared read-only
 * mapping), so their data is used in place, never copied.  Everything the
 * archive claims (directory position, entry offsets and sizes) is checked
 * against the buffer before use; compressed, encrypted, multi-disk or
 * overlapping entries are refused with an error naming the archive.
 */
#ifndef BQ_ZIP_READER_H
#define BQ_ZIP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bq_error.h"

typedef struct BqZipEntry
{
	char	   *name;			/* NUL-terminated copy of the stored name */
	const unsigned char *data;	/* first byte, inside the archive's buffer */
	size_t		size;
} BqZipEntry;

typedef struct BqZip
{
	char	   *name;			/* the archive, for messages */
	BqZipEntry *entries;		/* [count], in central directory order */
	int			count;
} BqZip;

/*
 * Index the archive held in 'bytes' (borrowed: it must outlive the result);
 * 'name' labels messages.
 */
BqZip	   *bq_zip_parse(const void *bytes, size_t size, const char *name, BqError *err);

void		bq_zip_free(BqZip *zip);

/*
 * Whether a name found inside an archive (entry, tar member, tensor) is
 * printable ASCII, as every name bertqa looks up is; other names are
 * refused or skipped, so that no message carries raw bytes from a file.
 */
bool		bq_archive_name_ok(const char *name);

/* The entry called 'name', or NULL. */
const BqZipEntry *bq_zip_find(const BqZip *zip, const char *name);

#endif							/* BQ_ZIP_READER_H */
