// libFuzzer entry point for the node agent's handling of an assignment stream; the logic is `AgentStreamFuzzHarness` in BeaconAgent so unit tests replay the
// committed inputs through the same code. This file holds declarations only: built with
// `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconAgent

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = AgentStreamFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("AgentStreamFuzz invariant broken: \(failure)")
    }
    return 0
}
