#ifndef BEACON_SYSTEM_SHIMS_H
#define BEACON_SYSTEM_SHIMS_H

// What the hot paths of BeaconCore, the dispatcher and the agents need that Swift does not reach
// by itself.

#include <sys/socket.h>

/// The CPU the calling thread is running on, or 0 where the system cannot say. It may be stale by
/// the time the caller uses it (the thread can migrate): callers use it to pick a counter that is
/// probably not shared with another running thread, never for correctness.
unsigned int beacon_current_cpu(void);

/// How many CPUs the system has configured (at least 1): an upper bound for what
/// `beacon_current_cpu` returns on systems that number CPUs densely.
unsigned int beacon_cpu_count(void);

/// How many CPUs the calling thread may run on (at least 1): its affinity mask on Linux, so a
/// process started under `taskset -c 0` counts 1; the online CPUs elsewhere, or where the mask
/// cannot be read. A thread inherits the mask of the thread that made it.
unsigned int beacon_usable_cpu_count(void);

/// Asks the CPU to bring the cache line at `address` closer, for writing. Only a hint: it never
/// faults, even on an address that is not mapped.
static inline void beacon_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the CPU to bring the cache line at `address` closer, for reading (the line may stay shared
/// with other cores). Only a hint: it never faults, even on an address that is not mapped.
static inline void beacon_prefetch_for_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Lamping and Veach's jump consistent hash of `key` over `buckets` buckets (1 ≤ `buckets` < 2⁵²),
/// in floating point: the loop behind BeaconCore's `JumpHashPlacer.bucket(for:buckets:)`. Each
/// step truncates a double. Swift cannot assume SSE4.1, so a Swift loop would call libm's `trunc`
/// through the PLT on every step; on x86-64 this checks the CPU once and takes a copy compiled for
/// SSE4.1's `roundsd` where the CPU has it (the loop alone runs about twice as fast). Elsewhere it
/// is the portable loop, whose `trunc` compilers inline where the base instruction set has one
/// (arm64's `frintz`). Same operations, same results.
long long beacon_jump_bucket(unsigned long long key, long long buckets);

/// ``beacon_jump_bucket`` without SSE4.1 whatever the CPU, for the tests that hold both loops to
/// the published one.
long long beacon_jump_bucket_portable(unsigned long long key, long long buckets);

/// A UDP socket bound to a free port of every local IPv4 address (or, with `ipv6`, of every IPv6
/// one), close-on-exec; -1 with `errno` set if it cannot be made.
int beacon_bind_datagram_socket(int ipv6);

/// A UDP socket bound to `address`, close-on-exec; -1 with `errno` set if it cannot be made.
int beacon_bind_datagram_socket_to(const struct sockaddr *address, socklen_t length);

/// Sends `count` datagrams of `size` bytes each, laid end to end at `payloads`, the i-th to
/// `addresses[i]` (`lengths[i]` bytes of it) from the datagram socket `descriptor`, without
/// blocking: `sendmmsg` on Linux, a `sendto` each elsewhere. Where `sources` is not NULL and
/// `sources[i]` has an address family, the i-th leaves from that local address (`IP_PKTINFO`,
/// `IPV6_PKTINFO`, on Linux only): for a manager's answer, the address its request came to,
/// which a socket bound to a wildcard address would otherwise choose by route, and which NAT and
/// connection-tracking firewalls on the way back require. A datagram the system refuses on its
/// own (port 0, a destination unreachable or forbidden) is skipped and the others still go; a
/// full send buffer ends the call. Returns how many were sent.
int beacon_send_datagrams(
    int descriptor, const void *payloads, unsigned int size, const struct sockaddr_storage *addresses,
    const socklen_t *lengths, const struct sockaddr_storage *sources, unsigned int count);

#endif
