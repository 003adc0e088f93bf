src/core/safetensors.o: src/core/safetensors.c src/core/safetensors.h \
 src/core/bq_error.h src/core/file_util.h
src/core/safetensors.h:
src/core/bq_error.h:
src/core/file_util.h:
