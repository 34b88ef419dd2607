// libFuzzer entry point for the heartbeat wheel; the logic is `HeartbeatFuzzHarness` in
// BeaconCore so unit tests replay the committed inputs through the same code. This file holds
// declarations only: built with `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconCore

@_cdecl("LLVMFuzzerTestOneInput")
public func heartbeatFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = HeartbeatFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("HeartbeatFuzz invariant broken: \(failure)")
    }
    return 0
}
