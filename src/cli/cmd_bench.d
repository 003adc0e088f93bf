src/cli/cmd_bench.o: src/cli/cmd_bench.c src/cli/cli.h \
 src/core/bq_error.h src/core/qa.h src/core/bq_error.h src/core/encoder.h \
 src/core/model.h src/core/tokenizer.h src/core/vocab.h src/core/blas.h \
 src/cli/cli_random.h src/core/encoder.h src/core/model.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/blas.h:
src/cli/cli_random.h:
src/core/encoder.h:
src/core/model.h:
