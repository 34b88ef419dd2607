import Testing

@testable import BeaconCore

/// Placement must not depend on the process: these digests were computed once and committed. A
/// placer seeded from `Hasher` (per-process random) or from member order would fail them.
@Suite struct DeterminismTests {
    /// XXH64 over the owner indices of 10 000 fixed keys.
    func digest(_ placer: some Placer) throws -> UInt64 {
        var indices: [UInt32] = []
        for i in 0..<10_000 {
            indices.append(UInt32(try placer.memberIndex(for: "key-\(i)")))
        }
        return indices.withUnsafeBytes { XXHash64.hash($0) }
    }

    @Test func placementsAreStableAcrossProcesses() throws {
        let group = members(37, prefix: "node-")
        let weighted = group.enumerated().map { PlacementMember($0.element.name, weight: Double($0.offset % 4 + 1)) }
        let observed: [String: UInt64] = [
            "jump": try digest(JumpHashPlacer(members: group)),
            "rendezvous": try digest(RendezvousPlacer(members: group)),
            "rendezvous-weighted": try digest(RendezvousPlacer(members: weighted)),
            "ring": try digest(RingPlacer(members: group)),
            "ring-weighted": try digest(RingPlacer(members: weighted)),
            "maglev": try digest(MaglevPlacer(members: group)),
            "bounded-load": try digest(BoundedLoadTable(members: group)),
            "bounded-load-weighted": try digest(BoundedLoadTable(members: weighted)),
            "bounded-load-sip": try digest(BoundedLoadTable(members: group, keyHasher: .sipHash24(.fnPlacerKey))),
        ]
        let expected = Self.expected
        for (name, value) in observed.sorted(by: { $0.key < $1.key }) {
            #expect(expected[name] == value, "\(name): 0x\(String(value, radix: 16))")
        }
    }

    static let expected: [String: UInt64] = [
        "bounded-load": 0x2EC3_1A27_7FEF_1782,
        "bounded-load-sip": 0x61F3_5772_06EA_06AC,
        "bounded-load-weighted": 0x87E8_F5BD_F086_68E1,
        "jump": 0xCE21_133C_7ADB_94D1,
        "maglev": 0x2959_2942_A8E7_B14D,
        "rendezvous": 0xBA67_3D20_BA90_0853,
        "rendezvous-weighted": 0x34D8_D517_47EF_08AA,
        "ring": 0x2E9E_0990_1DB1_8904,
        "ring-weighted": 0x3FB3_FEDB_E4FA_C968,
    ]
}
