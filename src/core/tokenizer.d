src/core/tokenizer.o: src/core/tokenizer.c src/core/tokenizer.h \
 src/core/bq_error.h src/core/vocab.h
src/core/tokenizer.h:
src/core/bq_error.h:
src/core/vocab.h:
