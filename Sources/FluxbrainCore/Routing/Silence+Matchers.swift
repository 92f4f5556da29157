import Foundation

/// The `--match` syntax of `fluxbrain silence add`, parsed into the ``IncidentSelector`` routes use, and printed
/// back the same way by `fluxbrain silence list`.
///
/// `key=value` pairs separated by commas; every pair must match (like the fields of a route's `match:`). Keys:
/// `cluster`, `kind`, `namespace`, `name`, `state` (`retrying`, `stalled`, `stuck`) and `label.KEY` (a label of the
/// Flux object). A value is a glob (`*`, `?`); `a|b` means "any of" (a route's list). Kubernetes names and label
/// values never contain `,`, `=` or `|`, so no quoting is needed. A key given twice is refused rather than
/// guessed at (AND or OR?): write `name=a|b` for either.
///
/// ```
/// kind=HelmRelease,namespace=apps,name=podinfo*
/// cluster=prod-*,state=stalled|stuck,label.team=payments
/// ```
extension IncidentSelector {
    /// The keys `--match` accepts besides `label.KEY`.
    package static let matcherKeys = ["cluster", "kind", "namespace", "name", "state"]

    /// Parses one or more `--match` texts (their pairs are combined). Throws `CoreError(.invalidInput)` naming the
    /// offending pair for an unknown key, an empty value, an unknown state, a key given twice, or no pair at all.
    package init(matching texts: [String]) throws {
        self.init()
        var seen: Set<String> = []
        for text in texts {
            for rawPair in text.split(separator: ",", omittingEmptySubsequences: false) {
                let pair = Self.trimmed(rawPair)
                if pair.isEmpty {
                    if Self.trimmed(text).isEmpty { continue }
                    throw Self.matcherError("empty matcher in '\(text)'")
                }
                guard let equals = pair.firstIndex(of: "=") else {
                    throw Self.matcherError("'\(pair)' is not key=value")
                }
                let key = Self.trimmed(pair[..<equals])
                let value = Self.trimmed(pair[pair.index(after: equals)...])
                let alternatives = value.split(separator: "|", omittingEmptySubsequences: false).map {
                    Self.trimmed($0)
                }
                if value.isEmpty || alternatives.contains(where: \.isEmpty) {
                    throw Self.matcherError("'\(pair)' has an empty value (use '*' for any)")
                }
                guard seen.insert(key).inserted else {
                    throw Self.matcherError("'\(key)' is given twice; write \(key)=a|b for either of two values")
                }
                let globs = alternatives.map(Glob.init)
                switch key {
                case "cluster": clusters = globs
                case "kind": kinds = globs
                case "namespace": namespaces = globs
                case "name": names = globs
                case "state":
                    states = try alternatives.map { text in
                        guard let state = FailureState(rawValue: text) else {
                            let known = FailureState.allCases.map(\.rawValue).joined(separator: ", ")
                            throw Self.matcherError("unknown state '\(text)' in '\(pair)' (one of: \(known))")
                        }
                        return state
                    }
                default:
                    guard key.hasPrefix("label."), key.count > "label.".count else {
                        let known = (Self.matcherKeys + ["label.KEY"]).joined(separator: ", ")
                        throw Self.matcherError("unknown key '\(key)' in '\(pair)' (one of: \(known))")
                    }
                    guard alternatives.count == 1 else {
                        throw Self.matcherError("'\(pair)': a label matches one glob (no '|')")
                    }
                    labels = (labels ?? [:]).merging([String(key.dropFirst("label.".count)): globs[0]]) { $1 }
                }
            }
        }
        if isEmpty {
            throw Self.matcherError("no matchers given; say what to silence, e.g. 'namespace=apps,name=podinfo*'")
        }
    }

    /// The selector in `--match` syntax, keys in a fixed order (labels sorted): what `silence list` prints.
    package var matchingText: String {
        var pairs: [String] = []
        func add(_ key: String, _ values: [String]?) {
            if let values { pairs.append("\(key)=\(values.joined(separator: "|"))") }
        }
        add("cluster", clusters?.map(\.pattern))
        add("kind", kinds?.map(\.pattern))
        add("namespace", namespaces?.map(\.pattern))
        add("name", names?.map(\.pattern))
        add("state", states?.map(\.rawValue))
        for (key, glob) in (labels ?? [:]).sorted(by: { $0.key < $1.key }) { add("label.\(key)", [glob.pattern]) }
        return pairs.joined(separator: ",")
    }

    private static func trimmed(_ text: some StringProtocol) -> String {
        text.trimmingCharacters(in: .whitespaces)
    }

    private static func matcherError(_ message: String) -> CoreError {
        CoreError(.invalidInput, "invalid --match: \(message)")
    }
}
