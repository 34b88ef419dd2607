import BeaconDispatcher
import Foundation

/// The dispatcher's records as the values of their keys: JSON, with sorted keys so that one
/// record always encodes to the same text (a write whose text equals the stored one is not sent),
/// bytes as base64, and enums as their raw numbers. Versions are not stored: a record's version
/// is its key's mod revision.
enum DispatcherRecordCodec {
    private struct NodeRecord: Codable {
        var id: String
        var hostname: String?
        var attributes: [String: String]?
        var state: UInt8
        var message: String
        var address: String
    }

    private struct TaskRecord: Codable {
        var id: String
        var node: String?
        var desiredState: UInt16
        var state: UInt16
        var message: String
        var error: String
        var spec: Data
        var secrets: [String]
        var configs: [String]
    }

    private struct DependencyRecord: Codable {
        var kind: UInt8
        var id: String
        var data: Data
    }

    private struct ClusterRecord: Codable {
        struct Key: Codable {
            var subsystem: String
            var algorithm: String
            var key: Data
            var lamportTime: UInt64
        }

        var networkBootstrapKeys: [Key]
        var rootCA: Data
    }

    static func encode(_ node: Node) -> String {
        encode(
            NodeRecord(
                id: node.id.rawValue, hostname: node.description?.hostname, attributes: node.description?.attributes,
                state: node.status.state.rawValue, message: node.status.message, address: node.status.address))
    }

    static func encode(_ task: DispatchedTask) -> String {
        encode(
            TaskRecord(
                id: task.id, node: task.nodeID?.rawValue, desiredState: task.desiredState.rawValue,
                state: task.status.state.rawValue, message: task.status.message, error: task.status.error,
                spec: Data(task.spec), secrets: task.secrets, configs: task.configs))
    }

    static func encode(_ dependency: TaskDependency) -> String {
        encode(DependencyRecord(kind: dependency.kind.rawValue, id: dependency.id, data: Data(dependency.data)))
    }

    static func encode(_ cluster: ClusterSettings) -> String {
        encode(
            ClusterRecord(
                networkBootstrapKeys: cluster.networkBootstrapKeys.map {
                    ClusterRecord.Key(
                        subsystem: $0.subsystem, algorithm: $0.algorithm, key: Data($0.key), lamportTime: $0.lamportTime
                    )
                },
                rootCA: Data(cluster.rootCA)))
    }

    /// The node stored as `value`, or nil if `value` is not a node record.
    static func node(_ value: String, version: UInt64) -> Node? {
        guard let record = decode(NodeRecord.self, value), let id = try? NodeID(record.id),
            let state = NodeState(rawValue: record.state)
        else { return nil }
        return Node(
            id: id,
            description: record.hostname.map { NodeDescription(hostname: $0, attributes: record.attributes ?? [:]) },
            status: NodeStatus(state: state, message: record.message, address: record.address), version: version)
    }

    static func task(_ value: String, version: UInt64) -> DispatchedTask? {
        guard let record = decode(TaskRecord.self, value), !record.id.isEmpty,
            let desired = TaskState(rawValue: record.desiredState), let state = TaskState(rawValue: record.state)
        else { return nil }
        var node: NodeID?
        if let raw = record.node {
            guard let id = try? NodeID(raw) else { return nil }
            node = id
        }
        return DispatchedTask(
            id: record.id, nodeID: node, desiredState: desired,
            status: TaskStatus(state: state, message: record.message, error: record.error), spec: Array(record.spec),
            secrets: record.secrets, configs: record.configs, version: version)
    }

    static func dependency(_ value: String, version: UInt64) -> TaskDependency? {
        guard let record = decode(DependencyRecord.self, value), !record.id.isEmpty,
            let kind = DependencyKind(rawValue: record.kind)
        else { return nil }
        return TaskDependency(kind: kind, id: record.id, data: Array(record.data), version: version)
    }

    static func cluster(_ value: String) -> ClusterSettings? {
        guard let record = decode(ClusterRecord.self, value) else { return nil }
        return ClusterSettings(
            networkBootstrapKeys: record.networkBootstrapKeys.map {
                EncryptionKey(
                    subsystem: $0.subsystem, algorithm: $0.algorithm, key: Array($0.key), lamportTime: $0.lamportTime)
            },
            rootCA: Array(record.rootCA))
    }

    static func encode(_ record: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Plain structs of strings, numbers and Data: encoding cannot fail.
        guard let data = try? encoder.encode(record) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode<Record: Decodable>(_ type: Record.Type, _ value: String) -> Record? {
        try? JSONDecoder().decode(type, from: Data(value.utf8))
    }
}
