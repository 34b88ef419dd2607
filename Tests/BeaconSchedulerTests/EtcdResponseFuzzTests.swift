import BeaconCoordination
import BeaconCore
import BeaconScheduler
import Foundation
import FuzzReplay
import Testing

@testable import BeaconCoordinationEtcd

/// Replays every committed `EtcdResponseFuzz` input through the harness the fuzz target runs,
/// and shows that the harness's checks can fail. Built without the `Etcd` trait: the decoding
/// it covers needs no HTTP client.
@Suite struct EtcdResponseFuzzTests {
    @Test(arguments: FuzzCorpus.inputs(of: "EtcdResponseFuzz"))
    func replays(_ file: URL) throws {
        #expect(try FuzzCorpus.failure(replaying: file, through: EtcdResponseFuzzHarness.run) == nil)
    }

    /// The promises the harness checks on every decoded answer reject what they must.
    @Test func brokenPromisesAreReported() {
        let updated = StoredValue(key: "/g/a", value: "v", createRevision: 3, modRevision: 5, lease: nil)
        #expect(EtcdResponseFuzzHarness.brokenPromise(StoreSnapshot(values: [updated], revision: 5)) == nil)
        #expect(EtcdResponseFuzzHarness.brokenPromise(StoreSnapshot(values: [updated], revision: 4)) != nil)
        #expect(EtcdResponseFuzzHarness.brokenPromise(StoreSnapshot(values: [], revision: 0)) != nil)
        var swapped = updated
        swapped.createRevision = 6
        #expect(EtcdResponseFuzzHarness.brokenPromise(.put(swapped)) != nil)
        #expect(EtcdResponseFuzzHarness.brokenPromise(.delete(key: "/g/a", revision: 0)) != nil)
    }

    /// A built watch stream is compared with the model batch by batch: a stream whose second
    /// line is refused yields only the first line's batch, and the harness's reader agrees.
    @Test func theWatchReaderStopsAtTheFirstRefusedLine() throws {
        let put = #"{"result":{"events":[{"kv":{"key":"L2cvYQ==","create_revision":"3","mod_revision":"5"}}]}}"#
        let orphan = #"{"result":{"events":[{"type":"PUT"}]}}"#
        let stream = Data((put + "\n" + orphan + "\n" + put + "\n").utf8)
        let chunkSizes: [UInt8] = [2, 40, 0, 7]
        let (batches, failure) = chunkSizes.withUnsafeBytes { raw in
            var chunks = FuzzByteReader(raw)
            return EtcdResponseFuzzHarness.readWatch(stream, chunks: &chunks)
        }
        let value = StoredValue(key: "/g/a", value: "", createRevision: 3, modRevision: 5, lease: nil)
        #expect(batches == [[.put(value)]])
        #expect(failure != nil)
    }
}
