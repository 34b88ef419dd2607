/// Names one registration in a ``HeartbeatWheel``: the node's slot in the wheel's arena and the
/// generation of that slot when the node was registered.
///
/// A slot is reused after its node is removed or expires, with a new generation, so a handle kept
/// past its node's life is rejected (``HeartbeatError/staleHandle(_:)``) instead of touching the
/// slot's next occupant. A handle only means something to the wheel that issued it.
public struct HeartbeatHandle: Hashable, Sendable, CustomStringConvertible {
    /// The slot in the wheel's arena.
    public let index: UInt32
    /// The slot's generation when this handle was issued (30 bits).
    public let generation: UInt32

    /// A handle from its parts, for layers that carry handles inside their own tokens (a
    /// dispatcher's session id). The wheel checks the generation on every use.
    @inlinable
    package init(index: UInt32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }

    /// `node#<index>.<generation>`, as log lines and error messages print a handle.
    ///
    /// - Complexity: O(1).
    public var description: String { "node#\(index).\(generation)" }
}
