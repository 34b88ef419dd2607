// libFuzzer entry point for task diffing; the logic is `DiffFuzzHarness` in BeaconCore so unit
// tests replay the committed inputs through the same code. This file holds declarations only:
// built with `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconCore

@_cdecl("LLVMFuzzerTestOneInput")
public func diffFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = DiffFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("DiffFuzz invariant broken: \(failure)")
    }
    return 0
}
