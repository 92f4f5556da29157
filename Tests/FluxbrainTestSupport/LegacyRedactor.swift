import FluxbrainCore
import Foundation

/// The regular-expression `Redactor` as it was before the byte-level fast path (issue 13): the reference the
/// differential tests and `fluxbrain-bench redaction` compare the production `Redactor` against. Not used by the
/// product. Keep it unchanged: it defines what "the same output as before" means.
package struct LegacyRedactor: Sendable {
    /// The replacement for a secret.
    package static let marker = "[REDACTED]"

    /// Texts longer than this (UTF-8 bytes) are cut to it before scanning, so a huge input costs bounded time.
    package var scanLimit: Int

    package init(scanLimit: Int = 256 * 1024) {
        self.scanLimit = scanLimit
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    package func redact(_ text: String) -> String {
        var text = text
        if text.utf8.count > scanLimit { text = Self.truncate(text, limit: scanLimit) }
        if text.contains("Secret") {
            for rule in LegacyRedactionRules.shared.secretObjectRules {
                text = rule.apply(to: text)
            }
        }
        for rule in LegacyRedactionRules.shared.rules {
            text = rule.apply(to: text)
        }
        return text
    }

    /// `value` with every string redacted, secret-named keys' values replaced and Kubernetes Secret data removed.
    package func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(redactString(inJSON: text))
        case .array(let items):
            return .array(items.map(redact))
        case .object(let members):
            let isSecret = members["kind"]?.stringValue == "Secret"
            var result: [String: JSONValue] = [:]
            result.reserveCapacity(members.count)
            for (key, member) in members {
                if isSecret, key == "data" || key == "stringData", case .object(let entries) = member {
                    result[key] = .object(entries.mapValues { _ in .string(Self.marker) })
                } else if Self.isSecretKey(key), case .string = member {
                    result[key] = .string(Self.marker)
                } else {
                    result[key] = redact(member)
                }
            }
            return .object(result)
        case .null, .bool, .int, .double:
            return value
        }
    }

    /// `text` cut to at most `limit` UTF-8 bytes (on a character boundary), followed by an explicit marker
    /// `… [truncated N bytes]` naming how many bytes were dropped; unchanged when it fits.
    package static func truncate(_ text: String, limit: Int) -> String {
        let total = text.utf8.count
        guard total > limit else { return text }
        var kept = 0
        var end = text.startIndex
        for index in text.indices {
            let next = text.index(after: index)
            let size = text.utf8.distance(from: index, to: next)
            if kept + size > max(0, limit) { break }
            kept += size
            end = next
        }
        return String(text[..<end]) + "… [truncated \(total - kept) bytes]"
    }

    /// `true` if `key` names a secret (`password`, `db_password`, `apiKey`, `client_secret`, `token`, …) but not a
    /// reference to one (`passwordSecretRef`, `secretName`, `tokenFile` are left alone).
    package static func isSecretKey(_ key: String) -> Bool {
        let normalized = key.lowercased().filter { $0 != "_" && $0 != "-" && $0 != "." }
        for suffix in ["ref", "refs", "name", "names", "file", "path", "namespace"] where normalized.hasSuffix(suffix) {
            return false
        }
        for word in [
            "password", "passwd", "token", "secret", "apikey", "privatekey", "accesskey", "accountkey", "credential",
        ]
        where normalized.contains(word) {
            return true
        }
        return false
    }

    // MARK: Private

    /// Strings inside JSON may themselves be JSON (e.g. `kubectl.kubernetes.io/last-applied-configuration`):
    /// those are parsed and redacted structurally, so a Secret's data inside an annotation is removed too.
    private func redactString(inJSON text: String) -> String {
        if text.first == "{", text.utf8.count <= scanLimit, text.contains("\"kind\""),
            let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
            case .object = parsed,
            let encoded = try? StableJSON.string(redact(parsed))
        {
            return redact(encoded)
        }
        return redact(text)
    }
}

/// One compiled pattern and its replacement template.
private struct LegacyRedactionRule {
    let regex: NSRegularExpression
    let template: String

    init(_ pattern: String, _ template: String = LegacyRedactor.marker, caseInsensitive: Bool = false) {
        // The patterns are constants: a bad one is a programming error caught by the first test run.
        self.regex = try! NSRegularExpression(
            pattern: pattern,
            options: caseInsensitive ? [.caseInsensitive] : []
        )
        self.template = template
    }

    func apply(to text: String) -> String {
        let range = NSRange(text.startIndex..., in: text)
        guard regex.firstMatch(in: text, options: [], range: range) != nil else { return text }
        return regex.stringByReplacingMatches(in: text, options: [], range: range, withTemplate: template)
    }
}

/// The compiled rules, in the order they run (block-level first, then shapes, then key/value forms).
private final class LegacyRedactionRules: @unchecked Sendable {
    // Immutable after init; NSRegularExpression is safe to use from several threads.
    static let shared = LegacyRedactionRules()

    let rules: [LegacyRedactionRule]
    /// Applied only to text that mentions `Secret`: the values of a Secret's `data`/`stringData` in text, as JSON
    /// (`"kind":"Secret"` … `"data":{…}`, either order) or as YAML (any `data:`/`stringData:` block's indented lines).
    let secretObjectRules: [LegacyRedactionRule]

    private init() {
        // `q` matches a quote, escaped or not (JSON inside a logged JSON string).
        let q = #"\\?""#
        secretObjectRules = [
            LegacyRedactionRule(
                #"(?s)("# + q + #"kind"# + q + #"\s*:\s*"# + q + #"Secret"# + q + #".*?"# + q + #"(?:data|stringData)"#
                    + q
                    + #"\s*:\s*\{)[^{}]*(\})"#,
                "$1" + LegacyRedactor.marker + "$2"
            ),
            LegacyRedactionRule(
                #"(?s)("# + q + #"(?:data|stringData)"# + q + #"\s*:\s*\{)[^{}]*(\}.*?"# + q + #"kind"# + q
                    + #"\s*:\s*"#
                    + q + #"Secret"# + q + ")",
                "$1" + LegacyRedactor.marker + "$2"
            ),
            LegacyRedactionRule(
                #"(?m)(^([ \t]*)(?:data|stringData):[ \t]*\n)(?:\2[ \t]+[^\n]*(?:\n|$))+"#,
                "$1$2  " + LegacyRedactor.marker + "\n"
            ),
        ]
        let notRedacted = #"(?!\[REDACTED\])"#
        // Keys that name a secret; a lazy prefix and a short list of suffixes keep `passwordSecretRef` out.
        let secretKey =
            #"[A-Za-z0-9_.-]*?(?:password|passwd|token|secret|api[_-]?key|apikey|private[_-]?key|access[_-]?key|client[_-]?secret|credentials?)(?:[_-]?(?:key|value|id|access[_-]?key|token))?"#
        rules = [
            // PEM private keys, terminated or cut off.
            LegacyRedactionRule(
                #"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)"#
            ),
            // Authorization header values (with or without a scheme), also as a JSON member.
            LegacyRedactionRule(
                #"(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s+)?"#
                    + notRedacted + #"[^\s"',;]+(?:[ ,]+[A-Za-z]+=[^\s"',;]+)*"#,
                "$1" + LegacyRedactor.marker,
                caseInsensitive: true
            ),
            // Slack webhook URLs: the path is the secret.
            LegacyRedactionRule(#"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"#),
            // Credentials in URLs: scheme://user:password@host.
            LegacyRedactionRule(
                #"\b([a-z][a-z0-9+.-]*://)[^/\s:@"'<>]+:[^/\s@"'<>]+@"#,
                "$1" + LegacyRedactor.marker + "@",
                caseInsensitive: true
            ),
            // Token shapes.
            LegacyRedactionRule(#"\b(?:gh[pousr])_[A-Za-z0-9]{30,255}\b"#),
            LegacyRedactionRule(#"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"#),
            LegacyRedactionRule(#"\bxox[abprse]-[A-Za-z0-9-]{10,}"#),
            LegacyRedactionRule(#"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"#),
            LegacyRedactionRule(#"\bAIza[0-9A-Za-z_-]{35}"#),
            LegacyRedactionRule(#"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"#),
            // Azure storage and service bus keys and SAS signatures.
            LegacyRedactionRule(
                #"\b((?:AccountKey|SharedAccessKey|SharedAccessSignature)=)"# + notRedacted + #"[^;\s"']+"#,
                "$1" + LegacyRedactor.marker,
                caseInsensitive: true
            ),
            LegacyRedactionRule(
                #"([?&]sig=)"# + notRedacted + #"[^&\s"']+"#,
                "$1" + LegacyRedactor.marker,
                caseInsensitive: true
            ),
            // key = "quoted value" / key: 'quoted value' / "key": "value".
            LegacyRedactionRule(
                #"((?<![A-Za-z0-9_.-])["']?"# + secretKey + #"["']?\s*[:=]\s*)"# + #"(["'])"# + notRedacted
                    + #"(?:\\.|(?!\2)[^\\\n])*\2"#,
                "$1$2" + LegacyRedactor.marker + "$2",
                caseInsensitive: true
            ),
            // key=value / key: value, bare or with an escaped quote (`\"password\":\"…\"` in a logged JSON string).
            LegacyRedactionRule(
                #"((?<![A-Za-z0-9_.-])\\?["']?"# + secretKey + #"\\?["']?\s*[:=]\s*\\?["']?)"# + notRedacted
                    + #"[^\s,;&"'}\])\\]+"#,
                "$1" + LegacyRedactor.marker,
                caseInsensitive: true
            ),
            // Bearer tokens anywhere.
            LegacyRedactionRule(
                #"(\bbearer\s+)"# + notRedacted + #"[A-Za-z0-9._~+/-]+=*"#,
                "$1" + LegacyRedactor.marker,
                caseInsensitive: true
            ),
        ]
    }
}
