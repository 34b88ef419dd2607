#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>
#endif

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
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

unsigned int beacon_usable_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return (unsigned int)count;
    }
#endif
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count < 1 ? 1 : (unsigned int)count;
}

// The paper's loop in floating point (docs/placement.md): the candidate plus one stays a double,
// truncated after each jump, and every value is an integer below 2^52, exact in a double, so the
// buckets are the paper's.
#define BEACON_JUMP_LOOP(truncate)                                                                   \
    double limit = (double)buckets;                                                                \
    double candidate_plus_one = 1;                                                                 \
    unsigned long long state = key;                                                                \
    for (;;) {                                                                                     \
        state = state * 2862933555777941757ULL + 1;                                                \
        double jump = candidate_plus_one * (2147483648.0 / (double)((state >> 33) + 1));           \
        if (jump >= limit) return (long long)candidate_plus_one - 1;                               \
        candidate_plus_one = truncate(jump) + 1;                                                   \
    }

long long beacon_jump_bucket_portable(unsigned long long key, long long buckets) {
    BEACON_JUMP_LOOP(trunc)
}

#if defined(__x86_64__)
__attribute__((target("sse4.1"))) static long long jump_bucket_sse41(unsigned long long key, long long buckets) {
    BEACON_JUMP_LOOP(__builtin_trunc)
}

// -1 until the first call asks the CPU; then 0 or 1. Racing first calls store the same answer.
static int cpu_has_sse41 = -1;
#endif

long long beacon_jump_bucket(unsigned long long key, long long buckets) {
#if defined(__x86_64__)
    int has_sse41 = __atomic_load_n(&cpu_has_sse41, __ATOMIC_RELAXED);
    if (has_sse41 < 0) {
        unsigned int eax, ebx, ecx, edx;
        has_sse41 = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_SSE4_1) ? 1 : 0;
        __atomic_store_n(&cpu_has_sse41, has_sse41, __ATOMIC_RELAXED);
    }
    if (has_sse41) return jump_bucket_sse41(key, buckets);
#endif
    return beacon_jump_bucket_portable(key, buckets);
}

int beacon_bind_datagram_socket(int ipv6) {
#if defined(SOCK_CLOEXEC)
    int descriptor = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
    int descriptor = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
#endif
    if (descriptor < 0) return -1;
    int bound;
    if (ipv6) {
        struct sockaddr_in6 any;
        memset(&any, 0, sizeof any);
        any.sin6_family = AF_INET6;
        any.sin6_addr = in6addr_any;
        bound = bind(descriptor, (const struct sockaddr *)&any, sizeof any);
    } else {
        struct sockaddr_in any;
        memset(&any, 0, sizeof any);
        any.sin_family = AF_INET;
        any.sin_addr.s_addr = htonl(INADDR_ANY);
        bound = bind(descriptor, (const struct sockaddr *)&any, sizeof any);
    }
    if (bound != 0) {
        int saved = errno;
        close(descriptor);
        errno = saved;
        return -1;
    }
    return descriptor;
}

int beacon_bind_datagram_socket_to(const struct sockaddr *address, socklen_t length) {
#if defined(SOCK_CLOEXEC)
    int descriptor = socket(address->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
    int descriptor = socket(address->sa_family, SOCK_DGRAM, 0);
#endif
    if (descriptor < 0) return -1;
    if (bind(descriptor, address, length) != 0) {
        int saved = errno;
        close(descriptor);
        errno = saved;
        return -1;
    }
    return descriptor;
}


#if defined(__linux__)
/// Room for either family's packet information.
union beacon_source_control {
    char buffer[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
};

/// Sets `header`'s one control message: `size` bytes of `data` at `level` and `type`.
static void beacon_put_control(
    struct msghdr *header, union beacon_source_control *control, int level, int type, const void *data,
    size_t size) {
    memset(control, 0, sizeof *control);
    header->msg_control = control->buffer;
    header->msg_controllen = CMSG_SPACE(size);
    struct cmsghdr *message = (struct cmsghdr *)control->buffer;
    message->cmsg_level = level;
    message->cmsg_type = type;
    message->cmsg_len = CMSG_LEN(size);
    memcpy(CMSG_DATA(message), data, size);
}

/// Sets `header` to send from `source`; leaves it alone for a source of no family.
static void beacon_set_source(
    struct msghdr *header, union beacon_source_control *control, const struct sockaddr_storage *source) {
    if (source->ss_family == AF_INET) {
        struct in_pktinfo info;
        memset(&info, 0, sizeof info);
        info.ipi_spec_dst = ((const struct sockaddr_in *)source)->sin_addr;
        beacon_put_control(header, control, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
    } else if (source->ss_family == AF_INET6) {
        struct in6_pktinfo info;
        memset(&info, 0, sizeof info);
        info.ipi6_addr = ((const struct sockaddr_in6 *)source)->sin6_addr;
        beacon_put_control(header, control, IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info);
    }
}
#endif

/// Whether a failed send says the socket is full (or interrupted), rather than refusing the one
/// datagram it was given.
static int beacon_is_transient(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS || error == EINTR;
}

int beacon_send_datagrams(
    int descriptor, const void *payloads, unsigned int size, const struct sockaddr_storage *addresses,
    const socklen_t *lengths, const struct sockaddr_storage *sources, unsigned int count) {
    const unsigned char *bytes = payloads;
    unsigned int next = 0;
    unsigned int sent = 0;
#if defined(__linux__)
    enum { batch = 64 };
    struct mmsghdr headers[batch];
    struct iovec vectors[batch];
    union beacon_source_control controls[batch];
    while (next < count) {
        unsigned int n = count - next < batch ? count - next : batch;
        for (unsigned int i = 0; i < n; i++) {
            vectors[i].iov_base = (void *)(bytes + (size_t)(next + i) * size);
            vectors[i].iov_len = size;
            memset(&headers[i], 0, sizeof headers[i]);
            headers[i].msg_hdr.msg_name = (void *)&addresses[next + i];
            headers[i].msg_hdr.msg_namelen = lengths[next + i];
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
            if (sources != NULL) beacon_set_source(&headers[i].msg_hdr, &controls[i], &sources[next + i]);
        }
        int result = sendmmsg(descriptor, headers, n, MSG_DONTWAIT);
        if (result < 0) {
            // The batch's first datagram failed: a full buffer ends the call (the rest would
            // fail too), anything else is that datagram's own, which is skipped.
            if (beacon_is_transient(errno)) break;
            next += 1;
            continue;
        }
        sent += (unsigned int)result;
        next += (unsigned int)result;
    }
#else
    (void)sources;
    for (; next < count; next++) {
        ssize_t result = sendto(
            descriptor, bytes + (size_t)next * size, size, MSG_DONTWAIT,
            (const struct sockaddr *)&addresses[next], lengths[next]);
        if (result >= 0) {
            sent += 1;
        } else if (beacon_is_transient(errno)) {
            break;
        }
    }
#endif
    return (int)sent;
}
