import BeaconCore
import Testing

@testable import BeaconDispatcher

/// SwarmKit's `TestSession` and `TestClusterUpdatesSendMessages` (§A13 19, 25).
@Suite struct SessionMessageTests {
    /// A session's stream attached again (a resumed session opening a new one) ends the old one;
    /// its reader used to wait for messages that now went to the new stream.
    @Test func aSessionStreamAttachedAgainEndsTheOneBefore() throws {
        let dispatcher = try startedDispatcher()
        let node = nodeID("node-a")
        let session = try dispatcher.registerNow(node).sessionID
        let (first, second) = (SessionRecorder(), SessionRecorder())
        try dispatcher.core.attachSessionSink(node: node, session: session, first.receive)
        try dispatcher.core.attachSessionSink(node: node, session: session, second.receive)
        #expect(first.finished == .some(nil))
        #expect(second.finished == nil)
        dispatcher.core.updateManagers([WeightedManager(nodeID: "manager-2", address: "10.0.0.2:4242")])
        #expect(second.messages.count == 1)
        #expect(first.messages.isEmpty)
    }

    @Test func sessionMessagesCarryTheWholePictureAndFollowEveryChange() throws {
        var configuration = DispatcherConfiguration()
        configuration.rateLimitPeriod = .zero
        let dispatcher = try startedDispatcher(configuration)
        let node = nodeID("node-a")
        let first = try dispatcher.registerNow(node, description: NodeDescription(hostname: "a"))
        #expect(first.managers == [WeightedManager(nodeID: "manager-1", address: "10.0.0.1:4242", weight: 10)])
        #expect(first.networkBootstrapKeys.isEmpty)
        #expect(first.rootCA == Array("test root CA".utf8))
        #expect(first.node.status.state == .ready)
        #expect(!first.disconnect)
        let recorder = SessionRecorder()
        try dispatcher.core.attachSessionSink(node: node, session: first.sessionID, recorder.receive)

        let key = EncryptionKey(subsystem: "networking:gossip", algorithm: "aes-gcm", key: [1, 2, 3], lamportTime: 1)
        dispatcher.store.updateCluster(ClusterSettings(networkBootstrapKeys: [key], rootCA: first.rootCA))
        var expected = first
        expected.networkBootstrapKeys = [key]
        #expect(recorder.messages.last == expected)

        let managers = [expected.managers[0], WeightedManager(nodeID: "manager-2", address: "10.0.0.2:4242")]
        dispatcher.core.updateManagers(managers)
        expected.managers = managers
        #expect(recorder.messages.last == expected)

        dispatcher.store.updateCluster(ClusterSettings(networkBootstrapKeys: [key], rootCA: Array("rotated".utf8)))
        expected.rootCA = Array("rotated".utf8)
        #expect(recorder.messages.last == expected)
        #expect(recorder.messages.count == 3)

        dispatcher.store.setNodeStatus(node, NodeStatus(state: .ready, message: "drained by operator"))
        #expect(recorder.messages.last?.node.status.message == "drained by operator")
        #expect(recorder.messages.count == 4)
    }
}
