src/cli/cmd_convert.o: src/cli/cmd_convert.c src/cli/cli.h \
 src/core/bq_error.h src/core/qa.h src/core/bq_error.h src/core/encoder.h \
 src/core/model.h src/core/tokenizer.h src/core/vocab.h src/core/model.h \
 src/core/model_export.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/model.h:
src/core/model_export.h:
