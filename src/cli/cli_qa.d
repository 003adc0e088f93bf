src/cli/cli_qa.o: src/cli/cli_qa.c src/cli/cli.h src/core/bq_error.h \
 src/core/qa.h src/core/bq_error.h src/core/encoder.h src/core/model.h \
 src/core/tokenizer.h src/core/vocab.h src/core/blas.h \
 src/core/json_number.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/blas.h:
src/core/json_number.h:
