src/core/nemo_archive.o: src/core/nemo_archive.c src/core/nemo_archive.h \
 src/core/bq_error.h src/core/model.h src/core/tokenizer.h \
 src/core/vocab.h src/core/model_config.h src/core/safetensors.h \
 src/core/torch_checkpoint.h src/core/zip_reader.h
src/core/nemo_archive.h:
src/core/bq_error.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/model_config.h:
src/core/safetensors.h:
src/core/torch_checkpoint.h:
src/core/zip_reader.h:
