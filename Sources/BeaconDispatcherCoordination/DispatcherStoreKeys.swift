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
    func record(of key: String) -> Record? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        if rest == "cluster" { return .cluster }
        guard let slash = rest.firstIndex(of: "/"),
            let id = Self.unescape(rest[rest.index(after: slash)...]), !id.isEmpty
        else { return nil }
        switch rest[..<slash] {
        case "nodes": return .node(id)
        case "tasks": return .task(id)
        case "secrets": return .dependency(.secret, id)
        case "configs": return .dependency(.config, id)
        default: return nil
        }
    }

    static func escape(_ id: String) -> String {
        guard id.contains(where: { $0 == "%" || $0 == "/" }) else { return id }
        var escaped = ""
        for character in id {
            switch character {
            case "%": escaped += "%25"
            case "/": escaped += "%2F"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Nil for text `escape` cannot have written: a `/`, or a `%` not followed by `25` or `2F`.
    static func unescape(_ text: Substring) -> String? {
        guard text.contains(where: { $0 == "%" || $0 == "/" }) else { return String(text) }
        var id = ""
        var rest = text[...]
        while let character = rest.first {
            if character == "/" { return nil }
            if character == "%" {
                if rest.hasPrefix("%25") {
                    id.append("%")
                } else if rest.hasPrefix("%2F") {
                    id.append("/")
                } else {
                    return nil
                }
                rest = rest.dropFirst(3)
            } else {
                id.append(character)
                rest = rest.dropFirst()
            }
        }
        return id
    }
}
