import Foundation

/// The single-process `WorkQueue`, `LeaderLock` and `IncidentIndex`: same semantics as the Redis ones, in memory.
///
/// Used when `FLUXBRAIN_REDIS_URL` is unset. Time comes from the injected `WallClock`, so tests can move it.
package actor InMemoryCoordination: WorkQueue, LeaderLock, IncidentIndex {
    private struct Entry {
        var item: WorkItem
        var attempts: Int
        var token: String?
        var leaseUntil: Date?
        var notBefore: Date?
        var lastError: String?
        var dead: Bool
    }

    private let maxAttempts: Int
    private let clock: any WallClock
    private var entries: [String: Entry] = [:]
    private var ready: [String] = []
    private var deadOrder: [String] = []
    private var lock: (lease: LeaderLease, until: Date)?
    private var epoch: Int64 = 0
    private var open: [String: [ObjectReference: Incident]] = [:]
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]

    /// - Parameters:
    ///   - maxAttempts: claims before an item is dead-lettered (`FLUXBRAIN_MAX_ATTEMPTS`).
    ///   - clock: lock and lease deadlines, retry delays.
    package init(maxAttempts: Int, clock: any WallClock = SystemWallClock()) {
        self.maxAttempts = maxAttempts
        self.clock = clock
    }

    private func now() -> Date { clock.now() }

    // MARK: LeaderLock

    package func acquire(replicaID: String, ttl: Duration) -> LeaderLease? {
        let current = now()
        if let lock, lock.until > current {
            // The holder asking again (a retry after an ambiguous reply) gets its lease back, renewed.
            guard lock.lease.replicaID == replicaID else { return nil }
            self.lock = (lock.lease, current.addingTimeInterval(ttl.timeInterval))
            return lock.lease
        }
        epoch += 1
        let lease = LeaderLease(replicaID: replicaID, epoch: epoch)
        lock = (lease, current.addingTimeInterval(ttl.timeInterval))
        return lease
    }

    package func renew(_ lease: LeaderLease, ttl: Duration) -> Bool {
        let current = now()
        guard let lock, lock.lease == lease, lock.until > current else { return false }
        self.lock = (lease, current.addingTimeInterval(ttl.timeInterval))
        return true
    }

    package func release(_ lease: LeaderLease) {
        if lock?.lease == lease { lock = nil }
    }

    package func holder() -> LeaderLease? {
        guard let lock, lock.until > now() else { return nil }
        return lock.lease
    }

    private func checkFence(_ lease: LeaderLease) throws {
        guard holder() == lease else { throw FencedError(lease: lease) }
    }

    // MARK: WorkQueue

    package func enqueue(_ item: WorkItem, lease: LeaderLease) throws -> EnqueueResult {
        try checkFence(lease)
        if let existing = entries[item.key], !existing.dead { return .duplicate }
        entries[item.key] = Entry(item: item, attempts: 0, dead: false)
        deadOrder.removeAll { $0 == item.key }
        ready.append(item.key)
        wakeWaiters()
        return .enqueued
    }

    package func claim(worker: String, lease: Duration) -> ClaimedWork? {
        let current = now()
        promoteDue(at: current)
        while !ready.isEmpty {
            let key = ready.removeFirst()
            guard var entry = entries[key], !entry.dead else { continue }
            entry.attempts += 1
            if entry.attempts > maxAttempts {
                entry.dead = true
                entry.lastError = entry.lastError ?? "claimed more than \(maxAttempts) times"
                entries[key] = entry
                deadOrder.append(key)
                continue
            }
            let token = RandomToken.make()
            entry.token = token
            entry.leaseUntil = current.addingTimeInterval(lease.timeInterval)
            entries[key] = entry
            return ClaimedWork(item: entry.item, token: token, attempts: entry.attempts)
        }
        return nil
    }

    package func heartbeat(_ claim: ClaimedWork, lease: Duration) -> Bool {
        guard var entry = entries[claim.item.key], entry.token == claim.token, !entry.dead else { return false }
        entry.leaseUntil = now().addingTimeInterval(lease.timeInterval)
        entries[claim.item.key] = entry
        return true
    }

    package func ack(_ claim: ClaimedWork) -> Bool {
        guard let entry = entries[claim.item.key], entry.token == claim.token else { return false }
        entries[claim.item.key] = nil
        return true
    }

    package func nack(_ claim: ClaimedWork, delay: Duration, error: String) -> Bool {
        guard var entry = entries[claim.item.key], entry.token == claim.token else { return false }
        entry.token = nil
        entry.leaseUntil = nil
        entry.lastError = error
        if entry.attempts >= maxAttempts {
            entry.dead = true
            deadOrder.append(claim.item.key)
        } else {
            entry.notBefore = now().addingTimeInterval(delay.timeInterval)
        }
        entries[claim.item.key] = entry
        return true
    }

    package func reap() -> ReapResult {
        let current = now()
        var result = ReapResult()
        for (key, var entry) in entries where !entry.dead {
            guard let until = entry.leaseUntil, until <= current else { continue }
            entry.token = nil
            entry.leaseUntil = nil
            if entry.attempts >= maxAttempts {
                entry.dead = true
                entry.lastError = entry.lastError ?? "lease expired \(entry.attempts) times"
                deadOrder.append(key)
                result.deadLettered += 1
            } else {
                ready.insert(key, at: 0)
                result.requeued += 1
            }
            entries[key] = entry
        }
        if result.requeued > 0 { wakeWaiters() }
        return result
    }

    package func stats() -> QueueStats {
        let live = entries.values.filter { !$0.dead }
        return QueueStats(
            ready: ready.count,
            delayed: live.filter { $0.notBefore != nil }.count,
            leased: live.filter { $0.token != nil }.count,
            dead: entries.values.filter(\.dead).count,
            pending: live.count
        )
    }

    package func deadLetters(limit: Int) -> [DeadLetter] {
        deadOrder.prefix(limit).compactMap { key in
            entries[key].map { DeadLetter(key: key, item: $0.item, attempts: $0.attempts, lastError: $0.lastError) }
        }
    }

    package func requeueDead(key: String?) -> Int {
        let keys = key.map { [$0] } ?? deadOrder
        var count = 0
        for key in keys {
            guard var entry = entries[key], entry.dead else { continue }
            entry.dead = false
            entry.attempts = 0
            entry.notBefore = nil
            entries[key] = entry
            ready.append(key)
            deadOrder.removeAll { $0 == key }
            count += 1
        }
        if count > 0 { wakeWaiters() }
        return count
    }

    package func isPending(key: String) -> Bool {
        guard let entry = entries[key] else { return false }
        return !entry.dead
    }

    package func waitForWork(timeout: Duration) async {
        if !ready.isEmpty { return }
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.resume(id)
            }
            // Registered before the actor is released, so the timer's resume always finds it.
            await withCheckedContinuation { continuation in
                waiters[id] = continuation
            }
            group.cancelAll()
        }
    }

    private func resume(_ id: UUID) {
        waiters.removeValue(forKey: id)?.resume()
    }

    private func wakeWaiters() {
        let pending = waiters
        waiters.removeAll()
        for continuation in pending.values { continuation.resume() }
    }

    private func promoteDue(at current: Date) {
        for (key, var entry) in entries where !entry.dead {
            guard let notBefore = entry.notBefore, notBefore <= current else { continue }
            entry.notBefore = nil
            entries[key] = entry
            ready.append(key)
        }
    }

    // MARK: IncidentIndex

    package func openIncidents(cluster: String) -> [Incident] {
        (open[cluster] ?? [:]).values.sorted { $0.object < $1.object }
    }

    package func open(_ incident: Incident, lease: LeaderLease) throws {
        try checkFence(lease)
        open[incident.object.cluster, default: [:]][incident.object] = incident
    }

    package func close(_ object: ObjectReference, fingerprint: Fingerprint, lease: LeaderLease) throws {
        try checkFence(lease)
        if open[object.cluster]?[object]?.fingerprint == fingerprint {
            open[object.cluster]?[object] = nil
        }
    }
}
