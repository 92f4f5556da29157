/// Which redaction rules could match a text, found in one pass over its UTF-8 bytes.
///
/// Each rule has a trigger: a byte sequence (and for the key, URL and Azure rules a little of the structure that
/// follows it) that every match of the rule's pattern contains. A rule whose trigger is absent cannot match, so the
/// `Redactor` does not run its pattern; most strings (reasons, names, timestamps, revisions, ordinary messages) have
/// no trigger at all and cost this one scan. A trigger is a necessary condition only: a triggered rule runs its
/// pattern, which decides. Replacing a secret can make a trigger appear that was not there (the text on both sides
/// of the secret comes together), so the `Redactor` scans again after any rule changed the text.
///
/// Case-insensitive rules fold ASCII only here; a text holding one of the few non-ASCII characters that Unicode
/// case folding maps onto ASCII letters (`ß`, `ſ`, `K` (Kelvin), `İ`, `ŉ`, `ǰ`, `ẖ`…`ẚ`, `ẞ`, the `ﬀ`…`ﬆ`
/// ligatures) triggers every case-insensitive rule.
struct RedactionTriggers: OptionSet, Sendable {
    let rawValue: UInt32

    // The rules, in the order the `Redactor` runs them (see `RedactionRules`).
    static let pemBlock = Self(rawValue: 1 << 0)
    static let authorization = Self(rawValue: 1 << 1)
    static let slackWebhook = Self(rawValue: 1 << 2)
    static let urlCredentials = Self(rawValue: 1 << 3)
    static let gitHubToken = Self(rawValue: 1 << 4)
    static let gitHubPAT = Self(rawValue: 1 << 5)
    static let slackToken = Self(rawValue: 1 << 6)
    static let awsKeyID = Self(rawValue: 1 << 7)
    static let googleAPIKey = Self(rawValue: 1 << 8)
    static let jwt = Self(rawValue: 1 << 9)
    static let azureKey = Self(rawValue: 1 << 10)
    static let sasSignature = Self(rawValue: 1 << 11)
    static let quotedKeyValue = Self(rawValue: 1 << 12)
    static let bareKeyValue = Self(rawValue: 1 << 13)
    static let bearer = Self(rawValue: 1 << 14)
    // Applied only to text containing `Secret` (as the `Redactor` always did).
    static let secretJSONKindFirst = Self(rawValue: 1 << 16)
    static let secretJSONDataFirst = Self(rawValue: 1 << 17)
    static let secretYAML = Self(rawValue: 1 << 18)

    /// The rules whose patterns are case-insensitive.
    static let caseInsensitive: Self = [
        .authorization, .urlCredentials, .azureKey, .sasSignature, .quotedKeyValue, .bareKeyValue, .bearer,
    ]

    init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The rules that could match `text`.
    init(scanning text: String) {
        if let found = text.utf8.withContiguousStorageIfAvailable({ Self.scan($0) }) {
            self = found
        } else {
            var copy = text
            copy.makeContiguousUTF8()
            self = copy.utf8.withContiguousStorageIfAvailable { Self.scan($0) } ?? Self(rawValue: .max)
        }
    }

    // MARK: Private

    /// Bytes at which a trigger can start (ASCII letters in both cases), or that lead a case-folding character.
    private static let interesting: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in Array("-:.?&aApPtTsScCbBgxkdD".utf8) { table[Int(byte)] = true }
        for byte: UInt8 in [0xC3, 0xC4, 0xC5, 0xC7, 0xE1, 0xE2, 0xEF] { table[Int(byte)] = true }
        return table
    }()

    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Self {
        var found: Self = []
        var sawKind = false
        var sawData = false
        var sawDataColon = false
        var sawSecret = false
        var exotic = false
        let count = bytes.count
        let interesting = Self.interesting
        var index = 0
        while index < count {
            let byte = bytes[index]
            guard interesting[Int(byte)] else {
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "-"):
                if bytes.has("-----BEGIN", at: index) { found.insert(.pemBlock) }
            case UInt8(ascii: ":"):
                if bytes.has("://", at: index) {
                    if index >= 5, bytes.has("https://hooks.slack.com/", at: index - 5) { found.insert(.slackWebhook) }
                    if bytes.hasURLCredentials(after: index + 3) { found.insert(.urlCredentials) }
                }
            case UInt8(ascii: "."):
                if bytes.has(".eyJ", at: index) { found.insert(.jwt) }
            case UInt8(ascii: "?"), UInt8(ascii: "&"):
                if bytes.hasFolded("sig=", at: index + 1) { found.insert(.sasSignature) }
            case UInt8(ascii: "g"):
                if index + 3 < count, bytes[index + 1] == UInt8(ascii: "h"), bytes[index + 3] == UInt8(ascii: "_"),
                    bytes.isOne(of: "pousr", at: index + 2)
                {
                    found.insert(.gitHubToken)
                }
                if bytes.has("github_pat_", at: index) { found.insert(.gitHubPAT) }
            case UInt8(ascii: "x"):
                if index + 4 < count, bytes.has("xox", at: index), bytes[index + 4] == UInt8(ascii: "-"),
                    bytes.isOne(of: "abprse", at: index + 3)
                {
                    found.insert(.slackToken)
                }
            case UInt8(ascii: "k"):
                if bytes.has("kind", at: index) { sawKind = true }
            case UInt8(ascii: "d"), UInt8(ascii: "D"):
                if bytes.has("ata", at: index + 1) {
                    sawData = true
                    if bytes.has(":", at: index + 4) { sawDataColon = true }
                }
            case UInt8(ascii: "S") where bytes.has("Secret", at: index):
                sawSecret = true
                found.formUnion(bytes.keyValueRules(afterKeyword: index + 6))
            case 0x80...:
                if bytes.isCaseFoldingToASCII(at: index) { exotic = true }
            default:
                found.formUnion(bytes.foldedTriggers(at: index))
            }
            index += 1
        }
        if sawSecret {
            if sawKind && sawData { found.formUnion([.secretJSONKindFirst, .secretJSONDataFirst]) }
            if sawDataColon { found.insert(.secretYAML) }
        }
        if exotic { found.formUnion(.caseInsensitive) }
        return found
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// `literal`'s bytes at `index`, exactly.
    fileprivate func has(_ literal: StaticString, at index: Int) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index >= 0, index + length <= count else { return false }
        let start = literal.utf8Start
        for offset in 0..<length where self[index + offset] != start[offset] { return false }
        return true
    }

    /// The byte at `index` is one of `choices`.
    fileprivate func isOne(of choices: StaticString, at index: Int) -> Bool {
        guard index >= 0, index < count else { return false }
        let byte = self[index]
        for offset in 0..<choices.utf8CodeUnitCount where choices.utf8Start[offset] == byte { return true }
        return false
    }

    /// `literal` (lowercase ASCII) at `index`, ASCII letters in either case.
    fileprivate func hasFolded(_ literal: StaticString, at index: Int) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index >= 0, index + length <= count else { return false }
        let start = literal.utf8Start
        for offset in 0..<length {
            let expected = start[offset]
            let byte = self[index + offset]
            if expected >= UInt8(ascii: "a") && expected <= UInt8(ascii: "z") {
                if byte | 0x20 != expected { return false }
            } else if byte != expected {
                return false
            }
        }
        return true
    }

    /// The case-insensitive triggers starting at `index` (an ASCII letter).
    fileprivate func foldedTriggers(at index: Int) -> RedactionTriggers {
        var found: RedactionTriggers = []
        switch self[index] | 0x20 {
        case UInt8(ascii: "a"):
            if hasFolded("authorization", at: index) { found.insert(.authorization) }
            if hasFolded("accountkey=", at: index) { found.insert(.azureKey) }
            if hasFolded("api", at: index) {
                var end = index + 3
                if end < count, self[end] == UInt8(ascii: "_") || self[end] == UInt8(ascii: "-") { end += 1 }
                if hasFolded("key", at: end) { found.formUnion(keyValueRules(afterKeyword: end + 3)) }
            }
            if hasFolded("access", at: index) {
                var end = index + 6
                if end < count, self[end] == UInt8(ascii: "_") || self[end] == UInt8(ascii: "-") { end += 1 }
                if hasFolded("key", at: end) { found.formUnion(keyValueRules(afterKeyword: end + 3)) }
            }
            if index + 4 <= count {
                // Case-sensitive shapes that start with `A`.
                if has("AKIA", at: index) || has("ASIA", at: index) || has("AGPA", at: index)
                    || has("AIDA", at: index) || has("AROA", at: index) || has("ANPA", at: index)
                {
                    found.insert(.awsKeyID)
                }
                if has("AIza", at: index) { found.insert(.googleAPIKey) }
            }
        case UInt8(ascii: "p"):
            if hasFolded("passw", at: index) {
                if hasFolded("ord", at: index + 5) { found.formUnion(keyValueRules(afterKeyword: index + 8)) }
                if hasFolded("d", at: index + 5) { found.formUnion(keyValueRules(afterKeyword: index + 6)) }
            }
            if hasFolded("private", at: index) {
                var end = index + 7
                if end < count, self[end] == UInt8(ascii: "_") || self[end] == UInt8(ascii: "-") { end += 1 }
                if hasFolded("key", at: end) { found.formUnion(keyValueRules(afterKeyword: end + 3)) }
            }
        case UInt8(ascii: "t"):
            if hasFolded("token", at: index) { found.formUnion(keyValueRules(afterKeyword: index + 5)) }
        case UInt8(ascii: "s"):
            if hasFolded("secret", at: index) { found.formUnion(keyValueRules(afterKeyword: index + 6)) }
            if hasFolded("sharedaccess", at: index),
                hasFolded("key=", at: index + 12) || hasFolded("signature=", at: index + 12)
            {
                found.insert(.azureKey)
            }
        case UInt8(ascii: "c"):
            if hasFolded("credential", at: index) {
                found.formUnion(keyValueRules(afterKeyword: index + 10, plural: true))
            }
        case UInt8(ascii: "b"):
            if hasFolded("bearer", at: index) { found.insert(.bearer) }
        default:
            break
        }
        return found
    }

    /// The key/value rules, if a secret-named key ending at `end` can be followed by `:` or `=` the way their
    /// patterns allow: more key characters (a suffix such as `_key` or `_id`), an optional `\`, an optional quote,
    /// whitespace (any non-ASCII byte counts as possible whitespace).
    fileprivate func keyValueRules(afterKeyword end: Int, plural: Bool = false) -> RedactionTriggers {
        var index = end
        while index < count, Self.isKeyByte(self[index]) { index += 1 }
        // The key characters after the keyword are exactly a suffix the patterns allow (`passwordSecretRef` is not).
        let pluralSuffix =
            plural && end < index && self[end] | 0x20 == UInt8(ascii: "s") && isKeySuffix(end + 1..<index)
        guard isKeySuffix(end..<index) || pluralSuffix else { return [] }
        if index < count, self[index] == UInt8(ascii: "\\") { index += 1 }
        if index < count, self[index] == UInt8(ascii: "\"") || self[index] == UInt8(ascii: "'") { index += 1 }
        while index < count, self[index] >= 0x80 || Self.isASCIIWhitespace(self[index]) { index += 1 }
        guard index < count, self[index] == UInt8(ascii: ":") || self[index] == UInt8(ascii: "=") else { return [] }
        return [.quotedKeyValue, .bareKeyValue]
    }

    /// `range` is empty or one of the key suffixes the patterns allow: `[_-]?(key|value|id|token|access[_-]?key)`,
    /// ASCII letters in either case.
    private func isKeySuffix(_ range: Range<Int>) -> Bool {
        var start = range.lowerBound
        let end = range.upperBound
        guard start < end else { return true }
        if self[start] == UInt8(ascii: "_") || self[start] == UInt8(ascii: "-") { start += 1 }
        func word(_ literal: StaticString, at index: Int) -> Bool {
            index + literal.utf8CodeUnitCount == end && hasFolded(literal, at: index)
        }
        if word("key", at: start) || word("value", at: start) || word("id", at: start) || word("token", at: start) {
            return true
        }
        guard hasFolded("access", at: start) else { return false }
        var key = start + 6
        if key < end, self[key] == UInt8(ascii: "_") || self[key] == UInt8(ascii: "-") { key += 1 }
        return word("key", at: key)
    }

    /// `user:password@` right after a `://` (the credentials pattern's shape: characters other than `/`,
    /// whitespace, `@`, quotes and angle brackets, at least one each side of the first `:`).
    fileprivate func hasURLCredentials(after start: Int) -> Bool {
        var index = start
        while index < count, !Self.endsURLUser(self[index]) { index += 1 }
        guard index > start, index < count, self[index] == UInt8(ascii: ":") else { return false }
        index += 1
        let passwordStart = index
        while index < count, !Self.endsURLUser(self[index]) || self[index] == UInt8(ascii: ":") { index += 1 }
        return index > passwordStart && index < count && self[index] == UInt8(ascii: "@")
    }

    /// A character that case folding maps onto ASCII letters starts at `index`.
    fileprivate func isCaseFoldingToASCII(at index: Int) -> Bool {
        guard index + 1 < count else { return false }
        let second = self[index + 1]
        switch self[index] {
        case 0xC3: return second == 0x9F  // ß
        case 0xC4: return second == 0xB0  // İ
        case 0xC5: return second == 0x89 || second == 0xBF  // ŉ ſ
        case 0xC7: return second == 0xB0  // ǰ
        case 0xE1:  // ẖ ẗ ẘ ẙ ẚ ẞ
            guard index + 2 < count, second == 0xBA else { return false }
            return (0x96...0x9A).contains(self[index + 2]) || self[index + 2] == 0x9E
        case 0xE2: return index + 2 < count && second == 0x84 && self[index + 2] == 0xAA  // K (Kelvin)
        case 0xEF: return index + 2 < count && second == 0xAC && (0x80...0x86).contains(self[index + 2])  // ﬀ…ﬆ
        default: return false
        }
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Ends the user part of URL credentials: `/`, ASCII whitespace, `:`, `@`, quotes, `<`, `>`.
    private static func endsURLUser(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "\""), UInt8(ascii: "'"),
            UInt8(ascii: "<"), UInt8(ascii: ">"):
            return true
        default:
            return isASCIIWhitespace(byte)
        }
    }
}
