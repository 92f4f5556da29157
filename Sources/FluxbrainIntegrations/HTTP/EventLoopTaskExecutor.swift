import NIOCore

/// A Swift task executor that runs jobs on one NIO event loop.
///
/// Workers run with this executor preferred (``HTTPClients/workerExecutor``, on the loop that owns the outbound
/// HTTP connections): an Errorbrain or notifier request then starts on the loop that sends it, and the worker resumes
/// on that loop when the answer arrives, with no thread crossing either way. A Redis reply still comes from its
/// connection's thread and wakes the loop once, as it would wake one of Swift's pool threads otherwise.
///
/// What runs here must never block: Fluxbrain's worker code does not (Redis calls run on their connections' own
/// threads, files and processes are not touched while processing an item), and a job that awaits simply lets the
/// loop serve its sockets meanwhile.
package final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    package init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Whether the caller runs on this executor's loop.
    package var isCurrent: Bool { eventLoop.inEventLoop }
}
