// libFuzzer entry point for the heartbeat datagram lane as a manager answers it; the logic is
// `HeartbeatDatagramFuzzHarness` in BeaconDispatcher so unit tests replay the committed inputs
// through the same code. This file holds declarations only: built with `-sanitize=fuzzer`,
// libFuzzer supplies `main`.
import BeaconDispatcher

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = HeartbeatDatagramFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("HeartbeatDatagramFuzz invariant broken: \(failure)")
    }
    return 0
}
