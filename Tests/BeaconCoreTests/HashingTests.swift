import BeaconCore
import Testing

@Suite struct HashingTests {
    /// Known answers from the reference C implementation of XXH64 (via python-xxhash 3.x).
    @Test(arguments: [
        ("", UInt64(0), UInt64(0xEF46_DB37_51D8_E999)),
        ("a", 0, 0xD24E_C4F1_A98C_6E5B),
        ("abc", 0, 0x44BC_2CF5_AD77_0999),
        ("Nobody inspects the spammish repetition", 0, 0xFBCE_A83C_8A37_8BF1),
        ("", 0x9E37_79B9_7F4A_7C15, 0xC434_9FC9_3C01_0000),
        ("a", 0x9E37_79B9_7F4A_7C15, 0x9A7C_6D2E_A455_68C9),
        ("abc", 0x9E37_79B9_7F4A_7C15, 0x2ED0_F59D_6B43_AC8B),
        ("Nobody inspects the spammish repetition", 0x9E37_79B9_7F4A_7C15, 0xEB8B_157C_A26C_BF34),
    ])
    func xxHash64KnownAnswers(input: String, seed: UInt64, expected: UInt64) {
        #expect(XXHash64.hash(input, seed: seed) == expected)
        let bytes = Array(input.utf8)
        bytes.withUnsafeBytes { #expect(XXHash64.hash($0, seed: seed) == expected) }
    }

    @Test func xxHash64LongInputUsesStripes() {
        let bytes = (0..<100).map { UInt8($0) }
        bytes.withUnsafeBytes {
            #expect(XXHash64.hash($0) == 0x6AC1_E580_3216_6597)
            #expect(XXHash64.hash($0, seed: 0x9E37_79B9_7F4A_7C15) == 0x3B97_D91E_BA03_E785)
        }
    }

    @Test func integerKeysHashAsTheirLittleEndianBytes() {
        #expect(XXHash64.hash(UInt64(0xDEAD_BEEF)) == 0x3396_F1A5_9CB0_0C78)
        for value: UInt64 in [0, 1, 0xDEAD_BEEF, .max, 0x0123_4567_89AB_CDEF] {
            let expected = withUnsafeBytes(of: value.littleEndian) { XXHash64.hash($0, seed: 7) }
            #expect(XXHash64.hash(value, seed: 7) == expected)
            let sip = SipHash24(k0: 3, k1: 5)
            #expect(sip.hash(value) == withUnsafeBytes(of: value.littleEndian) { sip.hash($0) })
        }
    }

    /// The SipHash paper's vector: key 00…0f, message 00…0e.
    @Test func sipHashPaperVector() {
        let sip = SipHash24(k0: 0x0706_0504_0302_0100, k1: 0x0F0E_0D0C_0B0A_0908)
        let message = (0..<15).map { UInt8($0) }
        message.withUnsafeBytes { #expect(sip.hash($0) == 0xA129_CA61_49BE_45E5) }
    }

    /// The reference implementation's first vectors (empty message, then 00, 00 01, …).
    @Test func sipHashReferenceVectors() {
        let sip = SipHash24(k0: 0x0706_0504_0302_0100, k1: 0x0F0E_0D0C_0B0A_0908)
        let expected: [UInt64] = [
            0x726F_DB47_DD0E_0E31, 0x74F8_39C5_93DC_67FD, 0x0D6C_8009_D9A9_4F5A, 0x8567_6696_D7FB_7E2D,
            0xCF27_94E0_2771_87B7, 0x1876_5564_CD99_A68D, 0xCBC9_466E_58FE_E3CE, 0xAB02_00F5_8B01_D137,
            0x93F5_F579_9A93_2462, 0x9E00_82DF_0BA9_E4B0,
        ]
        for (length, value) in expected.enumerated() {
            let message = (0..<length).map { UInt8($0) }
            message.withUnsafeBytes { #expect(sip.hash($0) == value, "length \(length)") }
        }
    }

    /// Fn's placer key on Fn function ids, from the seed spec (verified there against Go).
    @Test(arguments: [
        ("", UInt64(0x4DCC_F8F6_E62E_A9AD)),
        ("a", 0x604B_22E2_A73B_F95D),
        ("fn1", 0xD0C0_253B_FD66_CCEA),
        ("01D8JQJ0Q7NG8G00GZJ0000001", 0x2E10_6FF2_6960_CD49),
        ("my-function-id", 0x1EBC_DE98_F25B_0304),
        ("abcdefgh", 0x13FC_28D1_D468_58AA),
        ("abcdefghi", 0xA14E_9892_9F7E_5C18),
    ])
    func sipHashFnPlacerVectors(id: String, expected: UInt64) {
        #expect(SipHash24.fnPlacerKey.hash(id) == expected)
        #expect(KeyHasher.sipHash24(.fnPlacerKey).hash(id) == expected)
    }

    @Test func keyFormsAgree() {
        let hasher = KeyHasher.xxHash64(seed: 42)
        let bytes: [UInt8] = Array("placement-key".utf8)
        bytes.withUnsafeBytes { #expect(hasher.hash($0) == hasher.hash("placement-key")) }
        // A non-ASCII string hashes its UTF-8 encoding.
        let text = "grüße, 東京"
        Array(text.utf8).withUnsafeBytes { #expect(hasher.hash($0) == hasher.hash(text)) }
    }
}
