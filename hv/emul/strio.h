/* INS and OUTS (with or without REP) carried out for the guest, element by
 * element, as the CPU would: the memory operand through segmentation
 * (hv/emul/segment.h) and the guest's paging with the access rights of its
 * CPL (hv/emul/gwalk.h), an element that crosses a page translated in two
 * parts, and every check made before the port is touched, so a faulting
 * element has no effect and the instruction restarts at it. */
#ifndef HV_EMUL_STRIO_H
#define HV_EMUL_STRIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/emul/fault.h"
#include "hv/emul/gwalk.h"
#include "hv/emul/segment.h"

/* What a guest physical range is. */
enum strio_mem { STRIO_MEM_RAM, STRIO_MEM_NONE, STRIO_MEM_POISONED };

/* The VM's side: guest RAM (writes go through the dirty log) and ports. */
struct strio_ops {
	enum strio_mem (*mem_kind)(void *ctx, uint64_t gpa, size_t len);
	void (*mem_read)(void *ctx, uint64_t gpa, void *buf, size_t len);
	void (*mem_write)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	uint32_t (*port_in)(void *ctx, uint16_t port, unsigned size);
	/* false: the write stopped the VM */
	bool (*port_out)(void *ctx, uint16_t port, unsigned size, uint32_t value);
};

struct strio {
	/* the instruction, from the exit */
	uint16_t port;
	uint8_t size;      /* element: 1, 2 or 4 bytes */
	uint8_t addr_size; /* 2, 4 or 8 */
	bool in, rep;
	/* the CPU */
	enum emul_mode mode;
	struct emul_segment seg; /* ES for INS; DS or the override for OUTS */
	bool df;                 /* RFLAGS.DF: the index goes down */
	const struct gwalk *walk;
	unsigned budget;         /* elements before STRIO_MORE (at least 1) */
	const struct strio_ops *ops;
	void *ctx;
	/* in and out: after the call they count the elements done */
	uint64_t rcx, rsi, rdi;
	/* out */
	struct emul_fault fault; /* STRIO_FAULT */
	uint64_t bad_la;         /* STRIO_UNMAPPED: the linear address */
	uint64_t bad_gpa;        /* STRIO_UNMAPPED, STRIO_POISONED */
};

enum strio_result {
	STRIO_DONE,     /* finished: the instruction is over */
	STRIO_MORE,     /* budget used: run the same instruction again */
	STRIO_FAULT,    /* raise s->fault; the instruction restarts */
	STRIO_STOPPED,  /* a port write stopped the VM */
	STRIO_UNMAPPED, /* the buffer or its page tables lie outside guest RAM */
	STRIO_POISONED, /* the buffer is in a poisoned page */
};

enum strio_result strio_run(struct strio *s);

#endif
