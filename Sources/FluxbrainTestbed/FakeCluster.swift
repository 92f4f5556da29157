import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging

/// The testbed's fake Flux cluster: a snapshot served as a Kubernetes API (`fluxbrain-testbed fake-cluster
/// --snapshot PATH --listen HOST:PORT`), over plain HTTP without authentication, so
/// `FLUXBRAIN_KUBE_API_URL=http://HOST:PORT` points Fluxbrain at it.
package enum FakeCluster {
    /// Loads `snapshotPath` into a new fake API server state: every Flux object, a Warning event for each
    /// `Ready=False`/`Stalled=True` object (reason, message and time of the condition, revision annotation), and a
    /// controller pod per Flux controller whose log holds an error line per failing object.
    /// - Parameter replayAsOfNow: shift condition times so the snapshot looks taken now (the testbed); off in tests
    ///   that compare with the snapshot itself.
    package static func state(
        snapshotPath: String,
        replayAsOfNow: Bool = false,
        logger: Logger
    ) async throws
        -> FakeKubernetesState
    {
        let snapshot = try SnapshotLoader().load(path: snapshotPath)
        for (file, item) in snapshot.malformed {
            logger.warning("snapshot \(file): skipping a malformed object: \(item)")
        }
        let state = FakeKubernetesState()
        var logs: [String: [String]] = [:]
        // Replay the snapshot as if it were taken now: shift every condition's lastTransitionTime by the time since
        // its newest one, so age-based rules (stuck after FLUXBRAIN_STUCK_AFTER) see the ages it was saved with.
        let documents = snapshot.documents
        let now = Date()
        let shift = replayAsOfNow ? now.timeIntervalSince(snapshot.objects.takenAt(now: now)) : 0
        for document in documents.map({ shifted($0, by: shift) }) {
            guard let kindName = document["kind"]?.stringValue, let kind = FluxKind.named(kindName) else { continue }
            guard let object = try? FluxObject(json: document) else { continue }
            try await state.apply(document)
            let namespace = object.metadata.namespace ?? "default"
            let failing =
                [object.condition("Stalled")].compactMap { $0 }.filter { $0.status == "True" }
                + [object.condition("Ready")].compactMap { $0 }.filter { $0.status == "False" }
            guard object.spec?.suspend != true, let ready = failing.last ?? failing.first else { continue }
            let time = ready.lastTransitionTime ?? "2026-01-01T00:00:00Z"
            await state.addEvent(
                about: kind,
                namespace: namespace,
                name: object.metadata.name,
                reason: ready.reason ?? "Failed",
                message: ready.message ?? "",
                lastTimestamp: time,
                revision: object.status?.lastAttemptedRevision ?? object.status?.artifact?.revision
            )
            let line = JSONValue.object([
                "level": .string("error"), "ts": .string(time), "msg": .string("Reconciler error"),
                "controller": .string(kind.name.lowercased()), "controllerGroup": .string(kind.group),
                "controllerKind": .string(kind.name),
                kind.name: .object(["name": .string(object.metadata.name), "namespace": .string(namespace)]),
                "namespace": .string(namespace), "name": .string(object.metadata.name),
                "reconcileID": .string(UUID().uuidString.lowercased()), "error": .string(ready.message ?? ""),
            ])
            if let text = try? StableJSON.string(line) { logs[kind.controller, default: []].append(text) }
        }
        for controller in Set(FluxKind.all.map(\.controller)).sorted() {
            await state.addPod(
                namespace: "flux-system",
                name: "\(controller)-7d9f8b6c5d-x2x4q",
                labels: ["app": controller, "app.kubernetes.io/part-of": "flux"],
                log: (logs[controller] ?? []).map { $0 + "\n" }.joined()
            )
        }
        let count = await state.objectCount
        logger.info("fake cluster loaded \(count) objects from \(snapshotPath)")
        return state
    }

    private static func shifted(_ document: JSONValue, by seconds: TimeInterval) -> JSONValue {
        guard seconds > 0, case .object(var members) = document, case .object(var status)? = members["status"],
            let list = status["conditions"]?.arrayValue
        else { return document }
        status["conditions"] = .array(
            list.map { condition in
                guard case .object(var fields) = condition, let text = fields["lastTransitionTime"]?.stringValue,
                    let date = RFC3339.date(from: text)
                else { return condition }
                fields["lastTransitionTime"] = .string(RFC3339.string(from: date.addingTimeInterval(seconds)))
                return .object(fields)
            }
        )
        members["status"] = .object(status)
        return .object(members)
    }

    /// Serves the snapshot at `snapshotPath` on `host:port` over plain HTTP until cancelled.
    package static func serve(
        snapshotPath: String,
        host: String,
        port: Int,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let state = try await state(snapshotPath: snapshotPath, replayAsOfNow: true, logger: logger)
        let server = FakeKubernetesServer(state: state)
        try await server.run(
            host: host,
            port: port,
            tls: nil,
            logger: logger,
            onRunning: { bound in
                logger.info("fake cluster listening on http://\(host):\(bound)")
                await onRunning(bound)
            }
        )
    }
}
