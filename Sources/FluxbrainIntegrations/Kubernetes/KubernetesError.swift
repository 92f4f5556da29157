import FluxbrainCore
import Foundation

/// The error of the Kubernetes layer: the shared ``FluxbrainError`` shape over ``KubernetesErrorCode``, with the
/// HTTP status when the API server answered.
package typealias KubernetesError = FluxbrainError<KubernetesErrorCode>

/// What kind of Kubernetes failure this is.
package struct KubernetesErrorCode: FluxbrainErrorCode {
    private enum Base: String, Hashable, Sendable {
        case unauthorized, forbidden, notFound, crdNotInstalled, expired, timeout, transport, decoding, config
        case tooLarge, server, unsupported, localLimit
    }

    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// 401: the credentials were refused (after one re-read of the token).
    package static let unauthorized = KubernetesErrorCode(.unauthorized)
    /// 403: RBAC does not allow the request; the message names the verb, resource and API group to grant.
    package static let forbidden = KubernetesErrorCode(.forbidden)
    /// 404 `Status`: the object or namespace does not exist.
    package static let notFound = KubernetesErrorCode(.notFound)
    /// 404 with the plain-text body `404 page not found`: the kind's CRD is not installed.
    package static let crdNotInstalled = KubernetesErrorCode(.crdNotInstalled)
    /// 410 `Expired`/`Gone` (also inside a watch stream): the resource version is too old; list again.
    package static let expired = KubernetesErrorCode(.expired)
    /// The request did not finish in time (client deadline, or a 504 from the server).
    package static let timeout = KubernetesErrorCode(.timeout)
    /// The connection failed: DNS, refused, TLS, reset.
    package static let transport = KubernetesErrorCode(.transport)
    /// A reply that could not be decoded.
    package static let decoding = KubernetesErrorCode(.decoding)
    /// A kubeconfig, in-cluster or URL configuration problem.
    package static let config = KubernetesErrorCode(.config)
    /// A reply larger than the cap for its kind of request.
    package static let tooLarge = KubernetesErrorCode(.tooLarge)
    /// Any other error status from the server (429, 5xx, …).
    package static let server = KubernetesErrorCode(.server)
    /// A configuration feature Fluxbrain does not implement (e.g. `auth-provider`).
    package static let unsupported = KubernetesErrorCode(.unsupported)
    /// The request never left this process: it waited for a connection of the local pool past its deadline (the
    /// network was not tried, so this is not "cannot reach").
    package static let localLimit = KubernetesErrorCode(.localLimit)

    package var description: String { base.rawValue }

    package static var errorName: String { "KubernetesError" }
}

/// A Kubernetes `Status` object: how the API server reports errors (also inside a watch `ERROR` event).
package struct KubernetesStatus: Sendable, Codable, Hashable {
    package var kind: String?
    package var apiVersion: String?
    package var status: String?
    package var message: String?
    package var reason: String?
    package var code: Int?
    package var details: Details?

    /// `Status.details`.
    package struct Details: Sendable, Codable, Hashable {
        package var name: String?
        package var group: String?
        package var kind: String?
        package var retryAfterSeconds: Int?
        package var causes: [Cause]?
    }

    /// `Status.details.causes[]`.
    package struct Cause: Sendable, Codable, Hashable {
        package var reason: String?
        package var message: String?
        package var field: String?
    }

    package init(
        status: String = "Failure",
        message: String,
        reason: String,
        code: Int,
        details: Details? = nil
    ) {
        self.kind = "Status"
        self.apiVersion = "v1"
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
        self.details = details
    }
}

extension KubernetesError {
    /// The error for a non-2xx reply: decodes the `Status` body when there is one and writes a message people can
    /// act on. `request` describes what was asked (`list kustomizations.kustomize.toolkit.fluxcd.io at the cluster
    /// scope`), `verb` and `resource` are used when the server's message does not name them.
    package static func fromResponse(
        httpStatus: Int,
        body: [UInt8],
        contentType: String?,
        request: RequestDescription,
        cluster: String
    ) -> KubernetesError {
        let status = try? JSONDecoder().decode(KubernetesStatus.self, from: Data(body))
        let serverMessage =
            status?.message
            ?? String(decoding: body.prefix(512), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let prefix = "cluster \(cluster): "
        switch httpStatus {
        case 401:
            return KubernetesError(
                .unauthorized,
                prefix + "unauthorized: the API server refused the credentials (\(serverMessage)) while trying to "
                    + "\(request.verb) \(request.resourceDescription); check the token, client certificate or exec "
                    + "plugin of this context",
                httpStatus: 401
            )
        case 403:
            return KubernetesError(
                .forbidden,
                prefix + forbiddenMessage(serverMessage: serverMessage, request: request),
                httpStatus: 403
            )
        case 404:
            if status == nil || status?.kind != "Status" {
                return KubernetesError(
                    .crdNotInstalled,
                    prefix + "\(request.resourceDescription) is not served (404 page not found): the CRD is not "
                        + "installed or the API version \(request.groupVersion) is not served",
                    httpStatus: 404
                )
            }
            return KubernetesError(.notFound, prefix + "not found: \(serverMessage)", httpStatus: 404)
        case 410:
            return KubernetesError(.expired, prefix + "expired: \(serverMessage)", httpStatus: 410)
        case 504:
            return KubernetesError(.timeout, prefix + "timeout: \(serverMessage)", httpStatus: 504)
        default:
            var message =
                prefix + "HTTP \(httpStatus) from the API server while trying to \(request.verb) "
                + "\(request.resourceDescription)"
            if !serverMessage.isEmpty { message += ": \(serverMessage)" }
            if let reason = status?.reason, !reason.isEmpty { message += " (reason \(reason))" }
            return KubernetesError(.server, message, httpStatus: httpStatus)
        }
    }

    /// `forbidden: User "…" cannot list kustomizations.kustomize.toolkit.fluxcd.io at the cluster scope — grant the
    /// ClusterRole "list" on "kustomizations" in API group "kustomize.toolkit.fluxcd.io"`.
    static func forbiddenMessage(serverMessage: String, request: RequestDescription) -> String {
        // kube-apiserver: `<resource>.<group> is forbidden: User "<user>" cannot <verb> resource "<resource>" in API
        // group "<group>" (at the cluster scope | in the namespace "<ns>")`.
        var verb = request.verb
        var resource = request.resource
        var group = request.group
        var namespace = request.namespace
        var user: String?
        if let match = serverMessage.firstMatch(
            of:
                #/User "(?<user>[^"]*)" cannot (?<verb>[a-z]+) resource "(?<resource>[^"]+)" in API group "(?<group>[^"]*)"(?: in the namespace "(?<namespace>[^"]+)")?/#
        ) {
            user = String(match.output.user)
            verb = String(match.output.verb)
            resource = String(match.output.resource)
            group = String(match.output.group)
            namespace = match.output.namespace.map(String.init)
        }
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        let role = namespace == nil ? "the ClusterRole" : "a Role in \"\(namespace!)\" (or the ClusterRole)"
        let groupText = group.isEmpty ? "the core API group (\"\")" : "API group \"\(group)\""
        var text = "forbidden: "
        if let user { text += "User \"\(user)\" " }
        text += "cannot \(verb) \(qualified) \(scope) — grant \(role) \"\(verb)\" on \"\(resource)\" in \(groupText)"
        return text
    }
}

/// What a request asked for, to write error messages.
package struct RequestDescription: Sendable, Hashable {
    package var verb: String
    package var group: String
    package var version: String
    package var resource: String
    package var namespace: String?
    package var name: String?

    package init(
        verb: String,
        group: String,
        version: String,
        resource: String,
        namespace: String? = nil,
        name: String? = nil
    ) {
        self.verb = verb
        self.group = group
        self.version = version
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    package var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `kustomizations.kustomize.toolkit.fluxcd.io at the cluster scope`, `pods in namespace "flux-system"`.
    package var resourceDescription: String {
        let qualified = group.isEmpty ? resource : "\(resource).\(group)"
        let named = name.map { "\(qualified) \"\($0)\"" } ?? qualified
        return named + (namespace.map { " in namespace \"\($0)\"" } ?? " at the cluster scope")
    }
}
