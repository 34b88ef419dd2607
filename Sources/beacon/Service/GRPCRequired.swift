import ArgumentParser

/// The error the network commands give in a build without the `GRPC` trait. It comes before
/// any check of their options: no value the user could give would make the command run, so the
/// first thing to fix is the build.
func grpcRequired(_ command: String) -> ValidationError {
    ValidationError(
        "`beacon \(command)` needs the GRPC trait, and this beacon was built without it; run it as `swift run -c release --traits GRPC beacon \(command) …`"
    )
}
