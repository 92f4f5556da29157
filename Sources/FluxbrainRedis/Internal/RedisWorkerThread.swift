import Foundation

/// A dedicated OS thread that runs submitted jobs one after another; it owns one hiredis context.
///
/// hiredis calls block, so they must never run on Swift's cooperative pool (2 threads here). Async callers submit a
/// job and suspend on a continuation; the job resumes it. The thread sleeps on a condition variable when idle.
final class RedisWorkerThread: @unchecked Sendable {
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var exited = false
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []

    /// Starts the thread.
    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues `job`; returns `false` (and drops the job) when the thread is stopping.
    ///
    /// The thread is signalled after the lock is released: signalled while the caller still held it, the woken
    /// thread would block on the lock at once and need a second wake-up (two more system calls and a context switch
    /// per Redis round trip). No wake-up is lost: the thread checks `jobs` under the lock before it waits.
    @discardableResult
    func submit(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            return false
        }
        jobs.append(job)
        condition.unlock()
        condition.signal()
        return true
    }

    /// Runs `finalJob` after the queued jobs, then lets the thread exit. Idempotent: later calls are ignored.
    func stop(finalJob: @escaping () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return }
        jobs.append(finalJob)
        stopping = true
        condition.signal()
    }

    /// Suspends until the thread has exited (after ``stop(finalJob:)``).
    func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if exited {
                condition.unlock()
                continuation.resume()
            } else {
                exitWaiters.append(continuation)
                condition.unlock()
            }
        }
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping {
                condition.wait()
            }
            if jobs.isEmpty {
                // stopping and drained
                exited = true
                let waiters = exitWaiters
                exitWaiters = []
                condition.unlock()
                for waiter in waiters { waiter.resume() }
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
