import FluxbrainCore
import Testing

@testable import FluxbrainService

/// The leadership rules, one table row per sequence of lock replies (TTL 15 s: renew every 5 s, trust 10 s).
@Suite struct LeadershipStateMachineTests {
    enum Step: Sendable, CustomStringConvertible {
        case acquire(epoch: Int64?, sentAt: Int)
        case renew(Bool, sentAt: Int)
        case checkExpiry(at: Int)
        case stepDown

        var description: String {
            switch self {
            case .acquire(let epoch, let sentAt): "acquire(\(epoch.map(String.init) ?? "nil"))@\(sentAt)"
            case .renew(let ok, let sentAt): "renew(\(ok))@\(sentAt)"
            case .checkExpiry(let at): "checkExpiry@\(at)"
            case .stepDown: "stepDown"
            }
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var steps: [Step]
        /// When the lease is read, in seconds.
        var at: Int
        /// The epoch leading then, or nil for a follower.
        var leading: Int64?
        /// What the last step returned, for `renew` and `checkExpiry`.
        var lastReturned: Bool? = nil

        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "a follower that never acquired does not lead", steps: [], at: 0, leading: nil),
        Row(name: "acquire refused: follower", steps: [.acquire(epoch: nil, sentAt: 0)], at: 1, leading: nil),
        Row(name: "acquired: leads within the trust window", steps: [.acquire(epoch: 1, sentAt: 0)], at: 9, leading: 1),
        Row(
            name: "acquired: stops leading at ⅔ TTL without a renew",
            steps: [.acquire(epoch: 1, sentAt: 0)],
            at: 10,
            leading: nil
        ),
        Row(
            name: "trust counts from the send time, not the reply time",
            steps: [.acquire(epoch: 1, sentAt: 0), .renew(true, sentAt: 5)],
            at: 14,
            leading: 1,
            lastReturned: false
        ),
        Row(
            name: "a renewed lease expires ⅔ TTL after that renew was sent",
            steps: [.acquire(epoch: 1, sentAt: 0), .renew(true, sentAt: 5)],
            at: 15,
            leading: nil,
            lastReturned: false
        ),
        Row(
            name: "a late reply to an older renew does not move trust back",
            steps: [.acquire(epoch: 1, sentAt: 0), .renew(true, sentAt: 8), .renew(true, sentAt: 3)],
            at: 17,
            leading: 1,
            lastReturned: false
        ),
        Row(
            name: "a refused renew steps down at once and says so",
            steps: [.acquire(epoch: 1, sentAt: 0), .renew(false, sentAt: 5)],
            at: 5,
            leading: nil,
            lastReturned: true
        ),
        Row(
            name: "a renew reply while following changes nothing",
            steps: [.renew(true, sentAt: 5)],
            at: 5,
            leading: nil,
            lastReturned: false
        ),
        Row(
            name: "checkExpiry inside the window keeps leading",
            steps: [.acquire(epoch: 2, sentAt: 0), .checkExpiry(at: 9)],
            at: 9,
            leading: 2,
            lastReturned: false
        ),
        Row(
            name: "checkExpiry at the window's end steps down",
            steps: [.acquire(epoch: 2, sentAt: 0), .checkExpiry(at: 10)],
            at: 0,
            leading: nil,
            lastReturned: true
        ),
        Row(
            name: "stepDown (fenced write or shutdown) stops leading",
            steps: [.acquire(epoch: 3, sentAt: 0), .stepDown],
            at: 1,
            leading: nil
        ),
        Row(
            name: "a new acquire after stepping down leads with the new epoch",
            steps: [.acquire(epoch: 3, sentAt: 0), .stepDown, .acquire(epoch: 4, sentAt: 20)],
            at: 25,
            leading: 4
        ),
    ]

    @Test(arguments: rows)
    func leadership(_ row: Row) {
        var machine = LeadershipStateMachine(ttl: .seconds(15))
        var returned: Bool?
        for step in row.steps {
            switch step {
            case .acquire(let epoch, let sentAt):
                machine.acquireReturned(epoch.map { LeaderLease(replicaID: "a", epoch: $0) }, sentAt: .seconds(sentAt))
                returned = nil
            case .renew(let ok, let sentAt):
                returned = machine.renewReturned(ok, sentAt: .seconds(sentAt))
            case .checkExpiry(let at):
                returned = machine.checkExpiry(at: .seconds(at))
            case .stepDown:
                machine.stepDown()
                returned = nil
            }
        }
        #expect(machine.lease(at: .seconds(row.at))?.epoch == row.leading, "\(row.steps)")
        #expect(returned == row.lastReturned, "\(row.steps)")
    }

    @Test func renewsEveryThirdAndTrustsTwoThirdsOfTheTTL() {
        let machine = LeadershipStateMachine(ttl: .seconds(15))
        #expect(machine.renewInterval == .seconds(5))
        #expect(machine.trustWindow == .seconds(10))
    }
}
