// SPDX-License-Identifier: GPL-2.0
/*
 * toa.ko's option parser on the host, for test/unit/toa/parse-options.test.ts: the test cuts
 * toa_endpoint_equal, toa_kind_configured, toa_kind_known and the "Option parsing" section
 * out of ../toa.c into toa-parse.inc, and this file gives them the few kernel types they use.
 * Reads option lists as hex words from argv and prints one line per list:
 *   <verdict> <flags> <address>:<port>      (verdict 1 = a client, 0 = none; flags as in toa.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint16_t __be16;
typedef uint32_t __be32;
union toa_addr { __be32 v4; struct in6_addr v6; };
struct toa_endpoint { u16 family; __be16 port; union toa_addr addr; };
static int toa_kinds[8] = { 254 };
static int toa_kinds_count = 1;

#include "toa-parse.inc"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		u8 bytes[40];
		unsigned int n = 0;
		struct toa_outcome o;
		char text[INET6_ADDRSTRLEN] = "-";

		for (const char *h = argv[i]; h[0] && h[1] && n < sizeof(bytes); h += 2)
			sscanf(h, "%2hhx", &bytes[n++]);
		memset(&o, 0, sizeof(o));
		toa_parse_options(bytes, n, false, &o);
		if (o.verdict == TOA_V_FOUND)
			inet_ntop(o.client.family, &o.client.addr, text, sizeof(text));
		printf("%d %d %s:%u\n", o.verdict, o.flags, text, ntohs(o.client.port));
	}
	return 0;
}
