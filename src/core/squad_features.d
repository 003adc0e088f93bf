src/core/squad_features.o: src/core/squad_features.c \
 src/core/squad_features.h src/core/bq_error.h src/core/qa.h \
 src/core/encoder.h src/core/model.h src/core/tokenizer.h \
 src/core/vocab.h
src/core/squad_features.h:
src/core/bq_error.h:
src/core/qa.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
