/// Calls the core owed to code outside it, taken with ``DispatcherCore/takeDeferredCalls()``.
package struct DeferredCalls {
    private var calls: [() -> Void] = []

    init(calls: [() -> Void] = []) {
        self.calls = calls
    }

    /// Makes the calls, in the order they were owed.
    package func perform() {
        for call in calls { call() }
    }
}
