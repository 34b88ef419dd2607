// libFuzzer entry point for TiFlow's master/worker message decoding; the logic is `MasterWorkerMessageFuzzHarness` in BeaconMasterWorker so unit tests replay the
// committed inputs through the same code. This file holds declarations only: built with
// `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconMasterWorker

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = MasterWorkerMessageFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("MasterWorkerMessageFuzz invariant broken: \(failure)")
    }
    return 0
}
