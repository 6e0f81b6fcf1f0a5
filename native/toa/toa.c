// SPDX-License-Identifier: GPL-2.0
/*
 * toa.ko - TCP Option Address, toa-lab's own implementation.
 *
 * A FULLNAT load balancer opens its own TCP connection to the backend and puts
 * the original client's address into a TCP option of the segment that
 * completes the handshake (or of the first data segment).  This module reads
 * that option from the segment that creates the accepted (child) socket and
 * makes getpeername() and accept() on that socket return the client's address.
 *
 * Receive side: nothing on it may be skipped.  kprobes are: a kprobe that
 * fires while another kprobe handler runs on the same CPU is dropped and only
 * counted in nmissed (NET_RX softirq arriving on IRQ exit while a
 * process-context getname handler runs, for instance).  So, on 4.16+:
 *
 *   netfilter LOCAL_IN (IPv4, IPv6,   every incoming TCP segment: parse the
 *   every network namespace)         option, remember the result for "the
 *                                    segment this CPU is delivering" (per-CPU)
 *                                    and, per connection 4-tuple, for the
 *                                    handshake in progress (flow table).
 *   tracepoint inet_sock_set_state   SYN_RECV -> ESTABLISHED of a child: it
 *                                    runs inside the processing of the segment
 *                                    that creates the child, right after our
 *                                    LOCAL_IN hook saw that segment on this
 *                                    CPU: record its result for the child.
 *   tracepoint tcp_destroy_sock      forget the socket.
 *
 * Hooks and tracepoint callbacks are registered callbacks: never skipped.
 * Before 4.16 (no inet_sock_set_state) the child is taken from a
 * tcp_v4/v6_syn_recv_sock kretprobe and teardown from a tcp_v4_destroy_sock
 * kprobe, as in toa.ko 1.0; when that kretprobe is missed, getname takes the
 * result from the flow table instead.
 *
 * TCP Fast Open: the child is created from the SYN (tcp_fastopen_create_child
 * calls syn_recv_sock with the SYN) and accept() returns it before the ACK
 * arrives; its SYN_RECV -> ESTABLISHED comes later, with the ACK.  So a
 * trusted SYN with data is parsed too (its result kept in the flow table),
 * and a child whose SYN data was taken (tcp_sock.syn_data_acked) is recorded
 * from its SYN -- at its first getname or at its ESTABLISHED, whichever comes
 * first -- never from the ACK.
 *
 * getname side (process context, kprobes can only be short of instances
 * there, never nested):
 *
 *   kretprobe inet_getname           return: rewrite the peer address
 *   kretprobe inet6_getname          (getpeername, and accept(), which calls
 *                                    ->getname with peer = 2).
 *
 * Per-socket state lives in a module-owned hash table keyed by the child's
 * struct sock pointer.  Each entry also records the socket's real peer
 * (the balancer) and local port at creation; a getname whose socket no longer
 * has that identity (a reused pointer whose teardown we missed) is left alone
 * and counted as a mismatch.  All entries are freed on unload, after every
 * hook is gone; the sockets themselves are never touched, so they keep working
 * and simply report their real peer afterwards.
 *
 * Counters: /proc/net/toa_stats (toa_stats_<module> when another module holds
 * that name), one "name value" per line.
 */

#define pr_fmt(fmt) "TOA: " fmt

#include <linux/version.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/inet.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/proc_fs.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/seq_file.h>
#include <linux/atomic.h>
#include <linux/tracepoint.h>
#include <net/sock.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>
#include <net/net_namespace.h>
#if defined(CONFIG_IPV6) || defined(CONFIG_IPV6_MODULE)
#define TOA_IPV6 1
#include <net/ipv6.h>
#else
#define TOA_IPV6 0
#endif

/* ------------------------------------------------------------------------ */
/* Compatibility: the few kernel interfaces whose shape changed since 2.6.32 */

/* inet_sock fields gained the inet_ prefix in 2.6.33. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(2, 6, 33)
#define TOA_INET_DADDR(sk)     (inet_sk(sk)->inet_daddr)
#define TOA_INET_DPORT(sk)     (inet_sk(sk)->inet_dport)
#define TOA_INET_NUM(sk)       (inet_sk(sk)->inet_num)
#define TOA_INET_RCV_SADDR(sk) (inet_sk(sk)->inet_rcv_saddr)
#define TOA_GUARD_INET "inet_prefix>=2.6.33"
#else
#define TOA_GUARD_INET "inet_prefix<2.6.33"
#define TOA_INET_DADDR(sk)     (inet_sk(sk)->daddr)
#define TOA_INET_DPORT(sk)     (inet_sk(sk)->dport)
#define TOA_INET_NUM(sk)       (inet_sk(sk)->num)
#define TOA_INET_RCV_SADDR(sk) (inet_sk(sk)->rcv_saddr)
#endif

/* The IPv6 addresses moved into sock_common in 3.13. */
#if TOA_IPV6
#if LINUX_VERSION_CODE >= KERNEL_VERSION(3, 13, 0)
#define TOA_SK_V6_DADDR(sk)     ((sk)->sk_v6_daddr)
#define TOA_SK_V6_RCV_SADDR(sk) ((sk)->sk_v6_rcv_saddr)
#define TOA_GUARD_V6ADDR " v6_addr>=3.13"
#else
#define TOA_GUARD_V6ADDR " v6_addr<3.13"
#define TOA_SK_V6_DADDR(sk)     (inet6_sk(sk)->daddr)
#define TOA_SK_V6_RCV_SADDR(sk) (inet6_sk(sk)->rcv_saddr)
#endif
#endif

/*
 * Receive side.  inet_sock_set_state appeared in 4.16 (tcp_destroy_sock in
 * 4.15); for_each_kernel_tracepoint() finds tracepoints that are not exported.
 * Build with `make TOA_LEGACY_RX=1` to use the pre-4.16 kprobe receive path
 * on any kernel (to test it).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(4, 16, 0) && defined(CONFIG_TRACEPOINTS) && \
	!defined(TOA_FORCE_KPROBE_RX)
#define TOA_RX_TRACEPOINTS 1
#define TOA_GUARD_RX " rx=tracepoints>=4.16"
#else
#define TOA_RX_TRACEPOINTS 0
#define TOA_GUARD_RX " rx=kprobes"
#endif

/*
 * Netfilter hook function:
 *   4.4+      (void *priv, skb, const struct nf_hook_state *)
 *   4.1-4.3   (const struct nf_hook_ops *, skb, const struct nf_hook_state *)
 *   3.13-4.0  (const struct nf_hook_ops *, skb, in, out, okfn)
 *   < 3.13    (unsigned int hooknum, skb, in, out, okfn)
 * Registration: nf_register_net_hooks() per namespace since 4.3 (the global
 * nf_register_hooks() is gone in 4.13); before 4.13 the global one.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(4, 4, 0)
#define TOA_NF_HOOK_FN(name) \
	static unsigned int name(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
#define TOA_GUARD_NF " nf_hook>=4.4"
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(4, 1, 0)
#define TOA_NF_HOOK_FN(name) \
	static unsigned int name(const struct nf_hook_ops *ops, struct sk_buff *skb, \
				 const struct nf_hook_state *state)
#define TOA_GUARD_NF " nf_hook=4.1-4.3"
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(3, 13, 0)
#define TOA_NF_HOOK_FN(name) \
	static unsigned int name(const struct nf_hook_ops *ops, struct sk_buff *skb, \
				 const struct net_device *in, const struct net_device *out, \
				 int (*okfn)(struct sk_buff *))
#define TOA_GUARD_NF " nf_hook=3.13-4.0"
#else
#define TOA_NF_HOOK_FN(name) \
	static unsigned int name(unsigned int hooknum, struct sk_buff *skb, \
				 const struct net_device *in, const struct net_device *out, \
				 int (*okfn)(struct sk_buff *))
#define TOA_GUARD_NF " nf_hook<3.13"
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(4, 13, 0)
#define TOA_NF_PERNET 1
#define TOA_GUARD_PERNET " nf_pernet>=4.13"
#else
#define TOA_NF_PERNET 0
#define TOA_GUARD_PERNET " nf_global<4.13"
#endif

/* ipv6_skip_exthdr() gained the fragment-offset argument in 3.3. */
#if TOA_IPV6
#if LINUX_VERSION_CODE >= KERNEL_VERSION(3, 3, 0)
#define TOA_SKIP_EXTHDR(skb, start, nh) ({ __be16 _fo; ipv6_skip_exthdr((skb), (start), (nh), &_fo); })
#define TOA_GUARD_EXTHDR " skip_exthdr>=3.3"
#else
#define TOA_GUARD_EXTHDR " skip_exthdr<3.3"
#define TOA_SKIP_EXTHDR(skb, start, nh) ipv6_skip_exthdr((skb), (start), (nh))
#endif
#endif

/*
 * inet_getname / inet6_getname:
 *   >= 4.17: int (struct socket *, struct sockaddr *, int peer), returns the
 *            address length or a negative error;
 *   <  4.17: int (struct socket *, struct sockaddr *, int *len, int peer),
 *            returns 0 or a negative error.
 * peer is 1 for getpeername and 2 for accept(); 0 for getsockname.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(4, 17, 0)
#define TOA_GETNAME_PEER_ARG 2
/* The return value is an int: look at the low 32 bits of the register only. */
#define TOA_GETNAME_OK(ret) ((int)(ret) >= 0)
#define TOA_GUARD_GETNAME " getname>=4.17"
#else
#define TOA_GUARD_GETNAME " getname<4.17"
#define TOA_GETNAME_PEER_ARG 3
#define TOA_GETNAME_OK(ret) ((int)(ret) == 0)
#endif

/* Function arguments at a probe on function entry. */
#if defined(CONFIG_HAVE_FUNCTION_ARG_ACCESS_API) && \
	LINUX_VERSION_CODE >= KERNEL_VERSION(4, 20, 0)
#define toa_arg(regs, n) regs_get_kernel_argument((regs), (n))
#define TOA_GUARD_ARGS " args=regs_get_kernel_argument>=4.20"
#elif defined(CONFIG_X86_64)
#define TOA_GUARD_ARGS " args=x86_64_regs"
static unsigned long toa_arg(struct pt_regs *regs, unsigned int n)
{
	switch (n) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->cx;
	case 4: return regs->r8;
	case 5: return regs->r9;
	default: return 0;
	}
}
#elif defined(CONFIG_X86_32)
#define TOA_GUARD_ARGS " args=i386_regparm"
/* The i386 kernel is built with -mregparm=3. */
static unsigned long toa_arg(struct pt_regs *regs, unsigned int n)
{
	switch (n) {
	case 0: return regs->ax;
	case 1: return regs->dx;
	case 2: return regs->cx;
	default: return 0;
	}
}
#elif defined(CONFIG_ARM64)
#define TOA_GUARD_ARGS " args=arm64_regs"
static unsigned long toa_arg(struct pt_regs *regs, unsigned int n)
{
	return n < 8 ? regs->regs[n] : 0;
}
#else
#error "toa: no function-argument access for this architecture/kernel"
#endif

#ifndef pr_warn		/* pr_warn appeared in 2.6.38 */
#define pr_warn pr_warning
#endif

/* /proc entries take struct proc_ops since 5.6. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)
#define TOA_PROC_OPS 1
#define TOA_GUARD_PROC " proc_ops>=5.6"
#else
#define TOA_PROC_OPS 0
#define TOA_GUARD_PROC " file_operations<5.6"
#endif

#if !TOA_IPV6
#define TOA_GUARD_V6ADDR " ipv6=off"
#define TOA_GUARD_EXTHDR ""
#endif

/*
 * Which branch of each version guard this build compiled, readable from the
 * .ko (`modinfo -F toa_guards`): the build test lists them per kernel, so a
 * guard range no tested kernel compiles is visible as such.
 */
MODULE_INFO(toa_guards, TOA_GUARD_INET TOA_GUARD_V6ADDR TOA_GUARD_RX TOA_GUARD_NF TOA_GUARD_PERNET
	    TOA_GUARD_EXTHDR TOA_GUARD_GETNAME TOA_GUARD_ARGS TOA_GUARD_PROC);

/* ------------------------------------------------------------------------ */
/* Parameters */

#define TOA_MAX_KINDS 8
#define TOA_MAX_TRUSTED 32

static int toa_kinds[TOA_MAX_KINDS] = { 254 };
static int toa_kinds_count = 1;
module_param_array(toa_kinds, int, &toa_kinds_count, 0444);
MODULE_PARM_DESC(toa_kinds, "TCP option kinds accepted as TOA (default 254; 200 and 253 are used in the field)");

static char *trusted_sources[TOA_MAX_TRUSTED];
static int trusted_sources_count;
module_param_array(trusted_sources, charp, &trusted_sources_count, 0444);
MODULE_PARM_DESC(trusted_sources, "IPv4/IPv6 addresses or CIDRs of balancers whose TOA is honoured (empty: all)");

static int max_entries = 65536;
module_param(max_entries, int, 0444);
MODULE_PARM_DESC(max_entries, "Maximum number of sockets remembered at once, and of handshakes in progress (default 65536)");

/* ------------------------------------------------------------------------ */
/* Counters */

enum toa_counter {
	C_SYN_RECV_SOCK_TOA,
	C_SYN_RECV_SOCK_NO_TOA,
	C_GETNAME_TOA_OK,
	C_GETNAME_TOA_MISMATCH,
	C_GETNAME_TOA_BYPASS,
	C_GETNAME_TOA_EMPTY,
	C_TOA_UNTRUSTED_SOURCE,
	C_TOA_KIND_IGNORED,
	C_TOA_MALFORMED,
	C_TOA_AF_UNSUPPORTED,
	C_TABLE_FULL,
	C_ALLOC_FAILED,
	C_NO_CHILD,
	C_CHILD_FROM_FLOW,
	C_CHILD_NO_SEGMENT,
	C_GETNAME_FROM_FLOW,
	C_FLOW_TABLE_FULL,
	C_FLOW_EXPIRED,
	C_FAST_OPEN_CHILD,
	C_TOA_CONFLICT,
	C_NR
};

static const char *const toa_counter_names[C_NR] = {
	[C_SYN_RECV_SOCK_TOA]    = "syn_recv_sock_toa",
	[C_SYN_RECV_SOCK_NO_TOA] = "syn_recv_sock_no_toa",
	[C_GETNAME_TOA_OK]       = "getname_toa_ok",
	[C_GETNAME_TOA_MISMATCH] = "getname_toa_mismatch",
	[C_GETNAME_TOA_BYPASS]   = "getname_toa_bypass",
	[C_GETNAME_TOA_EMPTY]    = "getname_toa_empty",
	[C_TOA_UNTRUSTED_SOURCE] = "toa_untrusted_source",
	[C_TOA_KIND_IGNORED]     = "toa_kind_ignored",
	[C_TOA_MALFORMED]        = "toa_malformed",
	[C_TOA_AF_UNSUPPORTED]   = "toa_af_unsupported",
	[C_TABLE_FULL]           = "table_full",
	[C_ALLOC_FAILED]         = "alloc_failed",
	[C_NO_CHILD]             = "syn_recv_sock_no_child",
	[C_CHILD_FROM_FLOW]      = "child_from_flow_table",
	[C_CHILD_NO_SEGMENT]     = "child_no_segment",
	[C_GETNAME_FROM_FLOW]    = "getname_from_flow_table",
	[C_FLOW_TABLE_FULL]      = "flow_table_full",
	[C_FLOW_EXPIRED]         = "flow_expired",
	[C_FAST_OPEN_CHILD]      = "fast_open_child",
	[C_TOA_CONFLICT]         = "toa_conflict",
};

static atomic64_t toa_counters[C_NR];

static inline void toa_count(enum toa_counter c)
{
	atomic64_inc(&toa_counters[c]);
}

/* ------------------------------------------------------------------------ */
/* Addresses */

union toa_addr {
	__be32 v4;
	struct in6_addr v6;
};

struct toa_endpoint {
	u16 family;		/* AF_INET or AF_INET6 */
	__be16 port;
	union toa_addr addr;
};

struct toa_cidr {
	u16 family;
	u8 prefix;
	union toa_addr addr;
};

static struct toa_cidr toa_trusted[TOA_MAX_TRUSTED];
static int toa_trusted_count;

static bool toa_prefix_match(const void *pa, const void *pb, unsigned int prefix)
{
	const u8 *a = pa, *b = pb;
	unsigned int full = prefix / 8, rest = prefix % 8;

	if (full && memcmp(a, b, full))
		return false;
	if (rest) {
		u8 mask = (u8)(0xff << (8 - rest));

		if ((a[full] ^ b[full]) & mask)
			return false;
	}
	return true;
}

/* src is the balancer address the segment came from, in network order. */
static bool toa_source_trusted(u16 family, const void *src)
{
	int i;

	if (!toa_trusted_count)
		return true;
	for (i = 0; i < toa_trusted_count; i++) {
		const struct toa_cidr *c = &toa_trusted[i];

		if (c->family != family)
			continue;
		if (toa_prefix_match(src, &c->addr, c->prefix))
			return true;
	}
	return false;
}

static int toa_parse_prefix(const char *s, unsigned int max, u8 *out)
{
	unsigned int v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = (u8)v;
	return 0;
}

static int toa_parse_cidr(const char *text, struct toa_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	const char *end;
	size_t len = strlen(text);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(out, 0, sizeof(*out));

	if (in4_pton(buf, -1, (u8 *)&out->addr.v4, '\0', &end) == 1 && *end == '\0') {
		out->family = AF_INET;
		out->prefix = 32;
		return slash ? toa_parse_prefix(slash, 32, &out->prefix) : 0;
	}
	if (in6_pton(buf, -1, out->addr.v6.s6_addr, '\0', &end) == 1 && *end == '\0') {
		out->family = AF_INET6;
		out->prefix = 128;
		return slash ? toa_parse_prefix(slash, 128, &out->prefix) : 0;
	}
	return -EINVAL;
}

static bool toa_endpoint_equal(const struct toa_endpoint *a, const struct toa_endpoint *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == AF_INET)
		return a->addr.v4 == b->addr.v4;
	return !memcmp(&a->addr.v6, &b->addr.v6, sizeof(a->addr.v6));
}

static bool toa_kind_configured(u8 kind)
{
	int i;

	for (i = 0; i < toa_kinds_count; i++)
		if (toa_kinds[i] == kind)
			return true;
	return false;
}

/* Kinds used by balancers in the field; seen but not configured -> counted. */
static bool toa_kind_known(u8 kind)
{
	return kind == 200 || kind == 253 || kind == 254;
}

/* ------------------------------------------------------------------------ */
/* Option parsing */

#define TOA_OPT_EOL 0	/* end of option list */
#define TOA_OPT_NOP 1	/* padding */
#define TOA_OPT_EXP 254	/* RFC 6994 experimental; also RFC 7413's experimental Fast Open */
#define TOA_TFO_EXP_MAGIC0 0xF9	/* RFC 7413 experimental Fast Open: kind 254, magic 0xF989 */
#define TOA_TFO_EXP_MAGIC1 0x89
#define TOA_LEN_V4 8	/* kind, len, port(2), IPv4(4) */
#define TOA_LEN_V6 20	/* kind, len, port(2), IPv6(16) */

/* What one segment says. */
enum toa_verdict {
	TOA_V_NONE,		/* no usable option */
	TOA_V_FOUND,		/* client in .client, from a trusted source */
	TOA_V_UNTRUSTED,	/* a usable option, from an untrusted source */
};

#define TOA_F_MALFORMED    0x01	/* broken list, or a configured kind with a bad length */
#define TOA_F_KIND_IGNORED 0x02	/* only a field kind that is not configured */
#define TOA_F_CONFLICT     0x04	/* TOA options naming different clients: none is used */

struct toa_outcome {
	u8 verdict;
	u8 flags;
	struct toa_endpoint client;
};

/*
 * Walk the TCP options (the bytes after the 20-byte header).  EOL ends the
 * list, NOP is skipped, a length < 2 or running past the header stops the
 * walk (nothing after a broken option can be trusted, and a TOA before it is
 * not used: what the break hides could be a second one).  An option with a
 * configured kind and an exact length of 8 (IPv4) or 20 (IPv6) names the
 * client -- unless another such option in the same segment names a different
 * one: then neither is used (TOA_F_CONFLICT) and the socket shows its real
 * peer, the balancer.  Why not "the first wins": a FULLNAT balancer forwards
 * the client's own options, so a client can put a TOA of its own next to the
 * balancer's, and nothing in the segment says which is whose.  LVS and DPVS
 * insert theirs in front of the client's, so the first would be right behind
 * them; a balancer that appends puts the client's first, and "the first
 * wins" would then show the backend an address the client chose.  Refusing
 * both is right behind any balancer, and costs only the client that forged
 * (it is seen as the balancer).  Two options naming the same client (balancers
 * in series, each adding it) are honoured.
 * Counts nothing: the counters describe the segment that creates a socket,
 * and are bumped when a socket is created (toa_record_child).
 */
static void toa_parse_options(const u8 *p, unsigned int optlen, bool syn, struct toa_outcome *o)
{
	const u8 *end = p + optlen;
	bool kind_ignored = false, conflict = false, broken = false;
	struct toa_endpoint e;

	while (p < end) {
		u8 kind = p[0], len;

		if (kind == TOA_OPT_EOL)
			break;
		if (kind == TOA_OPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2) {
			o->flags |= TOA_F_MALFORMED;
			broken = true;
			break;
		}
		len = p[1];
		if (len < 2 || len > end - p) {
			o->flags |= TOA_F_MALFORMED;
			broken = true;
			break;
		}
		/*
		 * In a SYN, kind 254 with magic 0xF989 is RFC 7413's experimental
		 * Fast Open option (Linux's tcp_parse_options reads it so): with a
		 * 4-byte cookie it is length 8, byte for byte a TOA from port
		 * 63881.  Only its place tells them apart; a SYN's is never a TOA.
		 */
		if (syn && kind == TOA_OPT_EXP && len >= 4 &&
		    p[2] == TOA_TFO_EXP_MAGIC0 && p[3] == TOA_TFO_EXP_MAGIC1) {
			p += len;
			continue;
		}
		if (toa_kind_configured(kind)) {
			if (len == TOA_LEN_V4 || len == TOA_LEN_V6) {
				memset(&e, 0, sizeof(e));
				e.family = len == TOA_LEN_V4 ? AF_INET : AF_INET6;
				memcpy(&e.port, p + 2, 2);
				if (len == TOA_LEN_V4)
					memcpy(&e.addr.v4, p + 4, 4);
				else
					memcpy(e.addr.v6.s6_addr, p + 4, 16);
				/* Keep walking: a second TOA decides whether the first stands. */
				if (o->verdict != TOA_V_FOUND) {
					o->client = e;
					o->verdict = TOA_V_FOUND;
				} else if (!toa_endpoint_equal(&o->client, &e)) {
					conflict = true;
				}
			} else {
				o->flags |= TOA_F_MALFORMED;
			}
		} else if (toa_kind_known(kind) && (len == TOA_LEN_V4 || len == TOA_LEN_V6)) {
			kind_ignored = true;
		}
		p += len;
	}
	/*
	 * A broken list hides what follows the break: a second TOA there (the
	 * balancer's, appended after a client's TOA and a broken option) would
	 * go unseen, so a TOA before the break is not used either.
	 */
	if (conflict)
		o->flags |= TOA_F_CONFLICT;
	if (conflict || broken) {
		o->verdict = TOA_V_NONE;
		memset(&o->client, 0, sizeof(o->client));
	}
	/* As before the walk went on past a TOA: only when no TOA names the client. */
	if (kind_ignored && o->verdict != TOA_V_FOUND)
		o->flags |= TOA_F_KIND_IGNORED;
}

/* ------------------------------------------------------------------------ */
/* The table: struct sock * -> (client from the option, identity at creation) */

struct toa_entry {
	struct hlist_node node;
	const struct sock *sk;
	struct toa_endpoint client;	/* from the option */
	struct toa_endpoint peer;	/* the real peer (balancer) at creation */
	u16 local_port;			/* inet_num at creation */
};

#define TOA_HASH_BITS 12
#define TOA_HASH_SIZE (1U << TOA_HASH_BITS)

struct toa_bucket {
	spinlock_t lock;
	struct hlist_head head;
};

static struct toa_bucket *toa_table;
static atomic_t toa_entries = ATOMIC_INIT(0);

static struct toa_bucket *toa_bucket_of(const struct sock *sk)
{
	return &toa_table[hash_ptr((void *)sk, TOA_HASH_BITS)];
}

/* Caller holds b->lock. */
static struct toa_entry *toa_find_locked(struct toa_bucket *b, const struct sock *sk)
{
	struct hlist_node *n;

	for (n = b->head.first; n; n = n->next) {
		struct toa_entry *e = hlist_entry(n, struct toa_entry, node);

		if (e->sk == sk)
			return e;
	}
	return NULL;
}

/* Any context (softirq or process); never sleeps. */
static void toa_table_put(const struct sock *sk, const struct toa_endpoint *client,
			  const struct toa_endpoint *peer, u16 local_port)
{
	struct toa_bucket *b = toa_bucket_of(sk);
	struct toa_entry *e, *fresh = NULL;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	e = toa_find_locked(b, sk);
	spin_unlock_irqrestore(&b->lock, flags);

	if (!e) {
		if (atomic_inc_return(&toa_entries) > max_entries) {
			atomic_dec(&toa_entries);
			toa_count(C_TABLE_FULL);
			return;
		}
		fresh = kmalloc(sizeof(*fresh), GFP_ATOMIC);
		if (!fresh) {
			atomic_dec(&toa_entries);
			toa_count(C_ALLOC_FAILED);
			return;
		}
	}

	spin_lock_irqsave(&b->lock, flags);
	e = toa_find_locked(b, sk);	/* again: the lock was dropped */
	if (!e) {
		e = fresh;
		fresh = NULL;
		if (e) {
			e->sk = sk;
			hlist_add_head(&e->node, &b->head);
		}
	}
	if (e) {
		/* A stale entry for a reused pointer is simply overwritten. */
		e->client = *client;
		e->peer = *peer;
		e->local_port = local_port;
	}
	spin_unlock_irqrestore(&b->lock, flags);

	if (fresh) {
		kfree(fresh);
		atomic_dec(&toa_entries);
	}
}

static bool toa_table_get(const struct sock *sk, struct toa_entry *copy)
{
	struct toa_bucket *b = toa_bucket_of(sk);
	struct toa_entry *e;
	unsigned long flags;

	if (!atomic_read(&toa_entries))
		return false;
	spin_lock_irqsave(&b->lock, flags);
	e = toa_find_locked(b, sk);
	if (e)
		*copy = *e;
	spin_unlock_irqrestore(&b->lock, flags);
	return e != NULL;
}

static void toa_table_forget(const struct sock *sk)
{
	struct toa_bucket *b = toa_bucket_of(sk);
	struct toa_entry *e;
	unsigned long flags;

	if (!atomic_read(&toa_entries))
		return;
	spin_lock_irqsave(&b->lock, flags);
	e = toa_find_locked(b, sk);
	if (e)
		hlist_del(&e->node);
	spin_unlock_irqrestore(&b->lock, flags);
	if (e) {
		kfree(e);
		atomic_dec(&toa_entries);
	}
}

static void toa_table_free_all(void)
{
	unsigned int i;

	for (i = 0; i < TOA_HASH_SIZE; i++) {
		struct toa_bucket *b = &toa_table[i];
		unsigned long flags;

		spin_lock_irqsave(&b->lock, flags);
		while (b->head.first) {
			struct toa_entry *e = hlist_entry(b->head.first, struct toa_entry, node);

			hlist_del(&e->node);
			kfree(e);
			atomic_dec(&toa_entries);
		}
		spin_unlock_irqrestore(&b->lock, flags);
	}
}

/* The socket's real peer and local port now. */
static bool toa_sock_identity(const struct sock *sk, u16 peer_family, struct toa_endpoint *peer,
			      u16 *local_port)
{
	memset(peer, 0, sizeof(*peer));
	peer->family = peer_family;
	peer->port = TOA_INET_DPORT(sk);
	*local_port = TOA_INET_NUM(sk);
	if (peer_family == AF_INET) {
		peer->addr.v4 = TOA_INET_DADDR(sk);
		return true;
	}
#if TOA_IPV6
	if (peer_family == AF_INET6 && sk->sk_family == AF_INET6) {
		peer->addr.v6 = TOA_SK_V6_DADDR(sk);
		return true;
	}
#endif
	return false;
}

/* ------------------------------------------------------------------------ */
/* Connections by 4-tuple, as on the wire: source = the balancer */

struct toa_tuple {
	const void *net;	/* struct net *: namespaces may reuse addresses */
	u16 family;		/* of the segments (AF_INET for v4-mapped sockets) */
	__be16 sport;		/* the balancer's port */
	__be16 dport;		/* the local port */
	u16 pad;
	union toa_addr saddr;	/* the balancer */
	union toa_addr daddr;	/* the local address */
};

/* Zeroed first: tuples are compared and hashed as bytes. */
static void toa_tuple_set(struct toa_tuple *t, const void *net, u16 family, const void *saddr,
			  const void *daddr, __be16 sport, __be16 dport)
{
	memset(t, 0, sizeof(*t));
	t->net = net;
	t->family = family;
	t->sport = sport;
	t->dport = dport;
	if (family == AF_INET) {
		memcpy(&t->saddr.v4, saddr, 4);
		memcpy(&t->daddr.v4, daddr, 4);
	} else {
		memcpy(&t->saddr.v6, saddr, 16);
		memcpy(&t->daddr.v6, daddr, 16);
	}
}

static bool toa_tuple_equal(const struct toa_tuple *a, const struct toa_tuple *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* The family of a connected socket's segments on the wire. */
static u16 toa_sock_wire_family(const struct sock *sk)
{
#if TOA_IPV6
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&TOA_SK_V6_DADDR(sk)))
		return AF_INET6;
#endif
	return AF_INET;
}

static bool toa_sock_tuple(const struct sock *sk, u16 wire_family, struct toa_tuple *t)
{
	__be16 lport = htons(TOA_INET_NUM(sk));

	if (wire_family == AF_INET) {
		__be32 peer = TOA_INET_DADDR(sk), local = TOA_INET_RCV_SADDR(sk);

		toa_tuple_set(t, sock_net(sk), AF_INET, &peer, &local, TOA_INET_DPORT(sk), lport);
		return true;
	}
#if TOA_IPV6
	if (sk->sk_family == AF_INET6) {
		toa_tuple_set(t, sock_net(sk), AF_INET6, &TOA_SK_V6_DADDR(sk), &TOA_SK_V6_RCV_SADDR(sk),
			      TOA_INET_DPORT(sk), lport);
		return true;
	}
#endif
	return false;
}

/*
 * The handshakes in progress (flow table), for the rare child that is not
 * created while this CPU delivers its segment (a SYN-cookie ACK queued behind
 * a busy listener, a Fast Open child accepted before its ACK) and, before
 * 4.16, for a missed syn_recv_sock probe.  An entry is made by a SYN (from a
 * trusted source), records the first non-SYN segment and, when that was a
 * bare ACK, the first segment with payload or FIN, and is removed when a
 * child takes it; an entry nobody took expires 30 s after its last change.
 * Later segments of the connection never create one.
 */
enum toa_flow_state {
	TOA_FLOW_SYN,		/* SYN seen, nothing else yet */
	TOA_FLOW_BARE_ACK,	/* first non-SYN segment was a bare ACK */
	TOA_FLOW_DECIDED,	/* nothing more to learn */
};

struct toa_flow {
	struct hlist_node node;
	struct toa_tuple t;
	unsigned long stamp;		/* jiffies of the last change */
	u8 state;
	bool have_data;
	bool have_syn;			/* a SYN with data: its result, for a Fast Open child */
	bool syn_recorded;		/* that result was recorded for the child (counted once) */
	struct toa_outcome syn;
	struct toa_outcome first;	/* first non-SYN segment */
	struct toa_outcome data;	/* first segment with payload/FIN after a bare ACK */
};

#define TOA_FLOW_BITS 12
#define TOA_FLOW_SIZE (1U << TOA_FLOW_BITS)
#define TOA_FLOW_TTL (30 * HZ)

struct toa_flow_bucket {
	spinlock_t lock;
	struct hlist_head head;
};

static struct toa_flow_bucket *toa_flows;
static atomic_t toa_flow_count = ATOMIC_INIT(0);
static u32 toa_flow_seed;
static unsigned long toa_flow_last_sweep;

static struct toa_flow_bucket *toa_flow_bucket_of(const struct toa_tuple *t)
{
	return &toa_flows[jhash(t, sizeof(*t), toa_flow_seed) & (TOA_FLOW_SIZE - 1)];
}

static void toa_flow_free_locked(struct toa_flow *f)
{
	hlist_del(&f->node);
	kfree(f);
	atomic_dec(&toa_flow_count);
}

/* Caller holds b->lock.  Drops the bucket's expired entries on the way. */
static struct toa_flow *toa_flow_find_locked(struct toa_flow_bucket *b, const struct toa_tuple *t)
{
	struct hlist_node *n, *next;
	struct toa_flow *found = NULL;
	unsigned long now = jiffies;

	for (n = b->head.first; n; n = next) {
		struct toa_flow *f = hlist_entry(n, struct toa_flow, node);

		next = n->next;
		if (time_after(now, f->stamp + TOA_FLOW_TTL)) {
			toa_flow_free_locked(f);
			toa_count(C_FLOW_EXPIRED);
			continue;
		}
		if (!found && t && toa_tuple_equal(&f->t, t))
			found = f;
	}
	return found;
}

/* Table full: drop every expired entry, at most once a second. */
static void toa_flow_sweep(void)
{
	unsigned long now = jiffies;
	unsigned int i;

	if (!time_after(now, READ_ONCE(toa_flow_last_sweep) + HZ))
		return;
	WRITE_ONCE(toa_flow_last_sweep, now);
	for (i = 0; i < TOA_FLOW_SIZE; i++) {
		struct toa_flow_bucket *b = &toa_flows[i];
		unsigned long flags;

		spin_lock_irqsave(&b->lock, flags);
		toa_flow_find_locked(b, NULL);
		spin_unlock_irqrestore(&b->lock, flags);
	}
}

static void toa_flow_reset(struct toa_flow *f)
{
	f->stamp = jiffies;
	f->state = TOA_FLOW_SYN;
	f->have_data = false;
	f->have_syn = false;
	f->syn_recorded = false;
	memset(&f->syn, 0, sizeof(f->syn));
	memset(&f->first, 0, sizeof(f->first));
	memset(&f->data, 0, sizeof(f->data));
}

/* Caller holds the bucket lock: a fresh entry takes the SYN's result. */
static void toa_flow_set_syn(struct toa_flow *f, const struct toa_outcome *syn)
{
	if (syn) {
		f->syn = *syn;
		f->have_syn = true;
	}
}

/*
 * Caller holds the bucket lock: a SYN on a tuple already tracked.  A SYN
 * without data keeps the result of an earlier SYN with data: it is the
 * retransmission Linux's client sends without its data (RFC 7413 §4.2.1), and
 * the child that SYN's data created still needs it.  (A new connection on the
 * tuple without data never uses it: only a SYN with data makes a child that
 * is recorded from its SYN.)
 */
static void toa_flow_restart(struct toa_flow *f, const struct toa_outcome *syn)
{
	struct toa_outcome kept = f->syn;
	bool had_syn = f->have_syn, recorded = f->syn_recorded;

	toa_flow_reset(f);
	if (syn) {
		toa_flow_set_syn(f, syn);
	} else if (had_syn) {
		f->syn = kept;
		f->have_syn = true;
		f->syn_recorded = recorded;
	}
}

/*
 * A SYN (without ACK): a handshake starts (again) on this tuple.  `syn` is its
 * parsed options when it carried data (it may create a Fast Open child).
 */
static void toa_flow_syn(const struct toa_tuple *t, const struct toa_outcome *syn)
{
	struct toa_flow_bucket *b = toa_flow_bucket_of(t);
	struct toa_flow *f, *fresh;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	f = toa_flow_find_locked(b, t);
	if (f)
		toa_flow_restart(f, syn);
	spin_unlock_irqrestore(&b->lock, flags);
	if (f)
		return;

	if (atomic_read(&toa_flow_count) >= max_entries)
		toa_flow_sweep();
	if (atomic_inc_return(&toa_flow_count) > max_entries) {
		atomic_dec(&toa_flow_count);
		toa_count(C_FLOW_TABLE_FULL);
		return;
	}
	fresh = kmalloc(sizeof(*fresh), GFP_ATOMIC);
	if (!fresh) {
		atomic_dec(&toa_flow_count);
		toa_count(C_ALLOC_FAILED);
		return;
	}
	fresh->t = *t;
	toa_flow_reset(fresh);
	toa_flow_set_syn(fresh, syn);

	spin_lock_irqsave(&b->lock, flags);
	f = toa_flow_find_locked(b, t);		/* again: the lock was dropped */
	if (f) {
		toa_flow_restart(f, syn);
	} else {
		hlist_add_head(&fresh->node, &b->head);
		fresh = NULL;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	if (fresh) {
		kfree(fresh);
		atomic_dec(&toa_flow_count);
	}
}

/* A non-SYN segment of a handshake we may be tracking. */
static void toa_flow_segment(const struct toa_tuple *t, const struct toa_outcome *o, bool bare)
{
	struct toa_flow_bucket *b = toa_flow_bucket_of(t);
	struct toa_flow *f;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	f = toa_flow_find_locked(b, t);
	if (f) {
		switch (f->state) {
		case TOA_FLOW_SYN:
			f->first = *o;
			f->state = bare ? TOA_FLOW_BARE_ACK : TOA_FLOW_DECIDED;
			f->stamp = jiffies;
			break;
		case TOA_FLOW_BARE_ACK:
			if (!bare) {
				f->data = *o;
				f->have_data = true;
				f->state = TOA_FLOW_DECIDED;
				f->stamp = jiffies;
			}
			break;
		default:
			break;
		}
	}
	spin_unlock_irqrestore(&b->lock, flags);
}

/*
 * A child whose creating segment is not known exactly takes the entry.  Which
 * segment created it is then a guess: the first non-SYN segment (the ACK, or
 * the first data segment when the ACK was lost) if it carried a TOA; else, if
 * it was a bare ACK, the first segment with payload (the one that creates the
 * socket under TCP_DEFER_ACCEPT).  A guess can only err towards showing a
 * trusted balancer's client, never towards losing one.  Returns false (and
 * keeps the entry) while nothing but the SYN was seen.
 */
static bool toa_flow_take(const struct toa_tuple *t, struct toa_outcome *o)
{
	struct toa_flow_bucket *b;
	struct toa_flow *f;
	unsigned long flags;
	bool taken = false;

	if (!atomic_read(&toa_flow_count))
		return false;
	b = toa_flow_bucket_of(t);
	spin_lock_irqsave(&b->lock, flags);
	f = toa_flow_find_locked(b, t);
	if (f && f->state != TOA_FLOW_SYN) {
		*o = (f->first.verdict == TOA_V_FOUND || !f->have_data) ? f->first : f->data;
		toa_flow_free_locked(f);
		taken = true;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return taken;
}

/*
 * A Fast Open child: the result of the SYN that created it, if a SYN with
 * data was seen.  The entry stays (the child's ESTABLISHED removes it), so
 * getname and ESTABLISHED racing on two CPUs both find it and both record
 * (the same result: idempotent); *first says which one counts.
 */
static bool toa_flow_peek_syn(const struct toa_tuple *t, struct toa_outcome *o, bool *first)
{
	struct toa_flow_bucket *b;
	struct toa_flow *f;
	unsigned long flags;
	bool found = false;

	if (!atomic_read(&toa_flow_count))
		return false;
	b = toa_flow_bucket_of(t);
	spin_lock_irqsave(&b->lock, flags);
	f = toa_flow_find_locked(b, t);
	if (f && f->have_syn) {
		*o = f->syn;
		*first = !f->syn_recorded;
		f->syn_recorded = true;
		f->stamp = jiffies;
		found = true;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return found;
}

/* The child was recorded exactly: the entry is not needed any more. */
static void toa_flow_forget(const struct toa_tuple *t)
{
	struct toa_flow_bucket *b;
	struct toa_flow *f;
	unsigned long flags;

	if (!atomic_read(&toa_flow_count))
		return;
	b = toa_flow_bucket_of(t);
	spin_lock_irqsave(&b->lock, flags);
	f = toa_flow_find_locked(b, t);
	if (f)
		toa_flow_free_locked(f);
	spin_unlock_irqrestore(&b->lock, flags);
}

static void toa_flow_free_all(void)
{
	unsigned int i;

	for (i = 0; i < TOA_FLOW_SIZE; i++) {
		struct toa_flow_bucket *b = &toa_flows[i];
		unsigned long flags;

		spin_lock_irqsave(&b->lock, flags);
		while (b->head.first)
			toa_flow_free_locked(hlist_entry(b->head.first, struct toa_flow, node));
		spin_unlock_irqrestore(&b->lock, flags);
	}
}

/* ------------------------------------------------------------------------ */
/* Netfilter LOCAL_IN: every incoming TCP segment */

/*
 * The segment this CPU is delivering right now: our hook runs in
 * ip_local_deliver / ip6_input with bottom halves off, and TCP processes the
 * segment synchronously right after it, on this CPU, so a child created while
 * bottom halves are still off belongs to the last segment recorded here (its
 * tuple is checked anyway).
 */
struct toa_current {
	struct toa_tuple t;
	struct toa_outcome o;
};

static DEFINE_PER_CPU(struct toa_current, toa_cur);

static void toa_rx_segment(struct sk_buff *skb, u16 family, const void *saddr, const void *daddr,
			   unsigned int thoff)
{
	struct tcphdr _th;
	const struct tcphdr *th;
	u8 _opts[40];
	const u8 *opts;
	unsigned int hlen;
	struct toa_tuple t;
	struct toa_outcome o;
	bool bare;

	if (!skb->dev)
		return;
	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th || th->rst)
		return;
	hlen = th->doff * 4;
	if (hlen < sizeof(*th))
		return;
	toa_tuple_set(&t, dev_net(skb->dev), family, saddr, daddr, th->source, th->dest);
	if (th->syn) {
		if (th->ack || !toa_source_trusted(family, saddr))
			return;
		/*
		 * Only a SYN with data can create a Fast Open child (recognised
		 * by its syn_data_acked): parse those, leave plain SYNs cheap.
		 */
		bare = skb->len <= thoff + hlen;
		memset(&o, 0, sizeof(o));
		if (!bare && hlen > sizeof(*th)) {
			opts = skb_header_pointer(skb, thoff + sizeof(*th), hlen - sizeof(*th), _opts);
			if (opts)
				toa_parse_options(opts, hlen - sizeof(*th), true, &o);
		}
		toa_flow_syn(&t, bare ? NULL : &o);
		return;
	}

	memset(&o, 0, sizeof(o));
	if (hlen > sizeof(*th)) {
		opts = skb_header_pointer(skb, thoff + sizeof(*th), hlen - sizeof(*th), _opts);
		if (!opts)
			return;
		toa_parse_options(opts, hlen - sizeof(*th), false, &o);
		if (o.verdict == TOA_V_FOUND && !toa_source_trusted(family, saddr))
			o.verdict = TOA_V_UNTRUSTED;
	}
	bare = !th->fin && skb->len <= thoff + hlen;

	if (in_softirq()) {
		struct toa_current *c = this_cpu_ptr(&toa_cur);

		c->t = t;
		c->o = o;
	}
	if (atomic_read(&toa_flow_count))
		toa_flow_segment(&t, &o, bare);
}

TOA_NF_HOOK_FN(toa_nf_v4)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (iph->protocol == IPPROTO_TCP && !(iph->frag_off & htons(IP_OFFSET)))
		toa_rx_segment(skb, AF_INET, &iph->saddr, &iph->daddr,
			       skb_network_offset(skb) + iph->ihl * 4);
	return NF_ACCEPT;
}

#if TOA_IPV6
TOA_NF_HOOK_FN(toa_nf_v6)
{
	const struct ipv6hdr *ip6 = ipv6_hdr(skb);
	u8 nexthdr = ip6->nexthdr;
	int off;

	/* A non-first fragment stops the walk with nexthdr = fragment. */
	off = TOA_SKIP_EXTHDR(skb, skb_network_offset(skb) + (int)sizeof(*ip6), &nexthdr);
	if (off >= 0 && nexthdr == IPPROTO_TCP)
		toa_rx_segment(skb, AF_INET6, &ip6->saddr, &ip6->daddr, off);
	return NF_ACCEPT;
}
#endif

/* Last at LOCAL_IN: a segment a filter drops is never seen. */
static struct nf_hook_ops toa_nf_ops[] = {
	{
		.hook = toa_nf_v4,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP_PRI_LAST,
	},
#if TOA_IPV6
	{
		.hook = toa_nf_v6,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP6_PRI_LAST,
	},
#endif
};

#if TOA_NF_PERNET
/* Every namespace, present and future: backends often live in containers. */
static int __net_init toa_net_init(struct net *net)
{
	return nf_register_net_hooks(net, toa_nf_ops, ARRAY_SIZE(toa_nf_ops));
}

static void __net_exit toa_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, toa_nf_ops, ARRAY_SIZE(toa_nf_ops));
}

static struct pernet_operations toa_net_ops = {
	.init = toa_net_init,
	.exit = toa_net_exit,
};

static int toa_nf_register(void)
{
	return register_pernet_subsys(&toa_net_ops);
}

/* Returns after every hook invocation in flight has finished. */
static void toa_nf_unregister(void)
{
	unregister_pernet_subsys(&toa_net_ops);
}
#else
static int toa_nf_register(void)
{
	return nf_register_hooks(toa_nf_ops, ARRAY_SIZE(toa_nf_ops));
}

static void toa_nf_unregister(void)
{
	nf_unregister_hooks(toa_nf_ops, ARRAY_SIZE(toa_nf_ops));
}
#endif

/* ------------------------------------------------------------------------ */
/* A child socket was created: record what its creating segment said */

/* `count`: false when another CPU records (and counts) the same result. */
static void toa_record_child_counted(struct sock *child, u16 wire_family, const struct toa_outcome *o, bool count)
{
	struct toa_endpoint peer;
	u16 local_port;

	if (count && (o->flags & TOA_F_MALFORMED))
		toa_count(C_TOA_MALFORMED);
	if (count && (o->flags & TOA_F_KIND_IGNORED))
		toa_count(C_TOA_KIND_IGNORED);
	if (count && (o->flags & TOA_F_CONFLICT))
		toa_count(C_TOA_CONFLICT);
	if (o->verdict == TOA_V_UNTRUSTED) {
		if (count)
			toa_count(C_TOA_UNTRUSTED_SOURCE);
		return;
	}
	if (o->verdict != TOA_V_FOUND) {
		if (count)
			toa_count(C_SYN_RECV_SOCK_NO_TOA);
		return;
	}
	if (count)
		toa_count(C_SYN_RECV_SOCK_TOA);
	/* An IPv6 client cannot be shown through a sockaddr_in. */
	if (child->sk_family != AF_INET6 && o->client.family != AF_INET) {
		if (count)
			toa_count(C_TOA_AF_UNSUPPORTED);
		return;
	}
	if (!toa_sock_identity(child, wire_family, &peer, &local_port)) {
		if (count)
			toa_count(C_TOA_AF_UNSUPPORTED);
		return;
	}
	toa_table_put(child, &o->client, &peer, local_port);
}

static void toa_record_child(struct sock *child, u16 wire_family, const struct toa_outcome *o)
{
	toa_record_child_counted(child, wire_family, o, true);
}

/*
 * A child that Fast Open created from its SYN: the SYN's data is in its
 * receive queue (tcp_fastopen_add_skb sets syn_data_acked).  A SYN without
 * data can make one too (a bare cookie, or cookies not required): that child
 * is not recognised, and is recorded from its ACK as before.
 */
static bool toa_fast_open_child(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP && tcp_sk(sk)->syn_data_acked;
}

/* Record a Fast Open child from its SYN; false when no SYN of it was seen. */
static bool toa_fast_open_record(struct sock *child, u16 wire_family, const struct toa_tuple *t)
{
	struct toa_outcome o;
	bool first = false;

	if (!toa_flow_peek_syn(t, &o, &first))
		return false;
	if (first)
		toa_count(C_FAST_OPEN_CHILD);
	toa_record_child_counted(child, wire_family, &o, first);
	return true;
}

static void toa_child_created(struct sock *child, u16 wire_family)
{
	struct toa_tuple t;
	struct toa_outcome o;
	bool have = false;

	if (!toa_sock_tuple(child, wire_family, &t))
		return;
	/*
	 * Fast Open: this runs for the ACK, but the SYN created the child.  Its
	 * first getname may have recorded it already; record (again: the same
	 * result) before the flow entry goes, so a getname racing on another
	 * CPU finds either the entry or the socket's record.
	 */
	if (toa_fast_open_child(child)) {
		toa_fast_open_record(child, wire_family, &t);
		toa_flow_forget(&t);
		return;
	}
	/* Bottom halves off: nothing on this CPU can have replaced the record. */
	if (in_softirq()) {
		const struct toa_current *c = this_cpu_ptr(&toa_cur);

		if (toa_tuple_equal(&c->t, &t)) {
			o = c->o;
			have = true;
		}
	}
	if (have) {
		toa_flow_forget(&t);
	} else if (toa_flow_take(&t, &o)) {
		have = true;
		toa_count(C_CHILD_FROM_FLOW);
	}
	if (!have) {
		toa_count(C_CHILD_NO_SEGMENT);
		return;
	}
	toa_record_child(child, wire_family, &o);
}

/* ------------------------------------------------------------------------ */
/* Child creation and teardown */

#if TOA_RX_TRACEPOINTS
/*
 * inet_sock_set_state fires in inet_sk_state_store(), i.e. in tcp_set_state().
 * A child goes SYN_RECV -> ESTABLISHED in tcp_rcv_state_process(), called by
 * tcp_child_process() for the very segment that made tcp_check_req() create
 * it, with the child's addresses already set.
 */
static void toa_tp_set_state(void *data, const struct sock *sk, const int oldstate, const int newstate)
{
	if (oldstate != TCP_SYN_RECV || newstate != TCP_ESTABLISHED || sk->sk_protocol != IPPROTO_TCP)
		return;
	toa_child_created((struct sock *)sk, toa_sock_wire_family(sk));
}

/* In tcp_v4_destroy_sock(), which IPv6 TCP sockets use too. */
static void toa_tp_destroy(void *data, struct sock *sk)
{
	toa_table_forget(sk);
}

struct toa_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	bool registered;
};

/* Registered in this order (teardown first), unregistered in reverse. */
static struct toa_tp toa_tps[] = {
	{ "tcp_destroy_sock", (void *)toa_tp_destroy, NULL, false },
	{ "inet_sock_set_state", (void *)toa_tp_set_state, NULL, false },
};

static void toa_tp_lookup(struct tracepoint *tp, void *priv)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(toa_tps); i++)
		if (!strcmp(tp->name, toa_tps[i].name))
			toa_tps[i].tp = tp;
}

static void toa_rx_unregister(void)
{
	size_t i = ARRAY_SIZE(toa_tps);
	bool any = false;

	while (i--) {
		if (toa_tps[i].registered) {
			tracepoint_probe_unregister(toa_tps[i].tp, toa_tps[i].probe, NULL);
			toa_tps[i].registered = false;
			any = true;
		}
	}
	if (any)
		tracepoint_synchronize_unregister();
}

static int toa_rx_register(void)
{
	size_t i;
	int err;

	for_each_kernel_tracepoint(toa_tp_lookup, NULL);
	for (i = 0; i < ARRAY_SIZE(toa_tps); i++) {
		if (!toa_tps[i].tp) {
			pr_err("no tracepoint %s in this kernel\n", toa_tps[i].name);
			toa_rx_unregister();
			return -ENOENT;
		}
		err = tracepoint_probe_register(toa_tps[i].tp, toa_tps[i].probe, NULL);
		if (err) {
			pr_err("cannot attach to tracepoint %s: %d\n", toa_tps[i].name, err);
			toa_rx_unregister();
			return err;
		}
		toa_tps[i].registered = true;
	}
	return 0;
}

#define TOA_RX_NAME "netfilter+tracepoints"

#else /* !TOA_RX_TRACEPOINTS: kprobes, as in toa.ko 1.0 */

/*
 * syn_recv_sock returns the child (arguments are not needed: the segment was
 * seen by the LOCAL_IN hook just before, on this CPU).  When this probe is
 * missed, getname takes the result from the flow table.
 */
static void toa_syn_no_child(u16 family)
{
	if (in_softirq()) {
		const struct toa_current *c = this_cpu_ptr(&toa_cur);

		if (c->t.family == family && c->o.verdict == TOA_V_FOUND)
			toa_count(C_NO_CHILD);
	}
}

static int toa_v4_syn_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *child = (struct sock *)regs_return_value(regs);

	if (!child)
		toa_syn_no_child(AF_INET);
	else
		toa_child_created(child, AF_INET);
	return 0;
}

#if TOA_IPV6
static int toa_v6_syn_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sock *child = (struct sock *)regs_return_value(regs);

	if (!child) {
		toa_syn_no_child(AF_INET6);
		return 0;
	}
	/*
	 * IPv4 on a dual-stack listener: tcp_v6_syn_recv_sock handed it to
	 * tcp_v4_syn_recv_sock, whose probe recorded it.
	 */
	if (ipv6_addr_v4mapped(&TOA_SK_V6_DADDR(child)))
		return 0;
	toa_child_created(child, AF_INET6);
	return 0;
}
#endif

static int toa_destroy_pre(struct kprobe *kp, struct pt_regs *regs)
{
	toa_table_forget((const struct sock *)toa_arg(regs, 0));
	return 0;
}

static struct kretprobe toa_rp_v4_syn = {
	.kp.symbol_name = "tcp_v4_syn_recv_sock",
	.handler = toa_v4_syn_return,
};

#if TOA_IPV6
static struct kretprobe toa_rp_v6_syn = {
	.kp.symbol_name = "tcp_v6_syn_recv_sock",
	.handler = toa_v6_syn_return,
};
#endif

static struct kprobe toa_kp_destroy = {
	.symbol_name = "tcp_v4_destroy_sock",
	.pre_handler = toa_destroy_pre,
};
static bool toa_kp_destroy_registered;

#define TOA_RX_NAME "netfilter+kprobes"

#endif /* TOA_RX_TRACEPOINTS */

/* ------------------------------------------------------------------------ */
/* getname probes */

struct toa_getname_data {
	struct socket *sock;
	struct sockaddr *uaddr;
};

static int toa_getname_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct toa_getname_data *d = (struct toa_getname_data *)ri->data;
	struct socket *sock = (struct socket *)toa_arg(regs, 0);
	int peer = (int)toa_arg(regs, TOA_GETNAME_PEER_ARG);

	if (!peer || !sock || !sock->sk || sock->sk->sk_protocol != IPPROTO_TCP) {
		toa_count(C_GETNAME_TOA_BYPASS);
		return 1;
	}
	d->sock = sock;
	d->uaddr = (struct sockaddr *)toa_arg(regs, 1);
	return 0;
}

/* No entry for the socket: its child-creation record may still be pending. */
static bool toa_getname_from_flow(struct sock *sk)
{
	struct toa_tuple t;
	struct toa_outcome o;
	u16 wire_family;

	if (!atomic_read(&toa_flow_count))
		return false;
	wire_family = toa_sock_wire_family(sk);
	if (!toa_sock_tuple(sk, wire_family, &t))
		return false;
	/* accept() of a Fast Open child, usually before its ACK: from its SYN. */
	if (toa_fast_open_child(sk))
		return toa_fast_open_record(sk, wire_family, &t);
	if (!toa_flow_take(&t, &o))
		return false;
	toa_count(C_GETNAME_FROM_FLOW);
	toa_record_child(sk, wire_family, &o);
	return true;
}

/* The socket still is the connection the entry was made for. */
static bool toa_entry_fits(const struct sock *sk, const struct toa_entry *e)
{
	struct toa_endpoint now;
	u16 local_port;

	return toa_sock_identity(sk, e->peer.family, &now, &local_port) &&
	       toa_endpoint_equal(&now, &e->peer) && local_port == e->local_port;
}

/*
 * Look the socket up.  Returns true with *e filled when the address may be
 * rewritten.  An entry that does not fit is a stale one of an earlier socket
 * at the same address whose teardown was missed (pre-4.16 kprobe path): it is
 * dropped, and the flow table may still know this connection.
 */
static bool toa_getname_lookup(const struct toa_getname_data *d, struct toa_entry *e)
{
	struct sock *sk = d->sock->sk;
	bool stale = false;

	if (!sk)
		return false;
	if (toa_table_get(sk, e)) {
		if (toa_entry_fits(sk, e))
			return true;
		stale = true;
		toa_table_forget(sk);
	}
	if (toa_getname_from_flow(sk) && toa_table_get(sk, e) && toa_entry_fits(sk, e))
		return true;
	/* A Fast Open child's ESTABLISHED (another CPU) may have just recorded it. */
	if (!stale && toa_fast_open_child(sk) && toa_table_get(sk, e) && toa_entry_fits(sk, e))
		return true;
	toa_count(stale ? C_GETNAME_TOA_MISMATCH : C_GETNAME_TOA_EMPTY);
	return false;
}

static int toa_inet_getname_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct toa_getname_data *d = (const struct toa_getname_data *)ri->data;
	struct sockaddr_in *sin = (struct sockaddr_in *)d->uaddr;
	struct toa_entry e;

	if (!TOA_GETNAME_OK(regs_return_value(regs)) || !sin)
		return 0;
	if (!toa_getname_lookup(d, &e))
		return 0;
	if (e.client.family != AF_INET) {
		toa_count(C_GETNAME_TOA_MISMATCH);
		return 0;
	}
	sin->sin_port = e.client.port;
	sin->sin_addr.s_addr = e.client.addr.v4;
	toa_count(C_GETNAME_TOA_OK);
	return 0;
}

#if TOA_IPV6
static int toa_inet6_getname_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct toa_getname_data *d = (const struct toa_getname_data *)ri->data;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)d->uaddr;
	struct toa_entry e;

	if (!TOA_GETNAME_OK(regs_return_value(regs)) || !sin6)
		return 0;
	if (!toa_getname_lookup(d, &e))
		return 0;
	sin6->sin6_port = e.client.port;
	if (e.client.family == AF_INET) {
		/* ::ffff:a.b.c.d, as the kernel shows IPv4 peers of dual-stack sockets */
		sin6->sin6_addr.s6_addr32[0] = 0;
		sin6->sin6_addr.s6_addr32[1] = 0;
		sin6->sin6_addr.s6_addr32[2] = htonl(0x0000ffff);
		sin6->sin6_addr.s6_addr32[3] = e.client.addr.v4;
	} else {
		sin6->sin6_addr = e.client.addr.v6;
	}
	sin6->sin6_flowinfo = 0;
	sin6->sin6_scope_id = 0;
	toa_count(C_GETNAME_TOA_OK);
	return 0;
}
#endif

static struct kretprobe toa_rp_inet_getname = {
	.kp.symbol_name = "inet_getname",
	.entry_handler = toa_getname_entry,
	.handler = toa_inet_getname_return,
	.data_size = sizeof(struct toa_getname_data),
};

#if TOA_IPV6
static struct kretprobe toa_rp_inet6_getname = {
	.kp.symbol_name = "inet6_getname",
	.entry_handler = toa_getname_entry,
	.handler = toa_inet6_getname_return,
	.data_size = sizeof(struct toa_getname_data),
};
#endif

/* ------------------------------------------------------------------------ */
/* Probe registry */

enum toa_probe_id {
	P_SYN_RECV_V4,
	P_SYN_RECV_V6,
	P_INET_GETNAME,
	P_INET6_GETNAME,
	P_NR
};

struct toa_rp_slot {
	const char *stat;	/* its line in toa_stats */
	struct kretprobe *rp;	/* NULL: not used with this kernel/config */
	bool required;
	bool getname;
	bool registered;
};

static struct toa_rp_slot toa_rps[P_NR] = {
	[P_SYN_RECV_V4] = { "probe_missed_syn_recv_v4",
#if !TOA_RX_TRACEPOINTS
			    &toa_rp_v4_syn, true,
#endif
	},
	[P_SYN_RECV_V6] = { "probe_missed_syn_recv_v6",
#if !TOA_RX_TRACEPOINTS && TOA_IPV6
			    &toa_rp_v6_syn, false,
#endif
	},
	[P_INET_GETNAME] = { "probe_missed_inet_getname", &toa_rp_inet_getname, true, true },
	[P_INET6_GETNAME] = { "probe_missed_inet6_getname",
#if TOA_IPV6
			      /* Optional: IPv6 may be a module that is not loaded. */
			      &toa_rp_inet6_getname, false, true,
#endif
	},
};

static void toa_unregister_probes(void)
{
	size_t i;

	/* getname first, then child creation, teardown last. */
	for (i = P_NR; i-- > 0;) {
		if (toa_rps[i].registered) {
			unregister_kretprobe(toa_rps[i].rp);
			toa_rps[i].registered = false;
		}
	}
#if !TOA_RX_TRACEPOINTS
	if (toa_kp_destroy_registered) {
		unregister_kprobe(&toa_kp_destroy);
		toa_kp_destroy_registered = false;
	}
#endif
}

/*
 * Kretprobe instances in flight at once.  getname runs in process context and
 * may sleep in lock_sock(), so it gets more: a call that finds none free is
 * not rewritten (counted in probe_missed_inet_getname).  ~100 bytes each;
 * kernels refuse more than 4096.
 */
static int toa_maxactive(bool getname)
{
	int cpus = (int)num_possible_cpus();

	if (getname)
		return min_t(int, 4096, max_t(int, 1024, 128 * cpus));
	return min_t(int, 4096, max_t(int, 512, 64 * cpus));
}

/* Only the kretprobes of the slots whose probe matches `getname`. */
static int toa_register_kretprobes(bool getname)
{
	size_t i;
	int err;

	for (i = 0; i < P_NR; i++) {
		struct toa_rp_slot *s = &toa_rps[i];

		if (!s->rp || s->getname != getname)
			continue;
		s->rp->maxactive = toa_maxactive(getname);
		err = register_kretprobe(s->rp);
		if (err) {
			if (s->required) {
				pr_err("cannot probe %s: %d\n", s->rp->kp.symbol_name, err);
				return err;
			}
			pr_warn("cannot probe %s (%d): IPv6 TOA disabled\n", s->rp->kp.symbol_name, err);
			continue;
		}
		s->registered = true;
	}
	return 0;
}

static bool toa_ipv6_hooked(void)
{
	return TOA_IPV6 && toa_rps[P_INET6_GETNAME].registered &&
	       (TOA_RX_TRACEPOINTS || toa_rps[P_SYN_RECV_V6].registered);
}

static unsigned long toa_slot_missed(const struct toa_rp_slot *s, bool nested)
{
	if (!s->registered)
		return 0;
	/* kp.nmissed: hit while another kprobe ran; rp->nmissed: no free instance */
	return nested ? s->rp->kp.nmissed : (unsigned long)s->rp->nmissed;
}

static unsigned long toa_destroy_missed(void)
{
#if !TOA_RX_TRACEPOINTS
	if (toa_kp_destroy_registered)
		return toa_kp_destroy.nmissed;
#endif
	return 0;
}

/* ------------------------------------------------------------------------ */
/* /proc/net/toa_stats */

static int toa_stats_show(struct seq_file *m, void *v)
{
	unsigned long nested = 0, no_instance = 0;
	int i;

	for (i = 0; i < C_NR; i++)
		seq_printf(m, "%-24s %lld\n", toa_counter_names[i],
			   (long long)atomic64_read(&toa_counters[i]));
	seq_printf(m, "%-24s %d\n", "entries", atomic_read(&toa_entries));
	seq_printf(m, "%-24s %d\n", "flow_entries", atomic_read(&toa_flow_count));

	for (i = 0; i < P_NR; i++) {
		nested += toa_slot_missed(&toa_rps[i], true);
		no_instance += toa_slot_missed(&toa_rps[i], false);
	}
	nested += toa_destroy_missed();
	seq_printf(m, "%-24s %lu\n", "probe_missed", nested + no_instance);
	for (i = 0; i < P_NR; i++)
		seq_printf(m, "%-24s %lu\n", toa_rps[i].stat,
			   toa_slot_missed(&toa_rps[i], true) + toa_slot_missed(&toa_rps[i], false));
	seq_printf(m, "%-24s %lu\n", "probe_missed_destroy", toa_destroy_missed());
	seq_printf(m, "%-24s %lu\n", "probe_missed_nested", nested);
	seq_printf(m, "%-24s %lu\n", "probe_missed_no_instance", no_instance);
	return 0;
}

static int toa_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, toa_stats_show, NULL);
}

#if TOA_PROC_OPS
static const struct proc_ops toa_stats_ops = {
	.proc_open = toa_stats_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};
#else
static const struct file_operations toa_stats_ops = {
	.owner = THIS_MODULE,
	.open = toa_stats_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};
#endif

/*
 * The counters' file.  /proc/net/toa_stats is the guides' name, but another
 * TOA module may hold it (public modules use it too, and so does a second
 * build of this one under another module name), and proc_create() of a name
 * that exists is a kernel WARN and, here, a failed load.  So look first: when
 * the name is taken, this module's counters go to toa_stats_<module name>
 * and the module loads all the same.
 */
static char toa_stats_name[64];

static bool toa_proc_net_taken(const char *name)
{
	char path[96];
	struct path found;

	snprintf(path, sizeof(path), "/proc/net/%s", name);
	if (kern_path(path, 0, &found))
		return false;
	path_put(&found);
	return true;
}

static int toa_stats_create(void)
{
	snprintf(toa_stats_name, sizeof(toa_stats_name), "toa_stats");
	if (toa_proc_net_taken(toa_stats_name)) {
		snprintf(toa_stats_name, sizeof(toa_stats_name), "toa_stats_%s", KBUILD_MODNAME);
		if (toa_proc_net_taken(toa_stats_name)) {
			pr_err("/proc/net/toa_stats and /proc/net/%s are both taken\n", toa_stats_name);
			return -EBUSY;
		}
		pr_warn("/proc/net/toa_stats belongs to another module: counters in /proc/net/%s\n", toa_stats_name);
	}
	return proc_create(toa_stats_name, 0444, init_net.proc_net, &toa_stats_ops) ? 0 : -ENOMEM;
}

static void toa_stats_remove(void)
{
	remove_proc_entry(toa_stats_name, init_net.proc_net);
}

/* ------------------------------------------------------------------------ */
/* Load / unload */

static int toa_check_params(void)
{
	int i, err;

	if (toa_kinds_count < 1) {
		pr_err("toa_kinds: at least one kind is needed\n");
		return -EINVAL;
	}
	for (i = 0; i < toa_kinds_count; i++) {
		if (toa_kinds[i] < 2 || toa_kinds[i] > 255) {
			pr_err("toa_kinds: %d is not a usable option kind (2..255)\n", toa_kinds[i]);
			return -EINVAL;
		}
	}
	if (max_entries < 1) {
		pr_err("max_entries must be positive\n");
		return -EINVAL;
	}
	toa_trusted_count = 0;
	for (i = 0; i < trusted_sources_count; i++) {
		if (!trusted_sources[i] || !*trusted_sources[i])
			continue;
		err = toa_parse_cidr(trusted_sources[i], &toa_trusted[toa_trusted_count]);
		if (err) {
			pr_err("trusted_sources: cannot parse '%s'\n", trusted_sources[i]);
			return err;
		}
		toa_trusted_count++;
	}
	return 0;
}

static bool toa_nf_registered;

/*
 * Unhook everything; when this returns no handler, hook or callback of ours
 * runs any more.  getname first, child creation next, teardown last (until
 * the others are gone new entries may still appear, and they must keep being
 * forgotten).
 */
static void toa_unhook_all(void)
{
	size_t i;

	for (i = 0; i < P_NR; i++) {
		if (toa_rps[i].getname && toa_rps[i].registered) {
			unregister_kretprobe(toa_rps[i].rp);
			toa_rps[i].registered = false;
		}
	}
	if (toa_nf_registered) {
		toa_nf_unregister();
		toa_nf_registered = false;
	}
#if TOA_RX_TRACEPOINTS
	toa_rx_unregister();
#endif
	toa_unregister_probes();
}

static int toa_hook_all(void)
{
	int err;

#if TOA_RX_TRACEPOINTS
	err = toa_rx_register();
	if (err)
		return err;
#else
	err = register_kprobe(&toa_kp_destroy);
	if (err) {
		pr_err("cannot probe %s: %d\n", toa_kp_destroy.symbol_name, err);
		return err;
	}
	toa_kp_destroy_registered = true;
#endif
	err = toa_nf_register();
	if (err) {
		pr_err("cannot register the netfilter hooks: %d\n", err);
		goto fail;
	}
	toa_nf_registered = true;
	err = toa_register_kretprobes(false);	/* syn_recv_sock (before 4.16) */
	if (err)
		goto fail;
	err = toa_register_kretprobes(true);	/* getname */
	if (err)
		goto fail;
	return 0;
fail:
	toa_unhook_all();
	return err;
}

static void toa_free_tables(void)
{
	if (toa_table) {
		toa_table_free_all();
		vfree(toa_table);
		toa_table = NULL;
	}
	if (toa_flows) {
		toa_flow_free_all();
		vfree(toa_flows);
		toa_flows = NULL;
	}
}

static int __init toa_init(void)
{
	char kinds[TOA_MAX_KINDS * 4 + 1];
	size_t pos;
	unsigned int i;
	int err;

	err = toa_check_params();
	if (err)
		return err;

	toa_table = vmalloc(TOA_HASH_SIZE * sizeof(*toa_table));
	toa_flows = vmalloc(TOA_FLOW_SIZE * sizeof(*toa_flows));
	if (!toa_table || !toa_flows) {
		err = -ENOMEM;
		goto out_tables;
	}
	for (i = 0; i < TOA_HASH_SIZE; i++) {
		spin_lock_init(&toa_table[i].lock);
		INIT_HLIST_HEAD(&toa_table[i].head);
	}
	for (i = 0; i < TOA_FLOW_SIZE; i++) {
		spin_lock_init(&toa_flows[i].lock);
		INIT_HLIST_HEAD(&toa_flows[i].head);
	}
	get_random_bytes(&toa_flow_seed, sizeof(toa_flow_seed));
	toa_flow_last_sweep = jiffies;

	err = toa_stats_create();
	if (err)
		goto out_tables;

	err = toa_hook_all();
	if (err)
		goto out_proc;

	/* One printk: the guide's check is `dmesg | grep TOA` for "TOA: toa loaded". */
	pos = 0;
	for (i = 0; i < (unsigned int)toa_kinds_count && pos < sizeof(kinds); i++)
		pos += scnprintf(kinds + pos, sizeof(kinds) - pos, "%s%d", i ? "," : "", toa_kinds[i]);
	pr_info("toa loaded (kinds %s, trusted sources %d%s, ipv6 %s, max_entries %d, rx %s)\n",
		kinds, toa_trusted_count, toa_trusted_count ? "" : " = any",
		toa_ipv6_hooked() ? "on" : "off", max_entries, TOA_RX_NAME);
	return 0;

out_proc:
	toa_stats_remove();
out_tables:
	toa_free_tables();
	return err;
}

static void __exit toa_exit(void)
{
	int left;

	/* No handler, hook or callback runs after this returns. */
	toa_unhook_all();
	toa_stats_remove();
	left = atomic_read(&toa_entries);
	toa_free_tables();
	pr_info("toa unloaded (%d open connection entries freed)\n", left);
}

module_init(toa_init);
module_exit(toa_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("toa-lab");
MODULE_DESCRIPTION("TCP Option Address: report the client address a load balancer put in a TCP option");
MODULE_VERSION("1.3");
