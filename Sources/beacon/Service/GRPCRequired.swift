import ArgumentParser

/// The error the network commands give in a build without the `GRPC` trait, from `run()`: their
/// options are checked first, the same way in every build, so a command line accepted here runs
/// as typed once the tool is rebuilt with the trait (docs/service.md says why).
func grpcRequired(_ command: String) -> ValidationError {
    ValidationError(
        "`beacon \(command)` needs the GRPC trait, and this beacon was built without it; run it as `swift run -c release --traits GRPC beacon \(command) …`"
    )
}
