/// What the dispatcher has done since it was made, for metrics and reports. Each sub-machine of
/// ``DispatcherCore`` counts its own events; the core reads them together.
package struct DispatcherCounters: Sendable {
    /// Sessions issued (resumes that kept their session are not counted).
    package var registrations = 0
    /// Nodes marked DOWN because a deadline passed.
    package var expiries = 0
    /// Batches of status writes taken for the store.
    package var flushes = 0
    /// Writes in those batches.
    package var writes = 0
    /// Assignment messages handed to a node's stream (queued for it to read), and their encoded
    /// bytes.
    package var assignmentMessages = 0
    package var assignmentBytes = 0
    /// Writes of tasks and secrets or configs left out of a node's stream: too large for one
    /// assignment message under the byte budget.
    package var oversizedAssignments = 0
    /// Nodes whose tasks were orphaned after `orphanAfter` DOWN.
    package var orphaned = 0
}
