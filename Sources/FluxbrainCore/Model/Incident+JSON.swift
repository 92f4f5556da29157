import Foundation

// The incident's JSON written and read by hand (``JSONWritable``, ``JSONReadable``): the work queue carries one per
// item, the incident store one per open incident. The bytes are those of the `Codable` conformances under
// `StableJSON` (keys sorted, `nil` left out, dates to the second), which stay as the reference the differential
// tests compare against (Tests/FluxbrainCoreTests/DirectJSONTests.swift) and for pretty output.

extension Incident: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("affected", affected)
        try writer.member("annotations", ifPresent: annotations)
        try writer.member("artifactRevision", ifPresent: artifactRevision)
        try writer.member("cause", ifPresent: cause)
        try writer.member("changes", ifPresent: changes)
        try writer.member("controller", controller)
        try writer.member("dependsOn", dependsOn)
        try writer.member("detectedAt", detectedAt)
        try writer.member("events", events)
        try writer.member("fingerprint", fingerprint)
        try writer.member("generation", ifPresent: generation)
        try writer.member("helmHistory", helmHistory)
        try writer.member("labels", ifPresent: labels)
        try writer.member("lastAppliedRevision", ifPresent: lastAppliedRevision)
        try writer.member("lastAttemptedRevision", ifPresent: lastAttemptedRevision)
        try writer.member("logLines", logLines)
        try writer.member("message", message)
        try writer.member("object", object)
        try writer.member("observedGeneration", ifPresent: observedGeneration)
        try writer.member("reason", reason)
        try writer.member("remediation", ifPresent: remediation)
        try writer.member("retryInterval", ifPresent: retryInterval)
        try writer.member("revision", ifPresent: revision)
        try writer.member("since", ifPresent: since)
        try writer.member("source", ifPresent: source)
        try writer.member("state", state)
        try writer.member("status", ifPresent: status)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var fingerprint: Fingerprint?
        var object: ObjectReference?
        var state: FailureState?
        var reason: String?
        var message: String?
        var cause: String?
        var remediation: Remediation?
        var changes: IncidentChanges?
        var revision: String?
        var lastAppliedRevision: String?
        var lastAttemptedRevision: String?
        var artifactRevision: String?
        var source: ObjectReference?
        var dependsOn: [ObjectReference]?
        var affected: [ObjectReference]?
        var controller: String?
        var retryInterval: String?
        var generation: Int64?
        var observedGeneration: Int64?
        var since: Date?
        var helmHistory: [HelmReleaseSnapshot]?
        var events: [EventRecord]?
        var logLines: [LogLine]?
        var status: JSONValue?
        var detectedAt: Date?
        var labels: [String: String]?
        var annotations: [String: String]?
        try scanner.object { scanner, key in
            switch key {
            case "affected": affected = try scanner.require([ObjectReference].self)
            case "annotations": annotations = try scanner.read([String: String].self)
            case "artifactRevision": artifactRevision = try scanner.read(String.self)
            case "cause": cause = try scanner.read(String.self)
            case "changes": changes = try scanner.read(IncidentChanges.self)
            case "controller": controller = try scanner.require(String.self)
            case "dependsOn": dependsOn = try scanner.require([ObjectReference].self)
            case "detectedAt": detectedAt = try scanner.require(Date.self)
            case "events": events = try scanner.require([EventRecord].self)
            case "fingerprint": fingerprint = try scanner.require(Fingerprint.self)
            case "generation": generation = try scanner.read(Int64.self)
            case "helmHistory": helmHistory = try scanner.require([HelmReleaseSnapshot].self)
            case "labels": labels = try scanner.read([String: String].self)
            case "lastAppliedRevision": lastAppliedRevision = try scanner.read(String.self)
            case "lastAttemptedRevision": lastAttemptedRevision = try scanner.read(String.self)
            case "logLines": logLines = try scanner.require([LogLine].self)
            case "message": message = try scanner.require(String.self)
            case "object": object = try scanner.require(ObjectReference.self)
            case "observedGeneration": observedGeneration = try scanner.read(Int64.self)
            case "reason": reason = try scanner.require(String.self)
            case "remediation": remediation = try scanner.read(Remediation.self)
            case "retryInterval": retryInterval = try scanner.read(String.self)
            case "revision": revision = try scanner.read(String.self)
            case "since": since = try scanner.read(Date.self)
            case "source": source = try scanner.read(ObjectReference.self)
            case "state": state = try scanner.require(FailureState.self)
            case "status": status = try scanner.read(JSONValue.self)
            default: try scanner.skip()
            }
        }
        self.fingerprint = try scanner.required(fingerprint, "fingerprint")
        self.object = try scanner.required(object, "object")
        self.state = try scanner.required(state, "state")
        self.reason = try scanner.required(reason, "reason")
        self.message = try scanner.required(message, "message")
        self.cause = cause
        self.remediation = remediation
        self.changes = changes
        self.revision = revision
        self.lastAppliedRevision = lastAppliedRevision
        self.lastAttemptedRevision = lastAttemptedRevision
        self.artifactRevision = artifactRevision
        self.source = source
        self.dependsOn = try scanner.required(dependsOn, "dependsOn")
        self.affected = try scanner.required(affected, "affected")
        self.controller = try scanner.required(controller, "controller")
        self.retryInterval = retryInterval
        self.generation = generation
        self.observedGeneration = observedGeneration
        self.since = since
        self.helmHistory = try scanner.required(helmHistory, "helmHistory")
        self.events = try scanner.required(events, "events")
        self.logLines = try scanner.required(logLines, "logLines")
        self.status = status
        self.detectedAt = try scanner.required(detectedAt, "detectedAt")
        self.labels = labels
        self.annotations = annotations
    }
}

extension Fingerprint: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) { writer.string(hex) }

    package init(reading scanner: inout JSONScanner) throws {
        let text = try String(reading: &scanner)
        guard let value = Fingerprint(hex: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [], debugDescription: "not a fingerprint: \(text)")
            )
        }
        self = value
    }
}

extension FluxKind: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) { writer.string(name) }

    package init(reading scanner: inout JSONScanner) throws {
        let name = try String(reading: &scanner)
        guard let kind = FluxKind.named(name) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [], debugDescription: "unknown Flux kind \(name)")
            )
        }
        self = kind
    }
}

extension FailureState: JSONWritable, JSONReadable {}

extension ObjectReference: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("cluster", cluster)
        try writer.member("kind", kind)
        try writer.member("name", name)
        try writer.member("namespace", namespace)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var cluster: String?
        var kind: FluxKind?
        var namespace: String?
        var name: String?
        try scanner.object { scanner, key in
            switch key {
            case "cluster": cluster = try scanner.require(String.self)
            case "kind": kind = try scanner.require(FluxKind.self)
            case "name": name = try scanner.require(String.self)
            case "namespace": namespace = try scanner.require(String.self)
            default: try scanner.skip()
            }
        }
        self.init(
            cluster: try scanner.required(cluster, "cluster"),
            kind: try scanner.required(kind, "kind"),
            namespace: try scanner.required(namespace, "namespace"),
            name: try scanner.required(name, "name")
        )
    }
}

extension Remediation: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("message", message)
        try writer.member("reason", reason)
        try writer.member("summary", summary)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var reason: String?
        var message: String?
        var summary: String?
        try scanner.object { scanner, key in
            switch key {
            case "message": message = try scanner.require(String.self)
            case "reason": reason = try scanner.require(String.self)
            case "summary": summary = try scanner.require(String.self)
            default: try scanner.skip()
            }
        }
        self.init(
            reason: try scanner.required(reason, "reason"),
            message: try scanner.required(message, "message"),
            summary: try scanner.required(summary, "summary")
        )
    }
}

extension IncidentChanges: JSONWritable, JSONReadable {
    /// Every key, `null` when unknown (as its `encode(to:)`: the webhook's `changes` promises every key).
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("commitURL", orNull: commitURL)
        try writer.member("compareURL", orNull: compareURL)
        try writer.member("failingChart", orNull: failingChart)
        try writer.member("failingRevision", orNull: failingRevision)
        try writer.member("pathURL", orNull: pathURL)
        try writer.member("previousChart", orNull: previousChart)
        try writer.member("previousRevision", orNull: previousRevision)
        try writer.member("repositoryURL", orNull: repositoryURL)
        try writer.member("staleRevision", orNull: staleRevision)
        try writer.member("staleSince", orNull: staleSince)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var changes = IncidentChanges()
        try scanner.object { scanner, key in
            switch key {
            case "commitURL": changes.commitURL = try scanner.read(String.self)
            case "compareURL": changes.compareURL = try scanner.read(String.self)
            case "failingChart": changes.failingChart = try scanner.read(String.self)
            case "failingRevision": changes.failingRevision = try scanner.read(String.self)
            case "pathURL": changes.pathURL = try scanner.read(String.self)
            case "previousChart": changes.previousChart = try scanner.read(String.self)
            case "previousRevision": changes.previousRevision = try scanner.read(String.self)
            case "repositoryURL": changes.repositoryURL = try scanner.read(String.self)
            case "staleRevision": changes.staleRevision = try scanner.read(String.self)
            case "staleSince": changes.staleSince = try scanner.read(Date.self)
            default: try scanner.skip()
            }
        }
        self = changes
    }
}

extension FluxObject.HelmSnapshot: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("action", ifPresent: action)
        try writer.member("appVersion", ifPresent: appVersion)
        try writer.member("chartName", ifPresent: chartName)
        try writer.member("chartVersion", ifPresent: chartVersion)
        try writer.member("firstDeployed", ifPresent: firstDeployed)
        try writer.member("lastDeployed", ifPresent: lastDeployed)
        try writer.member("status", ifPresent: status)
        try writer.member("version", ifPresent: version)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var snapshot = FluxObject.HelmSnapshot()
        try scanner.object { scanner, key in
            switch key {
            case "action": snapshot.action = try scanner.read(String.self)
            case "appVersion": snapshot.appVersion = try scanner.read(String.self)
            case "chartName": snapshot.chartName = try scanner.read(String.self)
            case "chartVersion": snapshot.chartVersion = try scanner.read(String.self)
            case "firstDeployed": snapshot.firstDeployed = try scanner.read(String.self)
            case "lastDeployed": snapshot.lastDeployed = try scanner.read(String.self)
            case "status": snapshot.status = try scanner.read(String.self)
            case "version": snapshot.version = try scanner.read(Int64.self)
            default: try scanner.skip()
            }
        }
        self = snapshot
    }
}

extension EventRecord: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("count", ifPresent: count)
        try writer.member("firstTimestamp", ifPresent: firstTimestamp)
        try writer.member("lastTimestamp", ifPresent: lastTimestamp)
        try writer.member("message", message)
        try writer.member("reason", reason)
        try writer.member("reportingComponent", ifPresent: reportingComponent)
        try writer.member("revision", ifPresent: revision)
        try writer.member("type", type)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var type: String?
        var reason: String?
        var message: String?
        var count: Int64?
        var firstTimestamp: Date?
        var lastTimestamp: Date?
        var reportingComponent: String?
        var revision: String?
        try scanner.object { scanner, key in
            switch key {
            case "count": count = try scanner.read(Int64.self)
            case "firstTimestamp": firstTimestamp = try scanner.read(Date.self)
            case "lastTimestamp": lastTimestamp = try scanner.read(Date.self)
            case "message": message = try scanner.require(String.self)
            case "reason": reason = try scanner.require(String.self)
            case "reportingComponent": reportingComponent = try scanner.read(String.self)
            case "revision": revision = try scanner.read(String.self)
            case "type": type = try scanner.require(String.self)
            default: try scanner.skip()
            }
        }
        self.init(
            type: try scanner.required(type, "type"),
            reason: try scanner.required(reason, "reason"),
            message: try scanner.required(message, "message"),
            count: count,
            firstTimestamp: firstTimestamp,
            lastTimestamp: lastTimestamp,
            reportingComponent: reportingComponent,
            revision: revision
        )
    }
}

extension LogLine: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("error", ifPresent: error)
        try writer.member("level", level)
        try writer.member("message", message)
        try writer.member("pod", ifPresent: pod)
        try writer.member("reconcileID", ifPresent: reconcileID)
        try writer.member("timestamp", ifPresent: timestamp)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var timestamp: Date?
        var level: String?
        var message: String?
        var error: String?
        var pod: String?
        var reconcileID: String?
        try scanner.object { scanner, key in
            switch key {
            case "error": error = try scanner.read(String.self)
            case "level": level = try scanner.require(String.self)
            case "message": message = try scanner.require(String.self)
            case "pod": pod = try scanner.read(String.self)
            case "reconcileID": reconcileID = try scanner.read(String.self)
            case "timestamp": timestamp = try scanner.read(Date.self)
            default: try scanner.skip()
            }
        }
        self.init(
            timestamp: timestamp,
            level: try scanner.required(level, "level"),
            message: try scanner.required(message, "message"),
            error: error,
            pod: pod,
            reconcileID: reconcileID
        )
    }
}
