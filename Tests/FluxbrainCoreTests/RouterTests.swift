import Foundation
import Testing

@testable import FluxbrainCore

/// The pure routing decision: match and exclude on every field, globs, regexes, `stop`, annotations, silences.
@Suite struct RouterTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let oncall = ChannelID("oncall")
    static let teamA = ChannelID("team-a")
    static let issues = ChannelID("issues")
    static let channels = [oncall, teamA, issues]

    static func subject(
        cluster: String = "prod-eu",
        kind: String = "HelmRelease",
        namespace: String = "apps",
        name: String = "podinfo",
        labels: [String: String] = ["team": "platform"],
        state: FailureState = .stalled,
        message: String = "install retries exhausted"
    ) -> RoutingSubject {
        RoutingSubject(
            cluster: cluster,
            kind: kind,
            namespace: namespace,
            name: name,
            labels: labels,
            state: state,
            message: message
        )
    }

    static func decide(
        _ routes: [Route],
        _ subject: RoutingSubject = subject(),
        annotations: [String: String] = [:],
        silences: [Silence] = []
    ) -> RoutingDecision {
        Router(channels: channels, routes: routes).decide(
            subject,
            annotations: annotations,
            silences: silences,
            now: now
        )
    }

    /// One condition per field, with a subject it matches and one it does not.
    struct FieldCase: Sendable, CustomTestStringConvertible {
        var field: String
        var conditions: RouteConditions
        var matching: RoutingSubject
        var other: RoutingSubject
        var testDescription: String { field }
    }

    static let fieldCases: [FieldCase] = [
        FieldCase(
            field: "clusters glob",
            conditions: RouteConditions(selector: IncidentSelector(clusters: [Glob("prod-*")])),
            matching: subject(cluster: "prod-eu"),
            other: subject(cluster: "staging")
        ),
        FieldCase(
            field: "kinds",
            conditions: RouteConditions(selector: IncidentSelector(kinds: [Glob("HelmRelease")])),
            matching: subject(kind: "HelmRelease"),
            other: subject(kind: "Kustomization")
        ),
        FieldCase(
            field: "namespaces ?-glob",
            conditions: RouteConditions(selector: IncidentSelector(namespaces: [Glob("team-?")])),
            matching: subject(namespace: "team-a"),
            other: subject(namespace: "team-ab")
        ),
        FieldCase(
            field: "names any-of",
            conditions: RouteConditions(selector: IncidentSelector(names: [Glob("x"), Glob("*-canary")])),
            matching: subject(name: "podinfo-canary"),
            other: subject(name: "podinfo")
        ),
        FieldCase(
            field: "labels",
            conditions: RouteConditions(selector: IncidentSelector(labels: ["team": Glob("plat*")])),
            matching: subject(labels: ["team": "platform", "x": "y"]),
            other: subject(labels: ["x": "y"])
        ),
        FieldCase(
            field: "states",
            conditions: RouteConditions(selector: IncidentSelector(states: [.stalled, .stuck])),
            matching: subject(state: .stuck),
            other: subject(state: .retrying)
        ),
        FieldCase(
            field: "messages regex",
            conditions: RouteConditions(messages: try! MessagePatterns(["(?i)context DEADLINE exceeded"])),
            matching: subject(message: "Helm upgrade failed: context deadline exceeded"),
            other: subject(message: "Helm upgrade failed: timed out")
        ),
    ]

    @Test(arguments: fieldCases)
    func matchOnEachField(_ field: FieldCase) {
        let routes = [Route(to: [Self.oncall], match: field.conditions)]
        #expect(Self.decide(routes, field.matching).channels == [Self.oncall])
        let other = Self.decide(routes, field.other)
        #expect(other.channels.isEmpty)
        #expect(other.skipped[Self.oncall] == .noRouteMatched)
        #expect(other.isUnrouted)
    }

    @Test(arguments: fieldCases)
    func excludeOnEachField(_ field: FieldCase) {
        let routes = [Route(to: [Self.oncall], exclude: field.conditions)]
        let excluded = Self.decide(routes, field.matching)
        #expect(excluded.channels.isEmpty)
        #expect(excluded.skipped[Self.oncall] == .excluded(route: 0))
        #expect(!excluded.isUnrouted)
        #expect(excluded.skipped[Self.teamA] == .noRouteMatched)
        #expect(Self.decide(routes, field.other).channels == [Self.oncall])
    }

    @Test func matchNeedsEveryFieldAndExcludeAnyOne() {
        let match = RouteConditions(
            selector: IncidentSelector(kinds: [Glob("HelmRelease")], namespaces: [Glob("apps")])
        )
        let exclude = RouteConditions(
            selector: IncidentSelector(names: [Glob("*-canary")]),
            messages: try! MessagePatterns(["deadline"])
        )
        let routes = [Route(to: [Self.oncall], match: match, exclude: exclude)]
        #expect(Self.decide(routes, Self.subject(namespace: "other")).channels.isEmpty)
        #expect(Self.decide(routes).channels == [Self.oncall])
        #expect(Self.decide(routes, Self.subject(name: "a-canary")).channels.isEmpty)
        #expect(Self.decide(routes, Self.subject(message: "context deadline exceeded")).channels.isEmpty)
    }

    @Test func everyMatchingRouteDeliversUntilStop() {
        let apps = RouteConditions(selector: IncidentSelector(namespaces: [Glob("apps")]))
        let routes = [
            Route(to: [Self.teamA], match: apps),
            Route(to: [Self.oncall], match: apps, stop: true),
            Route(to: [Self.issues]),
        ]
        let decision = Self.decide(routes)
        #expect(decision.matchedRoutes == [0, 1])
        #expect(decision.channels == [Self.oncall, Self.teamA])
        #expect(decision.skipped == [Self.issues: .noRouteMatched])
        // Without stop the catch-all delivers too.
        var noStop = routes
        noStop[1].stop = false
        #expect(Self.decide(noStop).channels == Self.channels)
        // An excluded route with stop does not stop.
        var excluded = routes
        excluded[1].exclude = RouteConditions(selector: IncidentSelector(names: [Glob("podinfo")]))
        let decisionExcluded = Self.decide(excluded)
        #expect(decisionExcluded.channels == [Self.teamA, Self.issues])
        #expect(decisionExcluded.skipped == [Self.oncall: .excluded(route: 1)])
    }

    @Test func notifyFalseOptsOutOfEveryChannel() {
        let decision = Self.decide([Route(to: Self.channels)], annotations: [RoutingAnnotations.notify: "false"])
        #expect(decision.channels.isEmpty)
        #expect(Set(decision.skipped.values) == [.optedOut])
        #expect(!decision.isUnrouted)
        #expect(
            Self.decide([Route(to: Self.channels)], annotations: [RoutingAnnotations.notify: "true"]).channels.count
                == 3
        )
    }

    @Test func channelsAnnotationReplacesTheRoutesChoice() {
        let routes = [Route(to: [Self.oncall])]
        let decision = Self.decide(routes, annotations: [RoutingAnnotations.channels: " team-a , issues,nope"])
        #expect(decision.channels == [Self.teamA, Self.issues])
        #expect(decision.skipped == [Self.oncall: .notInChannelsAnnotation])
        #expect(decision.directedByAnnotation)
        #expect(decision.warnings == ["fluxbrain.io/channels names unknown channel(s) nope"])
        // Only unknown names: the routes decide, with the warning.
        let unknown = Self.decide(routes, annotations: [RoutingAnnotations.channels: "nope"])
        #expect(unknown.channels == [Self.oncall])
        #expect(unknown.warnings.count == 1)
        // It also directs an incident no route matches.
        let unmatched = Self.decide([], annotations: [RoutingAnnotations.channels: "issues"])
        #expect(unmatched.channels == [Self.issues])
        #expect(!unmatched.isUnrouted)
    }

    @Test func anActiveMatchingSilenceDropsEveryChannel() {
        let silence = Silence(
            id: "s-1",
            matchers: IncidentSelector(kinds: [Glob("HelmRelease")], names: [Glob("podinfo*")]),
            startsAt: Self.now.addingTimeInterval(-60),
            endsAt: Self.now.addingTimeInterval(3600),
            createdBy: "me",
            comment: "upgrading"
        )
        let routes = [Route(to: Self.channels)]
        let silenced = Self.decide(routes, silences: [silence])
        #expect(silenced.channels.isEmpty)
        #expect(Set(silenced.skipped.values) == [.silenced(id: "s-1")])
        #expect(!silenced.isUnrouted)
        #expect(Self.decide(routes, Self.subject(name: "other"), silences: [silence]).channels.count == 3)
        var ended = silence
        ended.endsAt = Self.now
        #expect(Self.decide(routes, silences: [ended]).channels.count == 3)
    }

    @Test func incidentsCarryLabelsAndFluxbrainAnnotationsInheritedFromTheirOwner() throws {
        let kustomization = """
            {"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization",
             "metadata":{"name":"apps","namespace":"flux-system",
               "annotations":{"fluxbrain.io/channels":"team-a","other":"x"}},
             "status":{"conditions":[{"type":"Ready","status":"True","reason":"ReconciliationSucceeded"}]}}
            """
        let release = """
            {"apiVersion":"helm.toolkit.fluxcd.io/v2","kind":"HelmRelease",
             "metadata":{"name":"podinfo","namespace":"apps",
               "labels":{"team":"a","kustomize.toolkit.fluxcd.io/name":"apps",
                         "kustomize.toolkit.fluxcd.io/namespace":"flux-system"},
               "annotations":{"fluxbrain.io/notify":"false","unrelated":"y"}},
             "status":{"conditions":[{"type":"Ready","status":"False","reason":"InstallFailed","message":"boom"},
               {"type":"Stalled","status":"True","reason":"RetriesExceeded"}]}}
            """
        let objects = try [kustomization, release].map { try FluxObject(json: FastJSON.parse(Data($0.utf8))) }
        let assessment = Detector(stuckAfter: .seconds(900)).assess(objects, cluster: "prod", now: Self.now)
        let incident = try #require(assessment.incidents.first)
        #expect(incident.labels?["team"] == "a")
        #expect(incident.annotations == ["fluxbrain.io/notify": "false", "fluxbrain.io/channels": "team-a"])
    }
}
