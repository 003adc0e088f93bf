src/cli/cmd_tokenize.o: src/cli/cmd_tokenize.c src/cli/cli.h \
 src/core/bq_error.h src/core/qa.h src/core/bq_error.h src/core/encoder.h \
 src/core/model.h src/core/tokenizer.h src/core/vocab.h \
 src/core/file_util.h src/core/tokenizer.h src/core/vocab.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/file_util.h:
src/core/tokenizer.h:
src/core/vocab.h:
