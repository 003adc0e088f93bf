src/pg/pg_squad_eval.o: src/pg/pg_squad_eval.c src/pg/pg_bertqa.h \
 /usr/include/postgresql/15/server/postgres.h \
 /usr/include/postgresql/15/server/c.h \
 /usr/include/postgresql/15/server/postgres_ext.h \
 /usr/include/postgresql/15/server/pg_config_ext.h \
 /usr/include/postgresql/15/server/pg_config.h \
 /usr/include/postgresql/15/server/pg_config_manual.h \
 /usr/include/postgresql/15/server/pg_config_os.h \
 /usr/include/postgresql/15/server/port.h \
 /usr/include/postgresql/15/server/utils/elog.h \
 /usr/include/postgresql/15/server/utils/errcodes.h \
 /usr/include/postgresql/15/server/utils/palloc.h src/core/bq_error.h \
 src/core/encoder.h src/core/bq_error.h src/core/model.h \
 src/core/tokenizer.h src/core/vocab.h src/core/model.h src/core/qa.h \
 src/core/encoder.h /usr/include/postgresql/15/server/fmgr.h \
 /usr/include/postgresql/15/server/lib/stringinfo.h src/core/squad_eval.h \
 src/core/squad_dataset.h \
 /usr/include/postgresql/15/server/utils/builtins.h \
 /usr/include/postgresql/15/server/nodes/nodes.h \
 /usr/include/postgresql/15/server/utils/fmgrprotos.h \
 /usr/include/postgresql/15/server/utils/jsonb.h \
 /usr/include/postgresql/15/server/utils/array.h \
 /usr/include/postgresql/15/server/utils/expandeddatum.h \
 /usr/include/postgresql/15/server/utils/numeric.h
src/pg/pg_bertqa.h:
/usr/include/postgresql/15/server/postgres.h:
/usr/include/postgresql/15/server/c.h:
/usr/include/postgresql/15/server/postgres_ext.h:
/usr/include/postgresql/15/server/pg_config_ext.h:
/usr/include/postgresql/15/server/pg_config.h:
/usr/include/postgresql/15/server/pg_config_manual.h:
/usr/include/postgresql/15/server/pg_config_os.h:
/usr/include/postgresql/15/server/port.h:
/usr/include/postgresql/15/server/utils/elog.h:
/usr/include/postgresql/15/server/utils/errcodes.h:
/usr/include/postgresql/15/server/utils/palloc.h:
src/core/bq_error.h:
src/core/encoder.h:
src/core/bq_error.h:
src/core/model.h:
src/core/tokenizer.h:
src/core/vocab.h:
src/core/model.h:
src/core/qa.h:
src/core/encoder.h:
/usr/include/postgresql/15/server/fmgr.h:
/usr/include/postgresql/15/server/lib/stringinfo.h:
src/core/squad_eval.h:
src/core/squad_dataset.h:
/usr/include/postgresql/15/server/utils/builtins.h:
/usr/include/postgresql/15/server/nodes/nodes.h:
/usr/include/postgresql/15/server/utils/fmgrprotos.h:
/usr/include/postgresql/15/server/utils/jsonb.h:
/usr/include/postgresql/15/server/utils/array.h:
/usr/include/postgresql/15/server/utils/expandeddatum.h:
/usr/include/postgresql/15/server/utils/numeric.h:
