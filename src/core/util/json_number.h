/*
 * json_number.h - writing doubles the way Python's json module does, so that
 * bertqa's reports can be compared with Python tools' output as text.
 */
#ifndef BQ_JSON_NUMBER_H
#define BQ_JSON_NUMBER_H

/* Room for any text bq_format_double writes, NUL included. */
#define BQ_DOUBLE_TEXT_SIZE 32

/*
 * Write 'value' as Python's json.dumps does (float.__repr__): the shortest
 * decimal that reads back to the same double, "0.0"-style for integral
 * values, exponent form ("1e-05", "1.5e+16") below 1e-4 and from 1e16 on;
 * NaN and infinities as NaN, Infinity, -Infinity.
 */
void		bq_format_double(double value, char out[BQ_DOUBLE_TEXT_SIZE]);

#endif							/* BQ_JSON_NUMBER_H */
