import FluxbrainTestSupport
import Foundation
import Logging
import Testing

@testable import FluxbrainCore

/// A channel with its own notification rules (an Alertmanager channel's repeat interval) re-sends on them, while
/// the other channels keep `FLUXBRAIN_REPEAT_INTERVAL`.
extension NotificationDispatcherTests {
    @Test func eachChannelRemindsOnItsOwnRepeatInterval() async {
        let alertmanager = RecordingNotifier(ChannelID("am"))
        let slack = RecordingNotifier(.slack)
        var dispatcher = dispatcher([alertmanager, slack])
        dispatcher.channelSettings[ChannelID("am")] = NotificationSettings(repeatInterval: .seconds(45))
        #expect(dispatcher.settings(for: .slack).repeatInterval == .seconds(4 * 3600))
        // Offered once a minute for five minutes.
        for _ in 0...5 {
            _ = await dispatcher.dispatch(incident: incident, status: .firing) { .notConfigured }
            clock.advance(by: .seconds(60))
        }
        #expect(alertmanager.sent.map(\.kind) == [.firing] + Array(repeating: .reminder, count: 5))
        #expect(slack.sent.map(\.kind) == [.firing])
    }
}
