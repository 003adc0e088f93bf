src/core/kernels.o: src/core/kernels.c src/core/kernels.h
src/core/kernels.h:
