import FluxbrainCore
import FluxbrainTestbed
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// One request a fake server received.
package struct RecordedRequest: Sendable, Hashable {
    package var method: String
    package var path: String
    package var query: [String: String]
    /// Header names lowercased; `host` from the request's authority.
    package var headers: [String: String]
    package var body: Data

    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON.
    package var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: body) }

    /// Reads a Hummingbird request, body included.
    package static func read(_ request: Request) async throws -> RecordedRequest {
        var request = request
        let buffer = try await request.collectBody(upTo: 8 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        // HTTP/1 `Host` arrives as the `:authority` pseudo-header.
        if headers["host"] == nil, let authority = request.head.authority { headers["host"] = authority }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            query[String(key)] = String(value).removingPercentEncoding ?? String(value)
        }
        return RecordedRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: query,
            headers: headers,
            body: Data(buffer.readableBytesView)
        )
    }
}

/// Builds a Hummingbird response.
package func fakeResponse(status: Int, headers: [String: String] = [:], body: String) -> Response {
    var fields = HTTPFields()
    for (name, value) in headers {
        if let name = HTTPField.Name(name) { fields[name] = value }
    }
    return Response(
        status: HTTPResponse.Status(code: status),
        headers: fields,
        body: ResponseBody(byteBuffer: ByteBuffer(string: body))
    )
}
