/* x86-64 base pages: the unit of every allocator, map and table here. */
#ifndef HV_X86_PAGE_H
#define HV_X86_PAGE_H

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ull
#define PAGE_MASK (PAGE_SIZE - 1)

#endif
