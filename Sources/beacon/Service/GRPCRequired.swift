import ArgumentParser

/// The error the network commands give in a build without the `GRPC` trait.
func grpcRequired(_ command: String) -> ValidationError {
    ValidationError(
        "this beacon was built without gRPC; run it as `swift run -c release --traits GRPC beacon \(command) …`")
}
