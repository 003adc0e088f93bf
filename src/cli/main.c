/*
 * main.c - entry point of the bertqa command-line tool: dispatches to the
 * subcommand named by the first argument.
 */
#include "cli.h"

#include <string.h>

static const CliCommand commands[] = {
	{"tokenize", cmd_tokenize, "tokenize JSON lines {\"text\": ...} from stdin"},
	{"bench-tokenize", cmd_bench_tokenize, "measure tokenizer throughput on a SQuAD file"},
	{"logits", cmd_logits, "start/end logits for JSON lines {\"input_ids\": ...} from stdin"},
	{"init-model", cmd_init_model, "write a randomly initialised model of any size"},
	{"bench", cmd_bench, "time the forward pass (or --gemm: BLAS alone)"},
	{"info", cmd_info, "describe a model directory and the BLAS kernels"},
	{"answer", cmd_answer, "answer one question over one context (JSON out)"},
	{"squad", cmd_squad, "answer a SQuAD file; write run_squad.py-style predictions"},
	{"convert", cmd_convert, "write a .nemo, pytorch_model.bin or safetensors model as a HF directory"},
	{"eval", cmd_eval, "score SQuAD predictions like the official evaluate-v2.0.py"},
};

/*
 * List the subcommands.
 */
static void
print_usage(FILE *out)
{
	fprintf(out, "usage: bertqa COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'bertqa COMMAND --help' for a command's options.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2)
	{
		print_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0)
	{
		print_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
	{
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "bertqa: unknown command \"%s\"\n\n", argv[1]);
	print_usage(stderr);
	return 2;
}
