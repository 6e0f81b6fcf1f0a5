// SPDX-License-Identifier: GPL-2.0
/*
 * toa.bpf.c - toa-lab's eBPF TOA: the client address a FULLNAT balancer puts
 * in the TCP Option Address, shown to the backend without a kernel module.
 *
 *   sockops                 reads the TOA option (kind 254; length 8: port +
 *                           IPv4, length 20: port + IPv6) from the segment
 *                           that creates the connection (the handshake ACK,
 *                           or the first data segment when that ACK was lost
 *                           or TCP_DEFER_ACCEPT dropped it), or else from the
 *                           first later segment that carries it, into the
 *                           socket's local storage;
 *   cgroup/getpeername4/6   answers getpeername() and accept() (both go
 *                           through inet_getname/inet6_getname) with it.
 *
 * Needs Linux >= 5.10: sockops programs see the segment's TCP header
 * (skb_data) and may ask for the PARSE_HDR_OPT callback from 5.10 on.
 * Written for toa-lab from the kernel's uapi (linux/bpf.h); no third-party
 * code.
 */
#include <linux/bpf.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TOA_KIND 254
#define TOA_LEN_V4 8
#define TOA_LEN_V6 20
/* The TCP options area is at most 40 bytes (data offset 15 words - 20). */
#define TCP_OPTIONS_MAX 40
/*
 * The offset is already known to stay within the options area; the mask says
 * so to the verifier, so that every path through one iteration ends in the
 * same state and is pruned (5.10's verifier gives up after 1M instructions
 * when each path keeps its own exact offset range).
 */
#define OFFSET_MASK 0x3f

struct toa_addr {
	__u8 family;     /* 4 or 6; 0: nothing recorded yet */
	__u8 pad;
	__be16 port;
	__u32 addr[4];   /* IPv4 in addr[0], network order */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct toa_addr);
} toa_addr_of SEC(".maps");

/*
 * Finds the TOA option in the TCP header at skb_data. bpf_load_hdr_opt()
 * cannot do it: for kind 254 it also matches an RFC 6994 "magic", which
 * here would be the client port. So the options are walked by hand, the
 * loop bounded for the verifier of a 5.10 kernel.
 */
static __always_inline int read_toa(struct bpf_sock_ops *skops, struct toa_addr *out)
{
	void *data = (void *)(long)skops->skb_data;
	void *end = (void *)(long)skops->skb_data_end;
	struct tcphdr *th = data;
	__u8 *opt;
	__u32 optlen, i = 0;
	int n;

	if ((void *)(th + 1) > end)
		return 0;
	optlen = th->doff * 4;
	if (optlen <= sizeof(*th))
		return 0;
	optlen -= sizeof(*th);
	opt = (__u8 *)(th + 1);

	for (n = 0; n < TCP_OPTIONS_MAX; n++) {
		__u8 *p, kind, len;

		if (i >= optlen || i >= TCP_OPTIONS_MAX)
			break;
		p = opt + i;
		if ((void *)(p + 1) > end)
			break;
		kind = p[0];
		if (kind == 0)          /* end of option list */
			break;
		if (kind == 1) {        /* no-op */
			i = (i + 1) & OFFSET_MASK;
			continue;
		}
		if ((void *)(p + 2) > end)
			break;
		len = p[1];
		if (len < 2 || i + len > optlen)
			break;          /* malformed: trust nothing after it */
		if (kind == TOA_KIND && len == TOA_LEN_V4) {
			if ((void *)(p + TOA_LEN_V4) > end)
				break;
			out->family = 4;
			out->port = *(__be16 *)(p + 2);
			out->addr[0] = *(__u32 *)(p + 4);
			return 1;
		}
		if (kind == TOA_KIND && len == TOA_LEN_V6) {
			if ((void *)(p + TOA_LEN_V6) > end)
				break;
			out->family = 6;
			out->port = *(__be16 *)(p + 2);
			out->addr[0] = *(__u32 *)(p + 4);
			out->addr[1] = *(__u32 *)(p + 8);
			out->addr[2] = *(__u32 *)(p + 12);
			out->addr[3] = *(__u32 *)(p + 16);
			return 1;
		}
		i = (i + len) & OFFSET_MASK;
	}
	return 0;
}

static __always_inline void record_toa(struct bpf_sock_ops *skops)
{
	struct toa_addr found = {};
	struct toa_addr *stored;
	struct bpf_sock *sk = skops->sk;

	if (!sk)
		return;
	stored = bpf_sk_storage_get(&toa_addr_of, sk, 0, 0);
	if (stored && stored->family)
		return;         /* the first TOA the connection got stays its client */
	if (!read_toa(skops, &found))
		return;
	stored = bpf_sk_storage_get(&toa_addr_of, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (stored)
		*stored = found;
}

SEC("sockops")
int toa_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		/* Children inherit the listener's flags: later segments get parsed too. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* skb_data: the segment that created this socket (ACK or first data). */
		record_toa(skops);
		/* A listener opened before we were attached had no LISTEN_CB. */
		if (!(skops->bpf_sock_ops_cb_flags & BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG))
			bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		/* A later segment of an established connection with an unknown option. */
		record_toa(skops);
		break;
	}
	return 1;
}

SEC("cgroup/getpeername4")
int toa_getpeername4(struct bpf_sock_addr *ctx)
{
	struct toa_addr *toa;
	struct bpf_sock *sk = ctx->sk;

	if (!sk)
		return 1;
	toa = bpf_sk_storage_get(&toa_addr_of, sk, 0, 0);
	if (toa && toa->family == 4) {
		ctx->user_ip4 = toa->addr[0];
		ctx->user_port = toa->port;
	}
	return 1;
}

SEC("cgroup/getpeername6")
int toa_getpeername6(struct bpf_sock_addr *ctx)
{
	struct toa_addr *toa;
	struct bpf_sock *sk = ctx->sk;

	if (!sk)
		return 1;
	toa = bpf_sk_storage_get(&toa_addr_of, sk, 0, 0);
	if (!toa)
		return 1;
	if (toa->family == 6) {
		ctx->user_ip6[0] = toa->addr[0];
		ctx->user_ip6[1] = toa->addr[1];
		ctx->user_ip6[2] = toa->addr[2];
		ctx->user_ip6[3] = toa->addr[3];
		ctx->user_port = toa->port;
	} else if (toa->family == 4) {
		/* An IPv4 client on a dual-stack listener: shown v4-mapped, as the kernel would. */
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = toa->addr[0];
		ctx->user_port = toa->port;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
