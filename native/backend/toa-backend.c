// SPDX-License-Identifier: GPL-2.0
/*
 * toa-backend - the lab's tiny HTTP backend for busybox guests.
 *
 * One thread accepts; each connection is served by a thread of its own
 * (detached, so connections never wait for each other: a held /hold/ request
 * or a slow download blocks nobody).  Threads, not a forked child per
 * connection: under QEMU's TCG a fork+exit costs the guest ~3-5 ms of CPU
 * (measured: 1,000 busybox subshells took 4.7 s in the micro-VM), which was
 * the whole cost of 10,000 connections in the `load` scenario.  The thread
 * records accept()'s address and getpeername() right at accept time - the two
 * places where toa.ko has to show the client - serves one request
 * (Connection: close) and appends exactly one line to the log with a single
 * write() on an O_APPEND descriptor:
 *
 *   conn peer=A accept=A local=A method=M path=P status=S req_bytes=N
 *        req_fnv=H resp_bytes=N resp_fnv=H                     (one line)
 *
 * A is ip:port, IPv6 as [addr]:port (an IPv4 client on a dual-stack socket
 * shows as it comes from the kernel: [::ffff:a.b.c.d]:port); *_fnv is FNV-1a
 * 64 over the request / response body in 16 lowercase hex digits.  status=0
 * means the exchange did not complete (method=- path=- when not even the
 * request head arrived).
 *
 * Routes: GET / -> "ok\n"; GET /bytes/N -> N bytes, byte i = (i*31 + (i>>11))
 * & 0xff; POST /echo (Content-Length) -> the body back, streamed; GET /hold/MS
 * -> sleep MS ms, then "ok\n"; GET /peer -> getpeername() at request time
 * ("ip:port\n"; lets a test see what the socket reports later, e.g. after
 * toa.ko is unloaded).  A query string ("/?conn=17") is ignored for routing
 * but logged, so clients can tag requests.  Bodies are streamed through a bounded buffer,
 * never held whole.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384
#define IO_CHUNK 65536
#define ECHO_BUF (1024 * 1024)
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static int log_fd = STDOUT_FILENO;
static int io_timeout_ms = 30000;

/* ---------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static unsigned char pattern_byte(uint64_t i)
{
	return (unsigned char)((i * 31 + (i >> 11)) & 0xff);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("toa-backend: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void format_addr(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];

	if (len >= sizeof(struct sockaddr_in) && ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(s->sin_port));
	} else if (len >= sizeof(struct sockaddr_in6) && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		snprintf(out, outlen, "-");
	}
}

/* Milliseconds left until deadline (monotonic), at least 0. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for `events`; 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		return r > 0;
	}
}

/* Read some bytes with the I/O timeout; >0 bytes, 0 EOF, -1 error/timeout. */
static ssize_t read_some(int fd, void *buf, size_t n)
{
	for (;;) {
		int w = wait_fd(fd, POLLIN, io_timeout_ms);

		if (w <= 0)
			return -1;
		ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);

		if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		return r;
	}
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		if (wait_fd(fd, POLLOUT, io_timeout_ms) <= 0)
			return -1;
		ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

struct conn {
	int fd;
	char peer[80], accept_addr[80], local[80];
	char method[16], path[256];
	int status;
	uint64_t req_bytes, req_fnv, resp_bytes, resp_fnv;
	/* bytes read past the request head (start of the body) */
	unsigned char head[HEAD_MAX + 1];
	size_t head_len, body_off;
};

static void log_conn(const struct conn *c)
{
	char line[1024];
	int n = snprintf(line, sizeof(line),
			 "conn peer=%s accept=%s local=%s method=%s path=%s status=%d "
			 "req_bytes=%" PRIu64 " req_fnv=%016" PRIx64 " resp_bytes=%" PRIu64
			 " resp_fnv=%016" PRIx64 "\n",
			 c->peer, c->accept_addr, c->local, c->method, c->path, c->status,
			 c->req_bytes, c->req_fnv, c->resp_bytes, c->resp_fnv);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write() on an O_APPEND fd: lines from concurrent children never interleave. */
	if (write(log_fd, line, (size_t)n) < 0)
		perror("toa-backend: log write");
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 431: return "Request Header Fields Too Large";
	default: return "Error";
	}
}

static int send_head(struct conn *c, int status, uint64_t body_len)
{
	char h[256];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/octet-stream\r\n"
			 "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n",
			 status, reason(status), body_len);

	return write_all(c->fd, h, (size_t)n);
}

static int send_body(struct conn *c, const void *p, size_t n)
{
	if (write_all(c->fd, p, n) < 0)
		return -1;
	c->resp_bytes += n;
	c->resp_fnv = fnv1a(c->resp_fnv, p, n);
	return 0;
}

/* A short fixed response; status lands in the log only if fully sent. */
static void respond_text(struct conn *c, int status, const char *body)
{
	size_t n = strlen(body);

	if (send_head(c, status, n) == 0 && send_body(c, body, n) == 0)
		c->status = status;
}

/* Copy a token into dst, replacing anything that would break the log line. */
static void copy_token(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = srclen < dstlen - 1 ? srclen : dstlen - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = (ch <= 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	dst[n] = '\0';
}

/* Parse a non-negative decimal that must fill the whole string. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Read until the end of the request head (CRLF CRLF, or LF LF).
 * 1 complete, 0 connection ended / timed out first, -1 too large.
 */
static int read_head(struct conn *c)
{
	while (c->head_len < HEAD_MAX) {
		ssize_t r = read_some(c->fd, c->head + c->head_len, HEAD_MAX - c->head_len);

		if (r <= 0)
			return 0;
		size_t from = c->head_len >= 3 ? c->head_len - 3 : 0;

		c->head_len += (size_t)r;
		for (size_t i = from; i < c->head_len; i++) {
			if (i + 4 <= c->head_len && !memcmp(c->head + i, "\r\n\r\n", 4)) {
				c->body_off = i + 4;
				return 1;
			}
			if (i + 2 <= c->head_len && !memcmp(c->head + i, "\n\n", 2)) {
				c->body_off = i + 2;
				return 1;
			}
		}
	}
	return -1;
}

/* Content-Length from the head; 0 absent, 1 found, -1 malformed. */
static int content_length(const struct conn *c, uint64_t *out)
{
	const char *p = (const char *)c->head, *end = p + c->body_off;
	const char *line = memchr(p, '\n', (size_t)(end - p));

	while (line && line + 1 < end) {
		const char *s = line + 1;
		const char *eol = memchr(s, '\n', (size_t)(end - s));

		if (!eol)
			break;
		size_t len = (size_t)(eol - s);

		if (len && s[len - 1] == '\r')
			len--;
		if (len > 15 && !strncasecmp(s, "content-length:", 15)) {
			const char *v = s + 15, *ve = s + len;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			return parse_u64(v, (size_t)(ve - v), out) == 0 ? 1 : -1;
		}
		line = eol;
	}
	return 0;
}

/*
 * Receive `total` body bytes (the first `have` already in c->head), hashing
 * them; if `echo`, send each byte back as it arrives through a bounded buffer
 * so neither direction can stall the other.  0 on success.
 */
static int pump_body_with(struct conn *c, uint64_t total, int echo, unsigned char *buf);

static int pump_body(struct conn *c, uint64_t total, int echo)
{
	/* Per connection, and only for an echo: a thread's stack is not the place for 1 MiB. */
	unsigned char *buf = echo ? malloc(ECHO_BUF) : NULL;
	int r;

	if (echo && !buf)
		return -1;
	r = pump_body_with(c, total, echo, buf);
	free(buf);
	return r;
}

static int pump_body_with(struct conn *c, uint64_t total, int echo, unsigned char *buf)
{
	size_t have = c->head_len - c->body_off;
	size_t rpos = 0, wpos = 0, used = 0;	/* ring buffer */
	long long deadline = now_ms() + io_timeout_ms;

	if (have > total)
		have = (size_t)total;	/* pipelined bytes are ignored */
	c->req_bytes = have;
	c->req_fnv = fnv1a(c->req_fnv, c->head + c->body_off, have);
	if (echo) {
		memcpy(buf, c->head + c->body_off, have);
		wpos = have;
		used = have;
	}

	while (c->req_bytes < total || used > 0) {
		struct pollfd p = { .fd = c->fd, .events = 0 };
		int want_in = c->req_bytes < total && used < ECHO_BUF;
		int want_out = echo && used > 0;

		if (want_in)
			p.events |= POLLIN;
		if (want_out)
			p.events |= POLLOUT;
		long long left = deadline - now_ms();

		if (left <= 0)
			return -1;
		int r = poll(&p, 1, (int)left);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (want_out && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
			size_t n = rpos < wpos ? wpos - rpos : ECHO_BUF - rpos;
			ssize_t w = send(c->fd, buf + rpos, n, MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -1;
			if (w > 0) {
				c->resp_bytes += (uint64_t)w;
				c->resp_fnv = fnv1a(c->resp_fnv, buf + rpos, (size_t)w);
				rpos = (rpos + (size_t)w) % ECHO_BUF;
				used -= (size_t)w;
				deadline = now_ms() + io_timeout_ms;
			}
		}
		if (want_in && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
			unsigned char tmp[IO_CHUNK];
			unsigned char *dst = tmp;
			size_t room = sizeof(tmp);

			if (echo) {
				/* not full here, so wpos == rpos means empty */
				dst = buf + wpos;
				room = wpos >= rpos ? ECHO_BUF - wpos : rpos - wpos;
			}
			if (room > total - c->req_bytes)
				room = (size_t)(total - c->req_bytes);
			ssize_t n = recv(c->fd, dst, room, MSG_DONTWAIT);

			if (n == 0)
				return -1;	/* peer closed early */
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -1;
			if (n > 0) {
				c->req_bytes += (uint64_t)n;
				c->req_fnv = fnv1a(c->req_fnv, dst, (size_t)n);
				if (echo) {
					wpos = (wpos + (size_t)n) % ECHO_BUF;
					used += (size_t)n;
				}
				deadline = now_ms() + io_timeout_ms;
			}
		}
	}
	return 0;
}

static void serve_bytes(struct conn *c, uint64_t n)
{
	unsigned char chunk[IO_CHUNK];

	if (send_head(c, 200, n) < 0)
		return;
	for (uint64_t i = 0; i < n;) {
		size_t k = n - i < sizeof(chunk) ? (size_t)(n - i) : sizeof(chunk);

		for (size_t j = 0; j < k; j++)
			chunk[j] = pattern_byte(i + j);
		if (send_body(c, chunk, k) < 0)
			return;
		i += k;
	}
	c->status = 200;
}

static void handle(struct conn *c)
{
	int h = read_head(c);

	if (h == 0)
		return;	/* closed before a complete request: method=- path=- status=0 */
	if (h < 0) {
		respond_text(c, 431, "request head too large\n");
		return;
	}

	/* Request line: METHOD SP PATH SP VERSION */
	const char *p = (const char *)c->head;
	const char *eol = memchr(p, '\n', c->body_off);
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;

	if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1) {
		snprintf(c->method, sizeof(c->method), "?");
		snprintf(c->path, sizeof(c->path), "?");
		respond_text(c, 400, "bad request line\n");
		return;
	}
	copy_token(c->method, sizeof(c->method), p, (size_t)(sp1 - p));
	copy_token(c->path, sizeof(c->path), sp1 + 1, (size_t)(sp2 - sp1 - 1));

	uint64_t clen = 0;
	int has_len = content_length(c, &clen);

	if (has_len < 0) {
		respond_text(c, 400, "bad content-length\n");
		return;
	}

	int is_get = !strcmp(c->method, "GET"), is_post = !strcmp(c->method, "POST");
	/*
	 * Route on the path without its query; the log keeps the whole target, so a
	 * client can tag each request (GET /?conn=17) and find its own log line.
	 */
	char path[sizeof(c->path)];

	copy_token(path, sizeof(path), c->path, strcspn(c->path, "?"));

	if (is_post && !strcmp(path, "/echo")) {
		if (!has_len) {
			respond_text(c, 411, "content-length required\n");
			return;
		}
		if (send_head(c, 200, clen) < 0)
			return;
		if (pump_body(c, clen, 1) == 0)
			c->status = 200;
		return;
	}

	/* Any other request: consume (and hash) a declared body first. */
	if (has_len && pump_body(c, clen, 0) < 0)
		return;

	if (is_get && !strcmp(path, "/")) {
		respond_text(c, 200, "ok\n");
	} else if (is_get && !strncmp(path, "/bytes/", 7)) {
		uint64_t n;

		if (parse_u64(path + 7, strlen(path + 7), &n) < 0)
			respond_text(c, 400, "bad length\n");
		else
			serve_bytes(c, n);
	} else if (is_get && !strcmp(path, "/peer")) {
		/* getpeername() now, not at accept: e.g. after toa.ko was unloaded */
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char now[80], body[96];

		if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
			format_addr(&ss, len, now, sizeof(now));
		else
			strcpy(now, "-");
		snprintf(body, sizeof(body), "%s\n", now);
		respond_text(c, 200, body);
	} else if (is_get && !strncmp(path, "/hold/", 6)) {
		uint64_t ms;

		if (parse_u64(path + 6, strlen(path + 6), &ms) < 0 || ms > 3600000) {
			respond_text(c, 400, "bad duration\n");
			return;
		}
		struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		respond_text(c, 200, "ok\n");
	} else if (is_get || is_post) {
		respond_text(c, 404, "not found\n");
	} else {
		respond_text(c, 405, "method not allowed\n");
	}
}

/* Orderly close: stop sending, then drain briefly so unread input can't turn into a RST. */
static void lingering_close(int fd)
{
	char tmp[4096];
	long long until = now_ms() + 2000;

	shutdown(fd, SHUT_WR);
	while (now_ms() < until) {
		if (wait_fd(fd, POLLIN, (int)(until - now_ms())) <= 0)
			break;
		if (recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT) <= 0)
			break;
	}
	close(fd);
}

/* One accepted connection, handed from the accept loop to its thread (which frees it). */
struct accepted {
	int fd;
	struct sockaddr_storage acc;
	socklen_t acclen;
	struct conn c;	/* ~17 KiB with the head buffer: on the heap, not on a thread's stack */
};

static void *serve(void *arg)
{
	struct accepted *a = arg;
	struct conn *c = &a->c;
	int fd = a->fd;
	struct sockaddr_storage ss;
	socklen_t len;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->req_fnv = FNV_OFFSET;
	c->resp_fnv = FNV_OFFSET;
	strcpy(c->method, "-");
	strcpy(c->path, "-");
	format_addr(&a->acc, a->acclen, c->accept_addr, sizeof(c->accept_addr));
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		format_addr(&ss, len, c->peer, sizeof(c->peer));
	else
		strcpy(c->peer, "-");
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		format_addr(&ss, len, c->local, sizeof(c->local));
	else
		strcpy(c->local, "-");

	handle(c);
	log_conn(c);
	lingering_close(fd);
	free(a);
	return NULL;
}

/* ---------------------------------------------------------------------- */

static void log_datagram(const struct sockaddr_storage *peer, socklen_t peerlen,
			 const struct sockaddr_storage *local, socklen_t locallen, size_t bytes)
{
	char p[80], l[80], line[256];

	format_addr(peer, peerlen, p, sizeof(p));
	format_addr(local, locallen, l, sizeof(l));
	int n = snprintf(line, sizeof(line), "udp peer=%s local=%s bytes=%zu\n", p, l, bytes);

	if (n > 0 && (size_t)n < sizeof(line) && write(log_fd, line, (size_t)n) < 0)
		perror("toa-backend: log write");
}

/*
 * The local address a datagram was sent to, from its IP_PKTINFO / IPV6_PKTINFO
 * (an IPv4 datagram on a dual-stack socket comes as IPV6_PKTINFO with a
 * v4-mapped address).  Also sets up `reply` so sendmsg() answers from it.
 */
static void datagram_local(struct msghdr *msg, int v6, int port, struct sockaddr_storage *local,
			   socklen_t *locallen, void *reply, size_t *replylen)
{
	memset(local, 0, sizeof(*local));
	*locallen = 0;
	*replylen = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo info;
			struct sockaddr_in *s = (struct sockaddr_in *)local;

			memcpy(&info, CMSG_DATA(c), sizeof(info));
			s->sin_family = AF_INET;
			s->sin_port = htons((uint16_t)port);
			s->sin_addr = info.ipi_addr;
			*locallen = sizeof(*s);
			info.ipi_ifindex = 0;
			info.ipi_spec_dst = info.ipi_addr;
			struct cmsghdr *r = reply;

			r->cmsg_level = IPPROTO_IP;
			r->cmsg_type = IP_PKTINFO;
			r->cmsg_len = CMSG_LEN(sizeof(info));
			memcpy(CMSG_DATA(r), &info, sizeof(info));
			*replylen = CMSG_SPACE(sizeof(info));
		} else if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo info;
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)local;

			memcpy(&info, CMSG_DATA(c), sizeof(info));
			s->sin6_family = AF_INET6;
			s->sin6_port = htons((uint16_t)port);
			s->sin6_addr = info.ipi6_addr;
			*locallen = sizeof(*s);
			info.ipi6_ifindex = 0;
			struct cmsghdr *r = reply;

			r->cmsg_level = IPPROTO_IPV6;
			r->cmsg_type = IPV6_PKTINFO;
			r->cmsg_len = CMSG_LEN(sizeof(info));
			memcpy(CMSG_DATA(r), &info, sizeof(info));
			*replylen = CMSG_SPACE(sizeof(info));
		}
	}
}

/* UDP echo: one datagram in, the same bytes back, one log line. Never returns. */
static void serve_udp(const char *family, int port)
{
	int v6 = strcmp(family, "4") != 0;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	static unsigned char buf[65536];

	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (v6) {
		int only = strcmp(family, "6") == 0;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only)) < 0)
			die("IPV6_V6ONLY: %s", strerror(errno));
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			die("IPV6_RECVPKTINFO: %s", strerror(errno));
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					  .sin6_addr = IN6ADDR_ANY_INIT };

		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind udp [::]:%d: %s", port, strerror(errno));
	} else {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
			die("IP_PKTINFO: %s", strerror(errno));
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };

		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind udp 0.0.0.0:%d: %s", port, strerror(errno));
	}
	fprintf(stderr, "toa-backend listening family=%s udp=%d\n", family, port);
	fflush(stderr);

	for (;;) {
		struct sockaddr_storage peer, local;
		socklen_t locallen;
		union {
			struct cmsghdr align;
			unsigned char bytes[256];
		} control, reply;
		size_t replylen;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &iov,
				      .msg_iovlen = 1, .msg_control = control.bytes,
				      .msg_controllen = sizeof(control.bytes) };
		ssize_t n = recvmsg(fd, &msg, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recvmsg: %s", strerror(errno));
		}
		datagram_local(&msg, v6, port, &local, &locallen, reply.bytes, &replylen);
		log_datagram(&peer, msg.msg_namelen, &local, locallen, (size_t)n);
		iov.iov_len = (size_t)n;
		struct msghdr out = { .msg_name = &peer, .msg_namelen = msg.msg_namelen, .msg_iov = &iov,
				      .msg_iovlen = 1, .msg_control = replylen ? reply.bytes : NULL,
				      .msg_controllen = replylen };

		if (sendmsg(fd, &out, 0) < 0)
			perror("toa-backend: udp sendmsg");
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: toa-backend [--port N] [--log FILE] [--family 4|6|dual] [--deferred]\n"
		"                   [--timeout-ms N]\n"
		"       toa-backend --udp N [--log FILE] [--family 4|6|dual]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int port = 80, deferred = 0, udp_port = 0;
	const char *family = "4", *log_path = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--port") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 65535)
				die("bad --port %s", argv[i]);
			port = (int)v;
		} else if (!strcmp(a, "--log") && i + 1 < argc) {
			log_path = argv[++i];
		} else if (!strcmp(a, "--family") && i + 1 < argc) {
			family = argv[++i];
			if (strcmp(family, "4") && strcmp(family, "6") && strcmp(family, "dual"))
				die("bad --family %s (4, 6 or dual)", family);
		} else if (!strcmp(a, "--udp") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 65535)
				die("bad --udp %s", argv[i]);
			udp_port = (int)v;
		} else if (!strcmp(a, "--deferred")) {
			deferred = 1;
		} else if (!strcmp(a, "--timeout-ms") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > INT_MAX)
				die("bad --timeout-ms %s", argv[i]);
			io_timeout_ms = (int)v;
		} else {
			usage();
		}
	}

	if (log_path) {
		log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log_fd < 0)
			die("cannot open log %s: %s", log_path, strerror(errno));
	}

	if (udp_port)
		serve_udp(family, udp_port);

	int v6 = strcmp(family, "4") != 0;
	int lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		int only = strcmp(family, "6") == 0;

		if (setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only)) < 0)
			die("IPV6_V6ONLY: %s", strerror(errno));
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					  .sin6_addr = IN6ADDR_ANY_INIT };

		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind [::]:%d: %s", port, strerror(errno));
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };

		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind 0.0.0.0:%d: %s", port, strerror(errno));
	}
	if (deferred) {
		int secs = 10;

		if (setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) < 0)
			die("TCP_DEFER_ACCEPT: %s", strerror(errno));
	}
	if (listen(lfd, 256) < 0)
		die("listen: %s", strerror(errno));

	/* Writes to a gone peer must not kill us (send() also says MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Detached threads with 1 MiB stacks: the deepest path (an upload's or a
	 * download's 64 KiB chunk plus the head) needs ~150 KiB, and only touched
	 * pages cost memory.
	 */
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);

	fprintf(stderr, "toa-backend listening family=%s port=%d%s\n", family, port,
		deferred ? " deferred=1" : "");
	fflush(stderr);

	for (;;) {
		struct accepted *a = malloc(sizeof(*a));

		if (!a) {
			perror("toa-backend: malloc");
			sleep(1);
			continue;
		}
		a->acclen = sizeof(a->acc);
		a->fd = accept4(lfd, (struct sockaddr *)&a->acc, &a->acclen, SOCK_CLOEXEC);
		if (a->fd < 0) {
			int e = errno;

			free(a);
			if (e == EINTR || e == ECONNABORTED || e == EMFILE ||
			    e == ENFILE || e == ENOBUFS || e == ENOMEM)
				continue;
			die("accept: %s", strerror(e));
		}
		pthread_t t;
		int err = pthread_create(&t, &attr, serve, a);

		if (err) {
			/* No thread for it: the client sees the connection closed, never a hang. */
			fprintf(stderr, "toa-backend: pthread_create: %s\n", strerror(err));
			close(a->fd);
			free(a);
		}
	}
}
