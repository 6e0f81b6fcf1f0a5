// SPDX-License-Identifier: GPL-2.0
/*
 * toa-bpf-load - puts an eBPF TOA object on a cgroup, in a guest that has
 * nothing but busybox (hence static, and no bpftool: Debian's is dynamic).
 *
 *   toa-bpf-load attach OBJ CGROUP   load every program in OBJ and attach
 *                                    each to CGROUP by its section's
 *                                    attach type (sockops, getpeername4/6)
 *   toa-bpf-load detach CGROUP       detach whatever sockops/getpeername
 *                                    programs CGROUP has
 *   toa-bpf-load show CGROUP         one line per attached program
 *
 * Programs are attached with BPF_PROG_ATTACH (not links), so they stay on the
 * cgroup after this process exits: nothing has to stay running in the guest.
 * Sockets created in CGROUP (and their accepted children) are then served.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* The attach points eBPF TOA uses: what detach and show look at. */
static const struct {
	enum bpf_attach_type type;
	const char *name;
} toa_hooks[] = {
	{ BPF_CGROUP_SOCK_OPS, "sockops" },
	{ BPF_CGROUP_INET4_GETPEERNAME, "getpeername4" },
	{ BPF_CGROUP_INET6_GETPEERNAME, "getpeername6" },
};
#define N_HOOKS (sizeof(toa_hooks) / sizeof(toa_hooks[0]))

static int open_cgroup(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		fprintf(stderr, "toa-bpf-load: open %s: %s (is cgroup2 mounted there?)\n", path, strerror(errno));
	return fd;
}

static int detach_all(int cg)
{
	unsigned int h;
	int failed = 0;

	for (h = 0; h < N_HOOKS; h++) {
		__u32 ids[64], count = 64, flags = 0, i;

		if (bpf_prog_query(cg, toa_hooks[h].type, 0, &flags, ids, &count))
			continue; /* nothing attached, or the kernel lacks this hook */
		for (i = 0; i < count; i++) {
			int prog = bpf_prog_get_fd_by_id(ids[i]);

			if (prog < 0 || bpf_prog_detach2(prog, cg, toa_hooks[h].type)) {
				fprintf(stderr, "toa-bpf-load: detach %s id %u: %s\n", toa_hooks[h].name, ids[i], strerror(errno));
				failed = 1;
			}
			if (prog >= 0)
				close(prog);
		}
	}
	return failed;
}

static int show(int cg)
{
	unsigned int h;

	for (h = 0; h < N_HOOKS; h++) {
		__u32 ids[64], count = 64, flags = 0, i;

		if (bpf_prog_query(cg, toa_hooks[h].type, 0, &flags, ids, &count))
			continue;
		for (i = 0; i < count; i++) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);
			int prog = bpf_prog_get_fd_by_id(ids[i]);

			if (prog >= 0 && !bpf_obj_get_info_by_fd(prog, &info, &len))
				printf("attached %s id %u name %s\n", toa_hooks[h].name, ids[i], info.name);
			if (prog >= 0)
				close(prog);
		}
	}
	return 0;
}

static int attach(const char *object_path, int cg)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int attached = 0;

	obj = bpf_object__open_file(object_path, NULL);
	if (!obj) {
		fprintf(stderr, "toa-bpf-load: %s is not a BPF object: %s\n", object_path, strerror(errno));
		return 1;
	}
	/* libbpf prints the verifier's log on stderr when the kernel refuses a program. */
	if (bpf_object__load(obj)) {
		fprintf(stderr, "toa-bpf-load: the kernel refused %s: %s\n", object_path, strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		enum bpf_attach_type type = bpf_program__expected_attach_type(prog);

		/* sockops programs carry no expected attach type in their section. */
		if (bpf_program__type(prog) == BPF_PROG_TYPE_SOCK_OPS)
			type = BPF_CGROUP_SOCK_OPS;
		if (bpf_prog_attach(bpf_program__fd(prog), cg, type, 0)) {
			fprintf(stderr, "toa-bpf-load: attach %s: %s\n", bpf_program__name(prog), strerror(errno));
			return 1;
		}
		attached++;
	}
	if (!attached) {
		fprintf(stderr, "toa-bpf-load: %s has no programs\n", object_path);
		return 1;
	}
	/* The attachments hold the programs (and their maps); the object may go. */
	bpf_object__close(obj);
	return 0;
}

int main(int argc, char **argv)
{
	/* Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK (64 KiB by default). */
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	int cg, rc;

	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	if (argc == 4 && !strcmp(argv[1], "attach")) {
		cg = open_cgroup(argv[3]);
		if (cg < 0)
			return 1;
		/* One TOA program per hook: what was there before is replaced. */
		rc = detach_all(cg) || attach(argv[2], cg) || show(cg);
	} else if (argc == 3 && !strcmp(argv[1], "detach")) {
		cg = open_cgroup(argv[2]);
		if (cg < 0)
			return 1;
		rc = detach_all(cg);
	} else if (argc == 3 && !strcmp(argv[1], "show")) {
		cg = open_cgroup(argv[2]);
		if (cg < 0)
			return 1;
		rc = show(cg);
	} else {
		fprintf(stderr, "usage: toa-bpf-load attach OBJ CGROUP | detach CGROUP | show CGROUP\n");
		return 2;
	}
	close(cg);
	return rc;
}
