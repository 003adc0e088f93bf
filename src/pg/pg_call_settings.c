/*
 * pg_call_settings.c - settings passed to qa_answer() and qa_answers() as
 * named arguments (null_threshold => -1.5, doc_stride => 64, ...).
 *
 * Each non-NULL argument is applied to its bertqa.* setting for the
 * duration of the call, the way a function's SET clause is: through the
 * GUC machinery at a nesting level of its own, so that a bad value is the
 * setting's own error, the argument counts as the user's choice over the
 * model's defaults, and an error anywhere in the call restores every
 * setting with the transaction or subtransaction it aborts.  Being in the
 * query text, the values travel wherever the query does (Citus workers,
 * postgres_fdw), where a session's SET does not.
 */
#include "pg_bertqa.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

typedef enum ArgumentType
{
	ARGUMENT_REAL,
	ARGUMENT_INT,
	ARGUMENT_TEXT,
	ARGUMENT_BOOL
} ArgumentType;

/* The arguments, in the order the SQL functions declare them after their own. */
static const struct
{
	const char *name;			/* the argument; its setting is bertqa.<name> */
	ArgumentType type;
}			call_settings[] = {
	{"null_threshold", ARGUMENT_REAL},
	{"max_answer_len", ARGUMENT_INT},
	{"max_seq_len", ARGUMENT_INT},
	{"doc_stride", ARGUMENT_INT},
	{"max_query_len", ARGUMENT_INT},
	{"n_best", ARGUMENT_INT},
	{"precision", ARGUMENT_TEXT},
	{"allow_no_answer", ARGUMENT_BOOL},
};

/* What an error while applying an argument is said to come from. */
typedef struct ArgumentError
{
	const char *function;
	const char *argument;
} ArgumentError;

static void
argument_error_context(void *arg)
{
	const ArgumentError *a = (const ArgumentError *) arg;

	errcontext("argument %s of %s()", a->argument, a->function);
}

/*
 * The setting's text for an argument's value: float8out's shortest exact
 * digits, so a real passes unrounded.
 */
static char *
argument_text(Datum value, ArgumentType type)
{
	switch (type)
	{
		case ARGUMENT_REAL:
			return DatumGetCString(DirectFunctionCall1(float8out, value));
		case ARGUMENT_INT:
			return psprintf("%d", DatumGetInt32(value));
		case ARGUMENT_TEXT:
			return TextDatumGetCString(value);
		case ARGUMENT_BOOL:
			return DatumGetBool(value) ? "on" : "off";
	}
	pg_unreachable();
}

int
bertqa_apply_call_settings(FunctionCallInfo fcinfo, int first, const char *function)
{
	int			nest_level = NewGUCNestLevel();

	for (int i = 0; i < (int) lengthof(call_settings); i++)
	{
		int			arg = first + i;
		ArgumentError error = {function, call_settings[i].name};
		ErrorContextCallback callback = {error_context_stack, argument_error_context, &error};
		char	   *setting;

		if (arg >= PG_NARGS() || PG_ARGISNULL(arg))
			continue;
		setting = psprintf("bertqa.%s", call_settings[i].name);
		error_context_stack = &callback;
		(void) set_config_option(setting, argument_text(PG_GETARG_DATUM(arg), call_settings[i].type),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		error_context_stack = callback.previous;
		pfree(setting);
	}
	return nest_level;
}

void
bertqa_restore_call_settings(int nest_level)
{
	AtEOXact_GUC(true, nest_level);
}
