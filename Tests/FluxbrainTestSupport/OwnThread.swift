import Foundation

/// Runs `body` on a thread of its own and waits for it without holding a thread of Swift's global executor.
///
/// For everything in the tests that blocks: waiting for a child process, reading its pipes, blocking sockets,
/// `openssl`. Not `DispatchQueue.global()`: on Linux that is the same Dispatch root queue the global executor runs
/// tasks on, with as many workers as cores, and libdispatch adds a worker for a blocked one only about once a second.
/// Two blocked Dispatch items on 2 cores delay every task of a parallel test run by a second, three by two, and so on.
package func onOwnThread<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result(catching: body)) }.start()
    }
    return try result.get()
}
