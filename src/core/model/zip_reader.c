/*
 * zip_reader.c - indexing a zip archive of stored (uncompressed) entries.
 *
 * The central directory is the authority on what the archive holds; each
 * entry's local header is then checked to agree with it, because the data
 * starts after the local header's own name and extra field (torch.save pads
 * the extra field so that data lands on 64-byte boundaries).  Entries must
 * lie before the central directory and must not overlap, so no byte of the
 * file is ever read as two different things.
 */
#include "zip_reader.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EOCD_SIGNATURE 0x06054b50
#define CENTRAL_SIGNATURE 0x02014b50
#define LOCAL_SIGNATURE 0x04034b50
#define EOCD_SIZE 22
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
#define MAX_COMMENT 65535

/* General purpose flag bit 0: the entry is encrypted. */
#define FLAG_ENCRYPTED 0x0001

/* Where an entry's bytes are, for the overlap check. */
typedef struct EntrySpan
{
	uint64_t	begin;			/* local header */
	uint64_t	end;			/* one past the data */
	int			index;
} EntrySpan;

static uint32_t
read_u16(const unsigned char *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8);
}

static uint32_t
read_u32(const unsigned char *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) |
		((uint32_t) p[3] << 24);
}

/*
 * Offset of the end-of-central-directory record: the last signature whose
 * comment length reaches exactly the end of the file.
 */
static bool
find_eocd(const unsigned char *b, size_t size, size_t *at)
{
	size_t		lowest;

	if (size < EOCD_SIZE)
		return false;
	lowest = size - EOCD_SIZE > MAX_COMMENT ? size - EOCD_SIZE - MAX_COMMENT : 0;
	for (size_t pos = size - EOCD_SIZE + 1; pos-- > lowest;)
	{
		if (read_u32(b + pos) == EOCD_SIGNATURE &&
			pos + EOCD_SIZE + read_u16(b + pos + 20) == size)
		{
			*at = pos;
			return true;
		}
	}
	return false;
}

static int
compare_spans(const void *a, const void *b)
{
	const EntrySpan *x = a;
	const EntrySpan *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/*
 * Check the local header of entry 'e' at 'local' against the central
 * directory's record and set the entry's data; the data must end by
 * 'limit' (the central directory's start).
 */
static int
read_local_header(const BqZip *zip, const unsigned char *b, uint64_t local, uint64_t limit,
				  const unsigned char *central_name, size_t name_len, uint64_t data_size,
				  BqZipEntry *e, EntrySpan *span, BqError *err)
{
	const unsigned char *h = b + local;
	uint64_t	data_begin;

	if (local > limit || limit - local < LOCAL_SIZE || read_u32(h) != LOCAL_SIGNATURE)
		return bq_fail(err, BQ_ERR_FORMAT, "zip archive \"%s\": entry \"%s\" has no local header",
					   zip->name, e->name);
	if (read_u16(h + 8) != 0)
		return bq_fail(err, BQ_ERR_UNSUPPORTED,
					   "zip archive \"%s\": entry \"%s\" is compressed (method %u); only stored entries can be mapped",
					   zip->name, e->name, (unsigned) read_u16(h + 8));
	if (read_u16(h + 26) != name_len ||
		limit - local - LOCAL_SIZE < name_len ||
		memcmp(h + LOCAL_SIZE, central_name, name_len) != 0)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\": the local header of entry \"%s\" names another entry",
					   zip->name, e->name);
	data_begin = local + LOCAL_SIZE + name_len + read_u16(h + 28);
	if (data_begin > limit || limit - data_begin < data_size)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\": entry \"%s\" (%llu bytes) runs past the central directory",
					   zip->name, e->name, (unsigned long long) data_size);
	e->data = b + data_begin;
	e->size = (size_t) data_size;
	span->begin = local;
	span->end = data_begin + data_size;
	return BQ_OK;
}

/*
 * Read central directory record number 'i' at *pos (advanced past it); the
 * directory spans [cd_begin, cd_end).
 */
static int
read_central_record(BqZip *zip, const unsigned char *b, uint64_t *pos, uint64_t cd_begin,
					uint64_t cd_end, int i, EntrySpan *span, BqError *err)
{
	const unsigned char *r = b + *pos;
	BqZipEntry *e = &zip->entries[i];
	uint32_t	name_len;
	uint32_t	flags;
	uint64_t	record_len;

	if (cd_end - *pos < CENTRAL_SIZE || read_u32(r) != CENTRAL_SIGNATURE)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\": central directory record %d is malformed", zip->name, i);
	name_len = read_u16(r + 28);
	record_len = (uint64_t) CENTRAL_SIZE + name_len + read_u16(r + 30) + read_u16(r + 32);
	if (cd_end - *pos < record_len)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\": central directory record %d runs past the directory",
					   zip->name, i);
	e->name = malloc(name_len + 1);
	if (e->name == NULL)
		return bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", zip->name);
	memcpy(e->name, r + CENTRAL_SIZE, name_len);
	e->name[name_len] = '\0';
	zip->count++;
	if (strlen(e->name) != name_len || !bq_archive_name_ok(e->name))
	{
		e->name[0] = '\0';		/* keep it out of any later message */
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\": the name of entry %d is not printable ASCII",
					   zip->name, i);
	}

	flags = read_u16(r + 8);
	if (flags & FLAG_ENCRYPTED)
		return bq_fail(err, BQ_ERR_UNSUPPORTED, "zip archive \"%s\": entry \"%s\" is encrypted",
					   zip->name, e->name);
	if (read_u16(r + 10) != 0)
		return bq_fail(err, BQ_ERR_UNSUPPORTED,
					   "zip archive \"%s\": entry \"%s\" is compressed (method %u); only stored entries can be mapped",
					   zip->name, e->name, (unsigned) read_u16(r + 10));
	if (read_u32(r + 20) != read_u32(r + 24))
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\": stored entry \"%s\" has different compressed and stored sizes",
					   zip->name, e->name);
	if (read_u32(r + 24) == UINT32_MAX || read_u32(r + 42) == UINT32_MAX || read_u16(r + 34) != 0)
		return bq_fail(err, BQ_ERR_UNSUPPORTED,
					   "zip archive \"%s\": entry \"%s\" needs zip64 or another disk, which bertqa does not read",
					   zip->name, e->name);
	span->index = i;
	*pos += record_len;
	return read_local_header(zip, b, read_u32(r + 42), cd_begin, r + CENTRAL_SIZE, name_len,
							 read_u32(r + 24), e, span, err);
}

/*
 * Refuse entries sharing bytes, and two entries of the same name.
 */
static int
check_layout(const BqZip *zip, EntrySpan *spans, BqError *err)
{
	qsort(spans, (size_t) zip->count, sizeof(EntrySpan), compare_spans);
	for (int i = 1; i < zip->count; i++)
	{
		if (spans[i].begin < spans[i - 1].end)
			return bq_fail(err, BQ_ERR_FORMAT, "zip archive \"%s\": entries \"%s\" and \"%s\" overlap",
						   zip->name, zip->entries[spans[i - 1].index].name,
						   zip->entries[spans[i].index].name);
	}
	for (int i = 0; i < zip->count; i++)
	{
		for (int j = i + 1; j < zip->count; j++)
		{
			if (strcmp(zip->entries[i].name, zip->entries[j].name) == 0)
				return bq_fail(err, BQ_ERR_FORMAT, "zip archive \"%s\" holds entry \"%s\" twice",
							   zip->name, zip->entries[i].name);
		}
	}
	return BQ_OK;
}

/*
 * Locate the central directory and read every record.
 */
static int
read_directory(BqZip *zip, const unsigned char *b, size_t size, BqError *err)
{
	size_t		eocd;
	uint64_t	cd_size;
	uint64_t	cd_offset;
	uint32_t	total;
	uint64_t	pos;
	EntrySpan  *spans;
	int			rc = BQ_OK;

	if (!find_eocd(b, size, &eocd))
		return bq_fail(err, BQ_ERR_FORMAT, "\"%s\" is not a zip archive (no end of central directory)",
					   zip->name);
	total = read_u16(b + eocd + 10);
	cd_size = read_u32(b + eocd + 12);
	cd_offset = read_u32(b + eocd + 16);
	if (read_u16(b + eocd + 4) != 0 || read_u16(b + eocd + 6) != 0 ||
		read_u16(b + eocd + 8) != total || total == 0xFFFF || cd_offset == UINT32_MAX)
		return bq_fail(err, BQ_ERR_UNSUPPORTED,
					   "zip archive \"%s\" spans several disks or needs zip64, which bertqa does not read",
					   zip->name);
	if (cd_offset > eocd || eocd - cd_offset < cd_size)
		return bq_fail(err, BQ_ERR_FORMAT, "zip archive \"%s\": the central directory lies outside the file",
					   zip->name);
	if ((uint64_t) total * CENTRAL_SIZE > cd_size)
		return bq_fail(err, BQ_ERR_FORMAT,
					   "zip archive \"%s\" claims %u entries, more than its central directory holds",
					   zip->name, (unsigned) total);

	zip->entries = calloc(total > 0 ? total : 1, sizeof(BqZipEntry));
	spans = calloc(total > 0 ? total : 1, sizeof(EntrySpan));
	if (zip->entries == NULL || spans == NULL)
		rc = bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", zip->name);
	pos = cd_offset;
	for (uint32_t i = 0; rc == BQ_OK && i < total; i++)
		rc = read_central_record(zip, b, &pos, cd_offset, cd_offset + cd_size, (int) i,
								 &spans[i], err);
	if (rc == BQ_OK)
		rc = check_layout(zip, spans, err);
	free(spans);
	return rc;
}

BqZip *
bq_zip_parse(const void *bytes, size_t size, const char *name, BqError *err)
{
	BqZip	   *zip = calloc(1, sizeof(BqZip));

	if (zip == NULL || (zip->name = strdup(name)) == NULL)
	{
		free(zip);
		bq_fail(err, BQ_ERR_NOMEM, "out of memory reading \"%s\"", name);
		return NULL;
	}
	if (read_directory(zip, bytes, size, err) != BQ_OK)
	{
		bq_zip_free(zip);
		return NULL;
	}
	return zip;
}

void
bq_zip_free(BqZip *zip)
{
	if (zip == NULL)
		return;
	for (int i = 0; i < zip->count; i++)
		free(zip->entries[i].name);
	free(zip->entries);
	free(zip->name);
	free(zip);
}

bool
bq_archive_name_ok(const char *name)
{
	for (const char *c = name; *c != '\0'; c++)
	{
		if (*c < ' ' || *c > '~')
			return false;
	}
	return true;
}

const BqZipEntry *
bq_zip_find(const BqZip *zip, const char *name)
{
	for (int i = 0; i < zip->count; i++)
	{
		if (strcmp(zip->entries[i].name, name) == 0)
			return &zip->entries[i];
	}
	return NULL;
}
