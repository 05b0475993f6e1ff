/// A static computational graph of 2-D float32 tensor operations with reverse-mode
/// backpropagation.
///
/// Build it node by node (`input`, `parameter`, then ops such as `matmul`, `add`, `relu`,
/// `softmaxCrossEntropy`), then call `forward()` and `backward(from:)`. The first `forward`
/// compiles the graph: nodes are already in topological order (an op can only use nodes made
/// before it), and every buffer is allocated once for the graph's batch capacity. After that,
/// forward and backward are linear sweeps that allocate nothing. Gradients accumulate (`+=`)
/// so a value used twice receives both contributions.
///
/// The lecture's example, f = (x + y)·z at x = −2, y = 5, z = −4:
/// ```swift
/// let g = Graph()
/// let x = g.scalar("x", -2), y = g.scalar("y", 5), z = g.scalar("z", -4)
/// let f = try (x + y) * z
/// try g.forward()
/// try g.backward(from: f)
/// g.value(f)        // [-12]
/// g.gradient(x)     // [-4]
/// ```
///
/// Shapes: every tensor is (rows, cols). A *batched* tensor (made by `batchInput`) has the
/// graph's capacity as its row count and, at run time, `batchSize` active rows; ops on it
/// are batched too.
///
/// Every accessor taking a `Node` answers for the node's own graph, so a node can never index
/// into the wrong graph.
///
/// Thread safety: a graph is not thread-safe; use one graph per thread.
public final class Graph {
    struct Record {
        var op: Op
        var a: Int = -1, b: Int = -1, c: Int = -1
        var rows: Int
        var cols: Int
        var batched: Bool
        var requiresGradient: Bool
        var ownsValue: Bool
        var value: UnsafeMutablePointer<Float>? = nil
        var gradient: UnsafeMutablePointer<Float>? = nil
        /// Per-node working memory (`auxiliaryCount`): a dropout mask, softmax probabilities, product scratch.
        var auxiliary: UnsafeMutableBufferPointer<Float>? = nil
        var externalGradient: Bool = false
        /// An activation applied to an affine node's result in its product's output pass
        /// (`fusesActivations`).
        var epilogue: Activation? = nil
        /// An activation node whose value is its affine input's buffer, activated there.
        var fusedIntoInput = false
        /// For such an activation node (ReLU family) read only by one affine node as its input:
        /// that affine node, whose backward product writes the gradient of this node's input
        /// directly, ⊙ f′ in its registers, so this node's own backward is skipped. −1 otherwise.
        var inputGradientByConsumer = -1
    }

    var records: [Record] = []
    var names: [String] = []
    /// One allocation holding the buffers of every op node (values, gradients, auxiliaries).
    private var arena: UnsafeMutableRawPointer? = nil
    private var reachable: UnsafeMutableBufferPointer<Bool>? = nil
    /// Per node, during `backward`: whether its gradient buffer holds this pass's values yet.
    private var written: UnsafeMutableBufferPointer<Bool>? = nil
    private(set) var isCompiled = false

    /// The most rows a batched tensor can hold.
    public let batchCapacity: Int
    /// The number of active rows of batched tensors, in 1...batchCapacity.
    public private(set) var batchSize: Int
    /// Training mode: dropout drops only while this is true.
    public var isTraining = false
    /// Set before `compile` for graphs whose affine nodes' values nobody reads but their
    /// activation (the model's graphs): an activation whose input is an affine node used by
    /// nothing else is then applied inside the affine's product, block by block while the block
    /// is in cache (and on the worker threads), and shares its buffer — so that affine node's
    /// value reads as activated. In a graph with gradients, only activations whose backward
    /// needs nothing but their output are fused (`Activation.backwardNeedsOnlyOutput`).
    var fusesActivations = false
    /// The generator that draws dropout masks.
    public var random: RandomGenerator

    /// Creates an empty graph.
    /// - Parameters:
    ///   - batchCapacity: the row capacity of batched tensors (≥ 1).
    ///   - seed: seeds the generator used by dropout.
    public init(batchCapacity: Int = 1, seed: UInt64 = 0) {
        self.batchCapacity = max(1, batchCapacity)
        self.batchSize = max(1, batchCapacity)
        self.random = RandomGenerator(seed: seed)
    }

    deinit {
        for record in records where record.ownsValue { record.value?.deallocate() }
        arena?.deallocate()
        reachable?.deallocate()
        written?.deallocate()
    }

    /// The number of nodes.
    public var nodeCount: Int { records.count }

    /// Sets the number of active rows of batched tensors.
    /// - Throws: `.invalidArgument` unless 1 ≤ n ≤ `batchCapacity`.
    public func setBatchSize(_ n: Int) throws {
        guard n >= 1, n <= batchCapacity else {
            throw NNError.invalidArgument("batch size \(n) is outside 1...\(batchCapacity)")
        }
        batchSize = n
    }

    // MARK: Leaves

    /// Adds an input of fixed shape whose value is set with `setValue` (zeros until then).
    public func input(_ name: String, rows: Int, cols: Int, requiresGradient: Bool = true) throws -> Node {
        try addLeaf(.input, name, rows: rows, cols: cols, batched: false, requiresGradient: requiresGradient, values: nil)
    }

    /// Adds an input with `batchSize` rows (data, labels, sample weights).
    public func batchInput(_ name: String, cols: Int, requiresGradient: Bool = false) throws -> Node {
        try addLeaf(.input, name, rows: batchCapacity, cols: cols, batched: true, requiresGradient: requiresGradient, values: nil)
    }

    /// Adds a 1×1 input holding `value`, as in the lecture's example.
    public func scalar(_ name: String, _ value: Float) -> Node {
        // A 1×1 leaf cannot fail validation.
        (try? addLeaf(.input, name, rows: 1, cols: 1, batched: false, requiresGradient: true, values: [value]))!
    }

    /// Adds a trainable parameter initialised with `values` (row-major, rows × cols of them).
    public func parameter(_ name: String, rows: Int, cols: Int, values: [Float]) throws -> Node {
        try addLeaf(.parameter, name, rows: rows, cols: cols, batched: false, requiresGradient: true, values: values)
    }

    /// Adds a constant (no gradient).
    public func constant(_ name: String, rows: Int, cols: Int, values: [Float]) throws -> Node {
        try addLeaf(.constant, name, rows: rows, cols: cols, batched: false, requiresGradient: false, values: values)
    }

    /// Adds a parameter whose value and gradient live in memory owned by the caller (a model's
    /// flat parameter block). The caller keeps both alive and in place for the graph's lifetime.
    func externalParameter(_ name: String, rows: Int, cols: Int,
                           value: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>?) -> Node {
        records.append(Record(op: .parameter, rows: rows, cols: cols, batched: false,
                              requiresGradient: gradient != nil, ownsValue: false, value: value,
                              gradient: gradient, externalGradient: gradient != nil))
        names.append(name)
        isCompiled = false
        return Node(graph: self, id: records.count - 1)
    }

    private func addLeaf(_ op: Op, _ name: String, rows: Int, cols: Int, batched: Bool,
                         requiresGradient: Bool, values: [Float]?) throws -> Node {
        guard rows >= 1, cols >= 1 else {
            throw NNError.invalidArgument("\(op.name) '\(name)': shape \(rows) × \(cols) must be at least 1 × 1")
        }
        let count = try checkedProduct(rows, cols, "\(op.name) '\(name)' size")
        guard count <= Int(Int32.max) else {
            throw NNError(.limitExceeded, "\(op.name) '\(name)': \(count) elements exceed the limit of \(Int32.max)")
        }
        if let values {
            guard values.count == count else {
                throw NNError.shapeMismatch("\(op.name) '\(name)': a \(rows) × \(cols) tensor needs \(count) values, got \(values.count)")
            }
        }
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: count)
        if let values {
            values.withUnsafeBufferPointer { storage.initialize(from: $0.baseAddress!, count: count) }
        } else {
            storage.initialize(repeating: 0, count: count)
        }
        records.append(Record(op: op, rows: rows, cols: cols, batched: batched,
                              requiresGradient: requiresGradient, ownsValue: true, value: storage))
        names.append(name)
        isCompiled = false
        return Node(graph: self, id: records.count - 1)
    }

    // MARK: Ops

    /// Appends an op node after checking its inputs and inferring its shape.
    func addOp(_ op: Op, _ inputs: [Node], name: String? = nil) throws -> Node {
        for node in inputs where node.graph !== self {
            throw NNError.invalidArgument("\(op.name): node \(node.id) belongs to another graph")
        }
        let ids = inputs.map(\.id)
        let shape = try inferShape(op, ids)
        var record = Record(op: op, rows: shape.rows, cols: shape.cols, batched: shape.batched,
                            requiresGradient: ids.contains { records[$0].requiresGradient }, ownsValue: false)
        if ids.count > 0 { record.a = ids[0] }
        if ids.count > 1 { record.b = ids[1] }
        if ids.count > 2 { record.c = ids[2] }
        records.append(record)
        names.append(name ?? op.name)
        isCompiled = false
        return Node(graph: self, id: records.count - 1)
    }

    // MARK: Compilation

    /// Buffers in the arena start on 64-byte cache lines: when two threads write neighbouring
    /// blocks of one product's result, a line shared across a buffer edge, or at every row's
    /// block boundary when a column-split buffer is misaligned, bounces between the cores — and
    /// whether it does would depend on where the allocator happened to put the arena.
    static let bufferAlignment = 64

    /// `count` floats rounded up to whole cache lines.
    private static func aligned(_ count: Int) -> Int {
        let floats = bufferAlignment / MemoryLayout<Float>.stride
        return (count + floats - 1) / floats * floats
    }

    /// Allocates every buffer for the batch capacity. Called by the first `forward`; call it
    /// yourself to pay the cost up front. Leaf values are kept; gradients start at zero.
    public func compile() throws {
        arena?.deallocate()
        arena = nil
        reachable?.deallocate()
        written?.deallocate()
        if fusesActivations { planActivationFusion() }
        var total = 0
        for r in records {
            let count = Graph.aligned(r.rows * r.cols)
            if !r.op.isLeaf && !r.fusedIntoInput { total += count }
            if r.requiresGradient && !r.externalGradient { total += count }
            if !r.fusedIntoInput { total += Graph.aligned(auxiliaryCount(r)) }
        }
        let bytes = max(total, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Graph.bufferAlignment)
        var cursor = raw.initializeMemory(as: Float.self, repeating: 0, count: max(total, 1))
        for i in records.indices {
            let count = Graph.aligned(records[i].rows * records[i].cols)
            if records[i].fusedIntoInput {
                // Its input's buffer, activated in place by the input's product.
                records[i].value = records[records[i].a].value
            } else if !records[i].op.isLeaf {
                records[i].value = cursor; cursor += count
            }
            if records[i].requiresGradient && !records[i].externalGradient {
                records[i].gradient = cursor; cursor += count
            } else if !records[i].externalGradient {
                records[i].gradient = nil
            }
            let aux = records[i].fusedIntoInput ? 0 : auxiliaryCount(records[i])
            if aux > 0 {
                records[i].auxiliary = UnsafeMutableBufferPointer(start: cursor, count: aux)
                cursor += Graph.aligned(aux)
            } else {
                records[i].auxiliary = nil
            }
        }
        arena = raw
        reachable = .allocate(capacity: max(records.count, 1))
        reachable!.initialize(repeating: false)
        written = .allocate(capacity: max(records.count, 1))
        written!.initialize(repeating: false)
        isCompiled = true
    }

    /// Marks each activation whose input is an affine node with no other consumer to be applied
    /// in that affine's output pass — when no gradient flows through the activation, or when its
    /// backward reads only its output (the affine's own backward never reads its output).
    private func planActivationFusion() {
        var consumers = [Int](repeating: 0, count: records.count)
        for r in records {
            for input in [r.a, r.b, r.c] where input >= 0 { consumers[input] += 1 }
        }
        for i in records.indices {
            records[i].epilogue = nil
            records[i].fusedIntoInput = false
            records[i].inputGradientByConsumer = -1
        }
        for i in records.indices {
            guard case .activation(let f) = records[i].op,
                  !records[i].requiresGradient || f.backwardNeedsOnlyOutput else { continue }
            let a = records[i].a
            guard records[a].op == .affine, consumers[a] == 1 else { continue }
            records[a].epilogue = f
            records[i].fusedIntoInput = true
        }
        // The gradient of a fused ReLU-family activation's input, made by the next layer's
        // backward product: dZ = (dY·Wᵀ) ⊙ f′(y), instead of dY·Wᵀ stored and read again by a
        // pass of its own. Only where that affine node is the activation's one consumer and
        // reads it as its input x.
        for i in records.indices where records[i].op == .affine {
            let x = records[i].a
            guard x >= 0, records[x].fusedIntoInput, records[x].requiresGradient, consumers[x] == 1,
                  records[i].b != x, records[i].c != x,
                  case .activation(let f) = records[x].op, ActivationKernel.registerActivation(f) != nil else { continue }
            records[x].inputGradientByConsumer = i
        }
    }

    private func auxiliaryCount(_ r: Record) -> Int {
        switch r.op {
        case .dropout: return r.rows * r.cols                       // the mask, (rows, cols)
        case .matmul, .affine:                                      // product scratch (see Gemm.scratch)
            return Gemm.scratchCount(inner: records[r.a].cols, columns: r.cols, rows: r.rows,
                                     inputGradient: records[r.a].requiresGradient,
                                     weightGradient: records[r.b].requiresGradient)
        case .softmaxCrossEntropy: return records[r.a].rows * records[r.a].cols  // probabilities
        default: return 0
        }
    }

    // MARK: Sweeps

    /// Computes every node's value in topological order. Allocates nothing once compiled.
    /// - Throws: `.labelOutOfRange` when a loss meets a label outside its classes,
    ///   `.invalidArgument` for sample weights that do not sum to a positive number.
    public func forward() throws {
        if !isCompiled { try compile() }
        for i in 0 ..< records.count where !records[i].op.isLeaf {
            try forwardNode(i)
        }
    }

    /// Backpropagates from `node`: the seed ∂node/∂node = 1 is set (for a non-scalar node, the
    /// gradient of the sum of its elements), and the chain rule is applied node by node in reverse
    /// topological order. A node's first contribution overwrites its gradient buffer and later
    /// ones accumulate with `+=` (ops without an overwriting kernel zero the buffer first), so no
    /// pass over all gradients is needed to reset them; gradients that receive nothing are zeroed
    /// at the end. Call `forward()` first.
    public func backward(from node: Node) throws {
        guard node.graph === self else { throw NNError.invalidArgument("backward: the node belongs to another graph") }
        guard isCompiled else { throw NNError.invalidState("backward: call forward() first") }
        let reach = reachable!
        for i in 0 ..< records.count { reach[i] = false }
        reach[node.id] = true
        var i = node.id
        while i >= 0 {
            if reach[i] {
                let r = records[i]
                if r.a >= 0 { reach[r.a] = true }
                if r.b >= 0 { reach[r.b] = true }
                if r.c >= 0 { reach[r.c] = true }
            }
            i -= 1
        }
        guard let seed = records[node.id].gradient else {
            throw NNError.invalidArgument("backward: node '\(names[node.id])' does not depend on anything that needs a gradient")
        }
        let done = written!
        for j in 0 ..< records.count { done[j] = false }
        seed.update(repeating: 1, count: activeCount(node.id))
        done[node.id] = true
        // An activation whose consumer's backward wrote its input's gradient (`planActivationFusion`).
        func bypassed(_ id: Int) -> Bool {
            let byConsumer = records[id].inputGradientByConsumer
            return byConsumer >= 0 && reach[byConsumer]
        }
        i = node.id
        while i >= 0 {
            if reach[i] && records[i].requiresGradient && !records[i].op.isLeaf && !bypassed(i) {
                _ = accumulatingGradient(i)  // a node no consumer wrote to passes on zeros
                backwardNode(i)
            }
            i -= 1
        }
        // Gradients nothing wrote read as zeros, except bypassed activations': only model graphs
        // fuse so, and nothing reads their intermediate gradients (a 300 × 100 spiral layer's
        // zeroing was 4 % of a training step).
        for j in 0 ..< records.count where !done[j] && !bypassed(j) {
            if let g = records[j].gradient { g.update(repeating: 0, count: activeCount(j)) }
        }
    }

    /// Node `id`'s gradient buffer for a contribution, and whether to add to it: false for the
    /// pass's first contribution, which overwrites the buffer. nil when the node has no gradient.
    @inline(__always) func gradientDestination(_ id: Int) -> (UnsafeMutablePointer<Float>, accumulate: Bool)? {
        guard let g = records[id].gradient else { return nil }
        let done = written!
        if done[id] { return (g, true) }
        done[id] = true
        return (g, false)
    }

    /// Node `id`'s gradient buffer for a kernel that can only add: zeroed first if this pass has
    /// not written it yet.
    @inline(__always) func accumulatingGradient(_ id: Int) -> UnsafeMutablePointer<Float>? {
        guard let (g, accumulate) = gradientDestination(id) else { return nil }
        if !accumulate { g.update(repeating: 0, count: activeCount(id)) }
        return g
    }

    // MARK: Values

    /// Active rows of node `id`.
    @inline(__always) func activeRows(_ id: Int) -> Int { records[id].batched ? batchSize : records[id].rows }
    @inline(__always) func activeCount(_ id: Int) -> Int { activeRows(id) &* records[id].cols }

    /// The node's current value (active rows only), row-major.
    public func value(_ node: Node) -> [Float] {
        if node.graph !== self { return node.graph.value(node) }
        guard let p = records[node.id].value else { return Array(repeating: 0, count: activeCount(node.id)) }
        return Array(UnsafeBufferPointer(start: p, count: activeCount(node.id)))
    }

    /// The gradient accumulated for the node by the last `backward` (zeros if none).
    public func gradient(_ node: Node) -> [Float] {
        if node.graph !== self { return node.graph.gradient(node) }
        guard let p = records[node.id].gradient else { return Array(repeating: 0, count: activeCount(node.id)) }
        return Array(UnsafeBufferPointer(start: p, count: activeCount(node.id)))
    }

    /// Sets an input's, parameter's or constant's value (active rows for batched inputs).
    /// - Throws: `.invalidArgument` for an op node, `.shapeMismatch` for a wrong count.
    public func setValue(_ values: [Float], for node: Node) throws {
        try values.withUnsafeBufferPointer { try setValue($0, for: node) }
    }

    /// Sets a leaf's value from a buffer (see `setValue(_:for:)`).
    public func setValue(_ values: UnsafeBufferPointer<Float>, for node: Node) throws {
        guard node.graph === self else { throw NNError.invalidArgument("setValue: the node belongs to another graph") }
        let r = records[node.id]
        guard r.op.isLeaf else {
            throw NNError.invalidArgument("setValue: '\(names[node.id])' is computed by \(r.op.name), not an input")
        }
        let count = activeCount(node.id)
        guard values.count == count else {
            throw NNError.shapeMismatch("setValue: '\(names[node.id])' holds \(activeRows(node.id)) × \(r.cols) = \(count) values, got \(values.count)")
        }
        if count > 0 { r.value!.update(from: values.baseAddress!, count: count) }
    }

    /// The node's shape (capacity rows for batched nodes).
    public func shape(_ node: Node) -> (rows: Int, cols: Int) {
        node.graph === self ? (records[node.id].rows, records[node.id].cols) : node.graph.shape(node)
    }
    /// The name given to the node (the op's name for op nodes).
    public func name(_ node: Node) -> String { node.graph === self ? names[node.id] : node.graph.name(node) }
    /// The node's op.
    public func op(_ node: Node) -> Op { node.graph === self ? records[node.id].op : node.graph.op(node) }
    /// The node's inputs.
    public func inputs(_ node: Node) -> [Node] {
        if node.graph !== self { return node.graph.inputs(node) }
        let r = records[node.id]
        return [r.a, r.b, r.c].filter { $0 >= 0 }.map { Node(graph: self, id: $0) }
    }

    @inline(__always) func valuePointer(_ id: Int) -> UnsafeMutablePointer<Float> { records[id].value! }

    /// Runs `body` with the batched input `node` reading its `rows` active rows straight from
    /// `source` instead of its own buffer (no copy). For inference: nothing may write the input
    /// meanwhile, and `source` must hold rows × cols floats until `body` returns.
    func withInput<R>(_ node: Node, boundTo source: UnsafePointer<Float>, rows: Int, _ body: () throws -> R) throws -> R {
        try setBatchSize(rows)
        let own = records[node.id].value
        records[node.id].value = UnsafeMutablePointer(mutating: source)
        defer { records[node.id].value = own }
        return try body()
    }
}

/// A handle to one node of a `Graph`. Arithmetic operators build new nodes in the same graph.
public struct Node: Hashable {
    /// The graph the node belongs to.
    public let graph: Graph
    /// The node's position in the graph's topological order.
    public let id: Int

    public static func == (a: Node, b: Node) -> Bool { a.graph === b.graph && a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(graph)); hasher.combine(id) }

    /// The node's shape.
    public var shape: (rows: Int, cols: Int) { graph.shape(self) }
    /// The node's current value.
    public var value: [Float] { graph.value(self) }
    /// The node's gradient from the last backward pass.
    public var gradient: [Float] { graph.gradient(self) }

    public static func + (a: Node, b: Node) throws -> Node { try a.graph.add(a, b) }
    public static func - (a: Node, b: Node) throws -> Node { try a.graph.sub(a, b) }
    public static func * (a: Node, b: Node) throws -> Node { try a.graph.mul(a, b) }
    public static func * (s: Float, x: Node) throws -> Node { try x.graph.scale(x, by: s) }
}
