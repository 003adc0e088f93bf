src/cli/cli_util.o: src/cli/cli_util.c src/cli/cli.h src/core/bq_error.h \
 src/core/qa.h src/core/bq_error.h src/core/encoder.h src/core/model.h \
 src/core/tokenizer.h src/core/vocab.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
