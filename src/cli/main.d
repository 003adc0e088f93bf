src/cli/main.o: src/cli/main.c src/cli/cli.h src/core/bq_error.h \
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
