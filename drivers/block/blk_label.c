/* Partition tables and file systems by their on-disk signatures; see
 * blk_label.h. Every offset below is from the format's specification:
 * GPT from UEFI 2.10 section 5.3, the MBR from section 5.2.1, FAT from
 * Microsoft's FAT specification (BPB fields, cluster-count rule), ext2's
 * superblock at byte 1024 (magic 0xEF53 at offset 56), ISO 9660 (ECMA-119
 * 8.1: volume descriptors from byte 32768, identifier "CD001"). */
#include "drivers/block/blk_label.h"

#include "hv/lib/byteorder.h"
#include "hv/lib/crc32.h"
#include "hv/lib/format.h"
#include "hv/lib/string.h"

/* MBR (UEFI 5.2.1): four 16-byte records from byte 446, signature at 510. */
#define MBR_RECORDS 446
#define MBR_SIGNATURE 510
#define MBR_TYPE_GPT_PROTECTIVE 0xee

/* GPT header fields (UEFI 5.3.2, table 5-5). */
#define GPT_SIGNATURE "EFI PART"
#define GPT_HDR_SIZE 12
#define GPT_HDR_CRC 16
#define GPT_MY_LBA 24
#define GPT_FIRST_USABLE 40
#define GPT_LAST_USABLE 48
#define GPT_ENTRIES_LBA 72
#define GPT_NUM_ENTRIES 80
#define GPT_ENTRY_SIZE 84
#define GPT_ENTRIES_CRC 88
#define GPT_HDR_MIN 92
/* GPT partition entry (UEFI 5.3.3, table 5-6). */
#define GPTE_TYPE 0
#define GPTE_FIRST 32
#define GPTE_LAST 40
#define GPTE_NAME 56
#define GPTE_NAME_CHARS 36

#define EXT_MAGIC_OFFSET (1024 + 56)
#define EXT_MAGIC 0xef53
#define ISO_VD_OFFSET 32768

static void problem(struct blk_label *l, const char *what)
{
	str_copy(l->problem, what, sizeof(l->problem));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool is_zero_guid(const uint8_t *g)
{
	return all_zero(g, 16);
}

static void copy_name(char out[37], const uint8_t *utf16)
{
	unsigned i;

	for (i = 0; i < GPTE_NAME_CHARS; i++) {
		uint16_t c = get_le16(utf16 + 2 * i);
		if (!c)
			break;
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[i] = 0;
}

/* The header at LBA 1, checked as UEFI 5.3.2 requires; NULL (with the
 * reason) when it fails. */
static const uint8_t *gpt_header(const uint8_t *head, size_t head_len, uint32_t bs,
				 uint64_t blocks, struct blk_label *l)
{
	const uint8_t *h = head + bs;
	uint8_t copy[512];

	if (head_len < 2ull * bs || blocks < 3)
		return problem(l, "GPT: device too small"), NULL;
	uint32_t size = get_le32(h + GPT_HDR_SIZE);
	if (size < GPT_HDR_MIN || size > bs || size > sizeof(copy))
		return problem(l, "GPT: header size out of range"), NULL;
	memcpy(copy, h, size);
	memset(copy + GPT_HDR_CRC, 0, 4); /* the CRC covers the header with its field zeroed */
	if (crc32(0, copy, size) != get_le32(h + GPT_HDR_CRC))
		return problem(l, "GPT: header CRC mismatch"), NULL;
	if (get_le64(h + GPT_MY_LBA) != 1)
		return problem(l, "GPT: header MyLBA is not 1"), NULL;
	uint64_t first = get_le64(h + GPT_FIRST_USABLE), last = get_le64(h + GPT_LAST_USABLE);
	if (first > last || last >= blocks)
		return problem(l, "GPT: usable LBA range outside the device"), NULL;
	return h;
}

/* The entry array the header names, if it lies in 'head' and its CRC holds. */
static const uint8_t *gpt_entries(const uint8_t *h, const uint8_t *head, size_t head_len,
				  uint32_t bs, uint32_t *count, uint32_t *esize,
				  struct blk_label *l)
{
	uint64_t lba = get_le64(h + GPT_ENTRIES_LBA);
	*count = get_le32(h + GPT_NUM_ENTRIES);
	*esize = get_le32(h + GPT_ENTRY_SIZE);

	/* The entry size is 128 x 2^n (UEFI 5.3.2). */
	if (*esize < 128 || *esize > 4096 || (*esize & (*esize - 1)))
		return problem(l, "GPT: entry size is not 128 x 2^n"), NULL;
	uint64_t bytes = (uint64_t)*count * *esize;
	if (lba < 2 || lba > head_len / bs || bytes > head_len - lba * bs)
		return problem(l, "GPT: entry array beyond the examined blocks"), NULL;
	const uint8_t *e = head + lba * bs;
	if (crc32(0, e, (size_t)bytes) != get_le32(h + GPT_ENTRIES_CRC))
		return problem(l, "GPT: entry array CRC mismatch"), NULL;
	return e;
}

static void gpt_list(const uint8_t *h, const uint8_t *e, uint32_t count, uint32_t esize,
		     struct blk_label *l)
{
	uint64_t first = get_le64(h + GPT_FIRST_USABLE), last = get_le64(h + GPT_LAST_USABLE);

	for (uint32_t i = 0; i < count; i++, e += esize) {
		if (is_zero_guid(e + GPTE_TYPE))
			continue; /* unused entry */
		uint64_t a = get_le64(e + GPTE_FIRST), b = get_le64(e + GPTE_LAST);
		if (a > b || a < first || b > last) {
			if (!l->problem[0])
				fmt_snprintf(l->problem, sizeof(l->problem),
					     "GPT: entry %u outside the usable LBAs", i + 1);
			continue;
		}
		l->parts_total++;
		if (l->nparts == BLK_LABEL_MAX_PARTS)
			continue;
		struct blk_partition *p = &l->parts[l->nparts++];
		*p = (struct blk_partition){ .number = i + 1, .first_lba = a, .last_lba = b };
		memcpy(p->type_guid, e + GPTE_TYPE, 16);
		copy_name(p->name, e + GPTE_NAME);
	}
}

static void analyze_gpt(const uint8_t *head, size_t head_len, uint32_t bs, uint64_t blocks,
			struct blk_label *l)
{
	uint32_t count, esize;

	l->content = BLK_CONTENT_GPT;
	const uint8_t *h = gpt_header(head, head_len, bs, blocks, l);
	if (!h)
		return;
	const uint8_t *e = gpt_entries(h, head, head_len, bs, &count, &esize, l);
	if (e)
		gpt_list(h, e, count, esize, l);
}

/* The MBR's records; a record with a boot flag other than 0x00/0x80 means
 * this is no MBR. Returns whether any record is in use. */
static bool mbr_records(const uint8_t *head, bool *protective, struct blk_label *l)
{
	bool any = false;

	*protective = false;
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *r = head + MBR_RECORDS + 16 * i;
		if (r[0] != 0 && r[0] != 0x80)
			return false;
		if (!r[4])
			continue;
		any = true;
		*protective |= r[4] == MBR_TYPE_GPT_PROTECTIVE;
		uint32_t start = get_le32(r + 8), count = get_le32(r + 12);
		if (l && count && l->nparts < BLK_LABEL_MAX_PARTS) {
			l->parts_total++;
			l->parts[l->nparts++] = (struct blk_partition){
				.number = i + 1, .mbr_type = r[4], .first_lba = start,
				.last_lba = (uint64_t)start + count - 1 };
		}
	}
	return any;
}

/* A FAT boot sector's BPB, checked field by field; the FAT type follows
 * from the count of data clusters (Microsoft FAT spec, section 3.5). */
static const char *fat_type(const uint8_t *b)
{
	if (b[0] != 0xeb && b[0] != 0xe9)
		return NULL;
	uint16_t bps = get_le16(b + 11), reserved = get_le16(b + 14), root = get_le16(b + 17);
	uint8_t spc = b[13], nfats = b[16], media = b[21];
	if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || !spc || (spc & (spc - 1)) ||
	    !reserved || !nfats || (media != 0xf0 && media < 0xf8))
		return NULL;
	uint32_t fatsz = get_le16(b + 22) ? get_le16(b + 22) : get_le32(b + 36);
	uint32_t total = get_le16(b + 19) ? get_le16(b + 19) : get_le32(b + 32);
	uint64_t meta = reserved + (uint64_t)nfats * fatsz + ((uint32_t)root * 32 + bps - 1) / bps;
	if (!fatsz || total <= meta)
		return NULL;
	uint64_t clusters = (total - meta) / spc;
	return clusters < 4085 ? "fat12" : clusters < 65525 ? "fat16" : "fat32";
}

static bool mbr_signed(const uint8_t *head, size_t head_len)
{
	return head_len >= 512 && head[MBR_SIGNATURE] == 0x55 && head[MBR_SIGNATURE + 1] == 0xaa;
}

/* A file system by its magic, or false. */
static bool analyze_fs(const uint8_t *head, size_t head_len, struct blk_label *l)
{
	const char *fat = mbr_signed(head, head_len) ? fat_type(head) : NULL;

	if (fat) {
		l->content = BLK_CONTENT_FAT;
		l->fs = fat;
	} else if (head_len >= EXT_MAGIC_OFFSET + 2 &&
		   get_le16(head + EXT_MAGIC_OFFSET) == EXT_MAGIC) {
		l->content = BLK_CONTENT_EXT;
		l->fs = "ext2/3/4";
	} else if (head_len >= ISO_VD_OFFSET + 6 &&
		   !memcmp(head + ISO_VD_OFFSET + 1, "CD001", 5)) {
		l->content = BLK_CONTENT_ISO9660;
		l->fs = "iso9660";
	} else {
		return false;
	}
	return true;
}

void blk_label_analyze(const uint8_t *head, size_t head_len, uint32_t block_size,
		       uint64_t blocks, struct blk_label *out)
{
	bool protective = false;

	*out = (struct blk_label){ .content = BLK_CONTENT_UNKNOWN, .fs = "" };
	if (all_zero(head, head_len)) {
		out->content = BLK_CONTENT_EMPTY;
		return;
	}
	bool gpt_sig = head_len >= 2ull * block_size &&
		       !memcmp(head + block_size, GPT_SIGNATURE, 8);
	bool mbr = mbr_signed(head, head_len) && !fat_type(head) &&
		   mbr_records(head, &protective, NULL);
	if (gpt_sig || (mbr && protective)) {
		analyze_gpt(head, head_len, block_size, blocks, out);
		return;
	}
	if (analyze_fs(head, head_len, out))
		return;
	if (mbr) {
		out->content = BLK_CONTENT_MBR;
		mbr_records(head, &protective, out);
	}
}

int blk_label_read(struct blockdev *dev, uint8_t *scratch, struct blk_label *out)
{
	uint64_t bytes = BLK_LABEL_HEAD_BYTES;

	if (dev->blocks * dev->block_size < bytes) /* fewer than 64 KiB */
		bytes = dev->blocks * dev->block_size;
	memset(scratch, 0, BLK_LABEL_HEAD_BYTES);
	int rc = blk_io(dev, BLK_OP_READ, 0, scratch, bytes, false);
	if (rc == BLK_OK)
		blk_label_analyze(scratch, (size_t)bytes, dev->block_size, dev->blocks, out);
	return rc;
}

static uint8_t shared_scratch[BLK_LABEL_HEAD_BYTES];
static struct blk_label shared_label;

int blk_label_partition(struct blockdev *dev, unsigned number, struct blk_partition *out)
{
	struct blk_label *l = &shared_label;

	if (blk_label_read(dev, shared_scratch, l) != BLK_OK || l->content != BLK_CONTENT_GPT)
		return -1;
	for (unsigned i = 0; i < l->nparts; i++) {
		if (l->parts[i].number == number) {
			*out = l->parts[i];
			return 0;
		}
	}
	return -1;
}

bool blk_label_describe(struct blockdev *dev, char *out, size_t len)
{
	if (blk_label_read(dev, shared_scratch, &shared_label) != BLK_OK)
		return false;
	str_copy(out, blk_content_name(shared_label.content), len);
	return true;
}

int blk_label_find_type(const struct blk_label *l, const uint8_t type[16], unsigned from)
{
	if (l->content != BLK_CONTENT_GPT)
		return -1;
	for (unsigned i = from; i < l->nparts; i++)
		if (!memcmp(l->parts[i].type_guid, type, 16))
			return (int)i;
	return -1;
}

const char *blk_content_name(enum blk_content c)
{
	switch (c) {
	case BLK_CONTENT_EMPTY:
		return "empty";
	case BLK_CONTENT_GPT:
		return "gpt";
	case BLK_CONTENT_MBR:
		return "mbr";
	case BLK_CONTENT_FAT:
		return "fat";
	case BLK_CONTENT_EXT:
		return "ext";
	case BLK_CONTENT_ISO9660:
		return "iso9660";
	default:
		return "unknown";
	}
}

/* UEFI appendix A: the first three fields are little-endian, the last two
 * stored as bytes in order. */
void blk_guid_format(const uint8_t g[16], char out[37])
{
	fmt_snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		     get_le32(g), get_le16(g + 4), get_le16(g + 6), g[8], g[9], g[10], g[11],
		     g[12], g[13], g[14], g[15]);
}
