src/core/zip_reader.o: src/core/zip_reader.c src/core/zip_reader.h \
 src/core/bq_error.h
src/core/zip_reader.h:
src/core/bq_error.h:
