/// What may wait in a ``DispatcherStream`` for its reader. The sink counts each message in, the
/// reader counts it out; a message that does not fit is not queued, and the stream ends with
/// `overflow` after what was queued before it.
protocol StreamBacklog<Element>: Sendable {
    associatedtype Element: Sendable

    /// Why the stream ends when a message does not fit.
    var overflow: DispatcherError { get }
    /// Counts `element` in; false, counting nothing, when it does not fit.
    func admit(_ element: Element) -> Bool
    /// Counts out an element the reader took.
    func taken(_ element: Element)
}
