/* How much one tcp_write may take. lwIP's tcp_write builds segments one by
 * one and, when the segment queue fills half-way, frees what it built and
 * fails: a writer that offers more than fits spins allocating and freeing
 * (profiled: nine heap calls per segment sent, 30 % of the sender's CPU). */
#include "lwip/tcp.h"
#include "net/net.h"

size_t net_tcp_write_room(const struct tcp_pcb *pcb, unsigned pbufs_per_segment)
{
	size_t queued = pcb->snd_queuelen, room = tcp_sndbuf(pcb);

	/* One queue entry more for the piece lwIP may chain onto the last
	 * segment (TCP_OVERSIZE). */
	if (queued + 1 + pbufs_per_segment > TCP_SND_QUEUELEN)
		return 0;
	size_t segments = (TCP_SND_QUEUELEN - queued - 1) / pbufs_per_segment;
	/* Segments as lwIP cuts them: at most half the largest window the
	 * peer offered. */
	size_t mss = pcb->mss, half_window = pcb->snd_wnd_max / 2;
	if (half_window && half_window < mss)
		mss = half_window;
	size_t fits = segments * (mss ? mss : TCP_MSS);
	return fits < room ? fits : room;
}
