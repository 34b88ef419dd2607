#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>
#endif

#include <unistd.h>

#include "BeaconSystemShims.h"

unsigned int beacon_current_cpu(void) {
#if defined(__linux__)
    // glibc 2.35 and later answer from the rseq area the kernel keeps per thread: a memory read,
    // no system call. Older ones use the vDSO.
    int cpu = sched_getcpu();
    return cpu < 0 ? 0 : (unsigned int)cpu;
#else
    return 0;
#endif
}

unsigned int beacon_cpu_count(void) {
    long count = sysconf(_SC_NPROCESSORS_CONF);
    return count < 1 ? 1 : (unsigned int)count;
}
