src/core/vocab.o: src/core/vocab.c src/core/vocab.h src/core/bq_error.h \
 src/core/file_util.h
src/core/vocab.h:
src/core/bq_error.h:
src/core/file_util.h:
