import FluxbrainCore
import Foundation
import Testing

/// What a watch cache keeps of each object (docs/kubernetes.md, "What the cache keeps"): the whole status only where
/// an incident may need it, only Fluxbrain's own annotations, repeated strings once.
@Suite struct WatchCacheFootprintTests {
    /// `json` with labels and a mix of annotations in its metadata.
    static func annotated(_ json: String) -> String {
        json.replacingOccurrences(
            of: #""finalizers":"#,
            with: #""labels":{"app.kubernetes.io/part-of":"shop","team":"a"},"#
                + #""annotations":{"fluxbrain.io/notify":"slack-ops","fluxbrain.io/channels":"ops","#
                + #""kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\"}","#
                + #""reconcile.fluxcd.io/requestedAt":"2026-11-28T19:40:00Z"},"finalizers":"#
        )
    }

    static func mapped(_ json: String) throws -> FluxObject {
        try FluxObject(json: FastJSON.parse(Array(json.utf8)))
    }

    static let healthy = Fixture.json(kind: .kustomization, name: "ok", conditions: [ScannerEquivalenceTests.ready])
    static let failing = Fixture.json(
        kind: .kustomization,
        name: "bad",
        conditions: [Fixture.condition("Ready", "False", "BuildFailed", "kustomize build failed")]
    )

    /// The watch path and snapshots map objects with `FluxObject(json:)`; like the list path, it keeps the raw
    /// status of an object that may fail (the incident's evidence) and nothing for a healthy one.
    @Test func mappedObjectsKeepTheRawStatusOnlyWhenTheyMayFail() throws {
        let healthy = try Self.mapped(Self.healthy)
        let failing = try Self.mapped(Self.failing)
        #expect(healthy.rawStatus == nil)
        #expect(healthy.status?.conditions?.first?.status == "True")
        #expect(failing.rawStatus?["unknownFutureField"] != nil)
        let listed = try ObjectList(json: Data(("{\"items\":[" + Self.healthy + "," + Self.failing + "]}").utf8))
        #expect(listed.items.map(\.rawStatus) == [healthy.rawStatus, failing.rawStatus])
    }

    @Test func onlyFluxbrainAnnotationsAndEveryLabelAreKeptOnBothPaths() throws {
        let text = Self.annotated(Self.healthy)
        let mapped = try Self.mapped(text)
        let scanned = try #require(try ObjectList(json: Data("{\"items\":[\(text)]}".utf8)).items.first)
        for object in [mapped, scanned] {
            #expect(
                object.metadata.annotations == ["fluxbrain.io/notify": "slack-ops", "fluxbrain.io/channels": "ops"]
            )
            #expect(object.metadata.labels == ["app.kubernetes.io/part-of": "shop", "team": "a"])
        }
        #expect(mapped == scanned)
        let withoutOwn = text.replacingOccurrences(of: "fluxbrain.io/", with: "example.com/")
        #expect(try Self.mapped(withoutOwn).metadata.annotations == nil)
    }

    @Test func sharingStringsChangesNoValue() throws {
        var pool = StringPool()
        let first = try Self.mapped(Self.annotated(Self.failing))
        let second = try Self.mapped(Self.annotated(Self.healthy))
        #expect(first.sharingStrings(with: &pool) == first)
        let afterFirst = pool.count
        #expect(second.sharingStrings(with: &pool) == second)
        // The second object repeats the first's label keys, annotation keys and sourceRef kind.
        #expect(pool.count == afterFirst + 2)  // its Ready condition's "True" and "Succeeded"
        var full = StringPool(capacity: 1)
        _ = first.sharingStrings(with: &full)
        #expect(full.count == 1)
    }

    /// A healthy object in the cache keeps what detection reads (types, statuses, reasons, generations) and loses
    /// what only a failing object's incident reads; a failing one is kept whole. Detection judges both the same.
    @Test func theCacheDropsWhatOnlyAFailingObjectsIncidentReads() throws {
        let progressing = Fixture.json(
            kind: .kustomization,
            name: "slow",
            conditions: [
                Fixture.condition("Ready", "True", "Succeeded", "Applied revision: main@sha1:1"),
                Fixture.condition("Reconciling", "True", "Progressing", "applying", at: Fixture.longAgo),
            ]
        )
        let objects = try [Self.healthy, Self.failing, progressing].map { try Self.mapped(Self.annotated($0)) }
        var pool = StringPool()
        let cached = objects.map { $0.cached(with: &pool) }

        let healthy = try #require(cached[0].status?.conditions?.first)
        #expect(healthy.message == nil && healthy.lastTransitionTime == nil)
        #expect([healthy.type, healthy.status, healthy.reason] == ["Ready", "True", "Succeeded"])
        #expect(healthy.observedGeneration == objects[0].status?.conditions?.first?.observedGeneration)
        #expect(objects[0].status?.conditions?.first?.lastTransitionTime != nil)
        #expect(cached[1] == objects[1])
        #expect(cached[2] == objects[2])

        let detector = Detector()
        for (object, kept) in zip(objects, cached) {
            #expect(detector.health(of: kept, now: Fixture.now) == detector.health(of: object, now: Fixture.now))
        }
        let before = detector.assess(objects, cluster: "prod", now: Fixture.now)
        let after = detector.assess(cached, cluster: "prod", now: Fixture.now)
        #expect(after.incidents == before.incidents)
        #expect(after.incidents.count == 2)  // the failing one, and the one stuck reconciling
        #expect(after.healthy == before.healthy && after.undecided == before.undecided)
    }

    @Test func equalLabelMapsAreStoredOnce() throws {
        var pool = StringPool()
        let first = try Self.mapped(Self.annotated(Self.healthy))
        let second = try Self.mapped(Self.annotated(Self.failing))
        _ = first.cached(with: &pool)
        _ = second.cached(with: &pool)
        #expect(pool.mapCount == 1)
        var other = second
        other.metadata.labels?["team"] = "b"
        #expect(other.cached(with: &pool).metadata.labels?["team"] == "b")
        #expect(pool.mapCount == 2)
    }

    /// `chartRef`, `chart` and `imageRepositoryRef` (HelmReleases, HelmCharts, ImagePolicies) are boxed: a spec
    /// without them is ~200 bytes smaller inline than one holding each field in place (352 bytes), and the fields
    /// read, change and compare as before.
    @Test func specFieldsOfFewKindsLiveOutOfLine() throws {
        #expect(MemoryLayout<FluxObject.Spec>.size <= 160)
        var spec = FluxObject.Spec()
        #expect(spec.chartRef == nil && spec.chart == nil && spec.imageRepositoryRef == nil)
        let source = FluxObject.SourceReference(kind: "HelmRepository", name: "podinfo")
        spec.chartRef = source
        var copy = spec
        copy.chart = .init(spec: nil, name: "podinfo")
        #expect(spec.chartRef == source && spec.chart == nil)
        #expect(copy.chartRef == source && copy.chart?.name == "podinfo")
        #expect(copy != spec)
        copy.chart = nil
        #expect(copy == spec)
        copy.chartRef = nil
        #expect(copy == FluxObject.Spec())
        let text = Fixture.json(kind: .helmRelease, conditions: [ScannerEquivalenceTests.ready])
        let helmRelease = try Self.mapped(text)
        let scanned = try #require(try ObjectList(json: Data("{\"items\":[\(text)]}".utf8)).items.first)
        #expect(helmRelease.spec?.chart?.spec?.sourceRef?.kind == "HelmRepository")
        #expect(scanned == helmRelease)
    }
}
