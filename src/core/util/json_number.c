/*
 * json_number.c - Python-compatible text for doubles.
 *
 * Python prints a float with the fewest significant digits that read back to
 * the same double.  C has no such conversion, but glibc's printf and strtod
 * are correctly rounded, so the shortest digit string is found by asking for
 * 1, 2, ... 17 significant digits until one reads back.  The digits are then
 * laid out with Python's rules for repr().
 */
#include "json_number.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A positive decimal: digits d1 d2 ... dn meaning d1.d2...dn x 10^exponent. */
typedef struct DecimalDigits
{
	char		digits[24];		/* ASCII digits, no sign or point, NUL-terminated */
	int			n;
	int			exponent;
} DecimalDigits;

/*
 * Take the digits and exponent out of printf's "%.*e" output.
 */
static void
parse_scientific(const char *text, DecimalDigits *dec)
{
	const char *p = text;

	dec->n = 0;
	for (; *p != 'e'; p++)
	{
		if (*p >= '0' && *p <= '9')
			dec->digits[dec->n++] = *p;
	}
	dec->digits[dec->n] = '\0';
	dec->exponent = atoi(p + 1);
}

/*
 * The double nearest to the decimal (strtod rounds correctly).
 */
static double
decimal_value(const DecimalDigits *dec)
{
	char		text[48];

	snprintf(text, sizeof(text), "%se%d", dec->digits, dec->exponent - (dec->n - 1));
	return strtod(text, NULL);
}

/*
 * Step to the next decimal with as many digits (1.99 -> 2.00, 9.9 -> 1.0e+1).
 */
static void
increment_last_digit(DecimalDigits *dec)
{
	int			i = dec->n - 1;

	while (i >= 0 && dec->digits[i] == '9')
		dec->digits[i--] = '0';
	if (i >= 0)
		dec->digits[i]++;
	else
	{
		dec->digits[0] = '1';
		dec->exponent++;
	}
}

/*
 * Find the shortest decimal that reads back as 'magnitude' (finite, > 0).
 *
 * The correctly rounded n-digit decimal is the nearest one, so it reads back
 * whenever any n-digit decimal does, except at a power of two: there the gap
 * to the next double below is half the gap above, and the nearest decimal
 * may lie just too far below while the next one up still reads back.
 */
static void
shortest_decimal(double magnitude, DecimalDigits *dec)
{
	char		text[48];
	int			binary_exponent;
	bool		power_of_two = frexp(magnitude, &binary_exponent) == 0.5;

	for (int precision = 1; precision <= 17; precision++)
	{
		snprintf(text, sizeof(text), "%.*e", precision - 1, magnitude);
		parse_scientific(text, dec);
		if (decimal_value(dec) == magnitude)
			break;
		if (power_of_two)
		{
			DecimalDigits above = *dec;

			increment_last_digit(&above);
			if (decimal_value(&above) == magnitude)
			{
				*dec = above;
				break;
			}
		}
	}
	/* (17 significant digits always read back, so the loop always breaks) */
	while (dec->n > 1 && dec->digits[dec->n - 1] == '0')
		dec->digits[--dec->n] = '\0';
}

/*
 * Format like Python's float repr, which json.dumps uses.
 */
void
bq_format_double(double value, char out[BQ_DOUBLE_TEXT_SIZE])
{
	static const char zeros[] = "0000000000000000";
	DecimalDigits dec;
	const char *sign = signbit(value) ? "-" : "";
	int			point;			/* digits before the decimal point */

	if (isnan(value))
	{
		strcpy(out, "NaN");
		return;
	}
	if (isinf(value))
	{
		strcpy(out, value > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (value == 0.0)
	{
		snprintf(out, BQ_DOUBLE_TEXT_SIZE, "%s0.0", sign);
		return;
	}

	shortest_decimal(fabs(value), &dec);
	point = dec.exponent + 1;
	if (point <= -4 || point > 16)
		snprintf(out, BQ_DOUBLE_TEXT_SIZE, "%s%c%s%.*se%+03d", sign, dec.digits[0],
				 dec.n > 1 ? "." : "", dec.n - 1, dec.digits + 1, dec.exponent);
	else if (point <= 0)
		snprintf(out, BQ_DOUBLE_TEXT_SIZE, "%s0.%.*s%s", sign, -point, zeros, dec.digits);
	else if (point >= dec.n)
		snprintf(out, BQ_DOUBLE_TEXT_SIZE, "%s%s%.*s.0", sign, dec.digits, point - dec.n, zeros);
	else
		snprintf(out, BQ_DOUBLE_TEXT_SIZE, "%s%.*s.%s", sign, point, dec.digits,
				 dec.digits + point);
}
