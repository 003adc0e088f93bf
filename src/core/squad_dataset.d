src/core/squad_dataset.o: src/core/squad_dataset.c \
 src/core/squad_dataset.h src/core/bq_error.h src/core/file_util.h
src/core/squad_dataset.h:
src/core/bq_error.h:
src/core/file_util.h:
