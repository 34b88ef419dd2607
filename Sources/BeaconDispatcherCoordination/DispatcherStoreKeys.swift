import BeaconDispatcher

/// Where each record of a dispatcher's store lives under its prefix:
///
/// ```
/// <prefix>nodes/<node id>       one node: description and status
/// <prefix>tasks/<task id>       one task: its node, desired state, status, spec, dependencies
/// <prefix>secrets/<id>          a secret tasks name
/// <prefix>configs/<id>          a config tasks name
/// <prefix>cluster               the cluster settings every session carries
/// ```
///
/// Ids are escaped (`%` as `%25`, `/` as `%2F`), so an id never adds a level to the path and a
/// key names exactly one record. Keys under the prefix that match none of these are not the
/// dispatcher's and are left alone.
struct DispatcherStoreKeys: Sendable {
    enum Record: Hashable, Sendable {
        case node(String)
        case task(String)
        case dependency(DependencyKind, String)
        case cluster
    }

    /// Ends with `/`.
    let prefix: String

    func key(_ record: Record) -> String {
        switch record {
        case .node(let id): prefix + "nodes/" + Self.escape(id)
        case .task(let id): prefix + "tasks/" + Self.escape(id)
        case .dependency(.secret, let id): prefix + "secrets/" + Self.escape(id)
        case .dependency(.config, let id): prefix + "configs/" + Self.escape(id)
        case .cluster: prefix + "cluster"
        }
    }

    /// The record `key` names, or nil for a key that is not one of the dispatcher's.
    ///
    /// Keys are read, and ids escaped, by Unicode scalars, not characters: an id that starts
    /// with a combining mark joins the `/` before it into one character, and its record would
    /// be read as nobody's.
    func record(of key: String) -> Record? {
        guard let rest = Self.rest(of: key, after: prefix) else { return nil }
        if rest.elementsEqual("cluster".unicodeScalars) { return .cluster }
        guard let slash = rest.firstIndex(of: "/"), let id = Self.unescape(rest[rest.index(after: slash)...]),
            !id.isEmpty
        else { return nil }
        switch String(rest[..<slash]) {
        case "nodes": return .node(id)
        case "tasks": return .task(id)
        case "secrets": return .dependency(.secret, id)
        case "configs": return .dependency(.config, id)
        default: return nil
        }
    }

    /// What follows `prefix` in `key`, by scalars; nil when `key` is not under `prefix`.
    static func rest(of key: String, after prefix: String) -> Substring.UnicodeScalarView? {
        let scalars = key.unicodeScalars
        guard scalars.starts(with: prefix.unicodeScalars) else { return nil }
        return scalars.dropFirst(prefix.unicodeScalars.count)
    }

    static func escape(_ id: String) -> String {
        guard id.unicodeScalars.contains(where: { $0 == "%" || $0 == "/" }) else { return id }
        var escaped = String.UnicodeScalarView()
        for scalar in id.unicodeScalars {
            switch scalar {
            case "%": escaped.append(contentsOf: "%25".unicodeScalars)
            case "/": escaped.append(contentsOf: "%2F".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    /// Nil for text `escape` cannot have written: a `/`, or a `%` not followed by `25` or `2F`.
    static func unescape(_ text: Substring.UnicodeScalarView) -> String? {
        guard text.contains(where: { $0 == "%" || $0 == "/" }) else { return String(text) }
        var id = String.UnicodeScalarView()
        var rest = text
        while let scalar = rest.first {
            if scalar == "/" { return nil }
            if scalar == "%" {
                let code = rest.dropFirst().prefix(2)
                if code.elementsEqual("25".unicodeScalars) {
                    id.append("%")
                } else if code.elementsEqual("2F".unicodeScalars) {
                    id.append("/")
                } else {
                    return nil
                }
                rest = rest.dropFirst(3)
            } else {
                id.append(scalar)
                rest = rest.dropFirst()
            }
        }
        return String(id)
    }
}
