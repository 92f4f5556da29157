import FluxbrainCore
import Foundation
import NIOCore

/// The programmable in-memory state of a fake Kubernetes API server: Flux objects per kind with a resourceVersion
/// counter and an event history for watches, core/v1 events, pods with logs, and injectable faults.
package actor FakeKubernetesState {
    /// A request the server received.
    package struct RecordedRequest: Sendable, Hashable {
        package var path: String
        package var query: [String: String]
        package var authorization: String?
    }

    /// What `watch` subscribers receive.
    struct Subscription: Sendable {
        var id: Int
        var backlog: [ByteBuffer]
        var stream: AsyncStream<ByteBuffer>
        /// Set when the requested resourceVersion is too old: send this ERROR line and end.
        var expired: ByteBuffer?
    }

    private struct StoredObject: Sendable {
        var namespace: String
        var name: String
        var json: JSONValue
    }

    private struct HistoryEntry: Sendable {
        var resourceVersion: Int
        var plural: String
        var namespace: String
        var line: ByteBuffer
    }

    private struct Watcher: Sendable {
        var plural: String
        var namespace: String?
        var bookmarks: Bool
        var kind: FluxKind
        var continuation: AsyncStream<ByteBuffer>.Continuation
    }

    private struct Pod: Sendable {
        var namespace: String
        var name: String
        var labels: [String: String]
        var log: String
    }

    private var currentResourceVersion = 1000
    /// Watches from a resourceVersion below this get 410 Expired.
    private var oldestWatchable = 0
    private var objects: [String: [String: StoredObject]] = [:]
    private var history: [HistoryEntry] = []
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcherID = 0
    private var events: [JSONValue] = []
    private var pods: [Pod] = []
    private var recorded: [RecordedRequest] = []

    /// Plurals answered with the plain-text `404 page not found` (CRD not installed).
    package private(set) var missingKinds: Set<String> = []
    /// Plurals answered with a 403 `Status`.
    package private(set) var forbiddenKinds: Set<String> = []
    /// When set, requests without `Authorization: Bearer <token>` get a 401 `Status`.
    package private(set) var requiredToken: String?
    /// When set, list and watch answer 500 (a broken API server).
    package private(set) var failing = false
    /// When cleared, changes are recorded but not sent to open watches (as if the stream had stalled).
    package private(set) var deliversToWatches = true

    package init() {}

    // MARK: Faults

    package func setMissing(_ kind: FluxKind, _ missing: Bool = true) {
        if missing { missingKinds.insert(kind.plural) } else { missingKinds.remove(kind.plural) }
    }

    package func setForbidden(_ kind: FluxKind, _ forbidden: Bool = true) {
        if forbidden { forbiddenKinds.insert(kind.plural) } else { forbiddenKinds.remove(kind.plural) }
    }

    package func requireToken(_ token: String?) {
        requiredToken = token
    }

    package func setFailing(_ failing: Bool) {
        self.failing = failing
    }

    /// Stops (or resumes) sending changes to open watches; changes are still recorded for later watches.
    package func setWatchDelivery(_ delivers: Bool) {
        deliversToWatches = delivers
    }

    /// Makes every resourceVersion older than the current one too old to watch from (as after etcd compaction):
    /// the next watch from one gets an `ERROR` event with a 410 `Expired` Status inside a 200 stream, and a continue
    /// token from an older list gets a 410.
    package func expireResourceVersions() {
        oldestWatchable = currentResourceVersion
        history.removeAll()
    }

    /// Ends every open watch stream cleanly (as when `timeoutSeconds` is reached).
    package func closeWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers.removeAll()
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watch that allowed bookmarks.
    package func sendBookmarks() {
        for watcher in watchers.values where watcher.bookmarks {
            watcher.continuation.yield(bookmarkLine(watcher.kind))
        }
    }

    /// The number of open watch streams.
    package var watchCount: Int { watchers.count }

    /// Requests received so far.
    package var requests: [RecordedRequest] { recorded }

    func record(_ request: RecordedRequest) {
        recorded.append(request)
    }

    // MARK: Objects

    /// Adds or replaces a Flux object (ADDED or MODIFIED for watchers); sets its resourceVersion (and uid, and
    /// creationTimestamp when absent). Returns the new resourceVersion.
    @discardableResult
    package func apply(_ object: JSONValue) throws -> Int {
        guard case .object(var members) = object, let kindName = members["kind"]?.stringValue,
            let kind = FluxKind.named(kindName), case .object(var metadata)? = members["metadata"],
            let name = metadata["name"]?.stringValue
        else {
            throw CoreError(.invalidInput, "fake API server: not a Flux object with kind and metadata.name")
        }
        let namespace = metadata["namespace"]?.stringValue ?? "default"
        currentResourceVersion += 1
        let existed = objects[kind.plural]?["\(namespace)/\(name)"] != nil
        metadata["namespace"] = .string(namespace)
        metadata["resourceVersion"] = .string(String(currentResourceVersion))
        if metadata["uid"] == nil { metadata["uid"] = .string(UUID().uuidString.lowercased()) }
        if metadata["creationTimestamp"] == nil { metadata["creationTimestamp"] = .string("2026-10-02T08:11:40Z") }
        members["metadata"] = .object(metadata)
        if members["apiVersion"] == nil { members["apiVersion"] = .string(kind.apiVersion) }
        let stored = JSONValue.object(members)
        objects[kind.plural, default: [:]]["\(namespace)/\(name)"] = StoredObject(
            namespace: namespace,
            name: name,
            json: stored
        )
        publish(type: existed ? "MODIFIED" : "ADDED", object: stored, kind: kind, namespace: namespace)
        return currentResourceVersion
    }

    /// Adds or replaces an object given as JSON text.
    @discardableResult
    package func apply(json: String) throws -> Int {
        try apply(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))
    }

    /// Adds many objects at once.
    package func apply(all values: [JSONValue]) throws {
        for value in values { try apply(value) }
    }

    /// Deletes an object (DELETED for watchers, carrying its last state).
    package func delete(_ kind: FluxKind, namespace: String, name: String) {
        guard var stored = objects[kind.plural]?.removeValue(forKey: "\(namespace)/\(name)") else { return }
        currentResourceVersion += 1
        if case .object(var members) = stored.json, case .object(var metadata)? = members["metadata"] {
            metadata["resourceVersion"] = .string(String(currentResourceVersion))
            members["metadata"] = .object(metadata)
            stored.json = .object(members)
        }
        publish(type: "DELETED", object: stored.json, kind: kind, namespace: namespace)
    }

    /// The stored object, if any.
    package func object(_ kind: FluxKind, namespace: String, name: String) -> JSONValue? {
        objects[kind.plural]?["\(namespace)/\(name)"]?.json
    }

    /// The number of stored Flux objects.
    package var objectCount: Int { objects.values.reduce(0) { $0 + $1.count } }

    private func publish(type: String, object: JSONValue, kind: FluxKind, namespace: String) {
        let line = Self.line(type: type, object: object)
        history.append(
            HistoryEntry(resourceVersion: currentResourceVersion, plural: kind.plural, namespace: namespace, line: line)
        )
        if history.count > 100_000 {
            let dropped = history.count - 50_000
            oldestWatchable = history[dropped].resourceVersion
            history.removeFirst(dropped)
        }
        for watcher in watchers.values
        where deliversToWatches && watcher.plural == kind.plural
            && (watcher.namespace == nil || watcher.namespace == namespace)
        {
            watcher.continuation.yield(line)
        }
    }

    static func line(type: String, object: JSONValue) -> ByteBuffer {
        let event = JSONValue.object(["type": .string(type), "object": object])
        var buffer = ByteBuffer(bytes: (try? JSONEncoder().encode(event)) ?? Data())
        buffer.writeString("\n")
        return buffer
    }

    private func bookmarkLine(_ kind: FluxKind) -> ByteBuffer {
        Self.line(
            type: "BOOKMARK",
            object: .object([
                "kind": .string(kind.name), "apiVersion": .string(kind.apiVersion),
                "metadata": .object([
                    "resourceVersion": .string(String(currentResourceVersion)), "creationTimestamp": .null,
                ]),
            ])
        )
    }

    // MARK: List and watch

    /// One page of a list, as the API server would serve it.
    func list(kind: FluxKind, namespace: String?, limit: Int?, continueToken: String?) throws -> JSONValue {
        var start = 0
        var listVersion = currentResourceVersion
        if let continueToken, !continueToken.isEmpty {
            guard let data = Data(base64Encoded: continueToken),
                let parts = String(data: data, encoding: .utf8)?.split(separator: ":"), parts.count == 2,
                let version = Int(parts[0]), let offset = Int(parts[1])
            else { throw FakeAPIError.badRequest("invalid continue token") }
            if version < oldestWatchable {
                throw FakeAPIError.expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
                )
            }
            start = offset
            listVersion = version
        }
        let all = (objects[kind.plural] ?? [:]).values
            .filter { namespace == nil || $0.namespace == namespace }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        let end = limit.map { min(all.count, start + $0) } ?? all.count
        let page = start < all.count ? Array(all[start..<end]) : []
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(listVersion))]
        if end < all.count {
            metadata["continue"] = .string(Data("\(listVersion):\(end)".utf8).base64EncodedString())
            metadata["remainingItemCount"] = .int(Int64(all.count - end))
        } else {
            metadata["continue"] = .string("")
        }
        return .object([
            "apiVersion": .string(kind.apiVersion), "kind": .string("\(kind.name)List"), "metadata": .object(metadata),
            "items": .array(page.map(\.json)),
        ])
    }

    /// Opens a watch from `resourceVersion` ("" or "0": synthetic ADDED events for every object first).
    func subscribe(kind: FluxKind, namespace: String?, resourceVersion: String, bookmarks: Bool) -> Subscription {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        nextWatcherID += 1
        let id = nextWatcherID
        var backlog: [ByteBuffer] = []
        if resourceVersion.isEmpty || resourceVersion == "0" {
            for stored in (objects[kind.plural] ?? [:]).values where namespace == nil || stored.namespace == namespace {
                backlog.append(Self.line(type: "ADDED", object: stored.json))
            }
        } else {
            let from = Int(resourceVersion) ?? 0
            if from < oldestWatchable {
                let status = JSONValue.object([
                    "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
                    "status": .string("Failure"),
                    "message": .string("too old resource version: \(from) (\(oldestWatchable))"),
                    "reason": .string("Expired"), "code": .int(410),
                ])
                continuation.finish()
                return Subscription(
                    id: id,
                    backlog: [],
                    stream: stream,
                    expired: Self.line(type: "ERROR", object: status)
                )
            }
            for entry in history
            where entry.resourceVersion > from && entry.plural == kind.plural
                && (namespace == nil || entry.namespace == namespace)
            {
                backlog.append(entry.line)
            }
        }
        watchers[id] = Watcher(
            plural: kind.plural,
            namespace: namespace,
            bookmarks: bookmarks,
            kind: kind,
            continuation: continuation
        )
        return Subscription(id: id, backlog: backlog, stream: stream, expired: nil)
    }

    /// Ends one watch.
    func unsubscribe(_ id: Int) {
        watchers.removeValue(forKey: id)?.continuation.finish()
    }

    // MARK: Events, pods

    /// Adds a core/v1 Event as JSON.
    package func addEvent(_ event: JSONValue) {
        events.append(event)
    }

    /// Adds a Warning (or Normal) event for a Flux object the way Flux's controllers write them.
    package func addEvent(
        about kind: FluxKind,
        namespace: String,
        name: String,
        type: String = "Warning",
        reason: String,
        message: String,
        lastTimestamp: String,
        count: Int = 1,
        revision: String? = nil
    ) {
        var annotations: [String: JSONValue] = [:]
        if let revision { annotations["\(kind.group)/revision"] = .string(revision) }
        let suffix = String(format: "%016llx", UInt64(events.count + 1) &* 0x9E37_79B9_7F4A_7C15)
        addEvent(
            .object([
                "apiVersion": .string("v1"), "kind": .string("Event"),
                "metadata": .object([
                    "name": .string("\(name).\(suffix)"), "namespace": .string(namespace),
                    "annotations": .object(annotations),
                ]),
                "involvedObject": .object([
                    "apiVersion": .string(kind.apiVersion), "kind": .string(kind.name), "name": .string(name),
                    "namespace": .string(namespace),
                ]),
                "reason": .string(reason), "message": .string(message), "type": .string(type),
                "count": .int(Int64(count)),
                "firstTimestamp": .string(lastTimestamp), "lastTimestamp": .string(lastTimestamp), "eventTime": .null,
                "source": .object(["component": .string(kind.controller)]),
                "reportingComponent": .string(kind.controller), "reportingInstance": .string(""),
            ])
        )
    }

    /// Events in `namespace` matching a core/v1 field selector (`a=b,c=d`).
    func events(namespace: String?, fieldSelector: String?) throws -> JSONValue {
        var filters: [(path: [String], value: String)] = []
        for term in (fieldSelector ?? "").split(separator: ",") where !term.isEmpty {
            let parts = term.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw FakeAPIError.badRequest("invalid field selector term \(term)") }
            let supported: [String: [String]] = [
                "involvedObject.kind": ["involvedObject", "kind"], "involvedObject.name": ["involvedObject", "name"],
                "involvedObject.namespace": ["involvedObject", "namespace"],
                "involvedObject.apiVersion": ["involvedObject", "apiVersion"],
                "involvedObject.uid": ["involvedObject", "uid"], "reason": ["reason"], "type": ["type"],
                "reportingComponent": ["reportingComponent"], "source": ["source", "component"],
                "metadata.name": ["metadata", "name"], "metadata.namespace": ["metadata", "namespace"],
            ]
            guard let path = supported[parts[0]] else {
                throw FakeAPIError.badRequest("field label not supported: \(parts[0])")
            }
            filters.append((path, parts[1]))
        }
        let matching = events.filter { event in
            if let namespace, event["metadata"]?["namespace"]?.stringValue != namespace { return false }
            return filters.allSatisfy { filter in
                var value: JSONValue? = event
                for key in filter.path { value = value?[key] }
                return (value?.stringValue ?? "") == filter.value
            }
        }
        return .object([
            "apiVersion": .string("v1"), "kind": .string("EventList"),
            "metadata": .object(["resourceVersion": .string(String(currentResourceVersion))]),
            "items": .array(matching),
        ])
    }

    /// Adds a controller pod with labels and the log its `manager` container printed.
    package func addPod(namespace: String, name: String, labels: [String: String], log: String) {
        pods.removeAll { $0.namespace == namespace && $0.name == name }
        pods.append(Pod(namespace: namespace, name: name, labels: labels, log: log))
    }

    func pods(namespace: String, labelSelector: String?) throws -> JSONValue {
        var required: [String: String] = [:]
        for term in (labelSelector ?? "").split(separator: ",") where !term.isEmpty {
            let parts = term.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw FakeAPIError.badRequest("unsupported label selector \(term)") }
            required[parts[0]] = parts[1]
        }
        let matching = pods.filter { pod in
            pod.namespace == namespace && required.allSatisfy { pod.labels[$0.key] == $0.value }
        }
        return .object([
            "apiVersion": .string("v1"), "kind": .string("PodList"), "metadata": .object([:]),
            "items": .array(
                matching.map { pod in
                    .object([
                        "metadata": .object([
                            "name": .string(pod.name), "namespace": .string(pod.namespace),
                            "labels": .object(pod.labels.mapValues { .string($0) }),
                        ]),
                        "spec": .object(["containers": .array([.object(["name": .string("manager")])])]),
                        "status": .object(["phase": .string("Running")]),
                    ])
                }
            ),
        ])
    }

    func log(namespace: String, pod: String, tailLines: Int?) -> String? {
        guard let pod = pods.first(where: { $0.namespace == namespace && $0.name == pod }) else { return nil }
        guard let tailLines else { return pod.log }
        let lines = pod.log.split(separator: "\n", omittingEmptySubsequences: false)
        let trimmed = lines.last == "" ? lines.dropLast() : lines[...]
        return trimmed.suffix(tailLines).joined(separator: "\n") + "\n"
    }
}

/// Errors the fake API server answers with a `Status`.
enum FakeAPIError: Error {
    case badRequest(String)
    case expired(String)
}
