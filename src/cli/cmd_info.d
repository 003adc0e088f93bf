src/cli/cmd_info.o: src/cli/cmd_info.c src/cli/cli.h src/core/bq_error.h \
 src/core/qa.h src/core/bq_error.h src/core/encoder.h src/core/model.h \
 src/core/tokenizer.h src/core/vocab.h src/core/blas.h src/core/model.h \
 src/core/model_config.h src/core/safetensors.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/blas.h:
src/core/model.h:
src/core/model_config.h:
src/core/safetensors.h:
