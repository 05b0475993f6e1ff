// One row through an inference graph over its packed weights (`PackedForward`), in one pool job.
//
// A one-row product reads every weight once for one multiply-add, so it is bound by how fast the
// weights stream in from the cache. Each large layer's panels are cut by columns into one unit
// per thread, and unit u of every layer belongs to the thread that runs part u: each thread
// reads the same columns of each layer in every call, so that net M's weights (942 kB) stay in
// the two cores' L2 caches (512 KiB each) in halves. A layer needs the whole output of the layer
// before, so the threads meet between layers — inside one job, since a pool job per layer (post,
// wake, claim and wait) cost about 1.5 µs each on a 2-core Zen VM, as much as half a layer.
//
// A thread claims its own unit of a layer first, then any unit nobody has claimed yet, and waits
// only for units other threads hold. So a worker that has not woken up (or lost its core before
// starting) costs nothing: the caller takes its units; and a caller that runs the parts one after
// the other (one thread, the pool busy or backing off) computes every unit in the first part.
// Waiting on a unit another thread holds is reported to the pool (`waitNanoseconds`),
// which backs off to the caller alone after a stall, as it does for its own waits.
//
// Every column is computed whole by one thread, in the order of the inner index
// (`PanelProduct.computeRow`), so results do not depend on the threads or on who took which unit.

import CBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one-row forward pass of an inference graph whose affine nodes' scratch holds their weights
/// packed (`PackedForward` packs them and binds the input). Not thread-safe by itself: the
/// graph's user runs one `forward` at a time, whose parts run on the pool's threads.
final class SingleRowPass: PoolTask, @unchecked Sendable {
    /// One-row products with fewer multiply-adds than this are one unit (net M's last layer, 1,280).
    static let splitThreshold = WorkerPool.rowThreshold

    /// A node and how many units it is cut into.
    private struct Stage {
        let node: Int
        /// Whether the node is an affine node (cut by panels); the others are one unit.
        let affine: Bool
        var units = 1
        var panelsPerUnit = 0
        /// The index of its first unit's state.
        var firstState = 0
    }

    private let graph: Graph
    private var stages: [Stage]
    /// The thread count `stages` is planned for, or 0.
    private var plannedThreads = 0
    /// One state per unit, `stateStride` apart (a cache line pair each, since different threads
    /// write them): 2·call when claimed in call number `call`, 2·call + 1 when done, and free
    /// when below 2·call. Counting calls instead of resetting the states leaves each unit's line
    /// where it was last written, in the cache of the thread that owns the unit.
    private var states: UnsafeMutablePointer<Atomic<Int>>? = nil
    private var stateCount = 0
    private static let stateStride = 16
    /// The current call's number (from 1; the states start at 0, free).
    private var call = 0
    /// Nanoseconds the current call's parts waited for units held by other threads.
    private let waited = Atomic<Int>(0)

    /// `nodes`: the graph's affine, activation and maxout nodes in order. Activations applied in
    /// their affine node's output pass (`Graph.planActivationFusion`) are no stage of their own.
    init(graph: Graph, nodes: [Int]) {
        self.graph = graph
        stages = nodes.filter { !graph.records[$0].fusedIntoInput }
            .map { Stage(node: $0, affine: graph.records[$0].op == .affine) }
    }

    deinit {
        if let states {
            states.deinitialize(count: stateCount &* SingleRowPass.stateStride)
            states.deallocate()
        }
    }

    /// Runs every node on row 0 of the graph (its input bound and the weights packed by the
    /// caller), on the pool.
    func forward() {
        WorkerPool.shared.perform(parts: prepare(), of: self)
    }

    /// Cuts the nodes for the pool's thread count (once per count) and starts a call, in which
    /// every unit is free; returns the number of parts, which must then each run once
    /// (`run(part:)`), on any threads in any order.
    func prepare() -> Int {
        let threads = WorkerPool.shared.threadCount
        if threads != plannedThreads { plan(threads: threads) }
        call &+= 1
        waited.store(0, ordering: .relaxed)
        return stages.reduce(1) { max($0, $1.units) }
    }

    /// Cuts each large affine node into at most `threads` units of whole groups of four panels
    /// (the kernel sweeps four at a time), and makes room for the units' states.
    private func plan(threads: Int) {
        var count = 0
        for i in stages.indices {
            stages[i].firstState = count
            stages[i].units = 1
            if stages[i].affine {
                let product = PackedForward.affineProduct(stages[i].node, in: graph, rows: 1)
                let panels = product.panelCount, groups = (panels &+ 3) / 4
                let multiplyAdds = Double(product.n) * Double(product.k)
                let units = multiplyAdds < Double(SingleRowPass.splitThreshold) ? 1 : max(1, min(threads, groups))
                stages[i].panelsPerUnit = (groups &+ units &- 1) / units &* 4
                stages[i].units = (panels &+ stages[i].panelsPerUnit &- 1) / stages[i].panelsPerUnit
            }
            count &+= stages[i].units
        }
        if count > stateCount, let old = states {
            old.deinitialize(count: stateCount &* SingleRowPass.stateStride)
            old.deallocate()
            states = nil
        }
        if states == nil {
            let fresh = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: count &* SingleRowPass.stateStride)
            for s in 0 ..< count &* SingleRowPass.stateStride { (fresh + s).initialize(to: Atomic(0)) }
            states = fresh
            stateCount = count
        }
        plannedThreads = threads
    }

    /// Part `part`: stage by stage, unit `part` of each, then the units nobody has claimed; then
    /// waits for the stage's other units, unless the part owns no later unit.
    func run(part: Int) {
        for index in stages.indices {
            let stage = stages[index]
            if part < stage.units { claimAndRun(stage, unit: part) }
            for unit in 0 ..< stage.units where unit != part { claimAndRun(stage, unit: unit) }
            guard stages[(index &+ 1)...].contains(where: { part < $0.units }) else { return }
            waitForUnits(of: stage)
        }
    }

    /// Runs `unit` of `stage` unless another thread claimed it first.
    private func claimAndRun(_ stage: Stage, unit: Int) {
        let state = states! + (stage.firstState &+ unit) &* SingleRowPass.stateStride
        let claimed = call &* 2, seen = state.pointee.load(ordering: .relaxed)
        guard seen < claimed,
              state.pointee.compareExchange(expected: seen, desired: claimed, ordering: .acquiring).exchanged else { return }
        if stage.affine {
            var product = PackedForward.affineProduct(stage.node, in: graph, rows: 1)
            product.panelsPacked = true
            let first = unit &* stage.panelsPerUnit
            product.computeRow(panels: first ..< min(first &+ stage.panelsPerUnit, product.panelCount))
        } else {
            PackedForward.forwardElementwise(node: stage.node, in: graph, rows: 0 ..< 1)
        }
        state.pointee.store(claimed &+ 1, ordering: .releasing)
    }

    /// Waits until every unit of `stage` is done (all are claimed by now). Spins with the CPU's
    /// pause hint, giving the core away every 256 rounds (about 7 µs): a thread holding a unit
    /// may have been put on this core.
    private func waitForUnits(of stage: Stage) {
        var start = 0, spins = 0
        for unit in 0 ..< stage.units {
            let state = states! + (stage.firstState &+ unit) &* SingleRowPass.stateStride
            while state.pointee.load(ordering: .acquiring) != call &* 2 &+ 1 {
                if start == 0 { start = WorkerPool.nanoseconds() }
                nncore_cpu_relax()
                spins &+= 1
                if spins & 255 == 0 { sched_yield() }
            }
        }
        if start != 0 { waited.add(WorkerPool.nanoseconds() &- start, ordering: .relaxed) }
    }

    /// The nanoseconds the last `forward`'s parts waited for units held by other threads.
    func waitNanoseconds() -> Int { waited.load(ordering: .relaxed) }
}
