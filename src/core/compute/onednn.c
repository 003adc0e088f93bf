/*
 * onednn.c - linear layers on packed weights, on oneDNN: fp32, and bf16 or
 * int8 where the CPU has the instructions for them.
 *
 * The packed layout of a [k][n] weight is whatever oneDNN's matmul picks
 * when left free to choose ("any"); it is asked once per (k, n), with a
 * representative row count, and then every product of any row count is
 * compiled against that fixed layout, so weights packed once serve all
 * sequence lengths.  With oneDNN 2.6 on AVX-512 the choice is its brgemm
 * kernels on 16x64 blocks of the weight.
 *
 * Only the brgemm kernels are used.  oneDNN 2.6's older "gemm:jit" kernels
 * (its sgemm, and what matmul falls back to on other CPUs or layouts)
 * corrupt the heap when a signal arrives while they run: with SIGALRM
 * every millisecond, a loop of dnnl_sgemm calls aborts in free() within
 * milliseconds, on one thread or two, while the same loop of brgemm
 * products and reorders runs clean.  A PostgreSQL backend gets signals at
 * any time (timeouts, cancels), so where matmul would not pick brgemm,
 * bq_onednn_init fails and OpenBLAS runs everything.
 */
#include "onednn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "aligned_memory.h"
#include "compute.h"
#include "kernels.h"

/*
 * oneDNN 3 made memory descriptors (dnnl_memory_desc_t) opaque handles,
 * created and destroyed through functions, where 2.x had plain values, and
 * creates a matmul's primitive descriptor directly where 2.x first filled an
 * operation descriptor.  MemoryDescRef is what oneDNN's functions take for
 * a descriptor; the helpers below are the only places that differ.
 */
#if DNNL_VERSION_MAJOR >= 3
typedef const_dnnl_memory_desc_t MemoryDescRef;
#else
typedef const dnnl_memory_desc_t *MemoryDescRef;
#endif

/* Row count the packed layout is chosen for; any other count works with it. */
#define LAYOUT_PROBE_ROWS 256


/*
 * Distinct weight layouts a process packs: 4 per model size and precision
 * (Q/K/V fused, attention output, FFN in and out), for several model sizes
 * in turn (a backend whose bertqa.model changes, in all three precisions).
 */
#define MAX_LAYOUTS 96

/* Compiled products kept per caller: 4 shapes x the 24 row counts up to 512, and more. */
#define MAX_KERNELS 128

typedef struct PackedLayout
{
	int			k;
	int			n;
	BqPrecision precision;
	dnnl_memory_desc_t desc;	/* oneDNN's blocked layout for this weight */
	size_t		bytes;
	uint64_t	hash;
} PackedLayout;

typedef struct LinearKernel
{
	int			rows;			/* padded row count it was compiled for */
	int			k;
	int			n;
	BqPrecision precision;
	BqEpilogue	epilogue;
	uint64_t	last_used;
	dnnl_primitive_t primitive;
	dnnl_memory_t src;			/* memory objects whose data pointers are set per call */
	dnnl_memory_t weights;
	dnnl_memory_t bias;
	dnnl_memory_t dst;
} LinearKernel;

struct BqLinearKernels
{
	LinearKernel kernels[MAX_KERNELS];
	int			count;
	uint64_t	clock;			/* counts calls, for least-recently-used eviction */
	/* bf16 and int8 inputs, int8 products and per-row scales; they only grow */
	void	   *inputs;			/* [rows][k] bf16 or int8 */
	size_t		inputs_bytes;
	int32_t    *products;		/* [rows][n] int32 */
	size_t		products_bytes;
	float	   *row_scales;		/* [rows] */
	size_t		row_scales_bytes;
};

static pthread_mutex_t onednn_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
/* Per precision: the kernels matmul picks (e.g. "brg:avx512_core") and whether bertqa uses them. */
static char implementation[BQ_PRECISIONS][64];
static enum
{
	NOT_PROBED, USABLE, UNUSABLE
}			probed[BQ_PRECISIONS];
static PackedLayout layouts[MAX_LAYOUTS];
static int	layout_count;

/*
 * Record a oneDNN failure: out of memory as such, anything else as a
 * product oneDNN cannot run here.
 */
static int
fail_status(BqError *err, dnnl_status_t status, const char *what)
{
	if (status == dnnl_out_of_memory)
		return bq_fail(err, BQ_ERR_NOMEM, "oneDNN ran out of memory trying to %s", what);
	return bq_fail(err, BQ_ERR_UNSUPPORTED, "oneDNN could not %s (status %d)", what,
				   (int) status);
}

const char *
bq_onednn_isa(void)
{
	switch (dnnl_get_effective_cpu_isa())
	{
		case dnnl_cpu_isa_sse41:
			return "sse41";
		case dnnl_cpu_isa_avx:
			return "avx";
		case dnnl_cpu_isa_avx2:
			return "avx2";
		case dnnl_cpu_isa_avx2_vnni:
			return "avx2_vnni";
		case dnnl_cpu_isa_avx512_core:
			return "avx512_core";
		case dnnl_cpu_isa_avx512_core_vnni:
			return "avx512_core_vnni";
		case dnnl_cpu_isa_avx512_core_bf16:
			return "avx512_core_bf16";
		case dnnl_cpu_isa_avx512_core_amx:
			return "avx512_core_amx";
#if DNNL_VERSION_MAJOR >= 3
		case dnnl_cpu_isa_avx2_vnni_2:
			return "avx2_vnni_2";
		case dnnl_cpu_isa_avx512_core_fp16:
			return "avx512_core_fp16";
		case dnnl_cpu_isa_avx512_core_amx_fp16:
			return "avx512_core_amx_fp16";
#endif
		default:
			return "other";
	}
}

const char *
bq_onednn_version(void)
{
	static char text[32];
	const dnnl_version_t *v = dnnl_version();

	snprintf(text, sizeof(text), "%d.%d.%d", v->major, v->minor, v->patch);
	return text;
}

/*
 * A [rows][cols] descriptor of element type 'type' in layout 'tag'
 * (dnnl_ab: row-major; dnnl_format_tag_any: the primitive's choice).
 */
static dnnl_status_t
desc_create(dnnl_memory_desc_t *desc, int64_t rows, int64_t cols, dnnl_data_type_t type,
			dnnl_format_tag_t tag)
{
	dnnl_dims_t dims = {rows, cols};

#if DNNL_VERSION_MAJOR >= 3
	return dnnl_memory_desc_create_with_tag(desc, 2, dims, type, tag);
#else
	return dnnl_memory_desc_init_by_tag(desc, 2, dims, type, tag);
#endif
}

/* Release a descriptor from desc_create or desc_copy (nothing to do in 2.x). */
static void
desc_destroy(dnnl_memory_desc_t desc)
{
#if DNNL_VERSION_MAJOR >= 3
	dnnl_memory_desc_destroy(desc);
#else
	(void) desc;
#endif
}

/* What oneDNN's functions take for a descriptor this file keeps. */
static MemoryDescRef
desc_ref(const dnnl_memory_desc_t *desc)
{
#if DNNL_VERSION_MAJOR >= 3
	return *desc;
#else
	return desc;
#endif
}

/* A copy of a descriptor a primitive descriptor owns, to keep after it. */
static dnnl_status_t
desc_copy(dnnl_memory_desc_t *copy, MemoryDescRef from)
{
#if DNNL_VERSION_MAJOR >= 3
	return dnnl_memory_desc_clone(copy, from);
#else
	*copy = *from;
	return dnnl_success;
#endif
}

/* FNV-1a over 'len' bytes, continuing from 'hash'. */
static uint64_t
fnv1a(uint64_t hash, const void *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		hash ^= ((const unsigned char *) bytes)[i];
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

/*
 * A hash of everything that defines a blocked layout: in 3.x the
 * descriptor's serialized form, in 2.x its fields.  Packed files are named
 * by it (and by the oneDNN version), so a file packed in another layout is
 * never mapped.
 */
static uint64_t
hash_layout(MemoryDescRef d)
{
	uint64_t	hash = 0xcbf29ce484222325ULL;
#if DNNL_VERSION_MAJOR >= 3
	size_t		size = 0;
	uint8_t    *blob;

	if (dnnl_memory_desc_get_blob(NULL, &size, d) != dnnl_success ||
		(blob = malloc(size)) == NULL)
		return 0;
	if (dnnl_memory_desc_get_blob(blob, &size, d) == dnnl_success)
		hash = fnv1a(hash, blob, size);
	free(blob);
#else
	const dnnl_blocking_desc_t *b = &d->format_desc.blocking;
	int64_t		fields[4 + 4 * DNNL_MAX_NDIMS + 2 * DNNL_MAX_NDIMS];
	int			n = 0;

	fields[n++] = d->format_kind;
	fields[n++] = d->ndims;
	fields[n++] = b->inner_nblks;
	fields[n++] = (int64_t) d->extra.flags;
	for (int i = 0; i < d->ndims; i++)
	{
		fields[n++] = d->dims[i];
		fields[n++] = d->padded_dims[i];
		fields[n++] = d->padded_offsets[i];
		fields[n++] = b->strides[i];
	}
	for (int i = 0; i < b->inner_nblks; i++)
	{
		fields[n++] = b->inner_blks[i];
		fields[n++] = b->inner_idxs[i];
	}
	hash = fnv1a(hash, fields, (size_t) n * sizeof(int64_t));
#endif
	return hash;
}

/* The element type of the inputs and weights of a precision. */
static dnnl_data_type_t
input_type(BqPrecision precision)
{
	return precision == BQ_PRECISION_INT8 ? dnnl_s8 :
		precision == BQ_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
}

/*
 * The primitive descriptor of a matmul: rows x k times the weight 'weights'
 * (k x n) into rows x n, adding an fp32 bias if 'with_bias'.  fp32 and bf16
 * write fp32; int8 writes the int32 sums, which bq_dequantize_rows scales.
 */
static dnnl_status_t
matmul_create(dnnl_primitive_desc_t *pd, int rows, int k, int n, BqPrecision precision,
			  MemoryDescRef weights, bool with_bias)
{
	dnnl_memory_desc_t src = {0},
				bias = {0},
				dst = {0};
	bool		int8 = precision == BQ_PRECISION_INT8;
	dnnl_status_t status;

	if ((status = desc_create(&src, rows, k, input_type(precision), dnnl_ab)) == dnnl_success &&
		(status = desc_create(&bias, 1, n, dnnl_f32, dnnl_ab)) == dnnl_success &&
		(status = desc_create(&dst, rows, n, int8 ? dnnl_s32 : dnnl_f32, dnnl_ab)) == dnnl_success)
	{
#if DNNL_VERSION_MAJOR >= 3
		status = dnnl_matmul_primitive_desc_create(pd, engine, src, weights,
												   with_bias ? bias : NULL, dst, NULL);
#else
		dnnl_matmul_desc_t desc;

		if ((status = dnnl_matmul_desc_init(&desc, &src, weights, with_bias ? &bias : NULL,
											&dst)) == dnnl_success)
			status = dnnl_primitive_desc_create(pd, &desc, NULL, engine, NULL);
#endif
	}
	desc_destroy(src);
	desc_destroy(bias);
	desc_destroy(dst);
	return status;
}

/*
 * Whether oneDNN adds the bias as it stores the product: for fp32 and bf16
 * without GELU.  Products followed by GELU leave bias and GELU to
 * bq_bias_gelu, which is faster than oneDNN's GELU post-op (see kernels.c);
 * int8 products leave the bias to bq_dequantize_rows.
 */
static bool
bias_in_product(BqPrecision precision, BqEpilogue epilogue)
{
	return precision != BQ_PRECISION_INT8 && epilogue == BQ_EPILOGUE_BIAS;
}

/*
 * The primitive descriptor of a projection of LAYOUT_PROBE_ROWS rows on a
 * [k][n] weight whose layout matmul chooses.
 */
static dnnl_status_t
probe_create(dnnl_primitive_desc_t *pd, int k, int n, BqPrecision precision)
{
	dnnl_memory_desc_t any = {0};
	dnnl_status_t status;

	if ((status = desc_create(&any, k, n, input_type(precision), dnnl_format_tag_any)) == dnnl_success)
		status = matmul_create(pd, LAYOUT_PROBE_ROWS, k, n, precision, desc_ref(&any),
							   bias_in_product(precision, BQ_EPILOGUE_BIAS));
	desc_destroy(any);
	return status;
}

/*
 * The packed layout of a [k][n] weight, asked of oneDNN on first use.
 * Called with onednn_lock held.
 */
static const PackedLayout *
find_layout(int k, int n, BqPrecision precision, BqError *err)
{
	dnnl_primitive_desc_t pd = NULL;
	dnnl_status_t status;
	PackedLayout *layout;

	for (int i = 0; i < layout_count; i++)
		if (layouts[i].k == k && layouts[i].n == n && layouts[i].precision == precision)
			return &layouts[i];
	if (layout_count == MAX_LAYOUTS)
	{
		bq_fail(err, BQ_ERR_UNSUPPORTED, "too many distinct weight shapes for oneDNN");
		return NULL;
	}
	layout = &layouts[layout_count];
	if ((status = probe_create(&pd, k, n, precision)) != dnnl_success ||
		(status = desc_copy(&layout->desc,
							dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0))) != dnnl_success)
	{
		dnnl_primitive_desc_destroy(pd);
		fail_status(err, status, "choose a layout for a weight matrix");
		return NULL;
	}
	dnnl_primitive_desc_destroy(pd);
	layout->k = k;
	layout->n = n;
	layout->precision = precision;
	layout->bytes = dnnl_memory_desc_get_size(desc_ref(&layout->desc));
	layout->hash = hash_layout(desc_ref(&layout->desc));
	layout_count++;
	return layout;
}

/*
 * BERTQA_ONEDNN_ANY_KERNELS=1 accepts whatever kernels matmul picks.  It
 * exists to measure bf16's numbers on CPUs without bf16 instructions (where
 * oneDNN emulates it in gemm:jit), in a process no signal interrupts: the
 * fidelity tests and the CLI.  Never set it for a PostgreSQL server.
 */
static bool
allow_any_kernels(void)
{
	const char *value = getenv("BERTQA_ONEDNN_ANY_KERNELS");

	return value != NULL && strcmp(value, "1") == 0;
}

/*
 * Whether matmul's implementation 'impl' is the brgemm one: "brg:<isa>" in
 * oneDNN 2.x, "brg_matmul:<isa>" in 3.x.
 */
static bool
is_brgemm(const char *impl)
{
	return strncmp(impl, "brg:", 4) == 0 || strncmp(impl, "brg_matmul:", 11) == 0;
}

/*
 * Ask matmul which kernels it picks for a projection on packed weights in
 * 'precision', and accept only brgemm (see the top) unless told otherwise.
 * Called with onednn_lock held.
 */
static int
check_kernels(BqPrecision precision, BqError *err)
{
	dnnl_primitive_desc_t pd = NULL;
	dnnl_status_t status;
	const char *name = NULL;
	char	   *impl = implementation[precision];

	if ((status = probe_create(&pd, 64, 64, precision)) != dnnl_success ||
		(status = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)) != dnnl_success)
	{
		dnnl_primitive_desc_destroy(pd);
		probed[precision] = UNUSABLE;
		return fail_status(err, status, "choose kernels for a matrix product");
	}
	snprintf(impl, sizeof(implementation[precision]), "%s", name);
	dnnl_primitive_desc_destroy(pd);
	probed[precision] = is_brgemm(impl) || allow_any_kernels() ? USABLE : UNUSABLE;
	if (probed[precision] == UNUSABLE)
		return bq_fail(err, BQ_ERR_UNSUPPORTED,
					   "oneDNN's %s matrix products on this CPU are \"%s\", not its brgemm kernels",
					   bq_precision_name(precision), impl);
	return BQ_OK;
}

const char *
bq_onednn_kernels(BqPrecision precision)
{
	BqError		err;
	const char *name;

	pthread_mutex_lock(&onednn_lock);
	if (engine != NULL && probed[precision] == NOT_PROBED)
		check_kernels(precision, &err);
	name = probed[precision] == USABLE ? implementation[precision] : NULL;
	pthread_mutex_unlock(&onednn_lock);
	return name;
}

int
bq_onednn_init(BqError *err)
{
	dnnl_status_t status = dnnl_success;
	int			rc = BQ_OK;

	pthread_mutex_lock(&onednn_lock);
	if (engine == NULL)
	{
		status = dnnl_engine_create(&engine, dnnl_cpu, 0);
		if (status == dnnl_success &&
			(status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags)) != dnnl_success)
			dnnl_engine_destroy(engine);
		rc = status == dnnl_success ? check_kernels(BQ_PRECISION_FP32, err) :
			fail_status(err, status, "start its CPU engine");
		if (rc != BQ_OK)
		{
			if (stream != NULL)
				dnnl_stream_destroy(stream);
			if (status == dnnl_success)
				dnnl_engine_destroy(engine);
			engine = NULL;
			stream = NULL;
		}
	}
	pthread_mutex_unlock(&onednn_lock);
	return rc;
}

int
bq_onednn_packed_size(int k, int n, BqPrecision precision, size_t *bytes,
					  uint64_t *layout_hash, BqError *err)
{
	const PackedLayout *layout;

	pthread_mutex_lock(&onednn_lock);
	layout = find_layout(k, n, precision, err);
	if (layout != NULL)
	{
		*bytes = layout->bytes;
		*layout_hash = layout->hash;
	}
	pthread_mutex_unlock(&onednn_lock);
	return layout != NULL ? BQ_OK : err->status;
}

int
bq_onednn_pack(const float *w, int k, int n, BqPrecision precision, void *packed,
			   float *scales, BqError *err)
{
	dnnl_memory_desc_t source_desc = {0};
	MemoryDescRef target_desc = NULL;
	dnnl_memory_t source = NULL,
				target = NULL;
	dnnl_primitive_desc_t pd = NULL;
	dnnl_primitive_t reorder = NULL;
	dnnl_status_t status;
	const PackedLayout *layout;
	bool		int8 = precision == BQ_PRECISION_INT8;
	int8_t	   *quantized = NULL;

	pthread_mutex_lock(&onednn_lock);
	layout = find_layout(k, n, precision, err);
	if (layout != NULL)
		target_desc = desc_ref(&layout->desc);
	pthread_mutex_unlock(&onednn_lock);
	if (layout == NULL)
		return err->status;
	if (int8)
	{
		if ((quantized = malloc((size_t) k * (size_t) n)) == NULL)
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory quantizing a weight matrix");
		/* each output channel (a row of w) gets its own scale */
		bq_quantize_rows(w, n, k, quantized, scales);
	}

	/*
	 * w[j][i] is element (i, j) of the k x n weight: format "ba".  The
	 * reorder converts fp32 to bf16 itself; int8 weights arrive quantized,
	 * and the reorder adds the compensation oneDNN's int8 kernels need.
	 */
	if ((status = desc_create(&source_desc, k, n, int8 ? dnnl_s8 : dnnl_f32, dnnl_ba)) == dnnl_success &&
		(status = dnnl_memory_create(&source, desc_ref(&source_desc), engine,
									 int8 ? (void *) quantized : (void *) w)) == dnnl_success &&
		(status = dnnl_memory_create(&target, target_desc, engine, packed)) == dnnl_success &&
		(status = dnnl_reorder_primitive_desc_create(&pd, desc_ref(&source_desc), engine,
													 target_desc, engine, NULL)) == dnnl_success &&
		(status = dnnl_primitive_create(&reorder, pd)) == dnnl_success)
	{
		dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, target}};

		if ((status = dnnl_primitive_execute(reorder, stream, 2, args)) == dnnl_success)
			status = dnnl_stream_wait(stream);
	}
	dnnl_primitive_destroy(reorder);
	dnnl_primitive_desc_destroy(pd);
	dnnl_memory_destroy(source);
	dnnl_memory_destroy(target);
	desc_destroy(source_desc);
	free(quantized);
	return status == dnnl_success ? BQ_OK : fail_status(err, status, "pack a weight matrix");
}

/*
 * Row counts are compiled in steps: of 8 rows up to 64, where a coarser
 * step would double the work of a question over a sentence; of 16 up to
 * 128; of 32 above, where a step costs at most a few percent more work and
 * a finer one only more kernels (see bench/RESULTS.md, "Short inputs").
 */
int
bq_onednn_padded_rows(int rows)
{
	int			step = rows <= 64 ? 8 : rows <= 128 ? 16 : 32;

	return (rows + step - 1) / step * step;
}

BqLinearKernels *
bq_linear_kernels_new(BqError *err)
{
	BqLinearKernels *kernels = calloc(1, sizeof(BqLinearKernels));

	if (kernels == NULL)
		bq_fail(err, BQ_ERR_NOMEM, "out of memory creating oneDNN kernels");
	return kernels;
}

/*
 * Release one compiled product and its memory objects.
 */
static void
destroy_kernel(LinearKernel *kernel)
{
	dnnl_primitive_destroy(kernel->primitive);
	dnnl_memory_destroy(kernel->src);
	dnnl_memory_destroy(kernel->weights);
	dnnl_memory_destroy(kernel->bias);
	dnnl_memory_destroy(kernel->dst);
	memset(kernel, 0, sizeof(*kernel));
}

void
bq_linear_kernels_free(BqLinearKernels *kernels)
{
	if (kernels == NULL)
		return;
	for (int i = 0; i < kernels->count; i++)
		destroy_kernel(&kernels->kernels[i]);
	free(kernels->inputs);
	free(kernels->products);
	free(kernels->row_scales);
	free(kernels);
}

/*
 * Compile the product for one shape into 'kernel'.
 */
static int
compile_kernel(LinearKernel *kernel, int rows, int k, int n, BqPrecision precision,
			   BqEpilogue epilogue, BqError *err)
{
	dnnl_primitive_desc_t pd = NULL;
	MemoryDescRef weights_desc = NULL;
	dnnl_status_t status;
	const PackedLayout *layout;

	pthread_mutex_lock(&onednn_lock);
	layout = find_layout(k, n, precision, err);
	if (layout != NULL)
		weights_desc = desc_ref(&layout->desc);
	pthread_mutex_unlock(&onednn_lock);
	if (layout == NULL)
		return err->status;

	/* the memory objects take their descriptors from the primitive's */
	memset(kernel, 0, sizeof(*kernel));
	if ((status = matmul_create(&pd, rows, k, n, precision, weights_desc,
								bias_in_product(precision, epilogue))) == dnnl_success &&
		(status = dnnl_primitive_create(&kernel->primitive, pd)) == dnnl_success &&
		(status = dnnl_memory_create(&kernel->src, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0),
									 engine, DNNL_MEMORY_NONE)) == dnnl_success &&
		(status = dnnl_memory_create(&kernel->weights, weights_desc, engine,
									 DNNL_MEMORY_NONE)) == dnnl_success &&
		(!bias_in_product(precision, epilogue) ||
		 (status = dnnl_memory_create(&kernel->bias, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1),
									  engine, DNNL_MEMORY_NONE)) == dnnl_success) &&
		(status = dnnl_memory_create(&kernel->dst, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0),
									 engine, DNNL_MEMORY_NONE)) == dnnl_success)
	{
		kernel->rows = rows;
		kernel->k = k;
		kernel->n = n;
		kernel->precision = precision;
		kernel->epilogue = epilogue;
	}
	dnnl_primitive_desc_destroy(pd);
	if (status != dnnl_success)
	{
		destroy_kernel(kernel);
		return fail_status(err, status, "compile a matrix product");
	}
	return BQ_OK;
}

/*
 * The compiled product for a shape: found, or compiled into a free slot or
 * over the least recently used one.
 */
static LinearKernel *
kernel_for(BqLinearKernels *kernels, int rows, int k, int n, BqPrecision precision,
		   BqEpilogue epilogue, BqError *err)
{
	LinearKernel *slot;

	for (int i = 0; i < kernels->count; i++)
	{
		LinearKernel *kernel = &kernels->kernels[i];

		if (kernel->rows == rows && kernel->k == k && kernel->n == n &&
			kernel->precision == precision && kernel->epilogue == epilogue)
			return kernel;
	}
	if (kernels->count < MAX_KERNELS)
		slot = &kernels->kernels[kernels->count++];
	else
	{
		slot = &kernels->kernels[0];
		for (int i = 1; i < MAX_KERNELS; i++)
			if (kernels->kernels[i].last_used < slot->last_used)
				slot = &kernels->kernels[i];
		destroy_kernel(slot);
	}
	if (compile_kernel(slot, rows, k, n, precision, epilogue, err) != BQ_OK)
	{
		/* keep the array dense: move the last kernel into the failed slot */
		*slot = kernels->kernels[--kernels->count];
		memset(&kernels->kernels[kernels->count], 0, sizeof(LinearKernel));
		return NULL;
	}
	return slot;
}

/*
 * Grow *buffer to at least 'bytes'.
 */
static bool
grow(void **buffer, size_t *capacity, size_t bytes)
{
	void	   *bigger;

	if (bytes <= *capacity)
		return true;
	if ((bigger = bq_alloc_aligned(bytes)) == NULL)
		return false;
	free(*buffer);
	*buffer = bigger;
	*capacity = bytes;
	return true;
}

/*
 * The inputs in the kernel's type: 'in' itself for fp32; converted to bf16,
 * or quantized per row to int8, into kernels->inputs otherwise.  Rows are
 * split among the threads.
 */
static const void *
convert_inputs(BqLinearKernels *kernels, const float *in, int rows, int k,
			   BqPrecision precision, BqError *err)
{
	size_t		elements = (size_t) rows * (size_t) k;

	if (precision == BQ_PRECISION_FP32)
		return in;
	if (!grow(&kernels->inputs, &kernels->inputs_bytes,
			  elements * (precision == BQ_PRECISION_BF16 ? sizeof(uint16_t) : 1)) ||
		!grow((void **) &kernels->row_scales, &kernels->row_scales_bytes,
			  (size_t) rows * sizeof(float)))
	{
		bq_fail(err, BQ_ERR_NOMEM, "out of memory converting the inputs of a matrix product");
		return NULL;
	}
#pragma omp parallel
	{
		int			first,
					end;

		bq_thread_share(rows, &first, &end);
		if (precision == BQ_PRECISION_BF16)
			bq_to_bf16(in + (size_t) first * k, (size_t) (end - first) * k,
					   (uint16_t *) kernels->inputs + (size_t) first * k);
		else
			bq_quantize_rows(in + (size_t) first * k, end - first, k,
							 (int8_t *) kernels->inputs + (size_t) first * k,
							 kernels->row_scales + first);
	}
	return kernels->inputs;
}

/*
 * What a product without its bias leaves to do, the rows split among the
 * threads: int8 sums scaled back to floats plus bias (and GELU), or a float
 * product plus bias and GELU.
 */
static void
finish_product(BqLinearKernels *kernels, int rows, int n, BqPrecision precision,
			   const float *scales, const float *bias, BqEpilogue epilogue, float *out)
{
#pragma omp parallel
	{
		int			first,
					end;

		bq_thread_share(rows, &first, &end);
		if (precision == BQ_PRECISION_INT8)
			bq_dequantize_rows(kernels->products + (size_t) first * n, end - first, n,
							   kernels->row_scales + first, scales, bias,
							   epilogue == BQ_EPILOGUE_BIAS_GELU, out + (size_t) first * n);
		else
			bq_bias_gelu(out + (size_t) first * n, end - first, n, bias);
	}
}

int
bq_linear(BqLinearKernels *kernels, int rows, int k, int n, BqPrecision precision,
		  const float *in, const void *packed, const float *bias, const float *scales,
		  BqEpilogue epilogue, float *out, BqError *err)
{
	int			padded = bq_onednn_padded_rows(rows);
	LinearKernel *kernel = kernel_for(kernels, padded, k, n, precision, epilogue, err);
	bool		int8 = precision == BQ_PRECISION_INT8;
	const void *src;
	void	   *dst = out;
	dnnl_status_t status;

	if (kernel == NULL || (src = convert_inputs(kernels, in, padded, k, precision, err)) == NULL)
		return err->status;
	if (int8)
	{
		if (!grow((void **) &kernels->products, &kernels->products_bytes,
				  (size_t) padded * (size_t) n * sizeof(int32_t)))
			return bq_fail(err, BQ_ERR_NOMEM, "out of memory for the sums of a matrix product");
		dst = kernels->products;
	}
	kernel->last_used = ++kernels->clock;
	if ((status = dnnl_memory_set_data_handle(kernel->src, (void *) src)) == dnnl_success &&
		(status = dnnl_memory_set_data_handle(kernel->weights, (void *) packed)) == dnnl_success &&
		(kernel->bias == NULL ||
		 (status = dnnl_memory_set_data_handle(kernel->bias, (void *) bias)) == dnnl_success) &&
		(status = dnnl_memory_set_data_handle(kernel->dst, dst)) == dnnl_success)
	{
		dnnl_exec_arg_t args[4] = {
			{DNNL_ARG_SRC, kernel->src},
			{DNNL_ARG_WEIGHTS, kernel->weights},
			{DNNL_ARG_DST, kernel->dst},
			{DNNL_ARG_BIAS, kernel->bias},
		};

		if ((status = dnnl_primitive_execute(kernel->primitive, stream,
											 kernel->bias == NULL ? 3 : 4, args)) == dnnl_success)
			status = dnnl_stream_wait(stream);
	}
	if (status != dnnl_success)
		return fail_status(err, status, "run a matrix product");
	if (!bias_in_product(precision, epilogue))
		finish_product(kernels, rows, n, precision, scales, bias, epilogue, out);
	return BQ_OK;
}
