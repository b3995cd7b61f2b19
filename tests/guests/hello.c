/* Prints a greeting with its command line, then exits with exit=N (0). */
#include "rt.h"

int main(uint32_t magic, const struct mb_info *mbi);
int main(uint32_t magic, const struct mb_info *mbi)
{
	rt_init(magic, mbi);
	gprintf("Hello from the hello guest! cmdline='%s' mem=%u KiB\n", guest_cmdline,
		(guest_mem_top >> 10));
	return (int)arg_u32("exit", 0);
}
