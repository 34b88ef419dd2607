// libFuzzer entry point for the dispatcher's request handling below the transport; the logic is `DispatcherRequestFuzzHarness` in BeaconDispatcher so unit tests replay the
// committed inputs through the same code. This file holds declarations only: built with
// `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconDispatcher

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = DispatcherRequestFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("DispatcherRequestFuzz invariant broken: \(failure)")
    }
    return 0
}
