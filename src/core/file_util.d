src/core/file_util.o: src/core/file_util.c src/core/file_util.h \
 src/core/bq_error.h
src/core/file_util.h:
src/core/bq_error.h:
