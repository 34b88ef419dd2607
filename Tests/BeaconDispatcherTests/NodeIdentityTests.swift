import Testing

@testable import BeaconDispatcher

/// Which node a call comes from, as the gRPC service decides it from metadata and certificate.
@Suite struct NodeIdentityTests {
    private func resolve(_ claimed: [String], names: [String]?, required: Bool = false) -> Result<
        String, NodeIdentityError
    > {
        Result { () throws(NodeIdentityError) in
            try NodeIdentity.resolve(claimed: claimed, certificateNames: names, requiresCertificate: required).rawValue
        }
    }

    @Test func exactlyOneValidClaimIsNeeded() {
        #expect(resolve([], names: nil) == .failure(.noClaim))
        #expect(resolve(["node-1", "node-2"], names: nil) == .failure(.severalClaims))
        #expect(resolve([""], names: nil) == .failure(.invalidClaim(.invalidArgument("a node id must not be empty"))))
        #expect(resolve(["node-1"], names: nil) == .success("node-1"))
    }

    @Test func aCertificateMustNameTheClaimedNode() {
        #expect(resolve(["node-1"], names: ["node-2", "node-1"]) == .success("node-1"))
        #expect(
            resolve(["node-1"], names: ["node-2"])
                == .failure(.certificateNamesOtherNode(names: ["node-2"], claimed: "node-1")))
        #expect(resolve(["node-1"], names: nil, required: true) == .failure(.certificateMissing))
        #expect(resolve(["node-1"], names: ["node-1"], required: true) == .success("node-1"))
    }

    /// Swift strings compare by canonical equivalence; node ids (and the store) by their bytes, so
    /// a certificate for the precomposed "café" must not admit the decomposed one, another node.
    @Test func certificateNamesAreComparedByteForByte() throws {
        let precomposed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(try NodeID(precomposed) != NodeID(decomposed))
        #expect(
            resolve([decomposed], names: [precomposed])
                == .failure(.certificateNamesOtherNode(names: [precomposed], claimed: decomposed)))
        #expect(resolve([precomposed], names: [precomposed]) == .success(precomposed))
    }

    @Test func refusalsReadAsTheServiceReportsThem() {
        #expect(
            NodeIdentityError.certificateNamesOtherNode(names: ["node-2", "x"], claimed: "node-1").description
                == "the client certificate names node-2, x, not node node-1")
        #expect(
            NodeIdentityError.invalidClaim(.invalidArgument("a node id must not be empty")).description
                == "invalid argument: a node id must not be empty")
    }
}
