/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _NET_TOA_H
#define _NET_TOA_H

/*
 * TCP option kind that carries the client address. The LVS 2.6.32 tree ships
 * 200; the Huawei ELB guide edits it to 254 before building (step 3.2).
 */
#define TCPOPT_TOA 200

/* kind (1) + length (1) + port (2) + IPv4 address (4) */
#define TCPOLEN_TOA 8
/* kind (1) + length (1) + port (2) + IPv6 address (16) */
#define TCPOLEN_TOA_V6 20

#endif /* _NET_TOA_H */
