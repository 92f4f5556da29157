/// `ErrorCause` as it was before its searches went over UTF-8 bytes (`Character` searches from _StringProcessing),
/// kept as the reference for `ErrorCauseDifferentialTests`.
package enum LegacyErrorCause {
    /// The innermost cause of `message`, or `nil` when there is nothing shorter or clearer to say than the message
    /// itself.
    package static func innermost(of message: String) -> String? {
        let text = relativizingTemporaryPaths(message)
        let cause = innermostInRewritten(text).trimmingSpaces()
        guard !cause.isEmpty, cause != message else { return nil }
        return cause
    }

    /// `message` with temporary checkout directories of the controllers removed: `/tmp/kustomization-2331457106/`
    /// (any `/tmp/<name>-<digits>/`) is dropped so the rest reads relative to the source, and the directory itself
    /// becomes `.`.
    package static func relativizingTemporaryPaths(_ message: String) -> String {
        guard message.contains("/tmp/") else { return message }
        var out = ""
        out.reserveCapacity(message.utf8.count)
        var rest = message[...]
        while let found = rest.firstRange(of: "/tmp/") {
            out += rest[..<found.lowerBound]
            var cursor = found.upperBound
            // <name>-<digits>
            var sawDash = false
            var digits = 0
            while cursor < rest.endIndex {
                let character = rest[cursor]
                if character == "/" || character == "'" || character == "\"" || character == " " || character == ":" {
                    break
                }
                if character == "-" {
                    sawDash = true
                    digits = 0
                } else if character.isASCII, character.isNumber {
                    digits += sawDash ? 1 : 0
                } else if sawDash {
                    // A letter after the dash: not `<name>-<digits>`.
                    digits = -1_000_000
                }
                cursor = rest.index(after: cursor)
            }
            guard sawDash, digits > 0 else {
                out += rest[found.lowerBound..<cursor]
                rest = rest[cursor...]
                continue
            }
            if cursor < rest.endIndex, rest[cursor] == "/" {
                rest = rest[rest.index(after: cursor)...]
            } else {
                out += "."
                rest = rest[cursor...]
            }
        }
        out += rest
        return out
    }

    // MARK: The shapes

    private static func innermostInRewritten(_ text: String) -> String {
        var rest = Substring(text)
        // "Helm upgrade failed for release ns/name with chart c@v: <err>" and "health check failed after 5m0s: <err>"
        if rest.hasPrefix("Helm "), let failed = rest.firstRange(of: " failed for release "),
            let colon = rest[failed.upperBound...].firstRange(of: ": ")
        {
            rest = rest[colon.upperBound...]
        }
        rest = droppingTimingPrefix(rest)

        if let list = waitList(rest) { return list }
        if let found = rest.ranges(of: "failed to create resource: ").last {
            rest = rest[found.upperBound...]
            if rest.hasPrefix("Internal error occurred: ") { rest = rest.dropFirst("Internal error occurred: ".count) }
        }
        if rest.hasPrefix("kustomize build failed: ") || rest.contains("accumulating resources") {
            return kustomize(rest)
        }
        if let invalid = rest.firstRange(of: " is invalid: ") {
            // The Kubernetes API's validation error starts the segment that names the object
            // (`Deployment.apps "grafana" is invalid: …`).
            let head = rest[..<invalid.lowerBound]
            if let previous = head.ranges(of: ": ").last { return String(rest[previous.upperBound...]) }
            return String(rest)
        }
        return goChain(rest)
    }

    /// `timeout waiting for: [Deployment/apps/podinfo status: 'InProgress', …]` and
    /// `failed early due to stalled resources: […]` (fluxcd/pkg ssa) as `timeout waiting for Deployment/apps/podinfo
    /// (InProgress)`.
    private static func waitList(_ text: Substring) -> String? {
        let shapes = [
            ("timeout waiting for: [", "timeout waiting for"),
            ("failed early due to stalled resources: [", "stalled resources:"),
        ]
        for (marker, label) in shapes {
            guard let found = text.firstRange(of: marker) else { continue }
            var body = text[found.upperBound...]
            if let close = body.lastIndex(of: "]") { body = body[..<close] }
            var items: [String] = []
            for item in body.split(separator: ", ") {
                if let status = item.firstRange(of: " status: ") {
                    var value = item[status.upperBound...]
                    if value.hasPrefix("'") { value = value.dropFirst() }
                    if value.hasSuffix("'") { value = value.dropLast() }
                    items.append("\(item[..<status.lowerBound]) (\(value))")
                } else {
                    items.append(String(item))
                }
            }
            return "\(label) \(items.joined(separator: ", "))"
        }
        return nil
    }

    /// kustomize's accumulation chain: the innermost error, a missing file as `path: no such file or directory`.
    private static func kustomize(_ text: Substring) -> String {
        if let symlink = text.ranges(of: "evalsymlink failure on '").last {
            let after = text[symlink.upperBound...]
            if let quote = after.firstIndex(of: "'") {
                let path = after[..<quote]
                var detail = after[after.index(after: quote)...]
                if let end = detail.firstIndex(of: "'") { detail = detail[..<end] }
                if let colon = detail.ranges(of: ": ").last { detail = detail[colon.upperBound...] }
                return "\(path): \(detail.trimmingSpaces())"
            }
        }
        // The text after the last wrapper: `… from 'x': `, `… path 'x': `, `accumulating resources: `, ….
        let quotedWrappers = ["accumulating resources from '", "recursed accumulation of path '"]
        let plainWrappers = [
            "kustomize build failed: ", "accumulating resources: ", "must build at directory: ",
            "accumulation err='",
        ]
        var start = text.startIndex
        for wrapper in quotedWrappers {
            guard let found = text.ranges(of: wrapper).last,
                let end = text[found.upperBound...].firstRange(of: "': ")
            else { continue }
            if end.upperBound > start { start = end.upperBound }
        }
        for wrapper in plainWrappers {
            guard let found = text.ranges(of: wrapper).last else { continue }
            if found.upperBound > start { start = found.upperBound }
        }
        var inner = text[start...]
        if let close = inner.firstRange(of: "': ") { inner = inner[..<close.lowerBound] }
        while inner.hasSuffix("'") { inner = inner.dropLast() }
        return pathError(inner)
    }

    /// Go's `*fs.PathError` text `open <path>: <err>` (also `lstat`, `stat`, `read`) as `<path>: <err>`.
    private static func pathError(_ text: Substring) -> String {
        for op in ["open ", "lstat ", "stat ", "read ", "readlink "] where text.hasPrefix(op) {
            let rest = text.dropFirst(op.count)
            if let colon = rest.firstRange(of: ": "), !rest[..<colon.lowerBound].contains(" ") { return String(rest) }
        }
        return String(text)
    }

    /// A Go error chain `a: b: c`: leading wrappers (`failed to …`, `unable to …`, …) are dropped while at least
    /// two segments remain, so the cause keeps the innermost wrapper that names what was attempted
    /// (`unable to clone 'https://…': authentication required`).
    private static func goChain(_ text: Substring) -> String {
        var segments = splitChain(text)
        let wrappers = ["failed ", "unable ", "cannot ", "could not ", "error ", "failed to "]
        while segments.count > 2, wrappers.contains(where: { segments[0].hasPrefix($0) }) {
            segments.removeFirst()
        }
        return segments.joined(separator: ": ")
    }

    /// Splits on `: ` outside double quotes and square brackets.
    private static func splitChain(_ text: Substring) -> [Substring] {
        var segments: [Substring] = []
        var quoted = false
        var depth = 0
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            switch character {
            case "\"": quoted.toggle()
            case "[" where !quoted: depth += 1
            case "]" where !quoted: depth = max(depth - 1, 0)
            case ":" where !quoted && depth == 0 && next < text.endIndex && text[next] == " ":
                segments.append(text[start..<index])
                start = text.index(after: next)
                index = start
                continue
            default: break
            }
            index = next
        }
        segments.append(text[start...])
        return segments.filter { !$0.isEmpty }
    }

    /// `health check failed after 5m0.01s: <err>` → `<err>`: a prefix that only says how long it took.
    package static func droppingTimingPrefix(_ text: Substring) -> Substring {
        var text = text
        if text.hasPrefix("(combined from similar events): ") {
            text = text.dropFirst("(combined from similar events): ".count)
        }
        guard let colon = text.firstRange(of: ": ") else { return text }
        let head = text[..<colon.lowerBound]
        guard let after = head.ranges(of: " after ").last else { return text }
        let duration = head[after.upperBound...]
        guard let first = duration.first, first.isNumber, !duration.contains(" ") else { return text }
        return text[colon.upperBound...]
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and newlines.
    fileprivate func trimmingSpaces() -> String {
        var view = self[...]
        while let first = view.first, first == " " || first == "\n" || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\n" || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
