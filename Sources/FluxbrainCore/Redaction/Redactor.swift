import Foundation

/// Removes secrets from text and JSON before anything leaves the process: to Errorbrain, to notifications, to logs.
///
/// Each secret is replaced by `[REDACTED]`; the text around it (the key name, the URL's host, the header name)
/// stays, so the message remains useful. What it finds (see docs/redaction.md):
/// - PEM private key blocks (`-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`, also unterminated);
/// - `Authorization` header values and `Bearer` tokens;
/// - credentials in URLs (`scheme://user:password@host`);
/// - values of keys named like `password`, `passwd`, `token`, `secret`, `api_key`, `apikey`, `private_key`,
///   `access_key`, `AccountKey`, in `key=value`, `key: value` and JSON `"key": "value"` forms;
/// - AWS access key ids (`AKIA…`/`ASIA…`) and secret access keys in context;
/// - GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`);
/// - Slack tokens (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`) and Slack webhook URLs;
/// - Google API keys (`AIza…`), Azure `AccountKey=`/`SharedAccessKey=` values and SAS `sig=` signatures;
/// - JSON Web Tokens (`eyJ….eyJ….…`);
/// - in JSON: any Kubernetes `Secret` object's `data`/`stringData` values, and string values of secret-named keys.
///
/// Pure and thread-safe; the patterns are compiled once per process.
package struct Redactor: Sendable {
    /// The replacement for a secret.
    package static let marker = "[REDACTED]"

    /// Texts longer than this (UTF-8 bytes) are cut to it before scanning, so a huge input costs bounded time.
    package var scanLimit: Int

    package init(scanLimit: Int = 256 * 1024) {
        self.scanLimit = scanLimit
    }

    /// `text` with every secret replaced by `[REDACTED]`.
    ///
    /// One pass over the bytes finds which rules could match (``RedactionTriggers``); only those run their
    /// patterns, so a text without a trigger (most of them) costs that scan and is returned as is.
    package func redact(_ text: String) -> String {
        var text = text
        if text.utf8.count > scanLimit { text = Self.truncate(text, limit: scanLimit) }
        var triggers = RedactionTriggers(scanning: text)
        if triggers.isEmpty { return text }
        let rules = RedactionRules.shared
        // `contains` as before (it compares characters, so the bytes alone do not decide it).
        if !triggers.isDisjoint(with: RedactionRules.secretObjectTriggers), text.contains("Secret") {
            for rule in rules.secretObjectRules where triggers.contains(rule.trigger) {
                if let changed = rule.replacing(in: text) {
                    text = changed
                    triggers = RedactionTriggers(scanning: text)
                }
            }
        }
        for rule in rules.rules where triggers.contains(rule.trigger) {
            if let changed = rule.replacing(in: text) {
                text = changed
                // Text that was apart now stands together: look for triggers again.
                triggers = RedactionTriggers(scanning: text)
            }
        }
        return text
    }

    /// `value` with every string redacted, secret-named keys' values replaced and Kubernetes Secret data removed.
    ///
    /// Parts that redaction leaves as they are come back as they were, sharing their storage: a status without a
    /// secret (most of them) costs the scan of its strings, no copy, and compares equal to the input at once.
    package func redact(_ value: JSONValue) -> JSONValue {
        redactedIfChanged(value) ?? value
    }

    /// `value` redacted as by `redact(_:)`, or `nil` when that leaves it as it is.
    private func redactedIfChanged(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .string(let text):
            let redacted = redactString(inJSON: text)
            return redacted.utf8.elementsEqual(text.utf8) ? nil : .string(redacted)
        case .array(let items):
            var result: [JSONValue]?
            for (index, item) in items.enumerated() {
                guard let changed = redactedIfChanged(item) else { continue }
                if result == nil { result = items }
                result![index] = changed
            }
            return result.map(JSONValue.array)
        case .object(let members):
            let isSecret = members["kind"]?.stringValue == "Secret"
            var result: [String: JSONValue]?
            for (key, member) in members {
                let changed: JSONValue?
                if isSecret, key == "data" || key == "stringData", case .object(let entries) = member {
                    changed = .object(entries.mapValues { _ in .string(Self.marker) })
                } else if Self.isSecretKey(key), case .string(let text) = member {
                    changed = text.utf8.elementsEqual(Self.marker.utf8) ? nil : .string(Self.marker)
                } else {
                    changed = redactedIfChanged(member)
                }
                guard let changed else { continue }
                if result == nil { result = members }
                result![key] = changed
            }
            return result.map(JSONValue.object)
        case .null, .bool, .int, .double:
            return nil
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
        if let answer = isSecretASCIIKey(key) { return answer }
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

    /// `true` if `text` may be a JSON object that JSON redaction parses and redacts structurally (it starts with
    /// `{` and mentions `"kind"`), where text redaction alone could differ.
    package static func mayHoldJSONObject(_ text: String) -> Bool {
        text.first == "{" && text.contains("\"kind\"")
    }

    // MARK: Private

    /// `isSecretKey` over the bytes of an ASCII key without allocating (keys are short); `nil` for other keys.
    private static func isSecretASCIIKey(_ key: String) -> Bool? {
        let utf8 = key.utf8
        guard utf8.count <= 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer -> Bool? in
            var length = 0
            var index = utf8.startIndex
            while index != utf8.endIndex {
                let byte = utf8[index]
                index = utf8.index(after: index)
                if byte >= 0x80 { return nil }
                if byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") { continue }
                buffer[length] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                length += 1
            }
            let normalized = UnsafeBufferPointer(rebasing: buffer[..<length])
            func hasSuffix(_ suffix: StaticString) -> Bool {
                let count = suffix.utf8CodeUnitCount
                guard count <= length else { return false }
                return (0..<count).allSatisfy { normalized[length - count + $0] == suffix.utf8Start[$0] }
            }
            func contains(_ word: StaticString) -> Bool {
                let count = word.utf8CodeUnitCount
                guard count <= length else { return false }
                return (0...(length - count)).contains { start in
                    (0..<count).allSatisfy { normalized[start + $0] == word.utf8Start[$0] }
                }
            }
            for suffix: StaticString in ["ref", "refs", "name", "names", "file", "path", "namespace"]
            where hasSuffix(suffix) {
                return false
            }
            for word: StaticString in [
                "password", "passwd", "token", "secret", "apikey", "privatekey", "accesskey", "accountkey",
                "credential",
            ]
            where contains(word) {
                return true
            }
            return false
        }
    }

    /// Strings inside JSON may themselves be JSON (e.g. `kubectl.kubernetes.io/last-applied-configuration`):
    /// those are parsed and redacted structurally, so a Secret's data inside an annotation is removed too.
    private func redactString(inJSON text: String) -> String {
        if Self.mayHoldJSONObject(text), text.utf8.count <= scanLimit,
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
private struct RedactionRule {
    /// What a text must contain for `regex` to match it.
    let trigger: RedactionTriggers
    let regex: NSRegularExpression
    let template: String

    init(
        _ trigger: RedactionTriggers,
        _ pattern: String,
        _ template: String = Redactor.marker,
        caseInsensitive: Bool = false
    ) {
        self.trigger = trigger
        // The patterns are constants: a bad one is a programming error caught by the first test run.
        self.regex = try! NSRegularExpression(
            pattern: pattern,
            options: caseInsensitive ? [.caseInsensitive] : []
        )
        self.template = template
    }

    /// `text` with every match replaced, or `nil` when nothing matches.
    func replacing(in text: String) -> String? {
        // One search: a triggered rule usually matches, so no `firstMatch` first.
        let range = NSRange(text.startIndex..., in: text)
        let replaced = regex.stringByReplacingMatches(in: text, options: [], range: range, withTemplate: template)
        return replaced.utf8.elementsEqual(text.utf8) ? nil : replaced
    }
}

/// The compiled rules, in the order they run (block-level first, then shapes, then key/value forms), each with the
/// trigger that must be in a text for its pattern to match.
private final class RedactionRules: @unchecked Sendable {
    // Immutable after init; NSRegularExpression is safe to use from several threads.
    static let shared = RedactionRules()

    static let secretObjectTriggers: RedactionTriggers = [.secretJSONKindFirst, .secretJSONDataFirst, .secretYAML]

    let rules: [RedactionRule]
    /// Applied only to text that mentions `Secret`: the values of a Secret's `data`/`stringData` in text, as JSON
    /// (`"kind":"Secret"` … `"data":{…}`, either order) or as YAML (any `data:`/`stringData:` block's indented lines).
    let secretObjectRules: [RedactionRule]

    private init() {
        // `q` matches a quote, escaped or not (JSON inside a logged JSON string).
        let q = #"\\?""#
        secretObjectRules = [
            RedactionRule(
                .secretJSONKindFirst,
                #"(?s)("# + q + #"kind"# + q + #"\s*:\s*"# + q + #"Secret"# + q + #".*?"# + q + #"(?:data|stringData)"#
                    + q
                    + #"\s*:\s*\{)[^{}]*(\})"#,
                "$1" + Redactor.marker + "$2"
            ),
            RedactionRule(
                .secretJSONDataFirst,
                #"(?s)("# + q + #"(?:data|stringData)"# + q + #"\s*:\s*\{)[^{}]*(\}.*?"# + q + #"kind"# + q
                    + #"\s*:\s*"#
                    + q + #"Secret"# + q + ")",
                "$1" + Redactor.marker + "$2"
            ),
            RedactionRule(
                .secretYAML,
                #"(?m)(^([ \t]*)(?:data|stringData):[ \t]*\n)(?:\2[ \t]+[^\n]*(?:\n|$))+"#,
                "$1$2  " + Redactor.marker + "\n"
            ),
        ]
        let notRedacted = #"(?!\[REDACTED\])"#
        // Keys that name a secret; a lazy prefix and a short list of suffixes keep `passwordSecretRef` out.
        let secretKey =
            #"[A-Za-z0-9_.-]*?(?:password|passwd|token|secret|api[_-]?key|apikey|private[_-]?key|access[_-]?key|client[_-]?secret|credentials?)(?:[_-]?(?:key|value|id|access[_-]?key|token))?"#
        rules = [
            // PEM private keys, terminated or cut off.
            RedactionRule(
                .pemBlock,
                #"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)"#
            ),
            // Authorization header values (with or without a scheme), also as a JSON member.
            RedactionRule(
                .authorization,
                #"(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s+)?"#
                    + notRedacted + #"[^\s"',;]+(?:[ ,]+[A-Za-z]+=[^\s"',;]+)*"#,
                "$1" + Redactor.marker,
                caseInsensitive: true
            ),
            // Slack webhook URLs: the path is the secret.
            RedactionRule(.slackWebhook, #"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"#),
            // Credentials in URLs: scheme://user:password@host.
            RedactionRule(
                .urlCredentials,
                #"\b([a-z][a-z0-9+.-]*://)[^/\s:@"'<>]+:[^/\s@"'<>]+@"#,
                "$1" + Redactor.marker + "@",
                caseInsensitive: true
            ),
            // Token shapes.
            RedactionRule(.gitHubToken, #"\b(?:gh[pousr])_[A-Za-z0-9]{30,255}\b"#),
            RedactionRule(.gitHubPAT, #"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"#),
            RedactionRule(.slackToken, #"\bxox[abprse]-[A-Za-z0-9-]{10,}"#),
            RedactionRule(.awsKeyID, #"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"#),
            RedactionRule(.googleAPIKey, #"\bAIza[0-9A-Za-z_-]{35}"#),
            RedactionRule(.jwt, #"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"#),
            // Azure storage and service bus keys and SAS signatures.
            RedactionRule(
                .azureKey,
                #"\b((?:AccountKey|SharedAccessKey|SharedAccessSignature)=)"# + notRedacted + #"[^;\s"']+"#,
                "$1" + Redactor.marker,
                caseInsensitive: true
            ),
            RedactionRule(
                .sasSignature,
                #"([?&]sig=)"# + notRedacted + #"[^&\s"']+"#,
                "$1" + Redactor.marker,
                caseInsensitive: true
            ),
            // key = "quoted value" / key: 'quoted value' / "key": "value".
            RedactionRule(
                .quotedKeyValue,
                #"((?<![A-Za-z0-9_.-])["']?"# + secretKey + #"["']?\s*[:=]\s*)"# + #"(["'])"# + notRedacted
                    + #"(?:\\.|(?!\2)[^\\\n])*\2"#,
                "$1$2" + Redactor.marker + "$2",
                caseInsensitive: true
            ),
            // key=value / key: value, bare or with an escaped quote (`\"password\":\"…\"` in a logged JSON string).
            RedactionRule(
                .bareKeyValue,
                #"((?<![A-Za-z0-9_.-])\\?["']?"# + secretKey + #"\\?["']?\s*[:=]\s*\\?["']?)"# + notRedacted
                    + #"[^\s,;&"'}\])\\]+"#,
                "$1" + Redactor.marker,
                caseInsensitive: true
            ),
            // Bearer tokens anywhere.
            RedactionRule(
                .bearer,
                #"(\bbearer\s+)"# + notRedacted + #"[A-Za-z0-9._~+/-]+=*"#,
                "$1" + Redactor.marker,
                caseInsensitive: true
            ),
        ]
    }
}
