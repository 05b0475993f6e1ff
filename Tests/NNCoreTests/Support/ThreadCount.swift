// The process-wide thread count (`Runtime.threadCount`) for tests that set it.
//
// Swift Testing runs suites in parallel; `.serialized` orders only the tests of one suite. Two
// suites that set the count at the same time made each other's tests run on the other's count
// (a single-row test expected 2 units and got 8). Every test that sets the count goes through
// `withThreadCount`, which holds one process-wide lock while it runs.

#if canImport(Glibc)
import Glibc
#endif
@testable import NNCore

/// A recursive lock: a test may set the count again inside `withThreadCount`.
private nonisolated(unsafe) let threadCountLock: UnsafeMutablePointer<pthread_mutex_t> = {
    let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var attributes = pthread_mutexattr_t()
    pthread_mutexattr_init(&attributes)
    pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
    pthread_mutex_init(lock, &attributes)
    pthread_mutexattr_destroy(&attributes)
    return lock
}()

/// Runs `body` with `Runtime.threadCount` set to `threads`, holding the lock no other test that
/// sets the count can pass meanwhile, and restores the count afterwards. `body` may set the
/// count itself; it is restored all the same.
func withThreadCount<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
    pthread_mutex_lock(threadCountLock)
    defer { pthread_mutex_unlock(threadCountLock) }
    let saved = Runtime.threadCount
    Runtime.threadCount = threads
    defer { Runtime.threadCount = saved }
    return try body()
}
