// libFuzzer entry point for the placement core; the logic is `RingFuzzHarness` in BeaconCore so
// unit tests replay the committed inputs through the same code. This file holds declarations only:
// built with `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconCore

@_cdecl("LLVMFuzzerTestOneInput")
public func ringFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = RingFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("RingFuzz invariant broken: \(failure)")
    }
    return 0
}
