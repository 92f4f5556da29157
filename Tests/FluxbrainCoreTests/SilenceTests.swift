import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

/// `InMemorySilenceStore` against the shared conformance suite, and the `--match` syntax of `fluxbrain silence add`.
@Suite struct SilenceTests {
    @Test(arguments: SilenceStoreConformance.checks)
    func inMemoryStorePassesTheConformanceCheck(_ check: String) async throws {
        // Any base works in memory: a fixed one far from today.
        try await SilenceStoreConformance.run(
            check,
            store: InMemorySilenceStore(),
            base: Date(timeIntervalSince1970: 1_800_000_000)
        )
    }

    @Test func matchParsesEveryKey() throws {
        let selector = try IncidentSelector(matching: [
            "cluster=prod-*, kind=HelmRelease,namespace=apps", "name=podinfo*|web-?,state=stalled|stuck,label.team=a*",
        ])
        #expect(
            selector
                == IncidentSelector(
                    clusters: [Glob("prod-*")],
                    kinds: [Glob("HelmRelease")],
                    namespaces: [Glob("apps")],
                    names: [Glob("podinfo*"), Glob("web-?")],
                    labels: ["team": Glob("a*")],
                    states: [.stalled, .stuck]
                )
        )
        #expect(
            selector.matchingText == "cluster=prod-*,kind=HelmRelease,namespace=apps,name=podinfo*|web-?,"
                + "state=stalled|stuck,label.team=a*"
        )
        #expect(try IncidentSelector(matching: [selector.matchingText]) == selector)
    }

    @Test func matchSilencesWhatItNames() throws {
        let selector = try IncidentSelector(matching: ["kind=HelmRelease,namespace=apps,name=podinfo*"])
        let subject = RoutingSubject(
            cluster: "prod",
            kind: "HelmRelease",
            namespace: "apps",
            name: "podinfo-canary",
            state: .stalled
        )
        #expect(selector.matches(subject))
        var other = subject
        other.namespace = "apps-2"
        #expect(!selector.matches(other))
    }

    @Test(arguments: [
        ("", "no matchers given"),
        ("  ", "no matchers given"),
        ("kind", "'kind' is not key=value"),
        ("kind=", "'kind=' has an empty value"),
        ("name=a||b", "has an empty value"),
        ("kind=A,,name=b", "empty matcher"),
        ("colour=red", "unknown key 'colour'"),
        ("label.=x", "unknown key 'label.'"),
        ("state=broken", "unknown state 'broken'"),
        ("name=a,name=b", "'name' is given twice"),
        ("label.team=a|b", "a label matches one glob"),
    ])
    func badMatchersAreNamed(_ text: String, _ expected: String) throws {
        let error = try #require(throws: CoreError.self) { try IncidentSelector(matching: [text]) }
        #expect(error.code == .invalidInput)
        #expect(error.message.hasPrefix("invalid --match: "))
        #expect(error.message.contains(expected), "\(error.message)")
    }
}
