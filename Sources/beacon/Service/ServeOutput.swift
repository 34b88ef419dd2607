#if GRPC
import Foundation

/// What `serve` prints on standard output: one write per line, unbuffered, so a pipe or a log
/// file gets the listening addresses and each report as they happen (`print` buffers whole
/// blocks when standard output is not a terminal).
enum ServeOutput {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
#endif
