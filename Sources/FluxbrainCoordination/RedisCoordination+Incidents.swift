import FluxbrainCore
import FluxbrainRedis
import Foundation

extension RedisCoordination {
    /// Every open incident of `cluster` (`HVALS <prefix>:{fbq}:open:<cluster>`), sorted by object. An entry that
    /// does not decode is skipped with an error log; it stays in Redis for inspection.
    package func openIncidents(cluster: String) async throws -> [Incident] {
        let key = keys.open(cluster: cluster)
        let reply = try await send(RedisCommand("HVALS", key).idempotent(), operation: "openIncidents")
        guard let values = reply.array else { throw unexpected(reply, from: "openIncidents") }
        var incidents: [Incident] = []
        for value in values {
            guard let bytes = value.bytes, let incident = try? StableJSON.decode(Incident.self, from: bytes) else {
                logger.error("skipping an undecodable open incident", metadata: ["key": "\(key)"])
                continue
            }
            incidents.append(incident)
        }
        return incidents.sorted { $0.object < $1.object }
    }

    /// Records `incident` as its object's open incident (replacing any other); fenced by `lease`.
    package func open(_ incident: Incident, lease: LeaderLease) async throws {
        try await open([incident], lease: lease)
    }

    /// The `open_incident` script for each incident, pipelined (one round trip per ``batchLimit``, in order); fenced
    /// by `lease`. Every incident is encoded before anything is sent.
    package func open(_ incidents: [Incident], lease: LeaderLease) async throws {
        let calls = try incidents.map { incident in
            let json: [UInt8]
            do {
                json = try StableJSON.bytes(incident)
            } catch {
                throw CoordinationError(
                    .encoding,
                    "could not encode incident \(incident.fingerprint)",
                    underlying: error
                )
            }
            return RedisScriptCall(
                CoordinationScripts.openIncident,
                keys: [keys.lock, keys.open(cluster: incident.object.cluster)],
                arguments: [lease.lockValue, CoordinationKeys.openField(incident.object), json]
            )
        }
        _ = try await run(calls, fencedBy: lease)
    }

    /// Forgets `object`'s open incident if its fingerprint is `fingerprint`; fenced by `lease`.
    package func close(_ object: ObjectReference, fingerprint: Fingerprint, lease: LeaderLease) async throws {
        _ = try await run([closeCall(object, fingerprint: fingerprint, lease: lease)], fencedBy: lease)
    }

    /// The `close_incident` script for each incident's object and fingerprint, pipelined like ``open(_:lease:)``.
    package func close(_ incidents: [Incident], lease: LeaderLease) async throws {
        let calls = incidents.map { closeCall($0.object, fingerprint: $0.fingerprint, lease: lease) }
        _ = try await run(calls, fencedBy: lease)
    }

    private func closeCall(_ object: ObjectReference, fingerprint: Fingerprint, lease: LeaderLease) -> RedisScriptCall {
        RedisScriptCall(
            CoordinationScripts.closeIncident,
            keys: [keys.lock, keys.open(cluster: object.cluster)],
            arguments: [lease.lockValue, CoordinationKeys.openField(object), fingerprint.hex]
        )
    }
}
