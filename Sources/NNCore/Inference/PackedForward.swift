// Inference over weights packed once per model revision (`Model.Storage.revision`) into the
// affine nodes' scratch, in the panels of the panel loops (`PanelProduct.packAllPanels`).
//
// Batches run in bands of rows: each band of about 128 rows goes through every layer as one part
// of a pool task (`WorkerPool.perform(parts:of:)`). Layer by layer, a batch of net M was six pool
// jobs (each product packed its weights, then computed its bands, with every thread waiting for
// the slowest between them), and the caller checked the whole input for NaN while the worker
// waited. In bands, rows never wait for other rows: a thread takes the next band, checks and
// (when the model has one) standardises its input rows, and runs them through all layers while
// they are in its cache; the threads meet once per batch.
//
// One row goes through the layers one after the other, each large layer's columns cut between
// the threads (`SingleRowPass`), in one pool job.
//
// Results are the same bits as layer by layer with the panel loops: every product here is a
// panel product, whose elements do not depend on how it is cut (`PanelProduct`), and activations
// and maxout work row by row. So a row predicted alone equals that row of a batch run in bands.

import NNKernels
import Synchronization

/// The forward pass of one inference graph (`ModelGraph`, purpose `.inference`) over packed
/// weights: in bands of rows, or for one row by columns. Not thread-safe by itself: the graph's
/// user runs one `forward` at a time, whose parts run on the pool's threads.
final class PackedForward: PoolTask, @unchecked Sendable {
    /// Rows per band, about: rounded so that bands are whole 6-row register tiles of the panel
    /// loops (a partial tile costs a whole one). On net M, bands of 64, 128, 256 and 512 rows
    /// were within the noise of each other (141k–150k samples/s, three interleaved rounds on a
    /// 2-core Zen VM); the smaller the band, the less a thread on a slow core holds up.
    static let targetRows = 128

    private let graph: Graph
    private let input: Node
    /// The graph's computed nodes, in order (affine, activation and maxout only).
    private let nodes: [Int]
    /// The model revision whose weights the affine nodes' scratch holds packed, or nil.
    private var packedRevision: UInt64? = nil

    /// One row's pass over the same packed weights.
    let singleRow: SingleRowPass

    // The current call's, set by `forward` before the parts run.
    private var source: UnsafePointer<Float>? = nil
    private var cols = 0, count = 0, bandRows = 0
    private var standardization: Standardization? = nil
    private var checksInput = true
    private let nonFinite = Atomic<Bool>(false)

    /// nil when some node is not an affine, activation or maxout node, or an affine node's scratch
    /// cannot hold its weights packed.
    init?(graph: Graph, input: Node) {
        var nodes: [Int] = []
        for (i, r) in graph.records.enumerated() where !r.op.isLeaf {
            switch r.op {
            case .affine:
                let product = PackedForward.affineProduct(i, in: graph, rows: 1)
                guard product.hasScratch(product.panelPackCount) else { return nil }
            case .activation, .maxout:
                break
            default:
                return nil
            }
            nodes.append(i)
        }
        self.graph = graph
        self.input = input
        self.nodes = nodes
        singleRow = SingleRowPass(graph: graph, nodes: nodes)
    }

    /// Whether `rows` rows run here: on machines with the panel loops, one row, or a batch
    /// whose every layer's product over the whole batch would run in them.
    func applies(rows: Int) -> Bool {
        guard Gemm.kernelsUseAVX2 else { return false }
        if rows == 1 { return true }
        guard rows >= Gemm.panelMinimumRows else { return false }
        for i in nodes where graph.records[i].op == .affine {
            let product = affineProduct(i, rows: rows)
            guard product.smallKernel == nil, product.usesPanels else { return false }
        }
        return true
    }

    /// Forgets the packed weights: the graph ran layer by layer, which may use the scratch for
    /// other things.
    func invalidate() { packedRevision = nil }

    /// Runs the graph on `rows` rows read from `source` (`cols` floats each), in bands (one row:
    /// layer by layer, by columns). Call only when `applies(rows:)`; the graph's batch size is
    /// set here.
    /// - Throws: `.nonFiniteValue` naming the first NaN or ±∞ (counted from `firstRow`), unless
    ///   `inputsChecked`; the graph's output is then meaningless (a band that found one stopped,
    ///   one row ran through with it).
    func forward(source: UnsafePointer<Float>, rows: Int, cols: Int, firstRow: Int, inputsChecked: Bool,
                 standardization: Standardization?, revision: UInt64) throws {
        if packedRevision != revision {
            for i in nodes where graph.records[i].op == .affine {
                let product = affineProduct(i, rows: rows)
                product.packPanels(cols: 0 ..< product.n)
            }
            packedRevision = revision
        }
        if rows == 1 {
            let row = UnsafeBufferPointer(start: source, count: cols)
            let finite: Bool
            if let standardization {
                try graph.setBatchSize(1)
                standardization.apply(source, to: graph.valuePointer(input.id), rows: 1, cols: cols)
                finite = singleRow.forward(checking: inputsChecked ? nil : row)
            } else {
                finite = try graph.withInput(input, boundTo: source, rows: 1) {
                    singleRow.forward(checking: inputsChecked ? nil : row)
                }
            }
            if !finite { try PackedForward.nameNonFinite(row, cols: cols, firstRow: firstRow) }
            return
        }
        let bands = max(1, (rows + PackedForward.targetRows - 1) / PackedForward.targetRows)
        let perBand = (rows + bands - 1) / bands
        let tile = PanelProduct.tileRows
        bandRows = (perBand + tile - 1) / tile * tile
        self.source = source
        self.cols = cols
        count = rows
        self.standardization = standardization
        checksInput = !inputsChecked
        nonFinite.store(false, ordering: .relaxed)
        defer {
            self.source = nil
            self.standardization = nil
        }
        let parts = (rows + bandRows - 1) / bandRows
        if standardization == nil {
            try graph.withInput(input, boundTo: source, rows: rows) {
                WorkerPool.shared.perform(parts: parts, of: self)
            }
        } else {
            try graph.setBatchSize(rows)
            WorkerPool.shared.perform(parts: parts, of: self)
        }
        if nonFinite.load(ordering: .acquiring) {
            try PackedForward.nameNonFinite(UnsafeBufferPointer(start: source, count: rows &* cols), cols: cols,
                                            firstRow: firstRow)
        }
    }

    /// Throws `.nonFiniteValue` naming the first NaN or ±∞ of `values` (rows of `cols`, counted
    /// from `firstRow`), after a part reported one while the pass ran.
    private static func nameNonFinite(_ values: UnsafeBufferPointer<Float>, cols: Int, firstRow: Int) throws -> Never {
        try Model.requireFinite(values, count: values.count, cols: cols, firstRow: firstRow)
        throw NNError(.internalError, "a part of the pass found a non-finite input that the rows do not have")
    }

    /// One band: rows `part · bandRows` onwards through every node.
    func run(part: Int) {
        guard let source else { return }
        let first = part &* bandRows
        let band = first ..< min(first &+ bandRows, count)
        guard !band.isEmpty else { return }
        let rowsSource = source + first &* cols, floats = band.count &* cols
        if checksInput && !allFinite(rowsSource, count: floats) {
            nonFinite.store(true, ordering: .releasing)
            return
        }
        standardization?.apply(rowsSource, to: graph.valuePointer(input.id) + first &* cols, rows: band.count,
                               cols: cols)
        for i in nodes { forward(node: i, rows: band) }
    }

    /// Node `i` on the rows `band`, on the calling thread.
    private func forward(node i: Int, rows band: Range<Int>) {
        guard graph.records[i].op == .affine else {
            PackedForward.forwardElementwise(node: i, in: graph, rows: band)
            return
        }
        var product = affineProduct(i, rows: count)
        product.panelsPacked = true
        product.computeBlock(rows: band, cols: 0 ..< product.n)
    }

    /// Activation or maxout node `i` of `graph` on the rows `band`, on the calling thread.
    static func forwardElementwise(node i: Int, in graph: Graph, rows band: Range<Int>) {
        let r = graph.records[i]
        let first = band.lowerBound
        switch r.op {
        case .activation(let f):
            guard !r.fusedIntoInput else { return }
            let offset = first &* r.cols
            ActivationKernel.forward(f, x: graph.valuePointer(r.a) + offset, y: r.value! + offset,
                                     count: band.count &* r.cols)
        case .maxout(let pieces):
            Maxout.forward(x: graph.valuePointer(r.a) + first &* r.cols &* pieces, y: r.value! + first &* r.cols,
                           rows: band.count, units: r.cols, pieces: pieces)
        default:
            break  // `init` admits no other op.
        }
    }

    /// Affine node `i`'s product over `rows` rows, as `Affine.forward` makes it, with its scratch.
    private func affineProduct(_ i: Int, rows: Int) -> Gemm { PackedForward.affineProduct(i, in: graph, rows: rows) }

    static func affineProduct(_ i: Int, in graph: Graph, rows: Int) -> Gemm {
        let r = graph.records[i]
        let k = graph.records[r.a].cols, n = r.cols
        return Gemm(m: rows, n: n, k: k, a: graph.valuePointer(r.a), lda: k, b: graph.valuePointer(r.b), ldb: n,
                    c: r.value!, ldc: n, bias: graph.valuePointer(r.c), scratch: r.auxiliary, epilogue: r.epilogue)
    }
}
