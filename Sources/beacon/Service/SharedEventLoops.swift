#if GRPC
import BeaconSystemShims
import NIOCore
import NIOPosix

/// SwiftNIO's shared event loop group, as `serve` and `loadgen` run it.
enum SharedEventLoops {
    /// Sizes the group to the CPUs this process may run on and makes it Swift concurrency's
    /// executor. Call it first thing in a command, before anything touches the group.
    ///
    /// SwiftNIO sizes its shared group by the cgroup's quota or cpuset, not by the affinity mask:
    /// under `taskset -c 0` on this 2-core machine it still started two loops, which took turns on
    /// the one CPU, each woken on its own for its connections' beats. One loop made 10–17 % fewer
    /// context switches; server CPU per streamed beat did not move beyond this VM's noise
    /// (docs/benchmarks.md). Go's runtime sizes GOMAXPROCS by the mask too, so the Go server it is
    /// compared with ran one thread of Go code there.
    static func install() {
        NIOSingletons.groupLoopCountSuggestion = max(1, min(System.coreCount, Int(beacon_usable_cpu_count())))
        // Swift concurrency's jobs run on the event loops, saving a thread hop per message.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
#endif
