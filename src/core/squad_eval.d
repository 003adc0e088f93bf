src/core/squad_eval.o: src/core/squad_eval.c src/core/squad_eval.h \
 src/core/bq_error.h src/core/squad_dataset.h src/core/file_util.h \
 src/core/json_number.h
src/core/squad_eval.h:
src/core/bq_error.h:
src/core/squad_dataset.h:
src/core/file_util.h:
src/core/json_number.h:
