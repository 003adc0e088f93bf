src/core/json_number.o: src/core/json_number.c src/core/json_number.h
src/core/json_number.h:
