#ifndef HV_X86_BENCH_KERNEL_H
#define HV_X86_BENCH_KERNEL_H

#include <stdint.h>

uint32_t bench_kernel(uint32_t n);

#endif
