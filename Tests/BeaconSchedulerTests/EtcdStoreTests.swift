#if Etcd
import BeaconCoordination
import BeaconCoordinationEtcd
import EtcdTestSupport
import Testing

/// The etcd store's own behaviour on a real etcd: what the embedded store promises to match, and
/// reads of a prefix too large for one answer.
@Suite(.timeLimit(.minutes(2))) struct EtcdStoreTests {
    @Test func etcdDoesWhatTheEmbeddedStoreIsCheckedFor() async throws {
        let server = try await EtcdTestServer()
        defer { server.stop() }
        let store = try EtcdCoordinationStore(endpoints: [server.clientURL])
        try await StoreParityChecks.all(on: store, under: "/parity/")
        await store.shutdown()
    }

    /// Forty values of 512 KiB are 27 MiB as the gateway's base64, past the 16 MiB the store
    /// takes in one answer: the read comes in pages, halved until one fits, and returns every
    /// value. Keys written while it pages (sorting after the big ones, so into its last page) are
    /// not in it: every page is read at the first page's revision.
    @Test func aPrefixLargerThanOneAnswerIsReadInPagesAtOneRevision() async throws {
        let server = try await EtcdTestServer()
        defer { server.stop() }
        let store = try EtcdCoordinationStore(endpoints: [server.clientURL], timeout: .seconds(30))
        let big = String(repeating: "v", count: 512 << 10)
        let keys = (0..<40).map { "/big/a\($0 < 10 ? "0" : "")\($0)" }
        for key in keys {
            _ = try await store.transaction(if: [], then: [.put(key: key, value: big, lease: nil)], else: [])
        }
        let writer = Task {
            var index = 0
            while !Task.isCancelled {
                index += 1
                _ = try await store.transaction(
                    if: [], then: [.put(key: "/big/z\(index)", value: "late", lease: nil)], else: [])
            }
        }
        var latecomersWritten = false
        for _ in 0..<5 {
            let snapshot = try await store.read(prefix: "/big/")
            let read = snapshot.values.map(\.key)
            #expect(Array(read.prefix(40)) == keys)
            #expect(snapshot.values.prefix(40).allSatisfy { $0.value == big })
            #expect(snapshot.values.allSatisfy { $0.modRevision <= snapshot.revision })
            // Exactly the latecomers written by the snapshot's revision, no more and no fewer.
            let latecomers = try await store.read(prefix: "/big/z").values.filter {
                $0.modRevision <= snapshot.revision
            }
            #expect(Set(read.dropFirst(40)) == Set(latecomers.map(\.key)))
            latecomersWritten = latecomersWritten || !latecomers.isEmpty
        }
        writer.cancel()
        _ = await writer.result
        #expect(latecomersWritten)
        await store.shutdown()
    }
}
#endif
