// SPDX-License-Identifier: GPL-2.0
/*
 * toa-tun-probe - guest-side smoke tool for toa.ko: plays a FULLNAT balancer
 * over a TUN device, inside the guest, with no network and no harness.
 *
 *   toa-tun-probe create IFNAME
 *       create a persistent L3 TUN device (configure it with `ip` afterwards)
 *   toa-tun-probe conn --dev IFNAME --src IP --dst IP --dport N [options]
 *       one TCP connection from IP (an address routed into the TUN) to a local
 *       server, with a TOA option placed where asked; prints the HTTP response
 *       body on stdout.
 *
 * conn options:
 *   --sport N            source port (default 40000 + pid % 20000)
 *   --toa IP:PORT        client address carried in the option (v4: len 8, v6: len 20)
 *   --kind K             option kind (default 254)
 *   --raw HEX            use these option bytes instead (padded with EOL to 4n)
 *   --where ack|data|syn|ackdata
 *                        the segment(s) carrying the option: the handshake ACK,
 *                        the first data segment (no pure ACK is sent), the SYN
 *                        only, or both ACK and data (default ack)
 *   --path P             request path (default /)
 *   --hold MS            wait MS ms after the handshake before sending the request
 *
 * This is a test tool only: one connection at a time, in-order delivery (TUN
 * does not reorder), no retransmission except the SYN.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

struct addr {
	int family;
	uint8_t a[16];
};

static int tun_fd = -1;
static struct addr src, dst;
static uint16_t sport, dport;
static uint32_t snd_nxt, rcv_nxt;

static void die(const char *msg)
{
	fprintf(stderr, "toa-tun-probe: %s\n", msg);
	exit(2);
}

static int parse_addr(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -1;
}

static int tun_open(const char *name, int persist)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0)
		die("open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	if (persist && ioctl(fd, TUNSETPERSIST, 1) < 0)
		die("TUNSETPERSIST");
	return fd;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Build and write one segment from src to dst. */
static void send_seg(uint8_t flags, const uint8_t *opt, size_t optlen, const void *data, size_t len)
{
	uint8_t pkt[2048];
	size_t iplen = src.family == AF_INET ? 20 : 40;
	size_t tcplen = 20 + optlen + len;
	uint8_t *th = pkt + iplen;
	uint32_t s = 0;

	if (optlen % 4 || iplen + tcplen > sizeof(pkt))
		die("segment too large or options not padded");
	memset(pkt, 0, iplen + 20);
	if (src.family == AF_INET) {
		pkt[0] = 0x45;
		put16(pkt + 2, (uint16_t)(iplen + tcplen));
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, src.a, 4);
		memcpy(pkt + 16, dst.a, 4);
		put16(pkt + 10, fold(sum16(pkt, 20, 0)));
		s = sum16(src.a, 4, s);
		s = sum16(dst.a, 4, s);
	} else {
		pkt[0] = 0x60;
		put16(pkt + 4, (uint16_t)tcplen);
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		memcpy(pkt + 8, src.a, 16);
		memcpy(pkt + 24, dst.a, 16);
		s = sum16(src.a, 16, s);
		s = sum16(dst.a, 16, s);
	}
	s += IPPROTO_TCP + (uint32_t)tcplen;
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, snd_nxt);
	put32(th + 8, (flags & F_ACK) ? rcv_nxt : 0);
	th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	th[13] = flags;
	put16(th + 14, 65535);
	memcpy(th + 20, opt, optlen);
	memcpy(th + 20 + optlen, data, len);
	put16(th + 16, fold(sum16(th, tcplen, s)));
	if (write(tun_fd, pkt, iplen + tcplen) < 0)
		die("write tun");
	snd_nxt += (uint32_t)len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
}

struct seg {
	uint8_t flags;
	uint32_t seq, ack;
	const uint8_t *data;
	size_t len;
};

/* Next segment of our connection; 0 ok, -1 timeout. */
static int recv_seg(uint8_t *buf, size_t bufsz, struct seg *sg, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = tun_fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);

		if (r <= 0)
			return -1;
		ssize_t n = read(tun_fd, buf, bufsz);

		if (n < 20)
			continue;
		size_t iplen, total = (size_t)n;
		const uint8_t *saddr, *daddr;
		int ver = buf[0] >> 4;

		if (ver == 4 && src.family == AF_INET && buf[9] == IPPROTO_TCP) {
			iplen = (size_t)(buf[0] & 0xf) * 4;
			saddr = buf + 12;
			daddr = buf + 16;
			if (get16(buf + 2) < total)
				total = get16(buf + 2);
			if (memcmp(saddr, dst.a, 4) || memcmp(daddr, src.a, 4))
				continue;
		} else if (ver == 6 && src.family == AF_INET6 && n >= 60 && buf[6] == IPPROTO_TCP) {
			iplen = 40;
			saddr = buf + 8;
			daddr = buf + 24;
			if ((size_t)get16(buf + 4) + 40 < total)
				total = (size_t)get16(buf + 4) + 40;
			if (memcmp(saddr, dst.a, 16) || memcmp(daddr, src.a, 16))
				continue;
		} else {
			continue;
		}
		const uint8_t *th = buf + iplen;

		if (total < iplen + 20 || get16(th) != dport || get16(th + 2) != sport)
			continue;
		size_t doff = (size_t)(th[12] >> 4) * 4;

		if (total < iplen + doff)
			continue;
		sg->flags = th[13];
		sg->seq = get32(th + 4);
		sg->ack = get32(th + 8);
		sg->data = th + doff;
		sg->len = total - iplen - doff;
		return 0;
	}
}

static size_t hex_opts(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (hex[0] && hex[1] && n < max) {
		unsigned int b;

		if (sscanf(hex, "%2x", &b) != 1)
			die("bad --raw hex");
		out[n++] = (uint8_t)b;
		hex += 2;
		if (*hex == ':' || *hex == ' ')
			hex++;
	}
	while (n % 4)
		out[n++] = 0;	/* EOL padding */
	return n;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_conn(int argc, char **argv)
{
	const char *dev = NULL, *where = "ack", *path = "/", *toa = NULL, *raw = NULL;
	int kind = 254, hold = 0;
	uint8_t opt[40];
	size_t optlen = 0;

	sport = (uint16_t)(40000 + getpid() % 20000);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			die("option without value");
		i++;
		if (!strcmp(a, "--dev"))
			dev = v;
		else if (!strcmp(a, "--src")) {
			if (parse_addr(v, &src))
				die("bad --src");
		} else if (!strcmp(a, "--dst")) {
			if (parse_addr(v, &dst))
				die("bad --dst");
		} else if (!strcmp(a, "--sport"))
			sport = (uint16_t)atoi(v);
		else if (!strcmp(a, "--dport"))
			dport = (uint16_t)atoi(v);
		else if (!strcmp(a, "--toa"))
			toa = v;
		else if (!strcmp(a, "--kind"))
			kind = atoi(v);
		else if (!strcmp(a, "--raw"))
			raw = v;
		else if (!strcmp(a, "--where"))
			where = v;
		else if (!strcmp(a, "--path"))
			path = v;
		else if (!strcmp(a, "--hold"))
			hold = atoi(v);
		else
			die("unknown option");
	}
	if (!dev || !src.family || src.family != dst.family || !dport)
		die("need --dev, --src, --dst (same family), --dport");

	if (raw) {
		optlen = hex_opts(raw, opt, sizeof(opt) - 3);
	} else if (toa) {
		/* IP:PORT, IPv6 as [addr]:port */
		char host[64];
		const char *colon = strrchr(toa, ':');
		struct addr ca;
		size_t hl;

		if (!colon)
			die("bad --toa");
		hl = (size_t)(colon - toa);
		if (toa[0] == '[') {
			toa++;
			hl -= 2;
		}
		if (hl >= sizeof(host))
			die("bad --toa");
		memcpy(host, toa, hl);
		host[hl] = 0;
		if (parse_addr(host, &ca))
			die("bad --toa address");
		opt[0] = (uint8_t)kind;
		opt[1] = ca.family == AF_INET ? 8 : 20;
		put16(opt + 2, (uint16_t)atoi(colon + 1));
		memcpy(opt + 4, ca.a, ca.family == AF_INET ? 4 : 16);
		optlen = opt[1];
	}

	int in_syn = !strcmp(where, "syn"), in_ack = !strcmp(where, "ack") || !strcmp(where, "ackdata");
	int in_data = !strcmp(where, "data") || !strcmp(where, "ackdata");

	if (!in_syn && !in_ack && !in_data)
		die("bad --where");

	tun_fd = tun_open(dev, 0);
	uint8_t buf[4096];
	struct seg sg;
	uint8_t synopt[44] = { 2, 4, 0x05, 0xb4 };	/* MSS 1460 */
	size_t synoptlen = 4;

	if (in_syn && optlen) {
		memcpy(synopt + 4, opt, optlen);
		synoptlen += optlen;
	}
	snd_nxt = (uint32_t)(now_ms() * 7919u);
	uint32_t isn = snd_nxt;
	int got = 0;

	for (int tries = 0; tries < 3 && !got; tries++) {
		snd_nxt = isn;
		send_seg(F_SYN, synopt, synoptlen, NULL, 0);
		long long until = now_ms() + 1500;

		while (!got && now_ms() < until) {
			if (recv_seg(buf, sizeof(buf), &sg, (int)(until - now_ms())) < 0)
				break;
			if ((sg.flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) && sg.ack == isn + 1) {
				rcv_nxt = sg.seq + 1;
				got = 1;
			} else if (sg.flags & F_RST) {
				die("connection refused (RST)");
			}
		}
	}
	if (!got)
		die("no SYN-ACK");

	if (!in_data || in_ack)
		send_seg(F_ACK, in_ack ? opt : NULL, in_ack ? optlen : 0, NULL, 0);
	if (hold > 0)
		usleep((useconds_t)hold * 1000);

	char req[512];
	int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: toa-probe\r\n\r\n", path);

	send_seg(F_ACK | F_PSH, in_data ? opt : NULL, in_data ? optlen : 0, req, (size_t)rl);

	/* Receive until FIN; print the body (after the head). */
	int fin = 0, in_body = 0;
	char tail[4] = { 0 };
	long long deadline = now_ms() + 60000;

	while (!fin && now_ms() < deadline) {
		if (recv_seg(buf, sizeof(buf), &sg, 15000) < 0)
			die("timeout waiting for response");
		if (sg.flags & F_RST)
			die("connection reset");
		if (sg.flags & F_SYN) {	/* retransmitted SYN-ACK (e.g. deferred accept): re-ACK */
			send_seg(F_ACK, NULL, 0, NULL, 0);
			continue;
		}
		if (sg.seq != rcv_nxt) {	/* duplicate / out of order: re-ACK what we have */
			send_seg(F_ACK, NULL, 0, NULL, 0);
			continue;
		}
		for (size_t i = 0; i < sg.len; i++) {
			char ch = (char)sg.data[i];

			if (in_body) {
				putchar(ch);
				continue;
			}
			memmove(tail, tail + 1, 3);
			tail[3] = ch;
			if (!memcmp(tail, "\r\n\r\n", 4))
				in_body = 1;
		}
		rcv_nxt += (uint32_t)sg.len;
		if (sg.flags & F_FIN) {
			rcv_nxt++;
			fin = 1;
		}
		if (sg.len || fin)
			send_seg(F_ACK, NULL, 0, NULL, 0);
	}
	fflush(stdout);
	if (!fin)
		die("no FIN");
	send_seg(F_FIN | F_ACK, NULL, 0, NULL, 0);
	/* Wait briefly for the final ACK so the server's socket closes cleanly. */
	while (recv_seg(buf, sizeof(buf), &sg, 500) == 0)
		if ((sg.flags & F_ACK) && sg.ack == snd_nxt)
			break;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "create")) {
		tun_open(argv[2], 1);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "conn"))
		return cmd_conn(argc - 2, argv + 2);
	fprintf(stderr, "usage: toa-tun-probe create IFNAME | conn --dev IF --src IP --dst IP --dport N "
			"[--sport N] [--toa IP:PORT] [--kind K] [--raw HEX] [--where ack|data|syn|ackdata] "
			"[--path P] [--hold MS]\n");
	return 2;
}
