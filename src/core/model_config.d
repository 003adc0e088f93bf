src/core/model_config.o: src/core/model_config.c src/core/model_config.h \
 src/core/bq_error.h src/core/model.h src/core/tokenizer.h \
 src/core/vocab.h src/core/safetensors.h src/core/file_util.h
src/core/model_config.h:
src/core/bq_error.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/safetensors.h:
src/core/file_util.h:
