/// The innermost cause of a Flux error message: what a person needs to read first.
///
/// Flux writes error chains: kustomize's accumulation errors nest every `resources:` entry that led to the failing
/// file, Helm wraps the Kubernetes API's answer in "Helm upgrade failed for release … with chart …", Go wraps with
/// `: `, and health checks list every object they waited for. ``innermost(of:)`` picks the innermost error of the
/// shapes it knows and rewrites the controller's temporary checkout (`/tmp/kustomization-NNN/`) to paths relative
/// to the source. It is a pure function of the message that scans the text a few times, with no regular
/// expressions (it runs for every failing object of a cluster, and for every processed work item): the markers are
/// ASCII and are searched for in the UTF-8 bytes (``MarkerSearch``).
package enum ErrorCause {
    /// The innermost cause of `message`, or `nil` when there is nothing shorter or clearer to say than the message
    /// itself.
    package static func innermost(of message: String) -> String? {
        let search = MarkerSearch(message)
        let text = relativizingTemporaryPaths(message, search)
        let cause = innermostInRewritten(text, search).trimmingSpaces()
        guard !cause.isEmpty, cause != message else { return nil }
        return cause
    }

    /// `message` with temporary checkout directories of the controllers removed: `/tmp/kustomization-2331457106/`
    /// (any `/tmp/<name>-<digits>/`) is dropped so the rest reads relative to the source, and the directory itself
    /// becomes `.`.
    package static func relativizingTemporaryPaths(_ message: String) -> String {
        relativizingTemporaryPaths(message, MarkerSearch(message))
    }

    private static func relativizingTemporaryPaths(_ message: String, _ search: MarkerSearch) -> String {
        let whole = message[...]
        guard search.contains("/tmp/", in: whole) else { return message }
        var out = ""
        out.reserveCapacity(message.utf8.count)
        var rest = whole
        while let found = search.firstRange(of: "/tmp/", in: rest) {
            out += rest[..<found.lowerBound]
            let (cursor, isTemporary) =
                search.bytewise
                ? endOfTemporaryName(rest.utf8, from: found.upperBound)
                : endOfTemporaryName(rest, from: found.upperBound)
            guard isTemporary else {
                out += rest[found.lowerBound..<cursor]
                rest = rest[cursor...]
                continue
            }
            if cursor < rest.endIndex, rest.utf8[cursor] == UInt8(ascii: "/") {
                rest = rest[rest.index(after: cursor)...]
            } else {
                out += "."
                rest = rest[cursor...]
            }
        }
        out += rest
        return out
    }

    /// Where the `<name>-<digits>` after `/tmp/` ends (at `/`, a quote, a space, `:` or the end) and whether it is
    /// one; over the bytes or the characters of the text (the same answer for ASCII).
    private static func endOfTemporaryName<View: BidirectionalCollection>(
        _ view: View,
        from start: View.Index
    ) -> (end: View.Index, isTemporary: Bool) where View.Element: TextUnit {
        var cursor = start
        var sawDash = false
        var digits = 0
        while cursor < view.endIndex {
            let unit = view[cursor]
            if unit == View.Element(ascii: "/") || unit == View.Element(ascii: "'") || unit == View.Element(ascii: "\"")
                || unit == View.Element(ascii: " ") || unit == View.Element(ascii: ":")
            {
                break
            }
            if unit == View.Element(ascii: "-") {
                sawDash = true
                digits = 0
            } else if unit.isASCIIDigit {
                digits += sawDash ? 1 : 0
            } else if sawDash {
                // A letter after the dash: not `<name>-<digits>`.
                digits = -1_000_000
            }
            cursor = view.index(after: cursor)
        }
        return (cursor, sawDash && digits > 0)
    }

    // MARK: The shapes

    private static func innermostInRewritten(_ text: String, _ search: MarkerSearch) -> String {
        var rest = Substring(text)
        // "Helm upgrade failed for release ns/name with chart c@v: <err>" and "health check failed after 5m0s: <err>"
        if search.hasPrefix("Helm ", rest), let failed = search.firstRange(of: " failed for release ", in: rest),
            let colon = search.firstRange(of: ": ", in: rest[failed.upperBound...])
        {
            rest = rest[colon.upperBound...]
        }
        rest = droppingTimingPrefix(rest, search)

        if let list = waitList(rest, search) { return list }
        if let found = search.lastRange(of: "failed to create resource: ", in: rest) {
            rest = rest[found.upperBound...]
            if search.hasPrefix("Internal error occurred: ", rest) {
                rest = rest.dropFirst("Internal error occurred: ".count)
            }
        }
        if search.hasPrefix("kustomize build failed: ", rest) || search.contains("accumulating resources", in: rest) {
            return kustomize(rest, search)
        }
        if let invalid = search.firstRange(of: " is invalid: ", in: rest) {
            // The Kubernetes API's validation error starts the segment that names the object
            // (`Deployment.apps "grafana" is invalid: …`).
            let head = rest[..<invalid.lowerBound]
            if let previous = search.lastRange(of: ": ", in: head) { return String(rest[previous.upperBound...]) }
            return String(rest)
        }
        return goChain(rest, search)
    }

    /// `timeout waiting for: [Deployment/apps/podinfo status: 'InProgress', …]` and
    /// `failed early due to stalled resources: […]` (fluxcd/pkg ssa) as `timeout waiting for Deployment/apps/podinfo
    /// (InProgress)`.
    private static func waitList(_ text: Substring, _ search: MarkerSearch) -> String? {
        let shapes = [
            ("timeout waiting for: [", "timeout waiting for"),
            ("failed early due to stalled resources: [", "stalled resources:"),
        ]
        for (marker, label) in shapes {
            guard let found = search.firstRange(of: marker, in: text) else { continue }
            var body = text[found.upperBound...]
            if let close = search.lastIndex(of: "]", in: body) { body = body[..<close] }
            var items: [String] = []
            for item in search.split(body, separator: ", ") {
                if let status = search.firstRange(of: " status: ", in: item) {
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
    private static func kustomize(_ text: Substring, _ search: MarkerSearch) -> String {
        if let symlink = search.lastRange(of: "evalsymlink failure on '", in: text) {
            let after = text[symlink.upperBound...]
            if let quote = search.firstIndex(of: "'", in: after) {
                let path = after[..<quote]
                var detail = after[after.index(after: quote)...]
                if let end = search.firstIndex(of: "'", in: detail) { detail = detail[..<end] }
                if let colon = search.lastRange(of: ": ", in: detail) { detail = detail[colon.upperBound...] }
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
            guard let found = search.lastRange(of: wrapper, in: text),
                let end = search.firstRange(of: "': ", in: text[found.upperBound...])
            else { continue }
            if end.upperBound > start { start = end.upperBound }
        }
        for wrapper in plainWrappers {
            guard let found = search.lastRange(of: wrapper, in: text) else { continue }
            if found.upperBound > start { start = found.upperBound }
        }
        var inner = text[start...]
        if let close = search.firstRange(of: "': ", in: inner) { inner = inner[..<close.lowerBound] }
        while inner.hasSuffix("'") { inner = inner.dropLast() }
        return pathError(inner, search)
    }

    /// Go's `*fs.PathError` text `open <path>: <err>` (also `lstat`, `stat`, `read`) as `<path>: <err>`.
    private static func pathError(_ text: Substring, _ search: MarkerSearch) -> String {
        for op in ["open ", "lstat ", "stat ", "read ", "readlink "] where search.hasPrefix(op, text) {
            let rest = text.dropFirst(op.count)
            if let colon = search.firstRange(of: ": ", in: rest), !search.contains(" ", in: rest[..<colon.lowerBound]) {
                return String(rest)
            }
        }
        return String(text)
    }

    /// A Go error chain `a: b: c`: leading wrappers (`failed to …`, `unable to …`, …) are dropped while at least
    /// two segments remain, so the cause keeps the innermost wrapper that names what was attempted
    /// (`unable to clone 'https://…': authentication required`).
    private static func goChain(_ text: Substring, _ search: MarkerSearch) -> String {
        var segments = search.bytewise ? splitChain(text, text.utf8) : splitChain(text, text)
        let wrappers = ["failed ", "unable ", "cannot ", "could not ", "error ", "failed to "]
        while segments.count > 2, wrappers.contains(where: { segments[0].hasPrefix($0) }) {
            segments.removeFirst()
        }
        return segments.joined(separator: ": ")
    }

    /// Splits on `: ` outside double quotes and square brackets, reading `view` (the bytes or the characters of
    /// `text`, the same answer for ASCII).
    private static func splitChain<View: BidirectionalCollection>(
        _ text: Substring,
        _ view: View
    ) -> [Substring] where View.Element: TextUnit, View.Index == String.Index {
        var segments: [Substring] = []
        var quoted = false
        var depth = 0
        var start = view.startIndex
        var index = view.startIndex
        while index < view.endIndex {
            let unit = view[index]
            let next = view.index(after: index)
            if unit == View.Element(ascii: "\"") {
                quoted.toggle()
            } else if unit == View.Element(ascii: "["), !quoted {
                depth += 1
            } else if unit == View.Element(ascii: "]"), !quoted {
                depth = max(depth - 1, 0)
            } else if unit == View.Element(ascii: ":"), !quoted, depth == 0, next < view.endIndex,
                view[next] == View.Element(ascii: " ")
            {
                segments.append(text[start..<index])
                start = view.index(after: next)
                index = start
                continue
            }
            index = next
        }
        segments.append(text[start...])
        return segments.filter { !$0.isEmpty }
    }

    /// `health check failed after 5m0.01s: <err>` → `<err>`: a prefix that only says how long it took.
    package static func droppingTimingPrefix(_ text: Substring) -> Substring {
        droppingTimingPrefix(text, MarkerSearch(text))
    }

    private static func droppingTimingPrefix(_ text: Substring, _ search: MarkerSearch) -> Substring {
        var text = text
        if search.hasPrefix("(combined from similar events): ", text) {
            text = text.dropFirst("(combined from similar events): ".count)
        }
        guard let colon = search.firstRange(of: ": ", in: text) else { return text }
        let head = text[..<colon.lowerBound]
        guard let after = search.lastRange(of: " after ", in: head) else { return text }
        let duration = head[after.upperBound...]
        guard let first = duration.first, first.isNumber, !search.contains(" ", in: duration) else { return text }
        return text[colon.upperBound...]
    }
}

/// The searches ``ErrorCause`` makes for its markers (all ASCII, none with `K`, `;` or a backquote, which other
/// characters are canonically equivalent to), with the results of `String`'s `Character` searches.
///
/// In text that is ASCII without a carriage return, every byte is one `Character` and equal bytes are equal
/// characters, so it searches the UTF-8 bytes; any other text (where `:` followed by a combining accent is not a
/// colon, or `\r\n` is one character) goes through the `Character` searches themselves.
private struct MarkerSearch {
    /// `true` when the bytes give the same answers as the characters.
    let bytewise: Bool

    init(_ text: some StringProtocol) {
        let utf8 = text.utf8
        bytewise =
            utf8.withContiguousStorageIfAvailable { bytes in
                bytes.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\r") }
            } ?? false
    }

    /// The first occurrence of `marker` in `text` (`firstRange(of:)`).
    func firstRange(of marker: String, in text: Substring) -> Range<String.Index>? {
        bytewise ? Self.byteRange(of: marker, in: text, last: false) : text.firstRange(of: marker)
    }

    /// The last of the non-overlapping occurrences of `marker` found from the start (`ranges(of:).last`).
    func lastRange(of marker: String, in text: Substring) -> Range<String.Index>? {
        bytewise ? Self.byteRange(of: marker, in: text, last: true) : text.ranges(of: marker).last
    }

    /// Whether `text` contains `marker` (Foundation's `contains(_:)`, which other text gets: unlike the `Character`
    /// searches, it finds `a` in an `a` that a prepended mark shares a character with).
    func contains(_ marker: String, in text: Substring) -> Bool {
        bytewise ? Self.byteRange(of: marker, in: text, last: false) != nil : text.contains(marker)
    }

    func hasPrefix(_ marker: String, _ text: Substring) -> Bool {
        bytewise ? text.utf8.starts(with: marker.utf8) : text.hasPrefix(marker)
    }

    func firstIndex(of character: Unicode.Scalar, in text: Substring) -> String.Index? {
        bytewise ? text.utf8.firstIndex(of: UInt8(ascii: character)) : text.firstIndex(of: Character(character))
    }

    func lastIndex(of character: Unicode.Scalar, in text: Substring) -> String.Index? {
        bytewise ? text.utf8.lastIndex(of: UInt8(ascii: character)) : text.lastIndex(of: Character(character))
    }

    /// `text` split at the non-overlapping occurrences of `separator`, empty pieces left out
    /// (`split(separator:)`).
    func split(_ text: Substring, separator: String) -> [Substring] {
        guard bytewise else { return text.split(separator: separator) }
        var pieces: [Substring] = []
        var rest = text
        while let found = Self.byteRange(of: separator, in: rest, last: false) {
            if found.lowerBound > rest.startIndex { pieces.append(rest[..<found.lowerBound]) }
            rest = rest[found.upperBound...]
        }
        if !rest.isEmpty { pieces.append(rest) }
        return pieces
    }

    /// The first, or the last of the non-overlapping (from the start), byte ranges of `marker` in `text`.
    private static func byteRange(of marker: String, in text: Substring, last: Bool) -> Range<String.Index>? {
        var marker = marker
        return marker.withUTF8 { pattern -> Range<String.Index>? in
            text.utf8.withContiguousStorageIfAvailable { bytes -> Range<String.Index>? in
                let length = pattern.count
                guard length > 0, length <= bytes.count else { return nil }
                let head = pattern[0]
                var found: Int?
                var index = 0
                let end = bytes.count - length
                search: while index <= end {
                    guard bytes[index] == head else {
                        index += 1
                        continue
                    }
                    var offset = 1
                    while offset < length {
                        guard bytes[index + offset] == pattern[offset] else {
                            index += 1
                            continue search
                        }
                        offset += 1
                    }
                    found = index
                    if !last { break }
                    index += length
                }
                guard let found else { return nil }
                let lower = text.utf8.index(text.startIndex, offsetBy: found)
                return lower..<text.utf8.index(lower, offsetBy: length)
            } ?? nil
        }
    }
}

/// A byte or a `Character`, for the scans ``ErrorCause`` makes over either.
private protocol TextUnit: Equatable {
    init(ascii: Unicode.Scalar)
    /// `0`…`9`.
    var isASCIIDigit: Bool { get }
}

extension UInt8: TextUnit {
    fileprivate var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}

extension Character: TextUnit {
    fileprivate init(ascii: Unicode.Scalar) { self.init(ascii) }
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    /// Without leading and trailing spaces and newlines.
    func trimmingSpaces() -> String {
        var view = self[...]
        while let first = view.first, first == " " || first == "\n" || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\n" || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
