import Foundation

/// The Git hosting products whose web URLs Fluxbrain knows (`shared/reference/alerting.md` §4.1).
package enum GitHostKind: String, Sendable, Codable, Hashable, CaseIterable {
    case github
    case gitlab
    case bitbucket
    /// Gitea and Forgejo (a fork with the same routes).
    case gitea
}

/// Which Git host serves which product: github.com, gitlab.com, bitbucket.org, gitea.com and codeberg.org
/// (Forgejo) built in, self-hosted ones added by `FLUXBRAIN_GIT_HOSTS`.
package struct GitHosts: Sendable, Hashable {
    /// Host name (lowercase, no port) → product.
    package var kinds: [String: GitHostKind]

    /// The hosts every installation knows.
    package static let builtIn = GitHosts(kinds: [
        "github.com": .github, "gitlab.com": .gitlab, "bitbucket.org": .bitbucket, "gitea.com": .gitea,
        "codeberg.org": .gitea,
    ])

    package init(kinds: [String: GitHostKind]) {
        self.kinds = kinds
    }

    /// The built-in hosts plus `text`, the value of `FLUXBRAIN_GIT_HOSTS`: comma-separated `host=product` pairs,
    /// product one of `github`, `gitlab`, `bitbucket`, `gitea`, `forgejo`
    /// (`git.acme.corp=gitlab,code.acme.corp=forgejo`). Throws a message naming the bad entry.
    package init(parsing text: String) throws(CoreError) {
        var kinds = Self.builtIn.kinds
        for entry in text.split(separator: ",") {
            let pair = entry.trimmingSpaces()
            if pair.isEmpty { continue }
            guard let equals = pair.firstIndex(of: "=") else {
                throw CoreError(.invalidInput, "'\(pair)' is not host=product")
            }
            let host = pair[..<equals].trimmingSpaces().lowercased()
            let product = pair[pair.index(after: equals)...].trimmingSpaces().lowercased()
            guard !host.isEmpty, !host.contains("/"), !host.contains(":"), !host.contains(" ") else {
                throw CoreError(.invalidInput, "'\(host)' in '\(pair)' is not a host name")
            }
            guard let kind = product == "forgejo" ? .gitea : GitHostKind(rawValue: product) else {
                throw CoreError(
                    .invalidInput,
                    "'\(product)' in '\(pair)' is not one of github, gitlab, bitbucket, gitea, forgejo"
                )
            }
            kinds[host] = kind
        }
        self.kinds = kinds
    }

    /// The hosts added to the built-in ones, as `FLUXBRAIN_GIT_HOSTS` writes them (sorted).
    package var configured: String {
        kinds.filter { Self.builtIn.kinds[$0.key] != $0.value }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
    }

    /// The product serving `host`, if known.
    package func kind(of host: String) -> GitHostKind? { kinds[host.lowercased()] }
}

/// A Git repository's web location, derived from a clone URL.
package struct GitRepositoryWeb: Sendable, Hashable, Codable {
    package var kind: GitHostKind
    /// `https://host/org/repo`, without `.git`, user or port.
    package var url: String

    /// Parses `https://host/org/repo(.git)`, `http://…`, `ssh://git@host(:port)/org/repo(.git)` and the scp-like
    /// `git@host:org/repo(.git)`; `nil` for an unknown host or another form.
    package init?(cloneURL: String, hosts: GitHosts) {
        var rest = Substring(cloneURL.trimmingSpaces())
        var scpLike = false
        if let scheme = rest.firstRange(of: "://") {
            let name = rest[..<scheme.lowerBound].lowercased()
            guard ["https", "http", "ssh", "git+ssh"].contains(name) else { return nil }
            rest = rest[scheme.upperBound...]
        } else {
            scpLike = true
        }
        guard let slashOrColon = rest.firstIndex(where: { $0 == "/" || (scpLike && $0 == ":") }) else { return nil }
        var authority = rest[..<slashOrColon]
        var path = rest[rest.index(after: slashOrColon)...]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if !scpLike, let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        guard !authority.isEmpty, let kind = hosts.kind(of: String(authority)) else { return nil }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        guard path.contains("/"), !path.contains(" "), !path.contains("?"), !path.contains("#") else { return nil }
        self.kind = kind
        self.url = "https://\(authority.lowercased())/\(path)"
    }

    /// The page of one commit.
    package func commitURL(_ sha: String) -> String {
        switch kind {
        case .github, .gitea: return "\(url)/commit/\(sha)"
        case .gitlab: return "\(url)/-/commit/\(sha)"
        case .bitbucket: return "\(url)/commits/\(sha)"
        }
    }

    /// The diff from `old` to `new` (merge-base form; Bitbucket puts the newer commit first).
    package func compareURL(from old: String, to new: String) -> String {
        switch kind {
        case .github, .gitea: return "\(url)/compare/\(old)...\(new)"
        case .gitlab: return "\(url)/-/compare/\(old)...\(new)"
        case .bitbucket: return "\(url)/branches/compare/\(new)%0D\(old)#diff"
        }
    }

    /// A directory of the repository at commit `sha`.
    package func treeURL(_ sha: String, path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        while path.hasPrefix("/") { path = path.dropFirst() }
        let suffix = path.isEmpty || path == "." ? "" : "/\(path)"
        switch kind {
        case .github: return "\(url)/tree/\(sha)\(suffix)"
        case .gitlab: return "\(url)/-/tree/\(sha)\(suffix)"
        case .bitbucket: return "\(url)/src/\(sha)\(suffix)"
        case .gitea: return "\(url)/src/commit/\(sha)\(suffix)"
        }
    }
}

/// Flux revision strings (`main@sha1:<hex>`, `v1.2.0@sha1:…`, `sha1:<hex>`, `latest@sha256:<hex>`, `6.9.3`).
package enum Revision {
    /// The hash after the last `:` when the revision carries one (`main@sha1:4f6c…` → `4f6c…`).
    package static func hash(_ revision: String) -> String? {
        guard let colon = revision.lastIndex(of: ":") else {
            // The legacy `main/<hex>` form.
            if let slash = revision.lastIndex(of: "/") {
                let tail = revision[revision.index(after: slash)...]
                if tail.count >= 7, tail.allSatisfy(\.isHexDigit) { return String(tail) }
            }
            return nil
        }
        let tail = revision[revision.index(after: colon)...]
        guard !tail.isEmpty, tail.allSatisfy(\.isHexDigit) else { return nil }
        return String(tail)
    }

    /// The revision with its hash cut to 7 digits (`main@sha1:4f6c1b2`), for people.
    package static func short(_ revision: String) -> String {
        guard let hash = hash(revision), hash.count > 7, let colon = revision.lastIndex(of: ":") else {
            return revision
        }
        return String(revision[...colon]) + hash.prefix(7)
    }
}

/// What changed between the last good state and the failing one: commits with links, chart versions, OCI digests,
/// and whether a failing source keeps serving an older artifact.
package struct IncidentChanges: Sendable, Hashable, Codable {
    /// The repository's web page (`https://github.com/org/repo`), when the host is known.
    package var repositoryURL: String?
    /// The last applied revision (as Flux writes it) and the one that fails.
    package var previousRevision: String?
    package var failingRevision: String?
    /// The diff between the two commits; `nil` when either is unknown or the host is not.
    package var compareURL: String?
    /// The failing commit's page when the previous commit is unknown or the same; for a failing source, the page of
    /// the commit it still serves.
    package var commitURL: String?
    /// The object's path (`spec.path`) in the repository at the failing commit.
    package var pathURL: String?
    /// HelmRelease chart versions: the last deployed and the failing one.
    package var previousChart: String?
    package var failingChart: String?
    /// A source that fails to fetch yet keeps serving its last artifact: that revision and since when.
    package var staleRevision: String?
    package var staleSince: Date?

    package init() {}

    private enum CodingKeys: String, CodingKey {
        case repositoryURL, previousRevision, failingRevision, compareURL, commitURL, pathURL, previousChart
        case failingChart, staleRevision, staleSince
    }

    /// Writes every key, `null` when unknown: the webhook's `changes` object (docs/webhook-payload.v1.schema.json)
    /// promises every key.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repositoryURL, forKey: .repositoryURL)
        try container.encode(previousRevision, forKey: .previousRevision)
        try container.encode(failingRevision, forKey: .failingRevision)
        try container.encode(compareURL, forKey: .compareURL)
        try container.encode(commitURL, forKey: .commitURL)
        try container.encode(pathURL, forKey: .pathURL)
        try container.encode(previousChart, forKey: .previousChart)
        try container.encode(failingChart, forKey: .failingChart)
        try container.encode(staleRevision, forKey: .staleRevision)
        try container.encode(staleSince, forKey: .staleSince)
    }

    /// True when nothing is known.
    package var isEmpty: Bool { self == IncidentChanges() }

    /// One line per change, for people. `date` formats times (RFC 3339 on a console, a date token in Slack);
    /// `link` formats a URL with its text (`text <url>` on a console, `<url|text>` in Slack, `[text](url)` in
    /// Markdown).
    package func lines(date: (Date) -> String, link: (_ text: String, _ url: String) -> String) -> [String] {
        var lines: [String] = []
        if let failing = failingRevision {
            let new = Revision.short(failing)
            if let previous = previousRevision, previous != failing {
                let text = "\(Revision.short(previous)) → \(new)"
                lines.append(compareURL.map { link(text, $0) } ?? text)
            } else {
                lines.append(commitURL.map { link("at \(new)", $0) } ?? "at \(new)")
            }
        }
        if let failing = failingChart {
            var text = "chart \(failing)"
            if let previous = previousChart, previous != failing { text = "chart \(previous) → \(failing)" }
            // A chart built from Git links its commits (`<version>+<commit>`).
            let url = failingRevision == nil ? compareURL ?? commitURL : nil
            lines.append(url.map { link(text, $0) } ?? text)
        }
        if let stale = staleRevision {
            let since = staleSince.map { " from \(date($0))" } ?? ""
            let revision = commitURL.map { link(Revision.short(stale), $0) } ?? Revision.short(stale)
            lines.append("still serving \(revision)\(since); nothing newer deploys until this is fixed")
        }
        return lines
    }
}

extension IncidentChanges {
    /// What changed for a failing `object`, with its `source` object when it was found.
    ///
    /// - Kustomization (or anything with `lastAppliedRevision`/`lastAttemptedRevision`) from a GitRepository:
    ///   the two commits, a compare link (a commit link when there is no earlier one), the object's path at the
    ///   failing commit. From an OCIRepository: the two revisions (tag and digest).
    /// - HelmRelease: the chart version of the failing release and of the last deployed one (`status.history`,
    ///   newest first), else `lastAttemptedRevision`.
    /// - A source (GitRepository, OCIRepository, HelmRepository, Bucket, HelmChart) that fails while it still has
    ///   an artifact: that artifact's revision and time.
    package static func of(_ object: FluxObject, source: FluxObject?, hosts: GitHosts) -> IncidentChanges? {
        var changes = IncidentChanges()
        let status = object.status
        let kind = object.fluxKind
        if kind?.isSource == true, let artifact = status?.artifact, let revision = artifact.revision {
            changes.staleRevision = revision
            changes.staleSince = artifact.lastUpdateTime.flatMap(Detector.date(from:))
            if object.kind == FluxKind.gitRepository.name, let url = object.spec?.url,
                let web = GitRepositoryWeb(cloneURL: url, hosts: hosts)
            {
                changes.repositoryURL = web.url
                if let hash = Revision.hash(revision) { changes.commitURL = web.commitURL(hash) }
            }
        }
        if kind == .helmRelease {
            defer { changes.linkChartCommits(chart: object.spec?.chart?.spec?.chart, source: source, hosts: hosts) }
            let history = status?.helmHistory ?? []
            if let failedIndex = history.firstIndex(where: { $0.status == "failed" }) {
                changes.failingChart = history[failedIndex].chartVersion
                changes.previousChart =
                    history[(failedIndex + 1)...].first {
                        $0.status == "deployed" || $0.status == "superseded"
                    }?.chartVersion
            } else if let attempted = status?.lastAttemptedRevision {
                changes.failingChart = attempted
                changes.previousChart =
                    history.first { $0.status == "deployed" && $0.chartVersion != attempted }?
                    .chartVersion
            }
        } else if let failing = status?.lastAttemptedRevision {
            changes.failingRevision = failing
            changes.previousRevision = status?.lastAppliedRevision
            if let source {
                if source.kind == FluxKind.gitRepository.name, let url = source.spec?.url,
                    let web = GitRepositoryWeb(cloneURL: url, hosts: hosts), let new = Revision.hash(failing)
                {
                    changes.repositoryURL = web.url
                    if let previous = changes.previousRevision, previous != failing, let old = Revision.hash(previous) {
                        changes.compareURL = web.compareURL(from: old, to: new)
                    } else {
                        changes.commitURL = web.commitURL(new)
                    }
                    if let path = object.spec?.path { changes.pathURL = web.treeURL(new, path: path) }
                }
            }
        }
        return changes.isEmpty ? nil : changes
    }

    /// The object whose revisions say what changed for `object`: its GitRepository or OCIRepository `sourceRef`, or
    /// for a HelmRelease the GitRepository its chart is built from (`chart.spec.sourceRef`).
    package static func changeSource(of object: FluxObject, cluster: String) -> ObjectReference? {
        if object.kind == FluxKind.helmRelease.name {
            guard let ref = object.spec?.chart?.spec?.sourceRef, ref.kind == FluxKind.gitRepository.name else {
                return nil
            }
            return ObjectReference(
                cluster: cluster,
                kind: .gitRepository,
                namespace: ref.namespace ?? object.metadata.namespace ?? "default",
                name: ref.name
            )
        }
        guard let source = object.upstreamSource(cluster: cluster),
            source.kind == .gitRepository || source.kind == .ociRepository
        else { return nil }
        return source
    }

    /// A HelmRelease whose chart comes from Git with `reconcileStrategy: Revision` has chart versions
    /// `<version>+<12 hex of the commit>`: the commits are linked like a Kustomization's.
    private mutating func linkChartCommits(chart: String?, source: FluxObject?, hosts: GitHosts) {
        guard let source, source.kind == FluxKind.gitRepository.name, let url = source.spec?.url,
            let web = GitRepositoryWeb(cloneURL: url, hosts: hosts), let failing = failingChart,
            let new = Self.commitSuffix(failing)
        else { return }
        repositoryURL = web.url
        if let previous = previousChart, let old = Self.commitSuffix(previous), old != new {
            compareURL = web.compareURL(from: old, to: new)
        } else {
            commitURL = web.commitURL(new)
        }
        if let chart { pathURL = web.treeURL(new, path: chart) }
    }

    /// `6.9.2+4f6c1b2d9e0a` → `4f6c1b2d9e0a`.
    private static func commitSuffix(_ version: String) -> String? {
        guard let plus = version.lastIndex(of: "+") else { return nil }
        let hash = version[version.index(after: plus)...]
        return hash.count >= 7 && hash.allSatisfy(\.isHexDigit) ? String(hash) : nil
    }
}
