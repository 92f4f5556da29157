import FluxbrainCoordination
import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

@Suite struct QueueReportTests {
    let stats = QueueStats(ready: 3, delayed: 1, leased: 12, dead: 2, pending: 16)
    let letters = [
        DeadLetter(
            key: WorkQueueConformance.item(1).key,
            item: WorkQueueConformance.item(1),
            attempts: 5,
            lastError: "analysis failed:\nHTTP 503"
        ),
        DeadLetter(key: "garbage", item: nil, attempts: 1, lastError: "undecodable payload"),
    ]

    @Test func rendersStatsAsAlignedText() {
        let text = QueueReport(stats: stats).text()
        #expect(
            text == """
                queue
                  ready    3
                  delayed  1
                  leased  12
                  dead     2
                  pending 16

                """
        )
    }

    @Test func rendersDeadLettersAsText() {
        let text = QueueReport(deadLetters: letters).text()
        #expect(text.contains("dead letters (2, oldest first)"))
        #expect(text.contains("- \(WorkQueueConformance.item(1).key)"))
        #expect(text.contains("firing Kustomization/apps/app1 in c1: BuildFailed"))
        #expect(text.contains("last error: analysis failed: HTTP 503"))
        #expect(text.contains("(payload could not be decoded)"))
        #expect(QueueReport(deadLetters: []).text() == "no dead letters\n")
        #expect(QueueReport(requeued: 1).text() == "requeued 1 dead letter\n")
    }

    @Test func rendersStableJSONThatDecodesBack() throws {
        let report = QueueReport(stats: stats, deadLetters: letters)
        let json = try report.json(pretty: false)
        #expect(json.hasPrefix("{\"deadLetters\":[{\"attempts\":5,\"cluster\":\"c1\""))
        #expect(!json.contains("\"item\""))
        let decoded = try StableJSON.makeDecoder().decode(QueueReport.self, from: Data(json.utf8))
        #expect(decoded == report)
        let full = QueueReport(deadLetters: letters, includeItems: true)
        #expect(try full.json().contains("\"incident\""))
    }
}
