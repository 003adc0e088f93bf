src/cli/cmd_init_model.o: src/cli/cmd_init_model.c src/cli/cli.h \
 src/core/bq_error.h src/core/qa.h src/core/bq_error.h src/core/encoder.h \
 src/core/model.h src/core/tokenizer.h src/core/vocab.h \
 src/cli/cli_random.h src/core/file_util.h src/core/model.h \
 src/core/model_config.h src/core/safetensors.h src/core/safetensors.h \
 src/core/vocab.h
src/cli/cli.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/cli/cli_random.h:
src/core/file_util.h:
src/core/model.h:
src/core/model_config.h:
src/core/safetensors.h:
src/core/safetensors.h:
src/core/vocab.h:
