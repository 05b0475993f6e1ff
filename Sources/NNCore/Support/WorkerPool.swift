import CBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// nncore's own threads for matrix products.
///
/// OpenBLAS's threading splits every product statically over its threads and waits for the
/// slowest; with another process on one core, each product waits for a descheduled worker
/// (an M epoch ran at a third of its one-thread rate), and 0.3.21 allocates a job buffer on
/// every threaded call. nncore therefore runs OpenBLAS single-threaded and splits a large
/// product itself into chunks (row or column blocks of the result) that the calling thread and
/// the pool's workers claim one at a time. A chunk nobody has claimed yet is taken by whoever
/// is free — the caller included — so a descheduled worker costs at most the chunk it holds,
/// and when no worker wakes the caller computes everything alone at the one-thread rate.
///
/// Workers wait for the next job spinning for a short while (about 0.2 ms, with the CPU's
/// pause hint and a `sched_yield` every 64 rounds), then sleep on a condition variable;
/// progress never depends on the spinning. A spinning worker watches one cache line, the
/// `Board`: it sees the new job there, claims a chunk there with one compare-and-exchange, and
/// reads there what to run — no lock on the way. The atomics shared during a job sit on
/// separate cache lines.
/// When the caller has to wait for a worker longer than its own share took (the worker lost
/// its core), products run on the caller alone for a while (see `noteWait`). One job runs at a
/// time: a caller that finds the pool busy (another thread's product) computes its product
/// alone, which is what it should do when every core is already busy.
///
/// Results depend on the product's shape and the thread count (panel products, `Gemm.usesPanels`,
/// not even on the count), never on timing: a product is
/// cut by those alone, and a caller that runs a cut product by itself (busy pool, back-off)
/// computes it block by block, with the same OpenBLAS calls the threads would make. That
/// matters because OpenBLAS's rounding can depend on the blocks: its Haswell and Zen `sgemm`
/// kernels round the elements of partial register tiles differently (a 128 × 256 product split
/// into two row blocks differs from the whole in 2,281 of 32,768 elements on a Zen CPU), `sgemv`
/// rounds the first elements of a block by where the block starts, and a one-row product cut
/// along its inner dimension sums in another order. So different thread counts may give
/// different last bits.
///
/// Besides products, the pool runs other work made of numbered parts (`perform(parts:of:)`):
/// batch inference runs each band of rows through every layer as one part (`PackedForward`), one
/// row runs one thread's columns of every layer as one part (`SingleRowPass`), and a training step
/// its gradient norm and update over parts of the parameter block (`ParameterStep`).
///
/// Thread safety: every method may be called from any thread.
final class WorkerPool: @unchecked Sendable {
    /// The process-wide pool, created on first use. Creating it sets OpenBLAS to one thread.
    static let shared = WorkerPool()

    /// The most threads the pool runs (the caller included).
    static let maxThreads = 64

    /// Total threads used for one product (the caller plus `threadCount − 1` workers).
    var threadCount: Int {
        get { requestedThreads.load(ordering: .relaxed) }
        set { requestedThreads.store(min(max(1, newValue), WorkerPool.maxThreads), ordering: .relaxed) }
    }

    // The atomics that the caller and the workers touch during a job each sit on their own
    // cache lines (`CacheLinePadding` between them). Sharing one line made a spinning worker's
    // reads and the caller's writes fight over it: depending on where the pool happened to be
    // allocated, a one-row prediction on net M took 15.5 µs instead of 7.7.
    private let requestedThreads: Atomic<Int>
    private let paddingStart = CacheLinePadding()  // away from the object header's reference count
    /// Set while a caller owns the pool for one job.
    private let busy = Atomic<Bool>(false)
    private let padding0 = CacheLinePadding()
    /// The current job, on a cache line pair of its own: everything a worker needs to start.
    private let board: UnsafeMutablePointer<Board>
    /// Chunks of the current job that workers have done (the caller counts its own: adding
    /// them here would fetch the line from the worker's core once more per job).
    private let finished = Atomic<Int>(0)
    private let padding1 = CacheLinePadding()
    /// Workers waiting on `wake` (or about to).
    private let sleepers = Atomic<Int>(0)
    private let padding2 = CacheLinePadding()

    // Only the caller that holds `busy` touches these.
    /// The product being computed, read by workers after they claimed one of its chunks.
    private var product: Job? = nil
    private var generation = 0
    private var startedWorkers = 0
    /// Sleeping workers wait on `wake` under `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>

    /// The job being handed out, where the workers look for it: 32 bytes at the start of a
    /// 128-byte block of its own. A worker that sees a new generation in `claim` claims a chunk
    /// with one compare-and-exchange on it and, having won one, reads which task to run from the
    /// same line. Each hand-over of a line between the two cores of a Zen VM took about 0.35 µs
    /// (one line ping-ponged between two threads: 0.69–0.74 µs a round trip); a worker used to
    /// take the pool's mutex and read the job from other lines first, and started a one-row
    /// prediction 0.7–0.9 µs after the caller instead of 0.35–0.4 µs.
    ///
    /// The fields other than `claim` are written only by the caller holding `busy`, before it
    /// stores the claim word (sequentially consistent, so releasing), and only while no chunk of
    /// the previous job is outstanding; a worker reads them only after its compare-and-exchange
    /// (acquiring) won a chunk, which keeps the job on the board until the worker has counted
    /// that chunk in `finished`.
    struct Board: ~Copyable {
        /// generation (bits 40–63) | workers taking part (bits 32–39) | chunks (bits 16–31) |
        /// the next unclaimed chunk (bits 0–15; posted as 1, chunk 0 being the caller's).
        let claim = Atomic<Int>(0)
        /// The task whose parts are the chunks, and the task itself (not retained: the caller
        /// holds it until its parts are done), or nil for a product (`WorkerPool.product`).
        var taskType: (any PoolTask.Type)? = nil
        var task: UnsafeRawPointer? = nil
    }

    /// The claim word's fields.
    private static func claimWord(generation: Int, workers: Int, chunks: Int) -> Int {
        (generation & 0xFF_FFFF) << 40 | workers << 32 | chunks << 16
    }
    private static func generation(_ word: Int) -> Int { word >> 40 & 0xFF_FFFF }
    private static func workers(_ word: Int) -> Int { word >> 32 & 0xFF }
    private static func chunks(_ word: Int) -> Int { word >> 16 & 0xFFFF }
    /// The most chunks a job has (the claim word's field); more parts run on the caller alone.
    static let maxChunks = 0xFFFF

    /// One posted product and how it is cut.
    struct Job {
        /// Which dimension the blocks divide.
        enum Cut: Equatable {
            /// Row blocks of C.
            case rows
            /// Column blocks of C.
            case cols
            /// Blocks of the inner dimension of a one-row product or of a small weight gradient:
            /// block 0 adds its part to C, block i > 0 writes its part to `product.scratch` (part
            /// i − 1, `Gemm.innerPartCount` floats), and `finish()` adds those parts to C in order.
            /// Each block also sums its rows of B into `Gemm.columnSumsOfB` (block 0) or its part.
            case inner
            /// Blocks of `rows` rows by `chunkSize` columns, `columnBlocks` to a band of rows,
            /// numbered along the band first.
            case tiles(rows: Int, columnBlocks: Int)
            /// Blocks of columns of op(B), packed into the product's scratch for the panel loops
            /// (`Gemm.packPanels`): the phase before a `.tiles` job whose bands share them.
            case packing
        }
        var product: Gemm
        var cut: Cut
        var chunkSize: Int
        var chunks: Int
        /// Workers with an index at or above this sit the job out.
        var workers: Int

        /// For a panel product cut into several bands of rows whose node gave room for op(B)
        /// packed whole: the job that packs it, one chunk per block of columns, after which
        /// every band reads those panels instead of packing its columns again. nil otherwise.
        func sharedPacking() -> Job? {
            guard case .tiles(_, let columnBlocks) = cut, chunks > columnBlocks,
                  product.hasScratch(product.panelPackCount) else { return nil }
            return Job(product: product, cut: .packing, chunkSize: chunkSize, chunks: columnBlocks, workers: workers)
        }

        /// Computes the job on the calling thread, block by block, so that the results equal
        /// those of the split (see the type's note on rounding).
        func runAlone() {
            for chunk in 0 ..< chunks { run(chunk: chunk) }
            finish()
        }

        func run(chunk: Int) {
            let start = chunk &* chunkSize
            switch cut {
            case .rows:
                product.computeBlock(rows: start ..< min(start &+ chunkSize, product.m), cols: 0 ..< product.n)
            case .cols:
                product.computeBlock(rows: 0 ..< product.m, cols: start ..< min(start &+ chunkSize, product.n))
            case .tiles(let rows, let columnBlocks):
                let (band, block) = chunk.quotientAndRemainder(dividingBy: columnBlocks)
                let column = block &* chunkSize, row = band &* rows
                product.computeBlock(rows: row ..< min(row &+ rows, product.m),
                                     cols: column ..< min(column &+ chunkSize, product.n))
            case .packing:
                product.packPanels(cols: start ..< min(start &+ chunkSize, product.n))
            case .inner:
                let inner = start ..< min(start &+ chunkSize, product.k)
                let part = chunk == 0 ? nil : product.scratch!.baseAddress! + (chunk &- 1) &* product.innerPartCount
                product.computeInner(inner, into: part)
            }
        }

        /// After every block is done: adds the inner blocks' parts to C (and to the column sums),
        /// in block order, then applies the epilogue; after other cuts, sums B's columns.
        func finish() {
            switch cut {
            case .inner: break
            case .rows, .cols, .tiles: return product.sumColumnsOfB()
            case .packing: return
            }
            let (m, n) = (product.m, product.n)
            for chunk in 1 ..< chunks {
                let part = product.scratch!.baseAddress! + (chunk &- 1) &* product.innerPartCount
                for row in 0 ..< m {
                    Accumulate.add(part + row &* n, into: product.c + row &* product.ldc, count: n)
                }
                if let sums = product.columnSumsOfB { Accumulate.add(part + m &* n, into: sums, count: n) }
            }
            product.finishBlock(rows: 0 ..< m, cols: 0 ..< n)
        }
    }

    /// What the caller posts: a product's blocks, or a task's parts (`post` puts it on the board
    /// for the workers; the caller keeps it to wait and finish). A struct of
    /// optionals rather than an enum of the two: valgrind's memcheck reported destroying the
    /// enum's task case, whose case Swift reads from spare bits inside the product case's
    /// bytes, as a jump on uninitialised memory; an optional's case is a whole field it writes.
    struct Posted {
        /// The product whose blocks are the chunks, or nil.
        let product: Job?
        /// The task whose parts are the chunks, or nil.
        let task: (any PoolTask)?
        let chunks: Int
        /// Workers with an index at or above this sit the job out.
        let workers: Int

        static func product(_ job: Job) -> Posted {
            Posted(product: job, task: nil, chunks: job.chunks, workers: job.workers)
        }

        static func task(_ task: any PoolTask, parts: Int, workers: Int) -> Posted {
            Posted(product: nil, task: task, chunks: parts, workers: workers)
        }

        func finish() { product?.finish() }

        /// Runs chunk `chunk` on the calling thread.
        func run(chunk: Int) {
            if let task { task.run(part: chunk) } else { product!.run(chunk: chunk) }
        }
    }

    private init() {
        // Honour OPENBLAS_NUM_THREADS (or OpenBLAS's default: the number of cores) as the
        // initial count, then keep OpenBLAS itself on one thread.
        requestedThreads = Atomic(min(max(1, Int(openblas_get_num_threads())), WorkerPool.maxThreads))
        openblas_set_num_threads(1)
        _ = nncore_openblas_stop_threads()
        let line = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
        board = line.bindMemory(to: Board.self, capacity: 1)
        board.initialize(to: Board())
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        wake = .allocate(capacity: 1)
        wake.initialize(to: pthread_cond_t())
        pthread_cond_init(wake, nil)
    }

    /// Products below this many multiply-adds run on the calling thread alone: handing them
    /// out costs more than it saves.
    static let parallelThreshold = 1 << 17
    /// The same for one-row products, which read each weight once and are bound by memory:
    /// splitting them puts half the weights in each core's cache.
    static let rowThreshold = 1 << 15
    /// The same for products in nncore's small loops (`Gemm.smallLoop`, below
    /// `Gemm.smallProductLimit`), whose blocks run those loops.
    static let smallSplitThreshold = 1 << 15
    /// A panel product (`Gemm.usesPanels`) is also cut into up to this many bands of rows, of at
    /// least `panelBandRows` rows, so that threads claim several smaller blocks and a worker on a
    /// slow core holds up less. With 4 bands, batches of 1,024 rows of net M ran faster than with
    /// 1 (or equal) in each of six interleaved pairs on a noisy 2-core Zen VM (medians 93k against
    /// 78k samples/s). The bands share one packing of op(B) when the graph node has room for it
    /// (`Job.sharedPacking`); packing it again per band was 4.8 % of two-thread batch inference
    /// and 7 % of L's training.
    static let panelBands = 4
    static let panelBandRows = 96

    /// Whether `plan` cuts a panel product with `m` rows into more than one band of rows (when
    /// it splits the product at all).
    static func sharesPanels(rows m: Int) -> Bool { m / panelBandRows > 1 }
    /// Chunk edges fall on multiples of this (OpenBLAS's register tiles are 4–16 wide).
    static let chunkAlignment = 16

    /// How `product` is cut for `threads` threads, or nil when it runs whole on the caller
    /// (one thread, or too small to be worth handing out). Depends only on the shape and the
    /// thread count.
    func plan(_ product: Gemm, threads: Int) -> Job? {
        let multiplyAdds = Double(product.m) * Double(product.n) * Double(max(product.k, 1))
        let threshold = product.m == 1 ? WorkerPool.rowThreshold
            : product.smallLoop != nil ? WorkerPool.smallSplitThreshold : WorkerPool.parallelThreshold
        guard threads > 1, multiplyAdds >= Double(threshold) else { return nil }
        let cut: Job.Cut, extent: Int
        if product.m == 1, !product.transB, threads <= Gemm.maxInnerBlocks, product.n <= Gemm.innerCutMaxColumns,
           product.hasScratch((threads - 1) * product.innerPartCount) {
            // y = x·W with W (k, n) row-major: inner blocks read contiguous rows of W (column
            // blocks would read strided pieces of every row).
            cut = .inner
            extent = product.k
        } else if product.smallLoop != nil, product.transA, !product.transB, product.bias == nil,
                  product.epilogue == nil, product.derivative == nil,
                  product.hasScratch((threads - 1) * product.innerPartCount) {
            // A weight gradient (Aᵀ·dY, the inner dimension being the batch's rows): blocks of
            // rows, as the other small products of a step are cut, so that each thread reads the
            // rows it computed and nothing but the partial sums moves between the cores.
            cut = .inner
            extent = product.k
        } else if product.usesPanels, product.smallLoop == nil {
            // Blocks of columns, so that each thread packs only its own columns of op(B) (and
            // bands of rows, below).
            cut = .cols
            extent = product.n
        } else {
            // Cut the longer side of the result, so that the operand read by every chunk in full
            // (and packed again by each) is the smaller one.
            (cut, extent) = product.m >= product.n ? (.rows, product.m) : (.cols, product.n)
        }
        // One block per thread: finer blocks balance a slow worker better but repack the shared
        // operand more often, which measured slower with OpenBLAS's blocks on net M both idle
        // and with a busy core (panel products, which repack less, add bands of rows below).
        let alignment = WorkerPool.chunkAlignment
        let perThread = (extent + threads - 1) / threads
        let chunkSize = (perThread + alignment - 1) / alignment * alignment
        let chunks = (extent + chunkSize - 1) / chunkSize
        if product.usesPanels, product.smallLoop == nil {
            let bands = max(1, min(WorkerPool.panelBands, product.m / WorkerPool.panelBandRows))
            guard chunks * bands > 1 else { return nil }
            let rows = (product.m + bands - 1) / bands
            return Job(product: product, cut: .tiles(rows: rows, columnBlocks: chunks), chunkSize: chunkSize,
                       chunks: chunks * bands, workers: threads - 1)
        }
        guard chunks > 1 else { return nil }
        return Job(product: product, cut: cut, chunkSize: chunkSize, chunks: chunks, workers: threads - 1)
    }

    /// Computes `product`, split over the pool's threads when it is large enough.
    func perform(_ product: Gemm) {
        guard var job = plan(product, threads: threadCount) else {
            product.computeWhole()
            return
        }
        let shared = withPool {
            var waited = 0
            if let packing = job.sharedPacking() {
                waited = share(.product(packing))
                job.product.panelsPacked = true
            }
            return waited &+ share(.product(job))
        }
        if !shared { job.runAlone() }
    }

    /// Runs `task`'s parts 0 ..< `parts`, each exactly once, on the caller and the workers, and
    /// returns when all are done. Parts are claimed one at a time in order, so a worker that lost
    /// its core holds up at most one part; on one thread, with the pool busy with another
    /// caller's work, during the back-off (`noteWait`) or for more than `maxChunks` parts (a
    /// step of a model beyond 2²⁹ parameters: the claim word's field would overflow, and the
    /// caller would wait for parts nobody can claim), the caller runs them all in order.
    /// `task.run(part:)` must not use the pool itself (its products run on the thread that runs
    /// the part: `Gemm.computeBlock`).
    func perform(parts: Int, of task: any PoolTask) {
        let threads = threadCount
        guard parts > 1, parts <= WorkerPool.maxChunks, threads > 1 else {
            for part in 0 ..< parts { task.run(part: part) }
            return
        }
        let shared = withPool { share(.task(task, parts: parts, workers: min(threads, parts) - 1)) }
        if !shared { for part in 0 ..< parts { task.run(part: part) } }
    }

    /// Runs `body` holding the pool (`busy`), unless the pool is backing off (`noteWait`) or
    /// another caller holds it; returns whether it ran. `body` returns how long, in nanoseconds,
    /// the caller waited for the workers, which `noteWait` weighs against the rest of the time.
    private func withPool(_ body: () -> Int) -> Bool {
        let start = WorkerPool.nanoseconds()
        guard start >= serialUntil.load(ordering: .relaxed),
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        noteWait(body(), since: start)
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Runs `job` on the caller and the workers (the caller holds `busy`) and returns how long,
    /// in nanoseconds, the caller waited for the workers' blocks after its own.
    private func share(_ job: Posted) -> Int {
        post(job)
        // Chunk 0 is the caller's from the start (see `post`): claiming it on the board right
        // after posting would fetch the board's line back from the workers' cores, which are
        // reading it just then, before the caller could start.
        job.run(chunk: 0)
        let workers = job.chunks &- 1 &- work(board.pointee.claim.load(ordering: .relaxed), index: -1)
        // Wait for the workers' blocks, yielding now and then: if the scheduler has put a worker
        // on this core, it needs the core to finish (a pure spin here waited out whole time
        // slices, and an M epoch ran at half its one-thread rate in some processes). The clock
        // is read only when there is a wait (a read took 26 ns on a Zen 4 VM; the spiral's step
        // makes five jobs of 2–3 µs).
        var waited = 0
        if finished.load(ordering: .acquiring) < workers {
            let waitStart = WorkerPool.nanoseconds()
            var spin = SpinWait()
            repeat { spin.pause() } while finished.load(ordering: .acquiring) < workers
            waited = WorkerPool.nanoseconds() &- waitStart
        }
        job.finish()
        return waited &+ (job.task?.waitNanoseconds() ?? 0)
    }

    /// The shortest wait for the workers that counts as a stall (`noteWait`).
    static let stallNanoseconds = 50_000

    // Back-off when the workers are slow to finish (the caller owns these while `busy`).
    private var consecutiveStalls = 0
    /// Until this time (monotonic ns) products run on the calling thread alone.
    private let serialUntil = Atomic<Int>(0)
    /// The last stored property: keeps the fields above away from whatever the allocator puts next.
    private let paddingEnd = CacheLinePadding()

    /// A worker that holds a chunk but lost its core (another process runs there) makes the
    /// caller wait for a whole scheduler time slice, milliseconds. When the caller waited longer
    /// than its own share of the work took, products run on the caller alone for a while —
    /// 2 ms, doubling with each consecutive stall up to 128 ms — and then the pool is tried again.
    /// `waited` is how long the caller waited for the workers in the job that began at `start`;
    /// the clock is read again only for a wait that can be a stall, so on an idle machine this
    /// costs one clock read per job (`withPool`'s).
    private func noteWait(_ waited: Int, since start: Int) {
        guard waited > WorkerPool.stallNanoseconds, waited > WorkerPool.nanoseconds() &- start &- waited else {
            consecutiveStalls = 0
            return
        }
        consecutiveStalls = min(consecutiveStalls + 1, 7)
        serialUntil.store(WorkerPool.nanoseconds() &+ (1_000_000 << consecutiveStalls), ordering: .relaxed)
    }

    /// Puts `job` on the board for the workers (starting any that are missing) with its chunk 0
    /// already claimed (the caller runs it), and wakes sleeping ones. A job has two chunks or more.
    private func post(_ job: Posted) {
        if startedWorkers < job.workers {
            pthread_mutex_lock(mutex)
            while startedWorkers < job.workers {
                startWorker(index: startedWorkers, generation: generation)
                startedWorkers += 1
            }
            pthread_mutex_unlock(mutex)
        }
        generation &+= 1
        product = job.product
        if let task = job.task {
            board.pointee.taskType = type(of: task)
            board.pointee.task = UnsafeRawPointer(Unmanaged.passUnretained(task as AnyObject).toOpaque())
        } else {
            board.pointee.taskType = nil
            board.pointee.task = nil
        }
        finished.store(0, ordering: .relaxed)
        let word = WorkerPool.claimWord(generation: generation, workers: job.workers, chunks: job.chunks) | 1
        // Sequentially consistent with the sleepers' count (see `workerLoop`): either this sees a
        // worker about to sleep, or that worker sees the new generation.
        board.pointee.claim.store(word, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }
    }

    /// Claims and runs chunks of the job whose claim word was `word` until none is left, on the
    /// caller (`index` −1) or worker `index`, and returns how many it ran. A worker counts each
    /// in `finished`.
    @discardableResult
    private func work(_ word: Int, index: Int) -> Int {
        guard index < WorkerPool.workers(word) else { return 0 }
        var ran = 0
        let chunks = WorkerPool.chunks(word)
        let job = word >> 16
        var word = word
        while word >> 16 == job, word & 0xFFFF < chunks {
            let (won, current) = board.pointee.claim.compareExchange(expected: word, desired: word &+ 1,
                                                                     ordering: .acquiringAndReleasing)
            if won {
                // The board keeps this job until all its chunks are done, this one included.
                let chunk = word & 0xFFFF
                if let taskType = board.pointee.taskType {
                    taskType.run(part: chunk, of: board.pointee.task!)
                } else {
                    product!.run(chunk: chunk)
                }
                ran &+= 1
                if index >= 0 { finished.add(1, ordering: .releasing) }
                word = board.pointee.claim.load(ordering: .relaxed)
            } else {
                word = current
            }
        }
        return ran
    }

    /// How long a worker spins for the next job before it sleeps, in nanoseconds.
    static let spinNanoseconds = 200_000

    private func workerLoop(index: Int, generation: Int) {
        var seen = generation & 0xFF_FFFF
        while true {
            var word = board.pointee.claim.load(ordering: .relaxed)
            if WorkerPool.generation(word) == seen {
                // Now and then give the core away (`SpinWait`): when the scheduler has put this
                // worker on the caller's core, the caller gets it back. Without it, one-row
                // predictions from Python took 20 µs instead of 12.6 in about half the runs.
                var spin = SpinWait()
                while WorkerPool.generation(word) == seen {
                    spin.pause()
                    if spin.waited > WorkerPool.spinNanoseconds { break }
                    word = board.pointee.claim.load(ordering: .relaxed)
                }
            }
            if WorkerPool.generation(word) == seen {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                word = board.pointee.claim.load(ordering: .sequentiallyConsistent)
                while WorkerPool.generation(word) == seen {
                    pthread_cond_wait(wake, mutex)
                    word = board.pointee.claim.load(ordering: .sequentiallyConsistent)
                }
                sleepers.subtract(1, ordering: .relaxed)
                pthread_mutex_unlock(mutex)
            }
            seen = WorkerPool.generation(word)
            work(word, index: index)
        }
    }

    /// Starts worker `index`, which then waits for a job after `generation`.
    private func startWorker(index: Int, generation: Int) {
        let context = UnsafeMutablePointer<(WorkerPool, Int, Int)>.allocate(capacity: 1)
        context.initialize(to: (self, index, generation))
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            let context = raw!.assumingMemoryBound(to: (WorkerPool, Int, Int).self)
            let (pool, index, generation) = context.move()
            context.deallocate()
            pool.workerLoop(index: index, generation: generation)
            return nil
        }, context)
        if started == 0 {
            pthread_detach(thread)
        } else {
            // No thread: its chunks are claimed by the caller instead.
            context.deinitialize(count: 1)
            context.deallocate()
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func nanoseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ts.tv_sec &* 1_000_000_000 &+ ts.tv_nsec
    }
}

/// A spin-wait that gives the core away (`sched_yield`) after every `yieldNanoseconds` of
/// waiting: a thread the scheduler has put on the same core gets it back within microseconds,
/// and a short wait stays a spin. On a 2-core Zen 4 VM a pause took 28 ns and a `sched_yield`
/// 0.7 µs; yielding every 16 pauses (as the pool's caller did) spent more of a microsecond's
/// wait in the system call than spinning, and answered late when the other thread finished.
struct SpinWait {
    static let yieldNanoseconds = 4_000
    private var spins = 0, start = 0, nextYield = 0
    /// Nanoseconds since the first `pause`, as of the last look at the clock (every 16 pauses).
    private(set) var waited = 0

    /// One round of the wait: the CPU's pause hint, and every 16 rounds a look at the clock.
    mutating func pause() {
        nncore_cpu_relax()
        spins &+= 1
        guard spins & 15 == 0 else { return }
        let now = WorkerPool.nanoseconds()
        if start == 0 {
            (start, nextYield) = (now, now &+ SpinWait.yieldNanoseconds)
        } else if now >= nextYield {
            sched_yield()
            nextYield = WorkerPool.nanoseconds() &+ SpinWait.yieldNanoseconds
        }
        waited = now &- start
    }
}

/// Work for `WorkerPool.perform(parts:of:)`: parts that may run at the same time on different
/// threads, in any order. A part may wait for work another part's thread has begun (never for a
/// part that has not started, which may run after it on the same thread).
protocol PoolTask: AnyObject, Sendable {
    /// Runs part `part`.
    func run(part: Int)
    /// Nanoseconds the last `perform`'s parts spent waiting for one another, which the pool
    /// counts as its own waiting for the workers (see `noteWait`). 0 by default.
    func waitNanoseconds() -> Int
}

extension PoolTask {
    func waitNanoseconds() -> Int { 0 }

    /// Runs part `part` of `task`, an unretained `Self` (`Unmanaged.passUnretained`) that the
    /// caller keeps alive, without touching its reference count from this thread.
    static func run(part: Int, of task: UnsafeRawPointer) {
        Unmanaged<Self>.fromOpaque(task)._withUnsafeGuaranteedRef { $0.run(part: part) }
    }
}

/// 128 bytes of nothing: two cache lines, since x86 CPUs fetch lines in adjacent pairs.
struct CacheLinePadding {
    private var words: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}
