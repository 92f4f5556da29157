import FluxbrainCore
import Foundation
import Testing

@Suite struct RedactionTests {
    let redactor = Redactor()

    @Test func keepsTheContextAroundASecret() {
        #expect(
            redactor.redact("failed to clone 'https://deploy:hunter2@git.example.com/org/repo.git'")
                == "failed to clone 'https://[REDACTED]@git.example.com/org/repo.git'"
        )
        #expect(redactor.redact("connect password=abc host=db") == "connect password=[REDACTED] host=db")
        #expect(redactor.redact(#"{"password": "x y"}"#) == #"{"password": "[REDACTED]"}"#)
        #expect(redactor.redact("Authorization: Bearer abc.def") == "Authorization: [REDACTED]")
    }

    @Test(arguments: [
        "kustomize build failed: accumulating resources from 'ingress': no such file or directory",
        "secret \"flux-system/git-creds\" not found",
        "spec.passwordSecretRef: Required value",
        "Secret/apps/db configured",
        "ssh://git@github.com/org/repo.git",
        "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c",
        "Helm upgrade failed: context deadline exceeded",
    ])
    func leavesOrdinaryFluxMessagesAlone(text: String) {
        #expect(redactor.redact(text) == text)
    }

    @Test func redactsSecretObjectDataInJSON() throws {
        let secret: JSONValue = .object([
            "apiVersion": .string("v1"), "kind": .string("Secret"),
            "metadata": .object(["name": .string("db")]),
            "data": .object(["url": .string("cG9zdGdyZXM6Ly91OnBAaA=="), "user": .string("YWRtaW4=")]),
            "stringData": .object(["plain": .string("not base64 at all")]),
        ])
        let redacted = redactor.redact(.object(["items": .array([secret])]))
        let text = try StableJSON.string(redacted)
        #expect(!text.contains("cG9zdGdyZXM6Ly91OnBAaA=="))
        #expect(!text.contains("YWRtaW4="))
        #expect(!text.contains("not base64 at all"))
        #expect(text.contains(#""url":"[REDACTED]""#))
        #expect(text.contains(#""name":"db""#))
    }

    @Test func redactsSecretNamedKeysAndSecretsInsideAnnotations() throws {
        let annotation =
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"},"data":{"k":"c2VjcmV0dmFsdWU="}}"#
        let value: JSONValue = .object([
            "password": .string("plainpw"),
            "passwordSecretRef": .object(["name": .string("db-creds")]),
            "tokenFile": .string("/var/run/token"),
            "metadata": .object([
                "annotations": .object(["kubectl.kubernetes.io/last-applied-configuration": .string(annotation)])
            ]),
        ])
        let text = try StableJSON.string(redactor.redact(value))
        #expect(!text.contains("plainpw"))
        #expect(!text.contains("c2VjcmV0dmFsdWU="))
        #expect(text.contains("db-creds"))
        #expect(text.contains("/var/run/token"))
    }

    @Test(arguments: [
        ("password", true), ("db_password", true), ("apiKey", true), ("client-secret", true), ("token", true),
        ("AccountKey", true), ("passwordSecretRef", false), ("secretName", false), ("tokenFile", false),
        ("name", false), ("message", false),
    ])
    func classifiesSecretKeys(key: String, secret: Bool) {
        #expect(Redactor.isSecretKey(key) == secret)
    }

    @Test func truncatesWithAnExplicitMarker() {
        let text = String(repeating: "a", count: 1234 + 100)
        let cut = Redactor.truncate(text, limit: 100)
        #expect(cut == String(repeating: "a", count: 100) + "… [truncated 1234 bytes]")
        #expect(Redactor.truncate("short", limit: 100) == "short")
    }

    @Test func truncatesOnCharacterBoundaries() {
        let text = String(repeating: "é", count: 10)  // 2 bytes each
        let cut = Redactor.truncate(text, limit: 5)
        #expect(cut == "éé… [truncated 16 bytes]")
    }

    @Test func scanLimitBoundsWork() {
        let huge = String(repeating: "x", count: 300_000) + " password=tail"
        let redacted = Redactor(scanLimit: 1000).redact(huge)
        #expect(redacted.utf8.count < 1100)
        #expect(!redacted.contains("tail"))
    }
}

@Suite struct RedactionTableTests {
    @Test(arguments: [
        ("Bearer abc123DEF456ghi789", "abc123DEF456ghi789"),
        ("https://u:hunter2pass@git.example.com/r.git", "hunter2pass"),
        ("password=Sup3rS3cret!", "Sup3rS3cret!"),
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIfakeKEY\n-----END EC PRIVATE KEY-----", "MHcCAQEEIfakeKEY"),
        ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        ("xoxp-123456789012-abcdefABCDEF", "xoxp-123456789012-abcdefABCDEF"),
    ])
    func coreShapes(text: String, secret: String) {
        #expect(!Redactor().redact("before \(text) after").contains(secret))
    }

    @Test func notificationTextOfARedactedIncidentHasNoSecrets() {
        let incident = AnalysisFixtures.incident(
            message: "clone of https://u:hunter2pass@git.example.com failed",
            events: [EventRecord(type: "Warning", reason: "BuildFailed", message: "password=Sup3rS3cret!")],
            logLines: [LogLine(level: "error", message: "token=tok_live_123456789", error: "Bearer abc123DEF456ghi789")]
        )
        let rendered = IncidentTextRenderer().render(Redactor().redact(incident))
        for secret in ["hunter2pass", "Sup3rS3cret!", "tok_live_123456789", "abc123DEF456ghi789"] {
            #expect(!rendered.contains(secret))
        }
    }
}
