import FluxbrainCore
import FluxbrainTestSupport
import Testing

/// `ErrorCause`, whose marker searches go over UTF-8 bytes, gives exactly what it gave with `Character` searches
/// (`LegacyErrorCause`, kept in FluxbrainTestSupport as the reference): over the chains the other tests pin, the
/// generated Flux messages of the redaction tests and a few thousand generated error chains, a third of them with
/// characters where bytes and characters differ (combining accents after a marker, `\r\n`, the Kelvin sign, a
/// prepended Arabic sign, non-ASCII digits), seeded so every run is the same.
@Suite struct ErrorCauseDifferentialTests {
    static let pinned = [
        MessageFixtures.grafanaUpgradeError, MessageFixtures.grafanaRollback, MessageFixtures.kustomizeNested,
        MessageFixtures.healthTimeout,
        "health check failed after 5m0.01s: timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']",
        "Helm upgrade failed for release ingress-nginx/ingress-nginx with chart ingress-nginx@4.13.3: failed early due "
            + "to stalled resources: [Deployment/ingress-nginx/ingress-nginx-controller status: 'Failed']",
        "failed to checkout and determine revision: unable to clone 'https://github.com/org/repo': authentication "
            + "required",
        "kustomization path not found: stat /tmp/kustomization-3366/apps/prod: no such file or directory",
        "dependency 'flux-system/infra' is not ready", "Source artifact not found, retrying in 30s",
        "at /tmp/kustomization-12 done", "/tmp/cache/x: gone", "", ": ", "/tmp/", "/tmp/a-1", "x after : y",
        " after  after 5s: z", "failed to create resource: Internal error occurred: failed calling webhook: EOF",
        "timeout waiting for: [", "timeout waiting for: [a status: ', b]", "Helm  failed for release :",
    ]

    @Test func pinnedChainsGiveTheSameCauseAsBefore() {
        for message in Self.pinned {
            expectSame(message)
        }
    }

    @Test(arguments: 0..<3)
    func generatedFluxMessagesGiveTheSameCauseAsBefore(seed: UInt64) {
        var generator = FluxMessageGenerator(seed: seed)
        for _ in 0..<1500 {
            expectSame(generator.anyMessage())
        }
    }

    @Test(arguments: 0..<4)
    func generatedChainsGiveTheSameCauseAsBefore(seed: UInt64) {
        var random = FluxMessageGenerator(seed: 100 + seed)
        for _ in 0..<2000 {
            expectSame(Self.chain(&random))
        }
    }

    /// The byte search applies only where it is exact: these differ from a byte search and must not change.
    @Test(arguments: [
        "kustomize build failed: accumulating resources: open x.yaml:\u{301} no such file",
        "a: b: c:\u{301} d", "failed to x: y\r\n: z", "health check failed after 5\u{0663}s: x",
        "timeout waiting for: [A status: 'X',\u{301} B status: 'Y']", "\u{0600}Helm upgrade failed for release a: b",
        "at /tmp/\u{301}kustomization-12/x done", "at /tmp/kustomization-12\u{301}/x done",
    ])
    func textWhereBytesAndCharactersDifferGivesTheSameCauseAsBefore(message: String) {
        expectSame(message)
    }

    private func expectSame(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            ErrorCause.innermost(of: message) == LegacyErrorCause.innermost(of: message),
            "\(message.debugDescription)",
            sourceLocation: sourceLocation
        )
        #expect(
            ErrorCause.relativizingTemporaryPaths(message) == LegacyErrorCause.relativizingTemporaryPaths(message),
            "\(message.debugDescription)",
            sourceLocation: sourceLocation
        )
        #expect(
            ErrorCause.droppingTimingPrefix(message[...]) == LegacyErrorCause.droppingTimingPrefix(message[...]),
            "\(message.debugDescription)",
            sourceLocation: sourceLocation
        )
    }

    // MARK: Generated chains

    private static let pieces: [@Sendable (inout FluxMessageGenerator) -> String] = [
        { g in
            "Helm \(pick(["upgrade", "install", "test"], &g)) failed for release apps/\(word(&g)) with chart x@1.\(g.next(9)).0"
        },
        { g in "health check failed after \(g.next(10))m0.0\(g.next(9))s" },
        { _ in "reconciliation failed after a while" },
        { _ in "(combined from similar events)" },
        { _ in "failed to create resource" },
        { _ in "Internal error occurred" },
        { _ in "kustomize build failed" },
        { _ in "accumulating resources" },
        { g in "accumulating resources from '\(word(&g))'" },
        { g in "recursed accumulation of path '/tmp/kustomization-\(g.next(99999))/\(word(&g))'" },
        { _ in "must build at directory" },
        { g in "accumulation err='accumulating resources from '\(word(&g)).yaml'" },
        { g in "evalsymlink failure on '/tmp/kustomization-\(g.next(999))/\(word(&g)).yaml' : lstat /tmp/x" },
        { g in
            "\(pick(["open", "lstat", "stat", "read", "readlink"], &g)) /tmp/kustomization-\(g.next(999))/\(word(&g))"
        },
        { _ in "no such file or directory'" },
        { g in "Deployment.apps \"\(word(&g))\" is invalid" },
        { g in "spec.template.spec.containers[\(g.next(3))].image" },
        { g in
            "timeout waiting for: [Deployment/apps/\(word(&g)) status: 'InProgress', StatefulSet/db/\(word(&g)) status: 'Failed']"
        },
        { g in "failed early due to stalled resources: [Deployment/a/\(word(&g)) status: 'Failed']" },
        { g in "unable to clone 'https://github.com/org/\(word(&g))'" },
        { _ in "authentication required" },
        { g in "\(pick(["failed ", "unable ", "cannot ", "could not ", "error ", "failed to "], &g))\(word(&g))" },
        { g in "\"quoted: \(word(&g))\"" },
        { g in "[bracket: \(word(&g))]" },
        { g in "at /tmp/\(word(&g))-\(g.next(999)) done" },
        { _ in " after " },
        { _ in "'" },
        { _ in "]" },
    ]

    private static let separators = [": ", ": ", ": ", " ", ", ", "': ", "", " : "]

    /// Characters where a byte search and a `Character` search differ, and a few that are only non-ASCII.
    private static let odd: [String] = [
        "\u{301}", "\r\n", "\r", "\n", "\u{212A}", "\u{0600}", "\u{200D}", "e\u{301}", "🔥", "\u{00A0}", "\u{0663}",
        "\u{FF1A}", "\u{037E}", "\u{1FEF}", "\t",
    ]

    static func chain(_ g: inout FluxMessageGenerator) -> String {
        var text = ""
        for index in 0..<(1 + g.next(6)) {
            if index > 0 { text += separators[g.next(separators.count)] }
            text += pieces[g.next(pieces.count)](&g)
        }
        guard g.next(3) == 0 else { return text }
        // Insert odd characters, often right after a byte a marker ends with.
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<(1 + g.next(3)) {
            var position = g.next(scalars.count + 1)
            let ends = scalars.indices.filter { [":", " ", "/", "'", "[", "]", "-"].contains(scalars[$0]) }
            if g.next(2) == 0, !ends.isEmpty { position = ends[g.next(ends.count)] + 1 }
            scalars.insert(contentsOf: odd[g.next(odd.count)].unicodeScalars, at: position)
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    private static func pick(_ items: [String], _ g: inout FluxMessageGenerator) -> String {
        items[g.next(items.count)]
    }

    private static func word(_ g: inout FluxMessageGenerator) -> String {
        pick(["podinfo", "apps", "base", "redis", "grafana", "ingress-nginx", "hpa", "x"], &g)
    }
}
