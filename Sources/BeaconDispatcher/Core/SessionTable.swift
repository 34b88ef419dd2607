import BeaconCore
import BeaconSystemShims
import Synchronization

/// The per-node words the heartbeat hot path reads, indexed by the node's heartbeat-wheel slot.
///
/// Written only by the dispatcher's core (under its lock); read by heartbeats on any thread with
/// no lock. A slot's `secret` is the current session's random part, or 0 when the slot has no
/// valid session (the node expired or registered again, or the dispatcher stopped). Registration stores
/// the fingerprint first and publishes the secret with a releasing store; the hot path loads the
/// secret with acquiring order, so a matching secret implies it sees that registration's
/// fingerprint. Invalidation is a single relaxed store of 0: a heartbeat racing it either sees the
/// old session (and beats a node that was alive a moment ago, which is harmless) or fails.
///
/// The slots live in an anonymous mapping sized for the dispatcher's `maximumNodes`, so untouched
/// capacity costs no memory; `initialized` says how many have been set up.
final class SessionTable: @unchecked Sendable {
    // Safety of `@unchecked Sendable`: slots are shared through their atomic fields only; slots at
    // or above `initialized` are never read.

    /// 16 bytes, four to a cache line. A heartbeat only reads it: the jitter it draws comes from
    /// the session's secret and the time (``jitterRandom(secret:micros:)``), not from a stream
    /// stored here, which took a third word, a store per heartbeat and, padded, twice the memory.
    struct Slot: ~Copyable {
        let secret: Atomic<UInt64>
        let fingerprint: Atomic<UInt64>

        init() {
            secret = Atomic(0)
            fingerprint = Atomic(0)
        }
    }

    private let memory: ArenaMemory
    private let slots: UnsafeMutablePointer<Slot>
    let capacity: Int
    private let initialized = Atomic<UInt32>(0)

    init(capacity: Int) throws(DispatcherError) {
        guard let memory = ArenaMemory(byteCount: capacity * MemoryLayout<Slot>.stride) else {
            throw .invalidConfiguration("the system refused memory for \(capacity) nodes; lower maximumNodes")
        }
        self.memory = memory
        self.capacity = capacity
        slots = memory.base.bindMemory(to: Slot.self, capacity: capacity)
    }

    deinit {
        slots.deinitialize(count: Int(initialized.load(ordering: .relaxed)))
    }

    static var bytesPerNode: Int { MemoryLayout<Slot>.stride }

    /// Arms `index` for a session. Core only.
    func open(_ index: UInt32, fingerprint: UInt64, secret: UInt64) {
        ensureInitialized(through: index)
        let slot = slots + Int(index)
        slot.pointee.fingerprint.store(fingerprint, ordering: .relaxed)
        slot.pointee.secret.store(secret, ordering: .releasing)
    }

    /// Ends whatever session `index` holds. Core only.
    func close(_ index: UInt32) {
        guard index < initialized.load(ordering: .relaxed) else { return }
        slots[Int(index)].secret.store(0, ordering: .relaxed)
    }

    private func ensureInitialized(through index: UInt32) {
        var count = initialized.load(ordering: .relaxed)
        guard index >= count else { return }
        while count <= index {
            (slots + Int(count)).initialize(to: Slot())
            count += 1
        }
        initialized.store(count, ordering: .releasing)
    }

    /// The slot's current secret (0 when it has no valid session, or for an index never
    /// opened), from any thread. Acquiring: a secret that matches implies its registration's
    /// fingerprint is visible too.
    @inline(__always)
    func currentSecret(_ index: UInt32) -> UInt64 {
        guard index < initialized.load(ordering: .acquiring) else { return 0 }
        return slots[Int(index)].secret.load(ordering: .acquiring)
    }

    /// Bytes of slots touched so far.
    var touchedBytes: Int { Int(initialized.load(ordering: .relaxed)) * MemoryLayout<Slot>.stride }

    /// True when `session` is the current session of the node with `fingerprint`.
    @inline(__always)
    func validates(_ session: SessionID, fingerprint: UInt64) -> Bool {
        // A session's secret is never 0, so a match also means the slot is initialized.
        currentSecret(session.handle.index) == session.secret
            && slots[Int(session.handle.index)].fingerprint.load(ordering: .relaxed) == fingerprint
    }

    /// Asks the CPU to bring `index`'s slot into cache, for a batch of heartbeats. A hint only.
    @inline(__always)
    func prefetch(_ index: UInt32) {
        guard Int(index) < capacity else { return }
        beacon_prefetch_for_read(UnsafeRawPointer(slots + Int(index)))
    }

    /// A uniformly mixed word for drawing a heartbeat's jitter: SplitMix64's finaliser over the
    /// session's secret and the beat's time in microseconds. Different nodes differ by their
    /// secrets (random 64-bit values), a node's successive heartbeats by their times; two
    /// heartbeats of one node that see the same reading of the wheel's cached clock (refreshed
    /// once per wheel tick) draw the same period, which is harmless.
    @inline(__always)
    static func jitterRandom(secret: UInt64, micros: UInt64) -> UInt64 {
        var mixed = secret ^ (micros &* 0x9E37_79B9_7F4A_7C15)
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
