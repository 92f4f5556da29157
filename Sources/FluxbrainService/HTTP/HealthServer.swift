import Foundation
import Hummingbird
import Logging
import Prometheus

/// One readiness check's result.
package struct ReadinessCheck: Sendable, Codable, Equatable {
    package var name: String
    package var ok: Bool
    package var detail: String

    package init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }
}

/// Builds the health and metrics HTTP application on `FLUXBRAIN_HTTP_ADDR`:
/// - `GET /healthz`: liveness, 200 while the process runs;
/// - `GET /readyz`: 200 when every check passes, else 503; a JSON body lists each check;
/// - `GET /metrics`: Prometheus text exposition of `registry`.
package enum HealthServer {
    package static func makeApplication(
        host: String,
        port: Int,
        registry: PrometheusCollectorRegistry,
        readiness: @escaping @Sendable () async -> [ReadinessCheck],
        logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("healthz") { _, _ in
            "ok\n"
        }
        router.get("readyz") { _, _ -> Response in
            let checks = await readiness()
            let ready = checks.allSatisfy(\.ok)
            let body = (try? JSONEncoder().encode(ReadyBody(ready: ready, checks: checks))) ?? Data()
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "fluxbrain"),
            logger: logger
        )
    }

    private struct ReadyBody: Codable {
        var ready: Bool
        var checks: [ReadinessCheck]
    }
}
