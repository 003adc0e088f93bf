src/core/model_export.o: src/core/model_export.c src/core/model_export.h \
 src/core/bq_error.h src/core/model.h src/core/tokenizer.h \
 src/core/vocab.h src/core/model_config.h src/core/safetensors.h
src/core/model_export.h:
src/core/bq_error.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/model_config.h:
src/core/safetensors.h:
