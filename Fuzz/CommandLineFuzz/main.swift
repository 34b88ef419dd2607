// libFuzzer entry point for the command-line tools' value parsers; the logic is `CommandLineFuzzHarness` in BeaconCommandLine so unit tests replay the
// committed inputs through the same code. This file holds declarations only: built with
// `-sanitize=fuzzer`, libFuzzer supplies `main`.
import BeaconCommandLine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = CommandLineFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size)) {
        fatalError("CommandLineFuzz invariant broken: \(failure)")
    }
    return 0
}
