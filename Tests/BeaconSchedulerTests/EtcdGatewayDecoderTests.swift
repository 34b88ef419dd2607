import BeaconCoordination
import BeaconScheduler
import Foundation
import Testing

@testable import BeaconCoordinationEtcd

/// The etcd gateway's answers as etcd 3.5 writes them, through the decoder the store runs, and
/// the answers it must refuse. Built without the `Etcd` trait.
@Suite struct EtcdGatewayDecoderTests {
    static let header =
        #""header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"12","raft_term":"2"}"#

    @Test func aRangeDecodesKeysValuesRevisionsAndLeases() throws {
        let body =
            #"{\#(Self.header),"kvs":[{"key":"L2cvYQ==","create_revision":"5","mod_revision":"11","version":"3","value":"d2VpZ2h0PTE=","lease":"7587869387036717620"},{"key":"L2cvYg==","create_revision":"6","mod_revision":"6","version":"1"}],"count":"2"}"#
        let page = try EtcdGatewayDecoder.rangePage(Data(body.utf8))
        let snapshot = page.snapshot
        #expect(snapshot.revision == 12)
        #expect(!page.more)
        #expect(
            snapshot.values == [
                StoredValue(
                    key: "/g/a", value: "weight=1", createRevision: 5, modRevision: 11,
                    lease: LeaseID(7_587_869_387_036_717_620)),
                StoredValue(key: "/g/b", value: "", createRevision: 6, modRevision: 6, lease: nil),
            ])
    }

    @Test(arguments: [
        // No header: the watch would resume from the start of history.
        #"{"kvs":[]}"#,
        // A value modified after the snapshot's own revision.
        #"{"header":{"revision":"4"},"kvs":[{"key":"L2cvYQ==","create_revision":"3","mod_revision":"5"}]}"#,
        // Created after it was last modified.
        #"{"header":{"revision":"9"},"kvs":[{"key":"L2cvYQ==","create_revision":"6","mod_revision":"5"}]}"#,
        // No create revision: the election would put it first.
        #"{"header":{"revision":"9"},"kvs":[{"key":"L2cvYQ==","mod_revision":"5"}]}"#,
        // A revision that is not a number.
        #"{"header":{"revision":"9"},"kvs":[{"key":"L2cvYQ==","create_revision":"three","mod_revision":"5"}]}"#,
        // No key.
        #"{"header":{"revision":"9"},"kvs":[{"create_revision":"3","mod_revision":"5"}]}"#,
        // Not base64.
        #"{"header":{"revision":"9"},"kvs":[{"key":"@@","create_revision":"3","mod_revision":"5"}]}"#,
        // The last revision there is: no watch can resume after it.
        #"{"header":{"revision":"9223372036854775807"},"kvs":[]}"#,
        // More to come after no key: the next page would start where this one did.
        #"{"header":{"revision":"9"},"more":true}"#,
    ])
    func aRangeThatBreaksARuleIsRefused(_ body: String) {
        #expect(throws: CoordinationError.self) { try EtcdGatewayDecoder.rangePage(Data(body.utf8)) }
    }

    @Test func integersMayComeAsNumbers() throws {
        let body = #"{"header":{"revision":12},"kvs":[{"key":"L2cvYQ==","create_revision":5,"mod_revision":11}]}"#
        #expect(try EtcdGatewayDecoder.rangePage(Data(body.utf8)).snapshot.values.map(\.modRevision) == [11])
    }

    /// A page says whether more keys follow, and where it ends as the bytes etcd sent: a key
    /// that is not UTF-8 reads as replacement characters, which would not say where the next
    /// page starts.
    @Test func aPageSaysWhetherMoreKeysFollowAndItsEndsAsSent() throws {
        let body =
            #"{\#(Self.header),"kvs":[{"key":"L2cvYQ==","create_revision":"5","mod_revision":"11"},{"key":"L2cv/w==","create_revision":"6","mod_revision":"6"}],"more":true,"count":"40"}"#
        let page = try EtcdGatewayDecoder.rangePage(Data(body.utf8))
        #expect(page.snapshot.values.map(\.key) == ["/g/a", "/g/\u{FFFD}"])
        #expect(page.more)
        #expect(page.firstKey == Data("/g/a".utf8))
        #expect(page.lastKey == Data([0x2F, 0x67, 0x2F, 0xFF]))
    }

    @Test func aWatchLineDecodesPutsAndDeletesInOrder() throws {
        let line =
            #"{"result":{\#(Self.header),"events":[{"kv":{"key":"L2cvYQ==","create_revision":"9","mod_revision":"13","version":"2","value":"YSxi"}},{"type":"DELETE","kv":{"key":"L2cvYg==","mod_revision":"14"}}]}}"#
        #expect(
            try EtcdGatewayDecoder.changes(watchLine: Data(line.utf8)) == [
                .put(StoredValue(key: "/g/a", value: "a,b", createRevision: 9, modRevision: 13, lease: nil)),
                .delete(key: "/g/b", revision: 14),
            ])
        let created = #"{"result":{\#(Self.header),"created":true}}"#
        #expect(try EtcdGatewayDecoder.changes(watchLine: Data(created.utf8)).isEmpty)
    }

    @Test(arguments: [
        // An event without its key-value: skipping it would lose the change for good.
        #"{"result":{"events":[{"type":"DELETE"}]}}"#,
        #"{"result":{"events":[{"type":"EXPIRE","kv":{"key":"L2cvYQ==","mod_revision":"5"}}]}}"#,
        #"{"result":{"events":[{"type":"DELETE","kv":{"key":"L2cvYQ=="}}]}}"#,
        // At the last revision there is, put or deleted.
        #"{"result":{"events":[{"type":"DELETE","kv":{"key":"L2cvYQ==","mod_revision":"9223372036854775807"}}]}}"#,
        #"{"result":{"events":[{"kv":{"key":"L2cvYQ==","create_revision":"9","mod_revision":"9223372036854775807"}}]}}"#,
        // Out of revision order.
        #"{"result":{"events":[{"type":"DELETE","kv":{"key":"L2cvYQ==","mod_revision":"6"}},{"type":"DELETE","kv":{"key":"L2cvYg==","mod_revision":"5"}}]}}"#,
        #"{"result":{"canceled":true,"compact_revision":"10"}}"#,
        #"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: request timed out","http_status":"Service Unavailable"}}"#,
    ])
    func aWatchLineThatBreaksARuleOrEndsTheWatchThrows(_ line: String) {
        #expect(throws: CoordinationError.self) { try EtcdGatewayDecoder.changes(watchLine: Data(line.utf8)) }
    }

    @Test func aCompactedWatchSaysSo() {
        let line = #"{"result":{"canceled":true,"compact_revision":"10"}}"#
        #expect(throws: CoordinationError.compacted(compactRevision: 10)) {
            try EtcdGatewayDecoder.changes(watchLine: Data(line.utf8))
        }
    }

    @Test func leaseAnswers() throws {
        let granted = try EtcdGatewayDecoder.grantedLease(
            Data(#"{\#(Self.header),"ID":"7587869387036717620","TTL":"10"}"#.utf8))
        #expect(granted == GrantedLease(id: LeaseID(7_587_869_387_036_717_620), ttl: .seconds(10)))
        // A TTL of 0 would be refreshed in a tight loop; etcd never grants more than 9e9 s.
        for ttl in ["0", "-1", "9000000001"] {
            #expect(throws: CoordinationError.self) {
                try EtcdGatewayDecoder.grantedLease(Data(#"{"ID":"5","TTL":"\#(ttl)"}"#.utf8))
            }
        }
        #expect(
            try EtcdGatewayDecoder.isAlive(keepAlive: Data(#"{"result":{\#(Self.header),"ID":"5","TTL":"9"}}"#.utf8)))
        #expect(try !EtcdGatewayDecoder.isAlive(keepAlive: Data(#"{"result":{\#(Self.header),"ID":"5"}}"#.utf8)))
    }

    @Test func aFailedCallKeepsTheGatewaysMessage() {
        let old = EtcdGatewayDecoder.failure(
            status: 400,
            body: Data(
                #"{"error":"etcdserver: requested lease not found","code":5,"message":"etcdserver: requested lease not found"}"#
                    .utf8))
        #expect(old == .leaseNotFound)
        let new = EtcdGatewayDecoder.failure(
            status: 404, body: Data(#"{"code":5,"message":"etcdserver: requested lease not found","details":[]}"#.utf8))
        #expect(new == .leaseNotFound)
        #expect(
            EtcdGatewayDecoder.failure(status: 502, body: Data("Bad Gateway".utf8))
                == .failure("etcd: 502: Bad Gateway"))
    }

    @Test func onlyALeaderChangeIsSentAgain() {
        let leaderChanged = Data(
            #"{"error":"etcdserver: leader changed","code":14,"message":"etcdserver: leader changed"}"#.utf8)
        #expect(EtcdGatewayDecoder.isLeaderChange(status: 503, body: leaderChanged))
        #expect(
            EtcdGatewayDecoder.isLeaderChange(
                status: 503, body: Data(#"{"code":14,"message":"etcdserver: leader changed","details":[]}"#.utf8)))
        // A write that met an election may have been applied: not sent again.
        #expect(
            !EtcdGatewayDecoder.isLeaderChange(
                status: 503,
                body: Data(
                    #"{"error":"etcdserver: request timed out","code":14,"message":"etcdserver: request timed out"}"#
                        .utf8)))
        #expect(!EtcdGatewayDecoder.isLeaderChange(status: 500, body: leaderChanged))
        #expect(!EtcdGatewayDecoder.isLeaderChange(status: 503, body: Data("Service Unavailable".utf8)))
        #expect(
            EtcdGatewayDecoder.failure(status: 503, body: leaderChanged)
                == .failure("etcd: 503: etcdserver: leader changed"))
    }

    @Test func watchLinesAreTheSameWhateverTheChunks() throws {
        let body = Array("{\"a\":1}\n\n{\"b\":2}\n{\"c\"".utf8)
        var whole = EtcdWatchLineSplitter()
        #expect(try whole.lines(appending: body) == [Data("{\"a\":1}".utf8), Data("{\"b\":2}".utf8)])
        var bytewise = EtcdWatchLineSplitter()
        var lines: [Data] = []
        for byte in body { lines += try bytewise.lines(appending: [byte]) }
        #expect(lines == [Data("{\"a\":1}".utf8), Data("{\"b\":2}".utf8)])
        #expect(try bytewise.lines(appending: Array(":3}\n".utf8)) == [Data("{\"c\":3}".utf8)])
    }
}
