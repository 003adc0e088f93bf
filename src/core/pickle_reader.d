src/core/pickle_reader.o: src/core/pickle_reader.c \
 src/core/pickle_reader.h src/core/bq_error.h
src/core/pickle_reader.h:
src/core/bq_error.h:
