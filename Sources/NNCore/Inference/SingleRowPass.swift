// One row through an inference graph over its packed weights (`PackedForward`), in one pool job.
//
// A one-row product reads every weight once for one multiply-add, so it is bound by how fast the
// weights stream in from the cache. Each large layer's panels are cut by columns into one unit per
// thread, and unit u of every layer belongs to the thread that runs part u: each thread reads the
// same columns of each layer in every call, so that net M's weights (942 kB) stay in the two
// cores' L2 caches (512 KiB each) in halves. The cut starts equal and then follows the threads'
// measured finishing times, a panel at a time (`rebalance`). A layer needs the whole output of the
// layer before, so the threads meet between layers — inside one job, since a pool job per layer
// (post, wake, claim and wait) cost about 1.5 µs each on a 2-core Zen VM, as long as half of net
// M's second layer took.
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
        /// Its panels of 16 columns (0 for the others).
        var panels = 0
        /// The index of its first unit's state.
        var firstState = 0
    }

    // Each unit's line of `states` (`stateStride` Ints, a cache line pair, since different
    // threads write them) holds, at these offsets:
    /// Its state: 2·call when claimed in call number `call`, 2·call + 1 when done, and free when
    /// below 2·call. Counting calls instead of resetting the states leaves each unit's line where
    /// it was last written, in the cache of the thread that owns the unit.
    private static let stateSlot = 0
    /// Its panels, first ..< end (set by `plan` and `rebalance`, between calls).
    private static let firstPanelSlot = 1, endPanelSlot = 2
    /// In timed calls: when it started and finished (ns) and which part ran it.
    private static let startSlot = 3, finishSlot = 4, runnerSlot = 5
    private static let stateStride = 16
    /// Every `timedCalls`-th call times its units, for `rebalance`.
    private static let timedCalls = 8

    private let graph: Graph
    private var stages: [Stage]
    /// The thread count `stages` is planned for, or 0.
    private var plannedThreads = 0
    /// One line per unit (see `stateSlot`).
    private var states: UnsafeMutablePointer<Atomic<Int>>? = nil
    private var stateCount = 0
    /// Per unit but the last of its stage: how much later, in ns, the next unit finished than
    /// this one in timed calls where different threads ran them, averaged (see `rebalance`).
    private var lag: [Double] = []
    /// The current call's number (from 1; the states start at 0, free).
    private var call = 0
    /// Whether the current call times its units.
    private var timed = false
    /// Nanoseconds the current call's parts waited for units held by other threads.
    private let waited = Atomic<Int>(0)
    /// The current call's input row for part 0 to check, and whether it found a NaN or ±∞.
    private var inputToCheck: UnsafeBufferPointer<Float>? = nil
    private var nonFinite = false

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
    /// caller), on the pool, and returns whether every value of `check` (the caller's input row,
    /// or nil) is finite. Part 0 checks it while the workers start on their units: read from
    /// memory, a row of net M took about 0.2 µs to check, which the whole call used to wait for.
    /// A non-finite input leaves the graph's values undefined.
    func forward(checking check: UnsafeBufferPointer<Float>? = nil) -> Bool {
        inputToCheck = check
        nonFinite = false
        WorkerPool.shared.perform(parts: prepare(), of: self)
        inputToCheck = nil
        if timed { rebalance() }
        return !nonFinite
    }

    /// Cuts the nodes for the pool's thread count (once per count) and starts a call, in which
    /// every unit is free; returns the number of parts, which must then each run once
    /// (`run(part:)`), on any threads in any order.
    func prepare() -> Int {
        let threads = WorkerPool.shared.threadCount
        if threads != plannedThreads { plan(threads: threads) }
        call &+= 1
        timed = call % SingleRowPass.timedCalls == 0
        waited.store(0, ordering: .relaxed)
        return stages.reduce(1) { max($0, $1.units) }
    }

    /// Cuts each large affine node into at most `threads` units of whole groups of four panels
    /// (the kernel's widest usual sweep), which `rebalance` then moves a panel at a time, and
    /// makes room for the units' lines.
    private func plan(threads: Int) {
        var count = 0
        for i in stages.indices {
            stages[i].firstState = count
            stages[i].units = 1
            if stages[i].affine {
                let product = PackedForward.affineProduct(stages[i].node, in: graph, rows: 1)
                let groups = (product.panelCount &+ 3) / 4
                let multiplyAdds = Double(product.n) * Double(product.k)
                let units = multiplyAdds < Double(SingleRowPass.splitThreshold) ? 1 : max(1, min(threads, groups))
                let perUnit = SingleRowPass.perUnit(panels: product.panelCount, units: units)
                stages[i].panels = product.panelCount
                stages[i].units = (product.panelCount &+ perUnit &- 1) / perUnit
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
        for stage in stages {
            let perUnit = SingleRowPass.perUnit(panels: stage.panels, units: stage.units)
            for unit in 0 ..< stage.units {
                store(min(unit &* perUnit, stage.panels), SingleRowPass.firstPanelSlot, of: stage, unit: unit)
                store(min((unit &+ 1) &* perUnit, stage.panels), SingleRowPass.endPanelSlot, of: stage, unit: unit)
            }
        }
        lag = [Double](repeating: 0, count: count)
        plannedThreads = threads
    }

    /// Panels per unit when `panels` are cut into `units` of whole groups of four.
    private static func perUnit(panels: Int, units: Int) -> Int {
        ((panels &+ 3) / 4 &+ units &- 1) / units &* 4
    }

    /// Slot `slot` of `unit`'s line of `stage`.
    private func load(_ slot: Int, of stage: Stage, unit: Int) -> Int {
        states![(stage.firstState &+ unit) &* SingleRowPass.stateStride &+ slot].load(ordering: .relaxed)
    }

    private func store(_ value: Int, _ slot: Int, of stage: Stage, unit: Int) {
        states![(stage.firstState &+ unit) &* SingleRowPass.stateStride &+ slot].store(value, ordering: .relaxed)
    }

    /// After a timed call: for each two neighbouring units of a stage that different threads
    /// ran, averages how much later the second finished than the first, and when that exceeds
    /// three quarters of a panel's time, moves one panel from the later unit to the earlier one.
    /// This evens out the worker's start (about 0.9 µs after the caller's on a 2-core Zen VM) and
    /// cores that run at different speeds (on that VM, the caller's wait for the worker's half of
    /// net M's first layer was 1.1–5.6 µs from one process to the next). A unit keeps at least
    /// three panels, the fewest the kernel sweeps at its full rate. Which thread computes a
    /// column does not change its bits.
    private func rebalance() {
        for (index, stage) in stages.enumerated() where stage.affine && stage.units > 1 {
            for unit in 0 ..< stage.units &- 1 {
                let runner = load(SingleRowPass.runnerSlot, of: stage, unit: unit)
                guard runner != load(SingleRowPass.runnerSlot, of: stage, unit: unit &+ 1) else { continue }
                let finish = load(SingleRowPass.finishSlot, of: stage, unit: unit)
                let nextFinish = load(SingleRowPass.finishSlot, of: stage, unit: unit &+ 1)
                let slot = stage.firstState &+ unit
                lag[slot] += (Double(nextFinish &- finish) - lag[slot]) / 8
                let (earlier, later) = (panels(of: stage, unit: unit), panels(of: stage, unit: unit &+ 1))
                guard !earlier.isEmpty, !later.isEmpty else { continue }
                // A panel's time: the faster of the two units' rates.
                func perPanel(_ u: Int, _ count: Int) -> Double {
                    Double(load(SingleRowPass.finishSlot, of: stage, unit: u) &- load(SingleRowPass.startSlot, of: stage, unit: u))
                        / Double(count)
                }
                let panelTime = min(perPanel(unit, earlier.count), perPanel(unit &+ 1, later.count))
                let shift = SingleRowPass.panelShift(lag: lag[slot], panelTime: panelTime, earlier: earlier.count,
                                                     later: later.count)
                if shift != 0 {
                    moveBoundary(stage: index, after: unit, by: shift)
                    lag[slot] = 0
                }
            }
        }
    }

    /// Which way the boundary between two neighbouring units moves, given how much later the
    /// second finished on average (`lag`, ns), a panel's time and the units' panel counts: +1
    /// (one panel from the second to the first) when the lag exceeds three quarters of a panel's
    /// time, −1 the other way, 0 otherwise or when the giving unit would keep fewer than three.
    static func panelShift(lag: Double, panelTime: Double, earlier: Int, later: Int) -> Int {
        guard panelTime > 0 else { return 0 }
        if lag > 0.75 * panelTime && later > 3 { return 1 }
        if lag < -0.75 * panelTime && earlier > 3 { return -1 }
        return 0
    }

    /// The panels of `unit` of `stage`.
    private func panels(of stage: Stage, unit: Int) -> Range<Int> {
        load(SingleRowPass.firstPanelSlot, of: stage, unit: unit) ..< load(SingleRowPass.endPanelSlot, of: stage, unit: unit)
    }

    /// The panels of unit `unit` of stage `index`, after `plan` or `moveBoundary`.
    func panels(stage index: Int, unit: Int) -> Range<Int> { panels(of: stages[index], unit: unit) }

    /// The stages (affine nodes, and maxout or activation nodes not fused into one).
    var stageCount: Int { stages.count }

    /// The units of stage `index` for the current plan.
    func units(stage index: Int) -> Int { stages[index].units }

    /// Moves the boundary between `unit` and the next unit of stage `index` by `shift` panels
    /// (positive: to the first unit), keeping both units non-empty; between calls only.
    func moveBoundary(stage index: Int, after unit: Int, by shift: Int) {
        let stage = stages[index]
        let (earlier, later) = (panels(of: stage, unit: unit), panels(of: stage, unit: unit &+ 1))
        let boundary = min(max(earlier.upperBound &+ shift, earlier.lowerBound &+ 1), later.upperBound &- 1)
        store(boundary, SingleRowPass.endPanelSlot, of: stage, unit: unit)
        store(boundary, SingleRowPass.firstPanelSlot, of: stage, unit: unit &+ 1)
    }

    /// Part `part`: stage by stage, unit `part` of each, then the units nobody has claimed; then
    /// waits for the stage's other units, unless the part owns no later unit.
    func run(part: Int) {
        if part == 0, let check = inputToCheck, !allFinite(check.baseAddress!, count: check.count) { nonFinite = true }
        for index in stages.indices {
            let stage = stages[index]
            if part < stage.units { claimAndRun(stage, unit: part, part: part) }
            for unit in 0 ..< stage.units where unit != part { claimAndRun(stage, unit: unit, part: part) }
            guard stages[(index &+ 1)...].contains(where: { part < $0.units }) else { return }
            waitForUnits(of: stage)
        }
    }

    /// Runs `unit` of `stage` unless another thread claimed it first.
    private func claimAndRun(_ stage: Stage, unit: Int, part: Int) {
        let line = states! + (stage.firstState &+ unit) &* SingleRowPass.stateStride
        let claimed = call &* 2, seen = line.pointee.load(ordering: .relaxed)
        guard seen < claimed,
              line.pointee.compareExchange(expected: seen, desired: claimed, ordering: .acquiring).exchanged else { return }
        if timed { line[SingleRowPass.startSlot].store(WorkerPool.nanoseconds(), ordering: .relaxed) }
        if stage.affine {
            var product = PackedForward.affineProduct(stage.node, in: graph, rows: 1)
            product.panelsPacked = true
            product.computeRow(panels: line[SingleRowPass.firstPanelSlot].load(ordering: .relaxed)
                                   ..< line[SingleRowPass.endPanelSlot].load(ordering: .relaxed))
        } else {
            PackedForward.forwardElementwise(node: stage.node, in: graph, rows: 0 ..< 1)
        }
        if timed {
            line[SingleRowPass.finishSlot].store(WorkerPool.nanoseconds(), ordering: .relaxed)
            line[SingleRowPass.runnerSlot].store(part, ordering: .relaxed)
        }
        line.pointee.store(claimed &+ 1, ordering: .releasing)
    }

    /// Waits until every unit of `stage` is done (all are claimed by now). Spins with the CPU's
    /// pause hint, giving the core away now and then (`SpinWait`): a thread holding a unit may
    /// have been put on this core.
    private func waitForUnits(of stage: Stage) {
        var start = 0, spin = SpinWait()
        for unit in 0 ..< stage.units {
            let state = states! + (stage.firstState &+ unit) &* SingleRowPass.stateStride
            while state.pointee.load(ordering: .acquiring) != call &* 2 &+ 1 {
                if start == 0 { start = WorkerPool.nanoseconds() }
                spin.pause()
            }
        }
        if start != 0 { waited.add(WorkerPool.nanoseconds() &- start, ordering: .relaxed) }
    }

    /// The nanoseconds the last `forward`'s parts waited for units held by other threads.
    func waitNanoseconds() -> Int { waited.load(ordering: .relaxed) }
}
