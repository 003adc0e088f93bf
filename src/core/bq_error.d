src/core/bq_error.o: src/core/bq_error.c src/core/bq_error.h
src/core/bq_error.h:
