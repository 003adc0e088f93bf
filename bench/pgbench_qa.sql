-- pgbench script: answer one random SQuAD v2.0 dev question over its
-- paragraph.  bench/pgbench_run creates bench_squad and passes -D nq=<rows>.
\set n random(1, :nq)
SELECT (qa_answer(question, context)).answer FROM bench_squad WHERE n = :n;
