// The worker pool's hand-out of a task's parts (`WorkerPool.perform(parts:of:)`), which workers
// claim from the pool's board without a lock: every part runs exactly once per job, on any thread
// count, for any number of parts (beyond the claim word's 16-bit field too), whether the workers
// were spinning or asleep; and workers that went to sleep wake for the next job.

@testable import NNCore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Changes the process-wide thread count: serialised.
@Suite(.serialized) struct WorkerPoolTests {
    /// Counts how often each part finished, and how many parts ran on threads other than its
    /// creator's.
    final class CountingTask: PoolTask, @unchecked Sendable {
        let parts: Int
        private let runs: UnsafeMutablePointer<Atomic<Int>>
        /// Multiply-adds per part, so that a waking worker has something left to claim.
        private let work: Int
        private let creator = pthread_self()
        let onOtherThreads = Atomic<Int>(0)
        private let sink = Atomic<Int>(0)

        init(parts: Int, work: Int = 0) {
            self.parts = parts
            self.work = work
            runs = .allocate(capacity: parts)
            for p in 0 ..< parts { (runs + p).initialize(to: Atomic(0)) }
        }

        deinit {
            runs.deinitialize(count: parts)
            runs.deallocate()
        }

        func run(part: Int) {
            if pthread_equal(pthread_self(), creator) == 0 { onOtherThreads.add(1, ordering: .relaxed) }
            var x = Float(part)
            for _ in 0 ..< work { x = x * 0.999 + 1 }
            sink.store(Int(x), ordering: .relaxed)
            runs[part].add(1, ordering: .releasing)
        }

        /// How often part `part` finished.
        func runs(of part: Int) -> Int { runs[part].load(ordering: .relaxed) }
    }

    /// Each job's parts have all finished, once each, when `perform` returns.
    @Test(arguments: [1, 2, 3, 5])
    func everyPartRunsOnceAJob(threads: Int) {
        withThreadCount(threads) {
            let task = CountingTask(parts: 40, work: 2_000)
            var expected = [Int](repeating: 0, count: 40)
            var firstMismatch: String? = nil
            for job in 0 ..< 600 {
                let parts = job % 41
                WorkerPool.shared.perform(parts: parts, of: task)
                for part in 0 ..< parts { expected[part] += 1 }
                if firstMismatch == nil, let part = (0 ..< 40).first(where: { task.runs(of: $0) != expected[$0] }) {
                    firstMismatch = "after job \(job) of \(parts) parts, part \(part) had finished \(task.runs(of: part)) times, not \(expected[part])"
                }
                // Now and then long enough for the workers to stop spinning and sleep.
                if job % 60 == 59 { usleep(1_000) }
            }
            #expect(firstMismatch == nil, "\(threads) threads: \(firstMismatch ?? "")")
        }
    }

    /// More parts than the claim word counts (`WorkerPool.maxChunks`) run on the caller, each once.
    @Test func partsBeyondTheClaimFieldRunOnce() {
        withThreadCount(2) {
            let parts = WorkerPool.maxChunks + 2
            let task = CountingTask(parts: parts)
            WorkerPool.shared.perform(parts: parts, of: task)
            let wrong = (0 ..< parts).filter { task.runs(of: $0) != 1 }
            #expect(wrong.isEmpty, "\(wrong.count) parts did not run exactly once, the first \(wrong.first ?? -1)")
            #expect(task.onOtherThreads.load(ordering: .relaxed) == 0)
        }
    }

    /// A worker asleep on the condition variable takes part in the next job: after the workers
    /// slept, some job's parts run on a thread other than the caller's. (Each attempt lets them
    /// sleep again; any one attempt may run alone, when another suite holds the pool.)
    @Test func sleepingWorkersWakeForTheNextJob() {
        withThreadCount(2) {
            WorkerPool.shared.perform(parts: 2, of: CountingTask(parts: 2))  // starts the worker
            var woke = false
            for _ in 0 ..< 200 where !woke {
                usleep(2_000)  // ten times the workers' spin (`WorkerPool.spinNanoseconds`)
                let task = CountingTask(parts: 8, work: 200_000)
                WorkerPool.shared.perform(parts: 8, of: task)
                #expect((0 ..< 8).allSatisfy { task.runs(of: $0) == 1 })
                woke = task.onOtherThreads.load(ordering: .relaxed) > 0
            }
            #expect(woke, "no part ran on a worker after the workers had slept")
        }
    }
}
