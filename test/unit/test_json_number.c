/*
 * test_json_number.c - doubles written as Python's json.dumps writes them.
 * The expected texts are Python 3's repr() of the same values.
 */
#include "json_number.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"

static void
check_format(double value, const char *want)
{
	char		got[BQ_DOUBLE_TEXT_SIZE];

	bq_format_double(value, got);
	CHECK_STR_EQ(got, want);
}

static void
test_layouts(void)
{
	check_format(0.0, "0.0");
	check_format(-0.0, "-0.0");
	check_format(1.0, "1.0");
	check_format(100.0, "100.0");
	check_format(-2.5, "-2.5");
	check_format(0.1, "0.1");
	check_format(0.2, "0.2");
	check_format(78.74168280973637, "78.74168280973637");
	check_format(100.0 / 3.0, "33.333333333333336");
	check_format(0.0001, "0.0001");
	check_format(0.00001, "1e-05");
	check_format(0.000015, "1.5e-05");
	check_format(1234567890123456.0, "1234567890123456.0");
	check_format(1e16, "1e+16");
	check_format(12345678901234567.0, "1.2345678901234568e+16");
	check_format(1e22, "1e+22");
	check_format(1.7976931348623157e308, "1.7976931348623157e+308");
	check_format(5e-324, "5e-324");
	check_format(-1.9692068099975586, "-1.9692068099975586");
	check_format(INFINITY, "Infinity");
	check_format(-INFINITY, "-Infinity");
	check_format(NAN, "NaN");
}

/*
 * Powers of two, where the nearest decimal of a given length may not read
 * back but the next one up does (Python picks that shorter one).
 */
static void
test_powers_of_two(void)
{
	check_format(ldexp(1.0, -1017), "7.120236347223045e-307");
	check_format(ldexp(1.0, -1007), "7.291122019556398e-304");
	check_format(ldexp(1.0, 60), "1.152921504606847e+18");
	check_format(ldexp(1.0, 52), "4503599627370496.0");
}

/*
 * Whatever the value, the text reads back to the same double.
 */
static void
test_round_trip(void)
{
	unsigned int seed = 12345;

	for (int i = 0; i < 100000; i++)
	{
		uint64_t	bits = 0;
		double		value;
		char		text[BQ_DOUBLE_TEXT_SIZE];

		for (int k = 0; k < 4; k++)
		{
			seed = seed * 1103515245u + 12345u;
			bits = (bits << 16) | ((seed >> 8) & 0xffff);
		}
		memcpy(&value, &bits, sizeof(value));
		if (!isfinite(value))
			continue;
		bq_format_double(value, text);
		CHECK(strtod(text, NULL) == value);
	}
}

int
main(int argc, char **argv)
{
	unit_select(argc, argv);
	RUN_TEST(test_layouts);
	RUN_TEST(test_powers_of_two);
	RUN_TEST(test_round_trip);
	UNIT_DONE();
}
