// SPDX-License-Identifier: GPL-2.0
/*
 * net/toa/toa_intree.c - toa-lab's TOA module (native/toa/toa.c) built in-tree.
 *
 * The only difference from the out-of-tree module: the default option kind is
 * TCPOPT_TOA from net/toa/toa.h, which is what the Huawei guide edits
 * (200 -> 254) before building a patched kernel. Done without touching toa.c:
 *
 * - TOA_DEFAULT_KIND is defined for toa.c, which honours it once it carries the
 *   `#ifndef TOA_DEFAULT_KIND` hook (asked for; harmless before);
 * - until then, toa.c's module_init is wrapped: before toa_init() runs, a
 *   toa_kinds left at the built-in default (not given at load time) becomes
 *   { TCPOPT_TOA }. "Given at load time" is seen by the int-array parameter
 *   ops, swapped in through module_param_array for toa.c's toa_kinds.
 *
 * Either way `modprobe toa` with no parameters accepts kind TCPOPT_TOA, and
 * `modprobe toa toa_kinds=...` still overrides it.
 */
#define pr_fmt(fmt) "TOA: " fmt	/* as toa.c defines it, before any header */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/init.h>
#include <linux/string.h>
#include "toa.h"

#define TOA_DEFAULT_KIND TCPOPT_TOA

static bool toa_intree_kinds_given;

static int toa_intree_set_int(const char *val, const struct kernel_param *kp)
{
	size_t len = kp->name ? strlen(kp->name) : 0;

	/* "toa_kinds" as a module parameter, "toa.toa_kinds" built in. */
	if (len >= 9 && !strcmp(kp->name + len - 9, "toa_kinds"))
		toa_intree_kinds_given = true;
	return param_set_int(val, kp);
}

static const struct kernel_param_ops param_ops_toa_intree_int = {
	.set = toa_intree_set_int,
	.get = param_get_int,
};
#define param_check_toa_intree_int(name, p) param_check_int(name, p)
#define param_ops_toa_intree_charp param_ops_charp
#define param_check_toa_intree_charp(name, p) param_check_charp(name, p)

static void toa_intree_default_kind(void);

#pragma push_macro("module_param_array")
#pragma push_macro("module_init")
#undef module_param_array
#define module_param_array(name, type, nump, perm) \
	module_param_array_named(name, name, toa_intree_##type, nump, perm)
#undef module_init
#define module_init(initfn)					\
	static int __init toa_intree_init(void)			\
	{							\
		toa_intree_default_kind();			\
		return initfn();				\
	}

#include "toa.c"

#pragma pop_macro("module_init")
#pragma pop_macro("module_param_array")

static void toa_intree_default_kind(void)
{
	if (toa_intree_kinds_given || toa_kinds_count != 1)
		return;
	toa_kinds[0] = TCPOPT_TOA;
}

module_init(toa_intree_init);
