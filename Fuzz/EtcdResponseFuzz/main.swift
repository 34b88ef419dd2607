// libFuzzer entry point for the etcd gateway's JSON response decoding; the logic is `EtcdResponseFuzzHarness` in BeaconCoordinationEtcd so unit tests replay the
// committed inputs through the same code. This file holds declarations only: built with
// `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconCoordinationEtcd

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = EtcdResponseFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("EtcdResponseFuzz invariant broken: \(failure)")
    }
    return 0
}
