src/core/qa.o: src/core/qa.c src/core/qa.h src/core/bq_error.h \
 src/core/encoder.h src/core/model.h src/core/tokenizer.h \
 src/core/vocab.h src/core/squad_features.h src/core/squad_postprocess.h
src/core/qa.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/squad_features.h:
src/core/squad_postprocess.h:
