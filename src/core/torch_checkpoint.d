src/core/torch_checkpoint.o: src/core/torch_checkpoint.c \
 src/core/torch_checkpoint.h src/core/bq_error.h src/core/safetensors.h \
 src/core/pickle_reader.h src/core/zip_reader.h
src/core/torch_checkpoint.h:
src/core/bq_error.h:
src/core/safetensors.h:
src/core/pickle_reader.h:
src/core/zip_reader.h:
