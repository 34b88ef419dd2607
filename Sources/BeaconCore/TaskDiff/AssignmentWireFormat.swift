/// The byte layout of an assignment message (format version 1); `docs/wire-format.md` describes
/// it for implementers in other languages.
///
/// ```
/// offset size  field
///      0    4  magic "BTDF"
///      4    1  format version = 1
///      5    1  kind: 1 COMPLETE, 2 INCREMENTAL
///      6    1  flags: bit 0 set = more parts of this batch follow; other bits 0
///      7    1  reserved = 0
///      8    8  resultsIn, little-endian
///     16    8  appliesTo, little-endian
///     24    4  change count, little-endian
///     28    8  state digest after applying, little-endian
///     36    …  changes, strictly ascending by key:
///              varint key delta (the first change: the key itself; then key − previous key, ≥ 1)
///              varint tag: 0 = removal; n ≥ 1 = upsert with an (n − 1)-byte payload, then
///              varint version, then the payload bytes
/// ```
///
/// The header has a fixed size so an encoder can fill in the count, digest and flags last.
enum AssignmentWireFormat {
    static let magic: (UInt8, UInt8, UInt8, UInt8) = (0x42, 0x54, 0x44, 0x46)  // "BTDF"
    static let version: UInt8 = 1
    static let headerSize = 36
    static let moreFollowsFlag: UInt8 = 1

    /// The most a change adds beyond its payload: three 10-byte varints.
    static let maximumChangeOverhead = 3 * VarInt.maximumLength
    /// The smallest encoding of a change: a one-byte key delta and a zero tag.
    static let minimumChangeSize = 2

    /// The bytes `change` takes when its key is written as `keyDelta`.
    @inline(__always)
    static func encodedSize(keyDelta: UInt64, isRemoval: Bool, version: UInt64, payloadLength: Int) -> Int {
        if isRemoval { return VarInt.length(of: keyDelta) + 1 }
        return VarInt.length(of: keyDelta) + VarInt.length(of: UInt64(payloadLength) + 1)
            + VarInt.length(of: version) + payloadLength
    }

    static func writeHeader(
        to base: UnsafeMutableRawPointer, kind: AssignmentMessageKind, moreFollows: Bool,
        resultsIn: UInt64, appliesTo: UInt64, changeCount: UInt32, stateDigest: UInt64
    ) {
        base.storeBytes(of: magic.0, toByteOffset: 0, as: UInt8.self)
        base.storeBytes(of: magic.1, toByteOffset: 1, as: UInt8.self)
        base.storeBytes(of: magic.2, toByteOffset: 2, as: UInt8.self)
        base.storeBytes(of: magic.3, toByteOffset: 3, as: UInt8.self)
        base.storeBytes(of: version, toByteOffset: 4, as: UInt8.self)
        base.storeBytes(of: kind.rawValue, toByteOffset: 5, as: UInt8.self)
        base.storeBytes(of: moreFollows ? moreFollowsFlag : 0, toByteOffset: 6, as: UInt8.self)
        base.storeBytes(of: 0, toByteOffset: 7, as: UInt8.self)
        base.storeBytes(of: resultsIn.littleEndian, toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: appliesTo.littleEndian, toByteOffset: 16, as: UInt64.self)
        base.storeBytes(of: changeCount.littleEndian, toByteOffset: 24, as: UInt32.self)
        base.storeBytes(of: stateDigest.littleEndian, toByteOffset: 28, as: UInt64.self)
    }
}
