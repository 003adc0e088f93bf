src/cli/cmd_eval.o: src/cli/cmd_eval.c src/cli/cli.h src/core/bq_error.h \
 src/core/qa.h src/core/bq_error.h src/core/encoder.h src/core/model.h \
 src/core/tokenizer.h src/core/vocab.h src/core/file_util.h \
 src/core/squad_dataset.h src/core/squad_eval.h src/core/squad_dataset.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/file_util.h:
src/core/squad_dataset.h:
src/core/squad_eval.h:
src/core/squad_dataset.h:
