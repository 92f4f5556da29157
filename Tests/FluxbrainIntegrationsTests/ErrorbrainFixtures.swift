import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging

/// Shared helpers for the Errorbrain tests.
enum ErrorbrainFixtures {
    static let detectedAt = Date(timeIntervalSince1970: 1_800_000_000)

    /// A client for `fake` with fast retries; the timeout is generous because the machine may be busy.
    static func client(
        _ fake: FakeErrorbrain,
        timeout: Duration = .seconds(20),
        environment: ErrorEvent.Environment? = .staging,
        logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    ) -> ErrorbrainClient {
        client(baseURL: fake.baseURL, timeout: timeout, environment: environment, logger: logger)
    }

    static func client(
        baseURL: URL,
        timeout: Duration = .seconds(20),
        environment: ErrorEvent.Environment? = .staging,
        logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    ) -> ErrorbrainClient {
        ErrorbrainClient(
            configuration: ErrorbrainClientConfiguration(
                baseURL: baseURL,
                timeout: timeout,
                environment: environment,
                retry: Backoff(
                    base: .milliseconds(20),
                    maximum: .milliseconds(100),
                    growth: .exponential(factor: 2),
                    jitter: .scaling(from: 0.5)
                )
            ),
            httpClient: HTTPClient.shared,
            logger: logger
        )
    }

    /// A Kustomization build failure with an event, a log line and a status.
    static func incident(
        name: String = "infra",
        state: FailureState = .retrying,
        message: String = "kustomize build failed: boom",
        eventMessage: String = "kustomize build failed: boom",
        logMessage: String = "Reconciliation failed",
        status: JSONValue? = nil
    ) -> Incident {
        let object = ObjectReference(cluster: "prod-eu-1", kind: .kustomization, namespace: "flux-system", name: name)
        return Incident(
            object: object,
            state: state,
            reason: "BuildFailed",
            message: message,
            revision: "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c",
            lastAppliedRevision: "main@sha1:8a1b2c3d4e5f60718293a4b5c6d7e8f901a2b3c4",
            lastAttemptedRevision: "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c",
            source: ObjectReference(
                cluster: "prod-eu-1",
                kind: .gitRepository,
                namespace: "flux-system",
                name: "flux-system"
            ),
            dependsOn: [
                ObjectReference(cluster: "prod-eu-1", kind: .kustomization, namespace: "flux-system", name: "crds")
            ],
            affected: [
                ObjectReference(cluster: "prod-eu-1", kind: .kustomization, namespace: "flux-system", name: "apps")
            ],
            retryInterval: "2m0s",
            generation: 3,
            observedGeneration: 2,
            since: Date(timeIntervalSince1970: 1_799_999_000),
            events: [
                EventRecord(
                    type: "Warning",
                    reason: "BuildFailed",
                    message: eventMessage,
                    count: 14,
                    firstTimestamp: Date(timeIntervalSince1970: 1_799_999_000),
                    lastTimestamp: Date(timeIntervalSince1970: 1_799_999_900),
                    reportingComponent: "kustomize-controller",
                    revision: "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c"
                )
            ],
            logLines: [
                LogLine(
                    timestamp: Date(timeIntervalSince1970: 1_799_999_900.25),
                    level: "error",
                    message: logMessage,
                    error: "kustomize build failed",
                    pod: "kustomize-controller-7c9d8f6b5-x2x9q",
                    reconcileID: "3f0a6d4e-5b1c-4a2e-9c8d-7e6f5a4b3c2d"
                )
            ],
            status: status
                ?? .object([
                    "conditions": .array([
                        .object([
                            "type": .string("Ready"), "status": .string("False"), "reason": .string("BuildFailed"),
                            "message": .string(message),
                        ])
                    ]),
                    "observedGeneration": .int(2),
                ]),
            detectedAt: detectedAt
        )
    }
}
