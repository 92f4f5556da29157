import FluxbrainCore
import Foundation

/// Deterministic incidents, work items and analysis results for the JSON differential tests: every optional now
/// present, now absent (and empty collections), texts with escapes, control characters, non-ASCII and emoji, the
/// extreme 64-bit integers, dates with and without fractions of a second, statuses from ``FluxMessageGenerator``.
package struct IncidentGenerator: Sendable {
    private var messages: FluxMessageGenerator

    /// The same seed gives the same values on every run and platform.
    package init(seed: UInt64) {
        messages = FluxMessageGenerator(seed: seed)
    }

    package mutating func next(_ bound: Int) -> Int { messages.next(bound) }

    private mutating func maybe<T>(_ make: (inout IncidentGenerator) -> T) -> T? {
        next(3) == 0 ? nil : make(&self)
    }

    /// A text: a Flux message, an odd one, or the empty string.
    package mutating func text() -> String {
        switch next(8) {
        case 0: return ""
        case 1: return Self.oddTexts[next(Self.oddTexts.count)]
        case 2: return messages.anyMessage() + Self.oddTexts[next(Self.oddTexts.count)]
        default: return messages.anyMessage()
        }
    }

    /// A date: whole seconds, or with a fraction; now and then far in the past or the future.
    package mutating func date() -> Date {
        let seconds = Double(1_700_000_000 + next(200_000_000))
        switch next(6) {
        case 0: return Date(timeIntervalSince1970: seconds + Double(next(1000)) / 1000)
        case 1: return Date(timeIntervalSince1970: seconds + Double(next(1_000_000)) / 1_000_000 + 0.000_000_7)
        case 2: return Date(timeIntervalSince1970: Double(next(2)) == 0 ? -11_676_096_000 : 253_402_300_799)
        default: return Date(timeIntervalSince1970: seconds)
        }
    }

    package mutating func integer() -> Int64 {
        switch next(5) {
        case 0: return .max
        case 1: return .min
        case 2: return 0
        default: return Int64(next(1_000_000)) - 500
        }
    }

    package mutating func reference() -> ObjectReference {
        let kinds = FluxKind.all
        return ObjectReference(
            cluster: next(4) == 0 ? "prod-ü-\(next(9))" : "prod-eu-\(next(9))",
            kind: kinds[next(kinds.count)],
            namespace: next(5) == 0 ? "" : "ns-\(next(50))",
            name: next(6) == 0 ? text() : "app-\(next(1000))"
        )
    }

    package mutating func labels() -> [String: String] {
        var labels: [String: String] = [:]
        for _ in 0..<next(4) { labels[Self.oddKeys[next(Self.oddKeys.count)]] = text() }
        return labels
    }

    package mutating func incident() -> Incident {
        let states = FailureState.allCases
        var incident = Incident(
            object: reference(),
            state: states[next(states.count)],
            reason: next(10) == 0 ? text() : "BuildFailed",
            message: text(),
            revision: maybe { "main@sha1:" + String($0.next(Int.max), radix: 16) },
            lastAppliedRevision: maybe { $0.text() },
            lastAttemptedRevision: maybe { $0.text() },
            artifactRevision: maybe { $0.text() },
            source: maybe { $0.reference() },
            dependsOn: (0..<next(3)).map { _ in reference() },
            affected: (0..<next(3)).map { _ in reference() },
            controller: maybe { $0.text() },
            retryInterval: maybe { _ in "2m0s" },
            generation: maybe { $0.integer() },
            observedGeneration: maybe { $0.integer() },
            since: maybe { $0.date() },
            helmHistory: (0..<next(3)).map { _ in helmSnapshot() },
            events: (0..<next(4)).map { _ in event() },
            logLines: (0..<next(4)).map { _ in logLine() },
            status: maybe { $0.status() },
            detectedAt: date(),
            remediation: maybe { Remediation(reason: $0.text(), message: $0.text()) },
            changes: maybe { $0.changes() },
            labels: maybe { $0.labels() },
            annotations: maybe { $0.labels() }
        )
        if next(5) == 0 { incident.cause = nil }
        return incident
    }

    package mutating func status() -> JSONValue {
        switch next(6) {
        case 0: return .object([:])
        case 1:
            return .object([
                "big": .int(.max), "small": .int(.min), "double": .double(2.5e-7), "huge": .double(1e300),
                "list": .array([.null, .bool(true), .bool(false), .string(text())]),
                Self.oddKeys[next(Self.oddKeys.count)]: .string(text()),
            ])
        default: return messages.status()
        }
    }

    package mutating func helmSnapshot() -> HelmReleaseSnapshot {
        var members: [String: JSONValue] = [:]
        members["version"] = maybe { .int($0.integer()) }
        members["status"] = maybe { _ in .string("failed") }
        members["action"] = maybe { .string($0.text()) }
        members["chartName"] = maybe { _ in .string("podinfo") }
        members["chartVersion"] = maybe { .string("6.9.\($0.next(9))") }
        members["appVersion"] = maybe { .string($0.text()) }
        members["firstDeployed"] = maybe { _ in .string("2026-11-28T19:41:03Z") }
        members["lastDeployed"] = maybe { .string($0.text()) }
        // Its memberwise initializer is internal to FluxbrainCore.
        return try! JSONValue.object(members).decode(HelmReleaseSnapshot.self)
    }

    package mutating func event() -> EventRecord {
        EventRecord(
            type: next(2) == 0 ? "Warning" : "Normal",
            reason: text(),
            message: text(),
            count: maybe { $0.integer() },
            firstTimestamp: maybe { $0.date() },
            lastTimestamp: maybe { $0.date() },
            reportingComponent: maybe { $0.text() },
            revision: maybe { $0.text() }
        )
    }

    package mutating func logLine() -> LogLine {
        LogLine(
            timestamp: maybe { $0.date() },
            level: next(2) == 0 ? "error" : text(),
            message: text(),
            error: maybe { $0.text() },
            pod: maybe { $0.text() },
            reconcileID: maybe { $0.text() }
        )
    }

    package mutating func changes() -> IncidentChanges {
        var changes = IncidentChanges()
        changes.repositoryURL = maybe { $0.text() }
        changes.previousRevision = maybe { $0.text() }
        changes.failingRevision = maybe { $0.text() }
        changes.compareURL = maybe { _ in "https://github.com/org/repo/compare/a...b" }
        changes.commitURL = maybe { $0.text() }
        changes.pathURL = maybe { $0.text() }
        changes.previousChart = maybe { $0.text() }
        changes.failingChart = maybe { $0.text() }
        changes.staleRevision = maybe { $0.text() }
        changes.staleSince = maybe { $0.date() }
        return changes
    }

    package mutating func workItem() -> WorkItem {
        let transition: WorkItem.Transition = next(2) == 0 ? .firing : .resolved
        let incident = incident()
        return WorkItem(
            transition: transition,
            incident: incident,
            opensIncident: transition == .firing && next(2) == 0
        )
    }

    package mutating func analysisResult() -> AnalysisResult {
        let severities: [AnalysisResult.Severity] = [.info, .warning, .critical]
        let urgencies: [AnalysisResult.Action.Urgency] = [.low, .medium, .high]
        let confidences = [0, 1, 0.1, 0.87, 1e-9, 0.333_333_333_333_333_3]
        return AnalysisResult(
            verdictID: String(next(Int.max), radix: 16),
            eventID: text(),
            title: text(),
            description: text(),
            confidence: confidences[next(confidences.count)],
            severity: severities[next(severities.count)],
            affectedComponents: (0..<next(3)).map { _ in text() },
            actions: (0..<next(3)).map { _ in
                AnalysisResult.Action(title: text(), description: text(), urgency: urgencies[next(urgencies.count)])
            },
            evidenceRefs: (0..<next(3)).map { _ in text() },
            createdAt: maybe { $0.date() },
            retrySafety: RetrySafety(
                fluxRetries: next(2) == 0,
                summary: text(),
                basis: next(2) == 0 ? .errorbrain : .fluxState
            )
        )
    }

    /// Texts that exercise the escaping: quotes, backslashes, slashes, every control character, DEL, U+2028,
    /// combining marks, emoji and HTML.
    package static let oddTexts: [String] = [
        "\"quoted\" and \\backslashed\\ and /slashed/",
        String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init))),
        "\u{7F}\u{2028}\u{2029}\u{FEFF}",
        "é e\u{301} ß İ ﬅ 🔥👩‍👩‍👧 \u{10FFFF}",
        "<script>alert('x')</script> & &amp;",
        "line one\nline two\r\n\ttabbed\u{8}\u{C}",
    ]

    /// Map keys whose byte order differs from their character order, and the empty key.
    package static let oddKeys: [String] = ["ä", "b", "B", "a\u{301}", "", "app.kubernetes.io/name", "Z", "é"]
}
