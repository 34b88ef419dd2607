import BeaconCore

/// One TiFlow message as `MasterWorkerMessageFuzz` builds it from its input: every field written
/// as TiFlow names and encodes it, with one field possibly left out or of the wrong type, and the
/// message the codec must decode it to — or nil where it must refuse it.
///
/// The rules are restated here plainly rather than borrowed from the types: an identifier is
/// non-empty, at most 256 UTF-8 bytes and free of C0 and C1 control characters; a state is 1
/// to 6; every field is present and of its JSON type.
///
/// Not for use outside the fuzz harness and its tests.
struct MasterWorkerMessageModel {
    enum JSONType { case number, string, bool, object, array }

    /// A field as written: `nested` fields belong to a status message's `status` object.
    struct Field {
        var name: String
        var json: String
        var type: JSONType
        var nested = false
        var omitted = false
    }

    let kind: MasterWorkerMessage.Kind
    private(set) var fields: [Field] = []
    /// What the codec must return; nil when it must refuse the message.
    private(set) var expected: MasterWorkerMessage?
    private var valid = true

    init(_ kind: MasterWorkerMessage.Kind, reading bytes: inout FuzzByteReader) {
        self.kind = kind
        switch kind {
        case .ping:
            let sendTime = instant(&bytes, "send-time")
            let worker = identifier(WorkerKind.self, &bytes, "from-worker-id")
            let masterEpoch = epoch(&bytes, "epoch")
            let workerEpoch = epoch(&bytes, "worker-epoch")
            let finished = bool(&bytes, "is-finished")
            expected = worker.map {
                .ping(
                    HeartbeatPing(
                        sendTime: sendTime, fromWorker: $0, masterEpoch: masterEpoch, workerEpoch: workerEpoch,
                        isFinished: finished))
            }
        case .pong:
            let sendTime = instant(&bytes, "send-time")
            let replyTime = instant(&bytes, "reply-time")
            let worker = identifier(WorkerKind.self, &bytes, "to-worker-id")
            let masterEpoch = epoch(&bytes, "epoch")
            let finished = bool(&bytes, "is-finished")
            expected = worker.map {
                .pong(
                    HeartbeatPong(
                        sendTime: sendTime, replyTime: replyTime, toWorker: $0, masterEpoch: masterEpoch,
                        isFinished: finished))
            }
        case .status:
            let worker = identifier(WorkerKind.self, &bytes, "worker")
            let masterEpoch = epoch(&bytes, "master-epoch")
            fields.append(Field(name: "status", json: "", type: .object))
            let status = workerStatus(&bytes)
            expected = worker.flatMap { worker in
                status.map { .status(WorkerStatusMessage(worker: worker, masterEpoch: masterEpoch, status: $0)) }
            }
        case .statusChange:
            let sendTime = instant(&bytes, "send-time")
            let master = identifier(MasterKind.self, &bytes, "from-master-id")
            let masterEpoch = epoch(&bytes, "epoch")
            let state = state(&bytes, "expect-state", nested: false)
            expected = master.flatMap { master in
                state.map {
                    .statusChange(
                        StatusChangeRequest(
                            sendTime: sendTime, fromMaster: master, masterEpoch: masterEpoch, expectedState: $0))
                }
            }
        }
        damage(bytes.byte(), bytes.byte())
        if !valid { expected = nil }
    }

    /// The message as JSON.
    func json(_ writer: FuzzJSONWriter) -> String {
        func written(_ field: Field) -> FuzzJSONWriter.Field { (field.name, field.omitted ? nil : field.json) }
        let status = writer.object(fields.filter(\.nested).map(written))
        return writer.object(
            fields.filter { !$0.nested }.map { field in
                // A status's own object is written from its nested fields unless damage replaced it.
                field.type == .object && field.json.isEmpty && !field.omitted ? (field.name, status) : written(field)
            })
    }

    // MARK: Damage

    /// Leaves one field out, gives one the wrong JSON type or an out-of-range number, or adds a
    /// field TiFlow sends that Beacon does not read (harmless) — or nothing, most of the time.
    private mutating func damage(_ how: Int, _ which: Int) {
        guard !fields.isEmpty else { return }
        let index = which % fields.count
        switch how % 8 {
        case 5:
            fields[index].omitted = true
            valid = false
        case 6:
            fields[index].json =
                switch fields[index].type {
                case .number: ["\"5\"", "1.5", "18446744073709551616", "true", "null"][which % 5]
                case .string: ["5", "null", "[]"][which % 3]
                case .bool: ["\"true\"", "1", "null"][which % 3]
                case .object: "[]"
                // TiFlow's Go encodes []byte as base64; Beacon's JSON has an array of numbers.
                case .array: ["\"AAE=\"", "[256]", "[-1]"][which % 3]
                }
            // The object's own fields are then not written.
            if fields[index].type == .object { fields.removeAll(where: \.nested) }
            valid = false
        case 7:
            fields.append(
                Field(
                    name: "project-id", json: "\"tenant-1\"", type: .string, nested: which & 1 == 1 && kind == .status))
        default:
            break
        }
    }

    // MARK: Fields

    private mutating func instant(_ bytes: inout FuzzByteReader, _ name: String) -> BeaconInstant {
        let pick = bytes.byte()
        let nanoseconds = pick < 0xC0 ? 1_000_000_000_000 + UInt64(pick) * 1_000_000 : bytes.word()
        fields.append(Field(name: name, json: String(nanoseconds), type: .number))
        return BeaconInstant(nanoseconds: nanoseconds)
    }

    /// Around the epochs the receiving world uses (master 5, workers 3, 6, 7 and 8), or extreme.
    private mutating func epoch(_ bytes: inout FuzzByteReader, _ name: String, nested: Bool = false) -> Epoch {
        let pick = bytes.byte()
        let value: Int64 = pick < 0xF0 ? Int64(pick % 11) : [.min, .max, -1, 1 << 40][pick % 4]
        fields.append(Field(name: name, json: String(value), type: .number, nested: nested))
        return Epoch(rawValue: value)
    }

    private mutating func bool(_ bytes: inout FuzzByteReader, _ name: String) -> Bool {
        let value = bytes.byte() & 1 == 1
        fields.append(Field(name: name, json: String(value), type: .bool))
        return value
    }

    /// 1 to 6 are TiFlow's states; the others must be refused.
    private mutating func state(_ bytes: inout FuzzByteReader, _ name: String, nested: Bool) -> WorkerState? {
        let raw = [1, 2, 3, 4, 5, 6, 6, 1, 0, 7, -1, 127][bytes.byte() % 12]
        fields.append(Field(name: name, json: String(raw), type: .number, nested: nested))
        guard (1...6).contains(raw) else {
            valid = false
            return nil
        }
        return WorkerState(rawValue: Int8(raw))
    }

    private mutating func workerStatus(_ bytes: inout FuzzByteReader) -> WorkerStatus? {
        let state = state(&bytes, "state", nested: true)
        let epoch = epoch(&bytes, "epoch", nested: true)
        let message = String(decoding: bytes.lengthPrefixedBytes(limit: 32), as: UTF8.self)
        fields.append(Field(name: "error-message", json: FuzzJSONWriter.quoted(message), type: .string, nested: true))
        let extensionBytes = bytes.lengthPrefixedBytes(limit: 16)
        fields.append(
            Field(
                name: "extend-bytes", json: FuzzJSONWriter().array(extensionBytes.map { String($0) }), type: .array,
                nested: true))
        return state.map {
            WorkerStatus(state: $0, epoch: epoch, errorMessage: message, extensionBytes: extensionBytes)
        }
    }

    /// The receiving world's names, names that break a rule, or any bytes read as UTF-8.
    private mutating func identifier<Kind: IdentifierKind>(_: Kind.Type, _ bytes: inout FuzzByteReader, _ name: String)
        -> Identifier<Kind>?
    {
        let pick = bytes.byte()
        let known = [
            "w-created", "w-online", "w-gone", "w-waiting", "w-unknown", "job-7", "job-8", "",
            "tab\there", "del\u{7F}ete", "next\u{85}line", String(repeating: "x", count: 256),
            String(repeating: "x", count: 257), String(repeating: "é", count: 128), String(repeating: "é", count: 129),
            "zero\u{0}width",
        ]
        let raw =
            pick < 0xC0
            ? known[pick % known.count] : String(decoding: bytes.lengthPrefixedBytes(limit: 40), as: UTF8.self)
        fields.append(Field(name: name, json: FuzzJSONWriter.quoted(raw), type: .string))
        guard Self.isValidIdentifier(raw) else {
            valid = false
            return nil
        }
        // nil here while the model says valid: `expected` then disagrees with the codec's answer.
        return try? Identifier<Kind>(raw)
    }

    /// The identifier rule, restated: C0 controls, DEL and C1 controls are Unicode's control
    /// characters.
    static func isValidIdentifier(_ raw: String) -> Bool {
        !raw.isEmpty && raw.utf8.count <= 256
            && !raw.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
}
