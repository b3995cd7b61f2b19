/* NVMe controller bring-up (NVMe 1.4 section 7.6.1, "Initialization"):
 * reset, admin queues, enable, Identify Controller and Namespaces, one
 * polled I/O queue pair; then one block device per active namespace
 * (nvme<N>n<NSID>). Every value the controller reports is range-checked
 * before use. The I/O path is nvme_io.c. */
#include "drivers/block/blk_drivers.h"
#include "drivers/block/nvme.h"
#include "drivers/block/nvme_regs.h"
#include "drivers/pci/pci.h"
#include "hv/core/log.h"
#include "hv/core/time.h"
#include "hv/lib/byteorder.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"
#include "hv/mm/mm.h"

#define ADMIN_ENTRIES 16
#define ADMIN_TIMEOUT_NS (5 * NS_PER_SEC)

static unsigned nvme_instances;

uint32_t nvme_read32(const struct nvme_ctrl *c, unsigned off)
{
	return *(volatile uint32_t *)(c->regs + off);
}

void nvme_write32(struct nvme_ctrl *c, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(c->regs + off) = v;
}

static void write64(struct nvme_ctrl *c, unsigned off, uint64_t v)
{
	nvme_write32(c, off, (uint32_t)v);
	nvme_write32(c, off + 4, (uint32_t)(v >> 32));
}

/* Doorbells (3.1.10, 3.1.11): SQ y tail at 1000h + 2y * stride, CQ y
 * head at 1000h + (2y + 1) * stride. */
void nvme_ring_sq(struct nvme_ctrl *c, const struct nvme_queue *q)
{
	__asm__ volatile("" ::: "memory"); /* the entry before the doorbell */
	nvme_write32(c, NVME_REG_DOORBELLS + 2u * q->qid * c->doorbell_stride, q->sq_tail);
}

void nvme_ring_cq(struct nvme_ctrl *c, struct nvme_queue *q)
{
	if (!q->cq_head_moved)
		return;
	q->cq_head_moved = false;
	nvme_write32(c, NVME_REG_DOORBELLS + (2u * q->qid + 1) * c->doorbell_stride, q->cq_head);
}

/* Waits for CSTS.RDY to equal 'ready', up to CAP.TO. */
static bool wait_ready(struct nvme_ctrl *c, bool ready, const char **why)
{
	uint64_t deadline = time_ns() + c->ready_timeout_ns;

	for (;;) {
		uint32_t csts = nvme_read32(c, NVME_REG_CSTS);
		if (csts == 0xffffffff) {
			*why = "controller does not answer (CSTS reads all ones)";
			return false;
		}
		if (!!(csts & NVME_CSTS_RDY) == ready)
			return true;
		if (ready && (csts & NVME_CSTS_CFS)) {
			*why = "controller fatal status while enabling";
			return false;
		}
		if (time_ns() > deadline) {
			*why = ready ? "controller not ready in CAP.TO" :
				       "controller reset timed out";
			return false;
		}
		__asm__ volatile("pause");
	}
}

void nvme_disable(struct nvme_ctrl *c)
{
	const char *why;

	nvme_write32(c, NVME_REG_CC, 0);
	wait_ready(c, false, &why);
}

static void *alloc_pages(size_t n)
{
	uint64_t pa = pages_alloc(n, 1);
	return pa ? phys_to_virt(pa) : NULL;
}

/* 7.6.1 steps 1-6: disable, admin queues, CC, enable. */
static bool enable(struct nvme_ctrl *c, const char **why)
{
	if (nvme_read32(c, NVME_REG_CC) & NVME_CC_EN) {
		/* Clearing EN while RDY is still 0 is undefined (3.1.6): let a
		 * controller the firmware left starting finish first. */
		wait_ready(c, true, why);
		nvme_write32(c, NVME_REG_CC, 0);
	}
	if (!wait_ready(c, false, why))
		return false;
	void *asq = alloc_pages(1), *acq = alloc_pages(1);
	if (!asq || !acq) {
		*why = "out of memory";
		return false;
	}
	nvme_queue_init(&c->admin, 0, asq, ADMIN_ENTRIES, acq, ADMIN_ENTRIES, ADMIN_ENTRIES - 1);
	nvme_write32(c, NVME_REG_INTMS, 0xffffffff); /* polled */
	nvme_write32(c, NVME_REG_AQA, NVME_AQA(ADMIN_ENTRIES, ADMIN_ENTRIES));
	write64(c, NVME_REG_ASQ, virt_to_phys(asq));
	write64(c, NVME_REG_ACQ, virt_to_phys(acq));
	nvme_write32(c, NVME_REG_CC, NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4) | NVME_CC_EN);
	return wait_ready(c, true, why);
}

/* One admin command, waited for. */
static bool admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, const char **why)
{
	uint16_t status;
	uint32_t dw0;

	if (c->admin_dead) {
		*why = "an earlier admin command timed out";
		return false;
	}
	if (!nvme_queue_submit(&c->admin, cmd, c)) {
		*why = "admin queue full";
		return false;
	}
	nvme_ring_sq(c, &c->admin);
	uint64_t deadline = time_ns() + ADMIN_TIMEOUT_NS;
	for (;;) {
		void *done = nvme_queue_reap(&c->admin, &status, &dw0);
		nvme_ring_cq(c, &c->admin);
		if (done) {
			if (status)
				*why = "admin command failed";
			return !status;
		}
		if (time_ns() > deadline) {
			/* The command stays in flight and would complete as the
			 * next one's: the controller is not used again. */
			c->admin_dead = true;
			*why = "admin command timed out";
			return false;
		}
		__asm__ volatile("pause");
	}
}

static bool identify(struct nvme_ctrl *c, uint32_t cns, uint32_t nsid, const char **why)
{
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid,
				.prp1 = virt_to_phys(c->identify), .cdw10 = cns };

	memset(c->identify, 0, NVME_PAGE_SIZE);
	return admin(c, &cmd, why);
}

/* The model number, trimmed; non-printable bytes become '?'. */
static void read_model(const uint8_t *id, char *out, size_t size)
{
	char mn[NVME_IDC_MN_LEN + 1];
	int len = NVME_IDC_MN_LEN;

	for (int i = 0; i < NVME_IDC_MN_LEN; i++) {
		uint8_t ch = id[NVME_IDC_MN + i];
		mn[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (len > 0 && (mn[len - 1] == ' ' || mn[len - 1] == '?'))
		len--;
	mn[len] = 0;
	fmt_snprintf(out, size, "NVMe %s", mn);
}

static bool identify_controller(struct nvme_ctrl *c, uint32_t *nn, const char **why)
{
	if (!identify(c, NVME_CNS_CONTROLLER, 0, why))
		return false;
	const uint8_t *id = c->identify;
	c->vwc = id[NVME_IDC_VWC] & 1;
	*nn = get_le32(id + NVME_IDC_NN);
	/* MDTS: 2^MDTS units of the minimum page size (CAP.MPSMIN = 0: 4 KiB). */
	uint8_t mdts = id[NVME_IDC_MDTS];
	c->max_transfer = NVME_MAX_TRANSFER;
	if (mdts && mdts < 20 && (NVME_PAGE_SIZE << mdts) < c->max_transfer)
		c->max_transfer = NVME_PAGE_SIZE << mdts;
	read_model(id, c->ns[0].dev.model, sizeof(c->ns[0].dev.model));
	return true;
}

/* Namespace 'nsid': active, formatted without metadata, 512-4096-byte
 * blocks. Returns false (skipped) otherwise. */
static bool identify_namespace(struct nvme_ctrl *c, uint32_t nsid, struct nvme_ns *ns)
{
	const char *why;

	if (!identify(c, NVME_CNS_NAMESPACE, nsid, &why))
		return false;
	const uint8_t *id = c->identify;
	uint64_t blocks = get_le64(id + NVME_IDNS_NSZE);
	unsigned fmt = id[NVME_IDNS_FLBAS] & 0xf;
	if (!blocks || fmt > id[NVME_IDNS_NLBAF])
		return false; /* inactive, or a format index the list lacks */
	uint32_t lbaf = get_le32(id + NVME_IDNS_LBAF0 + 4 * fmt);
	unsigned lbads = (lbaf >> 16) & 0xff;
	if ((lbaf & 0xffff) || lbads < 9 || lbads > 12) {
		log_warn("blk: nvme%un%u: LBA format %u (2^%u bytes, %u metadata) not supported",
			 c->instance, nsid, fmt, lbads, lbaf & 0xffff);
		return false;
	}
	struct blockdev *d = &ns->dev;
	fmt_snprintf(d->name, sizeof(d->name), "nvme%un%u", c->instance, nsid);
	d->blocks = blocks;
	d->block_size = 1u << lbads;
	d->read_only = id[NVME_IDNS_NSATTR] & 1;
	ns->ctrl = c;
	ns->nsid = nsid;
	return true;
}

static bool create_io_queues(struct nvme_ctrl *c, const char **why)
{
	uint32_t entries = NVME_CAP_MQES(c->cap) + 1;

	if (entries > NVME_IO_QUEUE_ENTRIES)
		entries = NVME_IO_QUEUE_ENTRIES;
	if (entries < 2) {
		*why = "CAP.MQES too small";
		return false;
	}
	void *sq = alloc_pages(1), *cq = alloc_pages(1);
	if (!sq || !cq) {
		*why = "out of memory";
		return false;
	}
	uint16_t depth = (uint16_t)(entries - 1 < NVME_IO_DEPTH ? entries - 1 : NVME_IO_DEPTH);
	nvme_queue_init(&c->io, 1, sq, (uint16_t)entries, cq, (uint16_t)entries, depth);
	/* The CQ first (it is named by the SQ), interrupts off (IEN = 0). */
	struct nvme_sqe mkcq = { .opcode = NVME_ADMIN_CREATE_CQ, .prp1 = virt_to_phys(cq),
				 .cdw10 = NVME_QUEUE_CDW10(1, entries), .cdw11 = NVME_CQ_PC };
	struct nvme_sqe mksq = { .opcode = NVME_ADMIN_CREATE_SQ, .prp1 = virt_to_phys(sq),
				 .cdw10 = NVME_QUEUE_CDW10(1, entries),
				 .cdw11 = NVME_SQ_CDW11(1) };
	return admin(c, &mkcq, why) && admin(c, &mksq, why);
}

static bool alloc_io_memory(struct nvme_ctrl *c, const char **why)
{
	bool ok = (c->bounce = alloc_pages(c->max_transfer / NVME_PAGE_SIZE)) != NULL;

	for (unsigned i = 0; i < NVME_IO_DEPTH; i++)
		ok = ok && (c->slots[i].prp_list = alloc_pages(1)) != NULL;
	if (!ok)
		*why = "out of memory";
	return ok;
}

/* Maps BAR0 and reads CAP; the controller must offer the NVM command set
 * and 4 KiB pages. */
static bool open_registers(struct nvme_ctrl *c, struct pci_device *pci, const char **why)
{
	if (pci->bar[0].io || pci->bar[0].size < 0x2000 || !(c->regs = pci_map_bar(pci, 0))) {
		*why = "BAR0 is not a usable memory BAR";
		return false;
	}
	pci_enable(pci);
	c->cap = (uint64_t)nvme_read32(c, NVME_REG_CAP) |
		 (uint64_t)nvme_read32(c, NVME_REG_CAP + 4) << 32;
	if (c->cap == ~0ull || !NVME_CAP_CSS_NVM(c->cap) || NVME_CAP_MPSMIN(c->cap) != 0) {
		*why = "CAP: no NVM command set or no 4 KiB pages";
		return false;
	}
	c->doorbell_stride = 4u << NVME_CAP_DSTRD(c->cap);
	if (NVME_REG_DOORBELLS + 4ull * c->doorbell_stride > pci->bar[0].size) {
		*why = "doorbells outside BAR0";
		return false;
	}
	uint32_t to = NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1;
	c->ready_timeout_ns = to * 500 * NS_PER_MS;
	return true;
}

static bool bring_up(struct nvme_ctrl *c, struct pci_device *pci, uint32_t *nn,
		     const char **why)
{
	return open_registers(c, pci, why) && (c->identify = alloc_pages(1)) &&
	       enable(c, why) && identify_controller(c, nn, why) && alloc_io_memory(c, why) &&
	       create_io_queues(c, why);
}

static unsigned nvme_probe(struct pci_device *pci)
{
	struct nvme_ctrl *c = kzalloc(sizeof(*c));
	const char *why = "out of memory";
	uint32_t nn = 0;
	char model[48];

	if (!c || !bring_up(c, pci, &nn, &why))
		goto fail;
	c->pci = pci;
	c->instance = nvme_instances;
	str_copy(model, c->ns[0].dev.model, sizeof(model));
	/* NN is the controller's word: a huge one must not mean billions of
	 * Identify commands (or a wrap to 0). */
	if (nn > NVME_MAX_NSID_SCAN)
		nn = NVME_MAX_NSID_SCAN;
	for (uint32_t nsid = 1; nsid <= nn && c->nns < NVME_MAX_NAMESPACES && !c->admin_dead;
	     nsid++) {
		struct nvme_ns *ns = &c->ns[c->nns];
		if (!identify_namespace(c, nsid, ns))
			continue;
		struct blockdev *d = &ns->dev;
		str_copy(d->model, model, sizeof(d->model));
		d->max_transfer = c->max_transfer;
		d->queue_depth = c->io.depth;
		d->volatile_cache = c->vwc;
		d->ops = &nvme_blk_ops;
		d->priv = ns;
		if (blk_register(d) < 0)
			break;
		c->nns++;
	}
	if (!c->nns) {
		why = "no usable namespace";
		goto fail;
	}
	nvme_instances++;
	return c->nns;
fail:
	log_warn("blk: NVMe at %02x:%02x.%x: %s", pci->bus, pci->dev, pci->fn, why);
	if (c && c->regs)
		nvme_disable(c); /* its queues' memory stays allocated: never reused */
	return 0;
}

static bool nvme_matches(const struct pci_device *pci)
{
	return pci->class_code == NVME_PCI_CLASS && pci->subclass == NVME_PCI_SUBCLASS &&
	       pci->prog_if == NVME_PCI_PROG_IF;
}

const struct blk_driver nvme_driver = {
	.name = "nvme",
	.matches = nvme_matches,
	.probe = nvme_probe,
};
