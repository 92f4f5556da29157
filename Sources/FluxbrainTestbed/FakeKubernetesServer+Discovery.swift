import FluxbrainCore
import Hummingbird

/// Legacy (unaggregated) API discovery, as an API server with the Flux CRDs installed serves it: enough for real
/// `kubectl get kustomizations -A` / `kubectl get helmreleases -A` to find the resources. Kinds marked missing in the
/// state are left out, as an uninstalled CRD is.
extension FakeKubernetesServer {
    /// The Kubernetes version the fake claims (`/version`).
    static let versionInfo: JSONValue = .object([
        "major": .string("1"), "minor": .string("30"), "gitVersion": .string("v1.30.0-fluxbrain-testbed"),
        "gitCommit": .string("0000000000000000000000000000000000000000"), "gitTreeState": .string("clean"),
        "buildDate": .string("2026-01-01T00:00:00Z"), "goVersion": .string("go1.22.0"), "compiler": .string("gc"),
        "platform": .string("linux/amd64"),
    ])

    /// `/api`: the core group's versions.
    static let coreVersions: JSONValue = .object([
        "kind": .string("APIVersions"), "versions": .array([.string("v1")]),
        "serverAddressByClientCIDRs": .array([
            .object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string("127.0.0.1:6443")])
        ]),
    ])

    /// `/api/v1`: the core resources the fake serves (events, pods, pods/log).
    static let coreResources: JSONValue = resourceList(
        groupVersion: "v1",
        resources: [
            resource(
                name: "events",
                singular: "event",
                kind: "Event",
                verbs: ["get", "list", "watch"],
                shortNames: ["ev"]
            ),
            resource(name: "pods", singular: "pod", kind: "Pod", verbs: ["get", "list"], shortNames: ["po"]),
            resource(name: "pods/log", singular: "", kind: "Pod", verbs: ["get"], shortNames: []),
        ]
    )

    /// `/apis`: every Flux API group with its served version.
    func groupList() async -> JSONValue {
        let missing = await state.missingKinds
        var groups: [String: String] = [:]
        var order: [String] = []
        for kind in FluxKind.all where !missing.contains(kind.plural) && groups[kind.group] == nil {
            groups[kind.group] = kind.version
            order.append(kind.group)
        }
        return .object([
            "kind": .string("APIGroupList"), "apiVersion": .string("v1"),
            "groups": .array(
                order.map { group in
                    let version = JSONValue.object([
                        "groupVersion": .string("\(group)/\(groups[group]!)"), "version": .string(groups[group]!),
                    ])
                    return .object([
                        "name": .string(group), "versions": .array([version]), "preferredVersion": version,
                    ])
                }
            ),
        ])
    }

    /// `/apis/GROUP/VERSION`: the Flux kinds of that group, or `nil` (404) for a group version the fake lacks.
    func resources(group: String, version: String) async -> JSONValue? {
        let missing = await state.missingKinds
        let kinds = FluxKind.all.filter { $0.group == group && $0.version == version && !missing.contains($0.plural) }
        guard !kinds.isEmpty else { return nil }
        return Self.resourceList(
            groupVersion: "\(group)/\(version)",
            resources: kinds.map { kind in
                Self.resource(
                    name: kind.plural,
                    singular: kind.name.lowercased(),
                    kind: kind.name,
                    verbs: ["get", "list", "watch"],
                    shortNames: Self.shortNames[kind.name] ?? []
                )
            }
        )
    }

    /// The short names the Flux CRDs declare.
    private static let shortNames: [String: [String]] = [
        "Kustomization": ["ks"], "HelmRelease": ["hr"], "GitRepository": ["gitrepo"], "OCIRepository": ["ocirepo"],
        "HelmRepository": ["helmrepo"], "HelmChart": ["hc"],
    ]

    private static func resourceList(groupVersion: String, resources: [JSONValue]) -> JSONValue {
        .object([
            "kind": .string("APIResourceList"), "apiVersion": .string("v1"), "groupVersion": .string(groupVersion),
            "resources": .array(resources),
        ])
    }

    private static func resource(
        name: String,
        singular: String,
        kind: String,
        verbs: [String],
        shortNames: [String]
    ) -> JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "singularName": .string(singular), "namespaced": .bool(true),
            "kind": .string(kind), "verbs": .array(verbs.map(JSONValue.string)),
        ]
        if !shortNames.isEmpty { members["shortNames"] = .array(shortNames.map(JSONValue.string)) }
        return .object(members)
    }
}
