src/core/blas.o: src/core/blas.c src/core/blas.h src/core/bq_error.h
src/core/blas.h:
src/core/bq_error.h:
