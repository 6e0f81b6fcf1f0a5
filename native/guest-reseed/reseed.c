// SPDX-License-Identifier: GPL-2.0
/*
 * toa-lab guest-reseed: run once in a micro-VM restored from a snapshot, so the
 * restored guest does not share the random state and wall clock its snapshot
 * froze.
 *
 *   guest-reseed HEX-BYTES EPOCH-SECONDS NANOSECONDS
 *
 * 1. RNDADDENTROPY: the host's fresh bytes go into the input pool, credited.
 *    (A plain write to /dev/urandom mixes them in but neither credits them nor
 *    reseeds: the CRNG would go on producing the snapshot's stream until its
 *    next scheduled reseed.)
 * 2. RNDRESEEDCRNG: the CRNG reseeds from the input pool now. In every kernel
 *    the lab boots (5.10.119+ carries the 5.18 random.c), that also bumps the
 *    CRNG generation, which throws away every per-CPU CRNG and batched
 *    get_random_u32/u64 the snapshot held.
 * 3. clock_settime(CLOCK_REALTIME): the guest's monotonic clock went on from the
 *    moment of the save (QEMU migrates the virtual clock); its wall clock must not.
 *
 * No libc (the busybox initramfs has none): raw x86-64 syscalls, so the binary
 * is a few hundred bytes and is pushed through the guest agent.
 */
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_ioctl 16
#define SYS_clock_settime 227
#define SYS_exit 60
#define O_RDWR 2
#define RNDADDENTROPY 0x40085203UL /* _IOW('R', 0x03, int[2]) */
#define RNDRESEEDCRNG 0x5207UL     /* _IO('R', 0x07) */
#define MAX_BYTES 256

static long syscall3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static void say(const char *s) {
  long n = 0;
  while (s[n]) n++;
  syscall3(SYS_write, 1, (long)s, n);
}

static void say_number(long v) {
  char buf[24];
  int i = sizeof buf;
  int negative = v < 0;
  unsigned long u = negative ? -(unsigned long)v : (unsigned long)v;
  buf[--i] = 0;
  do buf[--i] = (char)('0' + u % 10); while ((u /= 10) && i > 1);
  if (negative) buf[--i] = '-';
  say(buf + i);
}

static __attribute__((noreturn)) void leave(int code) {
  syscall3(SYS_exit, code, 0, 0);
  for (;;) {}
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static long decimal(const char *s) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

static struct {
  int entropy_count; /* bits credited */
  int buf_size;      /* bytes */
  unsigned char buf[MAX_BYTES];
} pool;

static struct {
  long tv_sec;
  long tv_nsec;
} now;

__attribute__((used)) void reseed_main(long *stack) {
  long argc = stack[0];
  char **argv = (char **)(stack + 1);
  if (argc != 4) {
    say("usage: guest-reseed HEX-BYTES EPOCH-SECONDS NANOSECONDS\n");
    leave(2);
  }
  int n = 0;
  for (const char *h = argv[1]; h[0] && h[1] && n < MAX_BYTES; h += 2) {
    int hi = hex_digit(h[0]), lo = hex_digit(h[1]);
    if (hi < 0 || lo < 0) {
      say("guest-reseed: bad hex\n");
      leave(2);
    }
    pool.buf[n++] = (unsigned char)(hi << 4 | lo);
  }
  now.tv_sec = decimal(argv[2]);
  now.tv_nsec = decimal(argv[3]);
  if (n < 32 || now.tv_sec < 0 || now.tv_nsec < 0 || now.tv_nsec >= 1000000000L) {
    say("guest-reseed: want >= 32 bytes, seconds and nanoseconds\n");
    leave(2);
  }
  pool.entropy_count = n * 8;
  pool.buf_size = n;

  long fd = syscall3(SYS_open, (long)"/dev/urandom", O_RDWR, 0);
  if (fd < 0) {
    say("guest-reseed: open /dev/urandom: ");
    say_number(fd);
    say("\n");
    leave(1);
  }
  long added = syscall3(SYS_ioctl, fd, RNDADDENTROPY, (long)&pool);
  long reseeded = syscall3(SYS_ioctl, fd, RNDRESEEDCRNG, 0);
  syscall3(SYS_close, fd, 0, 0);
  long clock = syscall3(SYS_clock_settime, 0 /* CLOCK_REALTIME */, (long)&now, 0);

  say("entropy-added-bits ");
  say_number(added == 0 ? n * 8 : added);
  say("\ncrng-reseed ");
  say_number(reseeded);
  say("\nclock-set ");
  say_number(clock);
  say("\n");
  leave(added == 0 && reseeded == 0 && clock == 0 ? 0 : 1);
}

/* The kernel starts us with argc at the stack pointer; the ABI wants a 16-byte-aligned call. */
__asm__(".globl _start\n"
        "_start:\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call reseed_main\n"
        "  hlt\n");
