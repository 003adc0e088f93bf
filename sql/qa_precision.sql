-- bertqa.precision: fp32 unless asked; bf16 and int8 where this machine has
-- oneDNN kernels for them, fp32 elsewhere (qa_model_info() says which runs).
-- An answer with a clear margin is the same in every precision.  Which
-- precision runs depends on the CPU, so test/pg/precision.sh checks that
-- int8 and bf16 run where they must and move the logits (or is skipped).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS bertqa;
RESET client_min_messages;

SELECT compute_precision FROM qa_model_info();
SHOW bertqa.precision;
SELECT answer, answer_start, answer_end
FROM qa_answer('Who went home?', 'Bob went home after a long day at the office.');

-- Only the three precisions exist.
SET bertqa.precision = 'fp16';

SET bertqa.precision = 'int8';
SELECT answer, answer_start, answer_end
FROM qa_answer('Who went home?', 'Bob went home after a long day at the office.');

SET bertqa.precision = 'bf16';
SELECT answer, answer_start, answer_end
FROM qa_answer('Who went home?', 'Bob went home after a long day at the office.');

-- Back to fp32 in the same session.
RESET bertqa.precision;
SELECT compute_precision FROM qa_model_info();
