import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

/// The byte-level fast path gives exactly what the regular-expression `Redactor` gave before it (`LegacyRedactor`,
/// kept in FluxbrainTestSupport as the reference): over the secret samples, the ordinary Flux messages the other
/// tests pin, and a few thousand generated Flux-like messages, statuses and keys (seeded, so every run is the same).
@Suite struct RedactionDifferentialTests {
    let redactor = Redactor()
    let legacy = LegacyRedactor()

    static let pinned = [
        "kustomize build failed: accumulating resources from 'ingress': no such file or directory",
        "secret \"flux-system/git-creds\" not found", "spec.passwordSecretRef: Required value",
        "Secret/apps/db configured", "ssh://git@github.com/org/repo.git",
        "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c", "Helm upgrade failed: context deadline exceeded",
        "invalid token: expired", "failed to clone 'https://deploy:hunter2@git.example.com/org/repo.git'",
        "connect password=abc host=db", #"{"password": "x y"}"#, "Authorization: Bearer abc.def", "",
        // A secret's removal brings the text on both sides together: the URL rule then sees `a[REDACTED]:pw@`.
        "https://ahttps://hooks.slack.com/services/X:pw@h", "paſſword=hidden", "\u{212A}ind", "tokeN=ß",
    ]

    @Test func samplesGiveTheSameOutputAsBefore() {
        for text in SecretSample.all.map(\.text) + Self.pinned {
            #expect(redactor.redact(text) == legacy.redact(text), "\(text)")
        }
    }

    @Test(arguments: 0..<4)
    func generatedMessagesGiveTheSameOutputAsBefore(seed: UInt64) {
        var generator = FluxMessageGenerator(seed: seed)
        var differences = 0
        for _ in 0..<1500 {
            let text = generator.anyMessage()
            let expected = legacy.redact(text)
            let actual = redactor.redact(text)
            if actual != expected {
                differences += 1
                if differences <= 5 { Issue.record("input: \(text)\nbefore: \(expected)\nnow:    \(actual)") }
            }
        }
        #expect(differences == 0)
    }

    @Test func generatedStatusesGiveTheSameOutputAsBefore() throws {
        var generator = FluxMessageGenerator(seed: 42)
        for _ in 0..<500 {
            let status = generator.status()
            let input = try StableJSON.string(status)
            #expect(redactor.redact(status) == legacy.redact(status), "\(input)")
        }
    }

    @Test func generatedKeysAreClassifiedAsBefore() {
        var generator = FluxMessageGenerator(seed: 7)
        for _ in 0..<3000 {
            let key = generator.key()
            #expect(Redactor.isSecretKey(key) == LegacyRedactor.isSecretKey(key), "\(key)")
        }
    }

    @Test func truncatedInputsGiveTheSameOutputAsBefore() {
        var generator = FluxMessageGenerator(seed: 9)
        for _ in 0..<200 {
            let text = (0..<8).map { _ in generator.message(secret: generator.next(2) == 0) }.joined(separator: " ")
            let limit = 20 + generator.next(text.utf8.count)
            #expect(
                Redactor(scanLimit: limit).redact(text) == LegacyRedactor(scanLimit: limit).redact(text),
                "\(limit): \(text)"
            )
        }
    }

    @Test func mostGeneratedMessagesWithoutSecretsComeBackUnchanged() {
        // Not a speed assertion: the generator must produce mostly secret-free text, or the benchmark measures the
        // wrong thing.
        var generator = FluxMessageGenerator(seed: 1)
        let texts = (0..<500).map { _ in generator.message(secret: false) }
        let unchanged = texts.filter { redactor.redact($0) == $0 }.count
        #expect(unchanged > 400)
    }
}
