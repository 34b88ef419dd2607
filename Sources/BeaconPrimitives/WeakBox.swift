/// A weak reference that can cross into a `@Sendable` closure.
package final class WeakBox<Object: AnyObject & Sendable>: Sendable {
    package weak let value: Object?

    package init(_ value: Object?) {
        self.value = value
    }
}
