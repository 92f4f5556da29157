import Crypto
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Testing

@Suite struct WebhookNotifierTests {
    /// RFC 4231 test case 2, and a vector computed with `openssl dgst -sha256 -hmac`.
    @Test(arguments: [
        (
            "Jefe", "what do ya want for nothing?",
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        ("s3cr3t", #"{"kind":"firing"}"#, "sha256=" + hmacReference(key: "s3cr3t", message: #"{"kind":"firing"}"#)),
    ])
    func signatureIsHexHMACSHA256OfTheBody(key: String, message: String, expected: String) {
        #expect(WebhookNotifier.signature(body: Data(message.utf8), secret: key) == expected)
    }

    @Test func signsTheExactBytesSentWithIdempotencyKeyAndExtraHeaders() async throws {
        try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, url in
            let notifier = WebhookNotifier(
                url: url.appendingPathComponent("hooks/fluxbrain"),
                secret: "topsecret",
                headers: [("X-Team", "platform"), ("Authorization", "Bearer hidden")],
                http: NotifyFixtures.http()
            )
            let notification = try NotifyFixtures.podinfoNotification()
            let report = try await notifier.send(notification)
            #expect(report.httpStatus == 200)
            let record = try #require(sink.records.first)
            #expect(record.path == "/hooks/fluxbrain")
            #expect(
                record.headers["x-signature"] == WebhookNotifier.signature(body: record.rawBytes, secret: "topsecret")
            )
            #expect(record.headers["idempotency-key"] == "\(notification.incident.fingerprint.hex):firing:1")
            #expect(record.headers["x-team"] == "platform")
            #expect(record.headers["authorization"] == nil, "the sink never records Authorization")
            #expect(record.headers["content-type"] == "application/json")
            #expect(record.rawBytes == (try WebhookNotifier.body(for: notification)))
            #expect(sink.deliveries(idempotencyKey: notification.idempotencyKey) == 1)
            #expect(sink.deliveries(fingerprint: notification.incident.fingerprint.hex) == 1)
        }
    }

    @Test func withoutASecretThereIsNoSignature() async throws {
        try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, url in
            let notifier = WebhookNotifier(url: url, secret: nil, http: NotifyFixtures.http())
            _ = try await notifier.send(try NotifyFixtures.podinfoNotification())
            #expect(sink.records.first?.headers["x-signature"] == nil)
        }
    }

    @Test func payloadIsVersionedDeterministicAndComplete() throws {
        let notification = try NotifyFixtures.podinfoNotification()
        let body = try WebhookNotifier.body(for: notification)
        #expect(body == (try WebhookNotifier.body(for: notification)))
        let json = try JSONDecoder().decode(JSONValue.self, from: body)
        #expect(json["version"]?.stringValue == "fluxbrain.webhook/v1")
        #expect(json["kind"]?.stringValue == "firing")
        #expect(json["status"]?.stringValue == "firing")
        #expect(json["object"]?["kind"]?.stringValue == "HelmRelease")
        #expect(json["object"]?["name"]?.stringValue == "podinfo")
        #expect(json["analysis"]?["actions"]?.arrayValue?.first?["title"]?.stringValue == "Roll back to 6.9.2")
        #expect(json["retrySafety"]?["fluxRetries"] == .bool(false))
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.hasPrefix(#"{"affected":[],"analysis":{"#), "keys are sorted")

        var unanalyzed = notification
        unanalyzed.analysis = .unavailable(reason: "timeout", attempts: 3)
        let other = try JSONDecoder().decode(JSONValue.self, from: WebhookNotifier.body(for: unanalyzed))
        #expect(other["analysis"] == .null, "analysis is written as null, not omitted")
        #expect(other["analysisStatus"]?.stringValue == "unavailable")
        #expect(other["analysisError"]?.stringValue == "timeout (after 3 attempts)")
    }

    @Test(arguments: [NotificationKind.firing, .reminder, .resolved, .test])
    func payloadMatchesTheDocumentedSchema(kind: NotificationKind) throws {
        let schemaURL = NotifyFixtures.repositoryRoot.appendingPathComponent("docs/webhook-payload.v1.schema.json")
        let schema = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: schemaURL))
        let notification = try NotifyFixtures.podinfoNotification(kind: kind)
        var notifications = [
            notification,
            {
                var n = notification
                n.analysis = .notConfigured
                return n
            }(),
        ]
        // With a remediation and with what changed (commits, links).
        for name in ["ingress-nginx", "infra"] {
            var n = try NotifyFixtures.snapshotNotification(name)
            n.kind = kind
            notifications.append(n)
        }
        for n in notifications {
            let payload = try JSONDecoder().decode(JSONValue.self, from: WebhookNotifier.body(for: n))
            let problems = SchemaCheck.validate(payload, against: schema, root: schema)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test func aFailingReceiverIsRetriedThenReportedWithItsStatus() async throws {
        try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, url in
            sink.failNext(status: 503, count: 3)
            let sleeps = NotifyFixtures.Sleeps()
            let notifier = WebhookNotifier(url: url, secret: "k", http: NotifyFixtures.http(sleeps: sleeps))
            let notification = try NotifyFixtures.podinfoNotification()
            let error = await #expect(throws: NotificationError.self) { _ = try await notifier.send(notification) }
            #expect(error?.code == .serverError)
            #expect(error?.httpStatus == 503)
            #expect(sink.records.count == 3)
            #expect(
                Set(sink.records.compactMap(\.idempotencyKey)) == [notification.idempotencyKey],
                "retries keep the key"
            )
        }
    }

    @Test func sinkRecordsJSONLinesAndServesThem() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await WebhookSink.withRunning(recordPath: path, logger: Logger(label: "sink")) { sink, url in
            let notifier = WebhookNotifier(url: url, secret: nil, http: NotifyFixtures.http())
            _ = try await notifier.send(try NotifyFixtures.podinfoNotification())
            _ = try await notifier.send(try NotifyFixtures.podinfoNotification(kind: .resolved, sequence: 2))
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            let served = try await HTTPGet.json(url.appendingPathComponent("records"))
            #expect(served.arrayValue?.count == 2)
            #expect(served.arrayValue?.last?["body"]?["kind"]?.stringValue == "resolved")
            let health = try await HTTPGet.text(url.appendingPathComponent("healthz"))
            #expect(health == "ok\n")
        }
    }

    /// Deliveries that arrive together each keep their line in the record file (the testbed's CI check reads it;
    /// two appends racing on one offset once lost a delivery there).
    @Test func concurrentDeliveriesEachGetTheirOwnLine() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await WebhookSink.withRunning(recordPath: path, logger: Logger(label: "sink")) { sink, url in
            let notifier = WebhookNotifier(url: url, secret: nil, http: NotifyFixtures.http())
            let deliveries = 64
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sequence in 1...deliveries {
                    group.addTask {
                        _ = try await notifier.send(try NotifyFixtures.podinfoNotification(sequence: sequence))
                    }
                }
                try await group.waitForAll()
            }
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            let keys = try lines.map { line in
                try StableJSON.makeDecoder().decode(WebhookSinkRecord.self, from: Data(line.utf8)).idempotencyKey
            }
            #expect(lines.count == deliveries)
            #expect(keys == sink.records.map(\.idempotencyKey), "the file holds every record, in the sink's order")
            #expect(Set(keys).count == deliveries)
        }
    }
}

/// The reference HMAC, computed independently of `WebhookNotifier`.
func hmacReference(key: String, message: String) -> String {
    HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
        .map { String(format: "%02x", $0) }.joined()
}

/// A small JSON Schema (draft 2020-12 subset) checker: type, required, properties, additionalProperties, enum,
/// const, items, $ref to #/$defs, minimum/maximum. Enough to keep the documented schema honest.
enum SchemaCheck {
    static func validate(_ value: JSONValue, against schema: JSONValue, root: JSONValue, path: String = "$") -> [String]
    {
        if let ref = schema["$ref"]?.stringValue {
            let name = String(ref.dropFirst("#/$defs/".count))
            guard let target = root["$defs"]?[name] else { return ["\(path): unknown $ref \(ref)"] }
            return validate(value, against: target, root: root, path: path)
        }
        if let options = schema["anyOf"]?.arrayValue {
            let results = options.map { validate(value, against: $0, root: root, path: path) }
            if !results.contains(where: \.isEmpty) { return ["\(path): matches no anyOf option: \(results)"] }
        }
        var problems: [String] = []
        if let types = schema["type"] {
            let allowed = types.arrayValue?.compactMap(\.stringValue) ?? [types.stringValue ?? ""]
            if !allowed.contains(where: { matches(value, type: $0) }) {
                return ["\(path): \(value) is not \(allowed)"]
            }
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) {
            problems.append("\(path): \(value) not in enum")
        }
        if let constant = schema["const"], constant != value {
            problems.append("\(path): \(value) ≠ const \(constant)")
        }
        if case .object(let members) = value {
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[key] == nil {
                problems.append("\(path): missing \(key)")
            }
            let properties = schema["properties"]?.objectValue ?? [:]
            for (key, member) in members {
                if let sub = properties[key] {
                    problems += validate(member, against: sub, root: root, path: "\(path).\(key)")
                } else if schema["additionalProperties"] == .bool(false) {
                    problems.append("\(path): undocumented property \(key)")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() {
                problems += validate(item, against: itemSchema, root: root, path: "\(path)[\(index)]")
            }
        }
        if let minimum = schema["minimum"], let number = number(value), let bound = self.number(minimum), number < bound
        {
            problems.append("\(path): below minimum")
        }
        if let maximum = schema["maximum"], let number = number(value), let bound = self.number(maximum), number > bound
        {
            problems.append("\(path): above maximum")
        }
        return problems
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object):
            return true
        case ("integer", .int), ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
}
