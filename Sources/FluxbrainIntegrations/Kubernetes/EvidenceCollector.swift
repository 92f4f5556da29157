import FluxbrainCore
import Foundation
import Logging

/// Gathers evidence for an incident: the object's Warning events and, when enabled, the owning controller's recent
/// log lines about the object.
package struct EvidenceCollector: Sendable {
    /// Clients by cluster name.
    package let clients: [String: KubernetesClient]
    /// `FLUXBRAIN_FLUX_NAMESPACE`: where the controllers run (default `flux-system`).
    package var fluxNamespace: String
    /// `FLUXBRAIN_COLLECT_LOGS`: read controller logs (needs `get` on `pods/log`).
    package var collectLogs: Bool
    /// At most this many events (newest first).
    package var eventLimit: Int
    /// At most this many log lines (newest first).
    package var logLimit: Int
    /// Log window (`sinceSeconds`) and lines read per pod (`tailLines`).
    package var logSinceSeconds: Int
    package var logTailLines: Int
    private let logger: Logger

    package init(
        clients: [String: KubernetesClient],
        fluxNamespace: String = "flux-system",
        collectLogs: Bool = false,
        eventLimit: Int = 10,
        logLimit: Int = 20,
        logSinceSeconds: Int = 3600,
        logTailLines: Int = 500,
        logger: Logger
    ) {
        self.clients = clients
        self.fluxNamespace = fluxNamespace
        self.collectLogs = collectLogs
        self.eventLimit = eventLimit
        self.logLimit = logLimit
        self.logSinceSeconds = logSinceSeconds
        self.logTailLines = logTailLines
        self.logger = logger
    }

    /// `incident` with `events` and (if enabled) `logLines` filled. Evidence is best effort: a failure is logged
    /// and leaves the field as it was.
    package func enrich(_ incident: Incident) async -> Incident {
        var incident = incident
        do {
            incident.events = try await events(for: incident.object)
        } catch {
            logger.warning(
                "cannot read events of \(incident.object)",
                metadata: ["cluster": "\(incident.object.cluster)", "error": .error(error)]
            )
        }
        if collectLogs {
            do {
                incident.logLines = try await logLines(for: incident.object, controller: incident.controller)
            } catch {
                logger.warning(
                    "cannot read \(incident.controller) logs for \(incident.object)",
                    metadata: ["cluster": "\(incident.object.cluster)", "error": .error(error)]
                )
            }
        }
        return incident
    }

    /// Each incident enriched as by ``enrich(_:)-(Incident)``, all at once (their reads run concurrently); the
    /// incidents in the same order.
    package func enrich(_ incidents: [Incident]) async -> [Incident] {
        if incidents.count == 1 { return [await enrich(incidents[0])] }
        return await withTaskGroup(of: (Int, Incident).self) { group in
            for (index, incident) in incidents.enumerated() {
                group.addTask { (index, await enrich(incident)) }
            }
            var enriched = incidents
            for await (index, incident) in group { enriched[index] = incident }
            return enriched
        }
    }

    private func client(for cluster: String) throws -> KubernetesClient {
        guard let client = clients[cluster] else {
            throw KubernetesError(.config, "no Kubernetes client for cluster \(cluster)")
        }
        return client
    }

    /// The object's Warning events, newest first, capped.
    package func events(for reference: ObjectReference) async throws -> [EventRecord] {
        try await client(for: reference.cluster).warningEvents(for: reference, limit: eventLimit)
    }

    /// The controller's JSON log lines about `reference`, newest first, capped (pods `app=<controller>`,
    /// container `manager`).
    package func logLines(for reference: ObjectReference, controller: String? = nil) async throws -> [LogLine] {
        let client = try client(for: reference.cluster)
        let controller = controller ?? reference.kind.controller
        let pods = try await client.podNames(namespace: fluxNamespace, labelSelector: "app=\(controller)")
        var lines: [LogLine] = []
        for pod in pods.sorted() {
            let text = try await client.podLog(
                namespace: fluxNamespace,
                pod: pod,
                container: "manager",
                sinceSeconds: logSinceSeconds,
                tailLines: logTailLines
            )
            lines.append(contentsOf: ControllerLogParser.lines(in: text, about: reference, pod: pod))
        }
        lines.sort { ($0.timestamp ?? .distantPast) > ($1.timestamp ?? .distantPast) }
        return Array(lines.prefix(logLimit))
    }
}

/// Reads Flux controller logs (zap JSON: `level`, `ts`, `msg`, `controllerKind`, `namespace`, `name`,
/// `reconcileID`, `error`).
package enum ControllerLogParser {
    private struct Line: Decodable {
        var level: String?
        var ts: Timestamp?
        var msg: String?
        var error: String?
        var controllerKind: String?
        var controller: String?
        var namespace: String?
        var name: String?
        var reconcileID: String?
    }

    /// `ts` is ISO 8601 in Flux; zap's default is epoch seconds.
    private enum Timestamp: Decodable {
        case text(String)
        case seconds(Double)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                self = .seconds(seconds)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        var date: Date? {
            switch self {
            case .text(let text): RFC3339.date(from: text)
            case .seconds(let seconds): Date(timeIntervalSince1970: seconds)
            }
        }
    }

    /// The lines of `text` about `reference`, in log order.
    package static func lines(in text: String, about reference: ObjectReference, pod: String?) -> [LogLine] {
        let decoder = JSONDecoder()
        let kind = reference.kind.name
        let lowerKind = kind.lowercased()
        var result: [LogLine] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard raw.first == "{", let line = try? decoder.decode(Line.self, from: Data(raw.utf8)) else { continue }
            let kindMatches = line.controllerKind == kind || line.controller == lowerKind
            guard kindMatches, line.namespace == reference.namespace, line.name == reference.name else { continue }
            result.append(
                LogLine(
                    timestamp: line.ts?.date,
                    level: line.level ?? "info",
                    message: line.msg ?? "",
                    error: line.error,
                    pod: pod,
                    reconcileID: line.reconcileID
                )
            )
        }
        return result
    }
}
