src/core/encoder.o: src/core/encoder.c src/core/encoder.h \
 src/core/bq_error.h src/core/model.h src/core/tokenizer.h \
 src/core/vocab.h src/core/blas.h src/core/kernels.h
src/core/encoder.h:
src/core/bq_error.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/blas.h:
src/core/kernels.h:
