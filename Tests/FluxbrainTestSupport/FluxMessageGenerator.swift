import FluxbrainCore

/// Deterministic Flux-like texts for the redaction differential tests and `fluxbrain-bench redaction`: condition
/// messages, event messages and controller log lines as Flux writes them, some carrying a fake secret of one of the
/// shapes the `Redactor` knows, some near misses (`passwordSecretRef`, `ssh://git@…`, `secret "…" not found`), and
/// some with the non-ASCII characters that case folding maps onto ASCII letters.
package struct FluxMessageGenerator: Sendable {
    private var state: UInt64

    /// The same seed gives the same texts, in the same order, on every run and platform.
    package init(seed: UInt64) {
        self.state = seed
    }

    /// A message; with `secret`, one that carries a secret (of a shape chosen at random).
    package mutating func message(secret: Bool) -> String {
        let plain = pick(Self.templates)(&self)
        guard secret else {
            return next(100) < 15 ? plain + " " + pick(Self.nearMisses)(&self) : plain
        }
        let carried = pick(Self.secrets)(&self)
        switch next(3) {
        case 0: return carried + ": " + plain
        case 1: return plain + ": " + carried
        default: return plain + " (" + carried + ") " + pick(Self.templates)(&self)
        }
    }

    /// A message of any kind: plain, with a secret, a near miss, or odd characters, in the proportions a
    /// differential test wants (about a third each with and without secrets).
    package mutating func anyMessage() -> String {
        switch next(10) {
        case 0...3: return message(secret: false)
        case 4...7: return message(secret: true)
        case 8: return mangle(message(secret: next(2) == 0))
        default: return message(secret: true) + "\n" + message(secret: true)
        }
    }

    /// A JSON value shaped like a Flux object's status, with messages from `anyMessage()`, secret-named keys,
    /// references to secrets and, now and then, a Kubernetes Secret or a last-applied-configuration annotation.
    package mutating func status() -> JSONValue {
        var condition: [String: JSONValue] = [
            "type": .string("Ready"), "status": .string("False"), "reason": .string(pick(Self.reasons)),
            "message": .string(anyMessage()), "lastTransitionTime": .string(timestamp()),
            "observedGeneration": .int(Int64(next(40))),
        ]
        if next(4) == 0 { condition[pick(Self.keys)] = .string(word() + word()) }
        var status: [String: JSONValue] = [
            "conditions": .array([.object(condition)]),
            "lastAttemptedRevision": .string(revision()),
            "observedGeneration": .int(Int64(next(40))),
        ]
        if next(5) == 0 {
            status["inventory"] = .object([
                "entries": .array((0..<next(4)).map { _ in .object(["id": .string(word() + "_" + word())]) })
            ])
        }
        switch next(8) {
        case 0:
            status["secret"] = .object([
                "apiVersion": .string("v1"), "kind": .string("Secret"),
                "metadata": .object(["name": .string(word())]),
                "data": .object([word() + "-1": .string(base64()), word() + "-2": .string(base64())]),
            ])
        case 1:
            let secretData = "{\"" + word() + "\":\"" + base64() + "\"}"
            let secretAnnotation =
                "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"x\"},\"data\":" + secretData + "}"
            let configMapAnnotation = "{\"kind\":\"ConfigMap\",\"data\":{\"password\":\"" + word() + "\"}}"
            let annotation = next(2) == 0 ? secretAnnotation : configMapAnnotation
            status["metadata"] = .object([
                "annotations": .object(["kubectl.kubernetes.io/last-applied-configuration": .string(annotation)])
            ])
        case 2:
            status["passwordSecretRef"] = .object(["name": .string(word() + "-creds")])
            status["tokenFile"] = .string("/var/run/secrets/" + word())
        default:
            break
        }
        return .object(status)
    }

    /// A key for `Redactor.isSecretKey`: secret names, references, ordinary keys, odd spellings.
    package mutating func key() -> String {
        var key = pick(Self.keys)
        if next(3) == 0 { key = word() + pick(["_", "-", ".", ""]) + key }
        if next(3) == 0 { key += pick(["Ref", "_name", "File", "Path", "Key", "_id", "Namespace", ""]) }
        if next(10) == 0 { key = mangle(key) }
        if next(4) == 0 { key = key.uppercased() }
        return key
    }

    /// A number in `0..<bound` (SplitMix64).
    package mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }

    // MARK: Pieces

    private mutating func pick<T>(_ items: [T]) -> T {
        items[next(items.count)]
    }

    private mutating func word() -> String {
        pick(Self.words)
    }

    private mutating func characters(_ count: Int, from alphabet: String) -> String {
        let letters = Array(alphabet)
        return String((0..<count).map { _ in letters[next(letters.count)] })
    }

    private mutating func alphanumeric(_ count: Int) -> String {
        characters(count, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    }

    private mutating func base64() -> String {
        characters(8 + next(40), from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") + "=="
    }

    private mutating func revision() -> String {
        "main@sha1:" + characters(40, from: "0123456789abcdef")
    }

    private mutating func timestamp() -> String {
        "2026-0\(1 + next(9))-1\(next(10))T0\(next(10)):\(10 + next(50)):\(10 + next(50))Z"
    }

    /// Puts a case-folding or combining character, an emoji or a non-breaking space somewhere in `text`.
    private mutating func mangle(_ text: String) -> String {
        var characters = Array(text)
        let odd: [Character] = [
            "ſ", "\u{212A}", "ß", "İ", "ﬅ", "é", "e\u{301}", "\u{00A0}", "…", "🔥", "\u{2028}", "ı", "ǰ",
        ]
        for _ in 0..<(1 + next(3)) {
            let index = characters.isEmpty ? 0 : next(characters.count)
            if next(2) == 0, !characters.isEmpty {
                characters[index] = odd[next(odd.count)]
            } else {
                characters.insert(odd[next(odd.count)], at: index)
            }
        }
        return String(characters)
    }

    private static let words = [
        "podinfo", "flux-system", "apps", "infra", "db", "redis", "ingress-nginx", "cert-manager", "monitoring",
        "payments", "frontend", "git-creds", "backend", "prod-eu-1", "staging", "kube-prometheus-stack", "api",
    ]

    private static let reasons = [
        "BuildFailed", "ReconciliationFailed", "HealthCheckFailed", "DependencyNotReady", "ArtifactFailed",
        "InstallFailed", "UpgradeFailed", "GitOperationFailed", "AuthenticationFailed", "Progressing",
    ]

    private static let keys = [
        "password", "passwd", "token", "secret", "api_key", "apiKey", "client-secret", "privateKey", "accessKey",
        "AccountKey", "credentials", "name", "message", "reason", "namespace", "url", "revision", "secretName",
        "tokenFile", "passwordSecretRef", "secretRef", "data", "stringData", "kind", "bearer", "authorization",
    ]

    private static let templates: [@Sendable (inout FluxMessageGenerator) -> String] = [
        { g in
            "kustomize build failed: accumulating resources from '\(g.word())': no such file or directory"
        },
        { g in
            "Helm upgrade failed for release \(g.word())/\(g.word()) with chart \(g.word())@\(g.next(9)).\(g.next(30)).\(g.next(9)): context deadline exceeded"
        },
        { g in "dependency '\(g.word())/\(g.word())' is not ready" },
        { g in
            "failed to checkout and determine revision: unable to clone 'https://github.com/\(g.word())/\(g.word()).git': authentication required"
        },
        { g in "secret \"\(g.word())/\(g.word())\" not found" },
        { g in "spec.passwordSecretRef: Required value" },
        { g in "Applied revision: \(g.revision())" },
        { g in
            "health check failed after \(g.next(60))m0s: timeout waiting for: [Deployment/\(g.word())/\(g.word()) status: 'InProgress']"
        },
        { g in
            "\(g.timestamp()) error reconciling Kustomization \(g.word()): Secret/\(g.word())/\(g.word()) configured"
        },
        { g in
            "{\"level\":\"error\",\"ts\":\"\(g.timestamp())\",\"msg\":\"Reconciler error\",\"controller\":\"kustomization\",\"name\":\"\(g.word())\",\"error\":\"kustomize build failed\"}"
        },
        { g in
            "failed to download artifact from http://source-controller.flux-system.svc.cluster.local./gitrepository/\(g.word())/\(g.word())/\(g.characters(40, from: "0123456789abcdef")).tar.gz, error: GET: 404"
        },
        { g in
            "ssh://git@github.com/\(g.word())/\(g.word()).git: unable to authenticate, attempted methods [none publickey]"
        },
        { g in
            "Deployment/\(g.word())/\(g.word()) dry-run failed: spec.template.spec.containers[0].image: Required value"
        },
        { g in "invalid token: expired" },
        { g in "OCI artifact oci://ghcr.io/\(g.word())/\(g.word()):\(g.next(9)).\(g.next(9)).\(g.next(9)) pulled" },
    ]

    private static let nearMisses: [@Sendable (inout FluxMessageGenerator) -> String] = [
        { _ in "passwordSecretRef: {name: db}" },
        { g in "secretRef: \(g.word())" },
        { g in "tokenFile=/var/run/\(g.word())" },
        { _ in "ssh://git@github.com/org/repo.git" },
        { _ in "https://user@example.com/x" },
        { _ in "the token was rotated" },
        { _ in "Bearer" },
        { _ in "kind: Secret" },
        { _ in "data:\n  - not indented" },
        { _ in "eyJhbGciOiJIUzI1NiJ9" },
        { _ in "AKIA" },
        { _ in "ghp_short" },
        { _ in "https://hooks.slack.com/" },
        { _ in "?sig=" },
        { _ in "password=[REDACTED]" },
        { _ in "Authorization: [REDACTED]" },
    ]

    private static let secrets: [@Sendable (inout FluxMessageGenerator) -> String] = [
        { g in "Bearer \(g.alphanumeric(20)).\(g.alphanumeric(6))" },
        { g in "bearer \(g.alphanumeric(30))==" },
        { g in "Authorization: Basic \(g.base64())" },
        { g in "proxy-authorization=Digest username=\(g.word()), response=\(g.alphanumeric(12))" },
        { g in "{\"Authorization\": \"Token \(g.alphanumeric(16))\", \"x\": 1}" },
        { g in "failed to clone 'https://\(g.word()):\(g.alphanumeric(12))@git.example.com/org/repo.git'" },
        { g in "https://x-access-token:ghs_\(g.alphanumeric(36))@github.com/o/r" },
        { g in "password=\(g.alphanumeric(10))!" },
        { g in "db_password: \(g.alphanumeric(12))" },
        { g in "passwd: \(g.alphanumeric(8))" },
        { g in "GET /api?token=\(g.alphanumeric(18))&x=1" },
        { g in "client secret=\(g.alphanumeric(11)) used" },
        { g in "api_key: AK-\(g.alphanumeric(12))" },
        { g in "apikey=\(g.alphanumeric(14))" },
        { g in "values: {\"db\": {\"password\": \"\(g.alphanumeric(9)) with space\"}}" },
        { g in "log: {\\\"token\\\":\\\"\(g.alphanumeric(14))\\\",\\\"level\\\":\\\"error\\\"}" },
        { g in "aws_secret_access_key = \(g.alphanumeric(20))/\(g.alphanumeric(19))" },
        { g in "private_key='\(g.alphanumeric(24))'" },
        { g in "credentials: \(g.alphanumeric(16))" },
        { g in
            "tls.key: -----BEGIN RSA PRIVATE KEY-----\n\(g.base64())\n\(g.base64())\n-----END RSA PRIVATE KEY----- end"
        },
        { g in "key: -----BEGIN PRIVATE KEY-----\n\(g.base64())" },
        { g in "using AKIA\(g.characters(16, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")) for s3" },
        { g in "role ASIA\(g.characters(16, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))" },
        { g in "remote: ghp_\(g.alphanumeric(36)) invalid" },
        { g in "gho_\(g.alphanumeric(36))" },
        { g in "token github_pat_\(g.alphanumeric(22))_\(g.alphanumeric(59))" },
        { g in "slack xoxb-\(g.characters(12, from: "0123456789"))-\(g.alphanumeric(24)) failed" },
        { g in "xoxp-\(g.characters(12, from: "0123456789"))-\(g.alphanumeric(12))" },
        { g in
            "POST https://hooks.slack.com/services/T\(g.alphanumeric(8))/B\(g.alphanumeric(8))/\(g.alphanumeric(24)): 404"
        },
        { g in
            "key AIza\(g.characters(35, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")) rejected"
        },
        { g in
            "DefaultEndpointsProtocol=https;AccountName=st1;AccountKey=\(g.base64());EndpointSuffix=core.windows.net"
        },
        { g in "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=\(g.base64())" },
        { g in "GET https://st1.blob.core.windows.net/c/b?sv=2022&sig=\(g.alphanumeric(20))%2B1%3D&se=1" },
        { g in "id_tok eyJ\(g.alphanumeric(16)).eyJ\(g.alphanumeric(24)).\(g.alphanumeric(43)) ok" },
        { g in
            "Secret/apps/db dry-run failed: {\"apiVersion\":\"v1\",\"data\":{\"db-url\":\"\(g.base64())\"},\"kind\":\"Secret\"}"
        },
        { g in "{\"kind\": \"Secret\", \"metadata\": {}, \"stringData\": {\"a\": \"\(g.alphanumeric(10))\"}}" },
        { g in
            "{\\\"kind\\\":\\\"Secret\\\",\\\"data\\\":{\\\"k\\\":\\\"\(g.base64())\\\"}}"
        },
        { g in
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  db-url: \(g.base64())\n  other: \(g.base64())\n"
        },
        { g in "  stringData:\n    password: \(g.alphanumeric(12))\n  type: Opaque\nkind: Secret" },
    ]
}
