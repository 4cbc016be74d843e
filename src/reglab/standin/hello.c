/* Registry Lab's stand-in for Docker's hello-world: a tiny static program.
 * The greeting is standin/greeting.txt, turned into greeting.inc (a C string) at build time.
 * Built only when Docker Hub cannot be reached (REGLAB_OFFLINE=1). It has no libc:
 * one write(2) and one exit(2), like the original. */
static const char greeting[] =
#include "greeting.inc"
    ;

#if defined(__x86_64__)
static long sys3(long n, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}
#define SYS_WRITE 1
#define SYS_EXIT 60
#elif defined(__aarch64__)
static long sys3(long n, long a, long b, long c) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
#define SYS_WRITE 64
#define SYS_EXIT 93
#else
#error "hello.c knows the system calls of x86_64 and aarch64 only"
#endif

void _start(void) {
    sys3(SYS_WRITE, 1, (long)greeting, sizeof greeting - 1);
    sys3(SYS_EXIT, 0, 0, 0);
    for (;;) {
    }
}
