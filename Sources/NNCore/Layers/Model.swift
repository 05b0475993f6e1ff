import Synchronization

/// A multi-layer perceptron: an input width, a runtime list of layers and a loss, with its
/// parameters, input standardisation, labels, metadata, training state and history.
///
/// The lecture's networks are one line each:
/// ```swift
/// let linear   = try Model(inputs: 2, layers: [.dense(units: 3)], loss: .softmaxCrossEntropy)
/// let twoLayer = try Model(inputs: 2, layers: [.dense(units: 100, activation: .relu), .dense(units: 3)],
///                          loss: .softmaxCrossEntropy)
/// ```
///
/// `Model` is a value type with copy-on-write storage: copies are cheap until one of them is
/// changed. Thread safety: the non-mutating methods (predict, evaluate, inspection) may run
/// concurrently on one model value from many threads; mutating methods (fit, trainStep,
/// setting parameters) need exclusive access, as for any Swift `var`.
public struct Model: @unchecked Sendable {
    var storage: Storage

    /// Creates a model with freshly initialised parameters.
    /// - Parameters:
    ///   - inputs: the width of an input row (≥ 1).
    ///   - layers: the layers, first to last; may be empty and grown with `append`.
    ///   - loss: the data loss used by training and evaluation.
    ///   - seed: seeds the model's own random generator (initialisation, shuffling, dropout).
    ///   - initializer: how weights are drawn (`.automatic`: He for the ReLU family, Glorot otherwise).
    /// - Throws: `.invalidArgument` / `.badHyperparameter` for an impossible layer, `.limitExceeded`
    ///   when the model exceeds `Limits`.
    public init(inputs: Int, layers: [Layer] = [], loss: Loss = .softmaxCrossEntropy, seed: UInt64 = 0,
                initializer: Initializer = .automatic) throws {
        try self.init(inputs: inputs, layers: layers, loss: loss, seed: seed, initializer: initializer,
                      initializeParameters: true)
    }

    /// The designated initialiser; the model file's decoder skips drawing parameters it then overwrites.
    init(inputs: Int, layers: [Layer], loss: Loss, seed: UInt64, initializer: Initializer,
         initializeParameters: Bool) throws {
        guard inputs >= 1, inputs <= Limits.maxWidth else {
            throw NNError.invalidArgument("the input width must be in 1...\(Limits.maxWidth), got \(inputs)")
        }
        try Model.validate(initializer)
        storage = Storage(inputWidth: inputs, loss: loss, seed: seed, initializer: initializer)
        for layer in layers { try append(layer, initialize: initializeParameters) }
    }

    /// Adds a layer at the end and initialises its parameters from the model's generator
    /// (existing parameters are kept).
    /// - Throws: `.invalidArgument` for a non-positive width, `.badHyperparameter` for a dropout
    ///   rate outside [0, 1) or an invalid activation parameter, `.limitExceeded` past `Limits`.
    public mutating func append(_ layer: Layer) throws {
        try append(layer, initialize: true)
    }

    mutating func append(_ layer: Layer, initialize: Bool) throws {
        try Model.validate(layer, index: layers.count)
        guard layers.count < Limits.maxLayers else {
            throw NNError(.limitExceeded, "a model holds at most \(Limits.maxLayers) layers")
        }
        let fanIn = outputWidth
        var layout = storage.layout
        var total = storage.parameterCount
        if layer.isTrainable {
            let weights = try checkedProduct(fanIn, layer.weightColumns, "layer \(layers.count) weights")
            let (sum, overflow) = total.addingReportingOverflow(weights + layer.weightColumns)
            guard !overflow, sum <= Limits.maxParameters else {
                throw NNError(.limitExceeded, "layer \(layers.count) would bring the model past \(Limits.maxParameters) parameters")
            }
            layout.append(ParameterTensor(layer: layers.count, kind: .weight, offset: total, rows: fanIn, cols: layer.weightColumns))
            layout.append(ParameterTensor(layer: layers.count, kind: .bias, offset: total + weights, rows: 1, cols: layer.weightColumns))
            total = sum
        }
        makeUnique()
        storage.resize(parameterCount: total)
        storage.layout = layout
        storage.layers.append(layer)
        if layer.isTrainable && initialize { initializeParameters(ofLayer: layers.count - 1) }
        storage.resetTraining()
    }

    /// The width of an input row.
    public var inputWidth: Int { storage.inputWidth }
    /// The layers, first to last.
    public var layers: [Layer] { storage.layers }
    /// The width of an output row (the last layer's units; the input width without layers).
    public var outputWidth: Int {
        storage.layers.reduce(storage.inputWidth) { $1.outputWidth(inputWidth: $0) }
    }
    /// The data loss.
    public var loss: Loss {
        get { storage.loss }
        set { makeUnique(); storage.loss = newValue; storage.invalidateGraphs() }
    }
    /// The seed the model was created with.
    public var seed: UInt64 { storage.seed }
    /// The weight initialiser.
    public var initializer: Initializer { storage.initializer }
    /// The total number of trainable parameters (weights and biases).
    public var parameterCount: Int { storage.parameterCount }
    /// The number of classes of a classifier (the output width; 2 for a one-output
    /// binary cross-entropy model); 0 for regression.
    public var classCount: Int {
        switch loss {
        case .softmaxCrossEntropy, .multiclassHinge: return outputWidth
        case .binaryCrossEntropy: return outputWidth == 1 ? 2 : outputWidth
        case .meanSquaredError: return 0
        }
    }

    /// The model's random generator (drives shuffling and dropout; saved with the model).
    public var random: RandomGenerator {
        get { storage.random }
        set { makeUnique(); storage.random = newValue }
    }

    // MARK: Descriptive data kept with the model

    /// Names of the input features (empty, or one per input).
    public var featureNames: [String] { storage.featureNames }
    /// Sets the feature names. - Throws: `.shapeMismatch` unless empty or one per input.
    public mutating func setFeatureNames(_ names: [String]) throws {
        guard names.isEmpty || names.count == inputWidth else {
            throw NNError.shapeMismatch("\(names.count) feature names for \(inputWidth) inputs")
        }
        makeUnique(); storage.featureNames = names
    }

    /// Names of the classes (empty, or one per class).
    public var classLabels: [String] { storage.classLabels }
    /// Sets the class labels. - Throws: `.shapeMismatch` unless empty or one per class.
    public mutating func setClassLabels(_ labels: [String]) throws {
        guard labels.isEmpty || labels.count == classCount else {
            throw NNError.shapeMismatch("\(labels.count) class labels for a model with \(classCount) classes")
        }
        makeUnique(); storage.classLabels = labels
    }

    /// Free key/value metadata, saved with the model.
    public var metadata: [String: String] {
        get { storage.metadata }
        set { makeUnique(); storage.metadata = newValue }
    }

    /// Input standardisation applied before the first layer, if any.
    public var standardization: Standardization? { storage.standardization }
    /// Sets (or, with nil, removes) the input standardisation.
    /// - Throws: `.shapeMismatch` for a wrong width, `.nonFiniteValue`/`.badHyperparameter` for
    ///   non-finite means or non-positive scales.
    public mutating func setStandardization(_ value: Standardization?) throws {
        if let value { try value.validate(width: inputWidth) }
        makeUnique(); storage.standardization = value
    }

    /// Per-epoch statistics of every training run so far, oldest first.
    public var history: [EpochStats] { storage.history }

    /// The options of the last `fit` or `trainStep` (kept in the model file); nil before any.
    public var lastTrainingOptions: TrainingOptions? { storage.trainingOptions }

    /// Who wrote the model file this model was loaded from; nil for a model built in memory.
    public var provenance: Provenance? { storage.provenance }

    // MARK: Parameters

    /// The trainable layers' parameter tensors, in order (weights then biases per layer).
    public var parameterTensors: [ParameterTensor] { storage.layout }

    /// All parameters as one flat array (the layout of `parameterTensors`).
    public var parameters: [Float] { Array(storage.parameters) }

    /// Replaces all parameters. - Throws: `.shapeMismatch` for a wrong count, `.nonFiniteValue` for NaN/∞.
    public mutating func setParameters(_ values: [Float]) throws {
        guard values.count == parameterCount else {
            throw NNError.shapeMismatch("the model has \(parameterCount) parameters, got \(values.count)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw NNError(.nonFiniteValue, "parameter \(bad) is \(values[bad])")
        }
        makeUnique()
        _ = storage.parameters.update(fromContentsOf: values)
    }

    /// Layer `index`'s weights, a (inputs × columns) matrix.
    /// - Throws: `.invalidArgument` when the layer has no parameters or does not exist.
    public func weights(ofLayer index: Int) throws -> Matrix {
        let t = try tensor(layer: index, kind: .weight)
        return try Matrix(rows: t.rows, cols: t.cols, values: Array(storage.parameters[t.offset ..< t.offset + t.count]))
    }

    /// Layer `index`'s biases (one per column of its weights).
    public func biases(ofLayer index: Int) throws -> [Float] {
        let t = try tensor(layer: index, kind: .bias)
        return Array(storage.parameters[t.offset ..< t.offset + t.count])
    }

    /// Replaces layer `index`'s weights. - Throws: `.shapeMismatch`, `.nonFiniteValue`, `.invalidArgument`.
    public mutating func setWeights(_ weights: Matrix, ofLayer index: Int) throws {
        let t = try tensor(layer: index, kind: .weight)
        guard weights.rows == t.rows, weights.cols == t.cols else {
            throw NNError.shapeMismatch("layer \(index) weights are \(t.rows) × \(t.cols), got \(weights.rows) × \(weights.cols)")
        }
        try setSlice(weights.values, at: t, what: "layer \(index) weights")
    }

    /// Replaces layer `index`'s biases. - Throws: `.shapeMismatch`, `.nonFiniteValue`, `.invalidArgument`.
    public mutating func setBiases(_ biases: [Float], ofLayer index: Int) throws {
        let t = try tensor(layer: index, kind: .bias)
        guard biases.count == t.count else {
            throw NNError.shapeMismatch("layer \(index) has \(t.count) biases, got \(biases.count)")
        }
        try setSlice(biases, at: t, what: "layer \(index) biases")
    }

    private mutating func setSlice(_ values: [Float], at t: ParameterTensor, what: String) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw NNError(.nonFiniteValue, "\(what): value \(bad) is \(values[bad])")
        }
        makeUnique()
        for (i, v) in values.enumerated() { storage.parameters[t.offset + i] = v }
    }

    func tensor(layer index: Int, kind: ParameterTensor.Kind) throws -> ParameterTensor {
        guard index >= 0, index < layers.count else {
            throw NNError.invalidArgument("layer \(index) does not exist; the model has \(layers.count) layers")
        }
        guard let t = storage.layout.first(where: { $0.layer == index && $0.kind == kind }) else {
            throw NNError.invalidArgument("layer \(index) (\(layers[index])) has no parameters")
        }
        return t
    }

    /// Draws fresh parameters for every layer from a new generator seeded with `seed`, and
    /// forgets the training state (history is kept).
    public mutating func reinitialize(seed: UInt64) {
        makeUnique()
        storage.seed = seed
        storage.random = RandomGenerator(seed: seed)
        for index in layers.indices where layers[index].isTrainable { initializeParameters(ofLayer: index) }
        storage.resetTraining()
    }

    private mutating func initializeParameters(ofLayer index: Int) {
        let layer = layers[index]
        guard let w = storage.layout.first(where: { $0.layer == index && $0.kind == .weight }),
              let b = storage.layout.first(where: { $0.layer == index && $0.kind == .bias }) else { return }
        let fanIn = Double(w.rows), fanOut = Double(w.cols)
        var rule = initializer
        if rule == .automatic {
            switch layer {
            case .dense(_, let activation): rule = activation.isReLUFamily ? .he : .glorot
            default: rule = .he
            }
        }
        var random = storage.random
        for i in 0 ..< w.count {
            let value: Double
            switch rule {
            case .he, .automatic: value = random.nextGaussian() * (2 / fanIn).squareRoot()
            case .glorot: value = (random.nextUnitDouble() * 2 - 1) * (6 / (fanIn + fanOut)).squareRoot()
            case .normal(let std): value = random.nextGaussian() * Double(std)
            case .uniform(let limit): value = (random.nextUnitDouble() * 2 - 1) * Double(limit)
            }
            storage.parameters[w.offset + i] = Float(value)
        }
        for i in 0 ..< b.count { storage.parameters[b.offset + i] = 0 }
        storage.random = random
    }

    // MARK: Validation

    static func validate(_ layer: Layer, index: Int) throws {
        switch layer {
        case .dense(let units, let activation):
            guard units >= 1, units <= Limits.maxWidth else {
                throw NNError.invalidArgument("layer \(index): dense units must be in 1...\(Limits.maxWidth), got \(units)")
            }
            switch activation {
            case .leakyReLU(let alpha) where !alpha.isFinite,
                 .elu(let alpha) where !(alpha.isFinite && alpha >= 0):
                throw NNError.badHyperparameter("layer \(index): \(activation) has an invalid α")
            default: break
            }
        case .maxout(let units, let pieces):
            guard units >= 1, units <= Limits.maxWidth else {
                throw NNError.invalidArgument("layer \(index): maxout units must be in 1...\(Limits.maxWidth), got \(units)")
            }
            guard pieces >= 1, pieces <= Limits.maxPieces, units * pieces <= Limits.maxWidth else {
                throw NNError.badHyperparameter("layer \(index): maxout pieces must be in 1...\(Limits.maxPieces), got \(pieces)")
            }
        case .dropout(let rate):
            guard rate.isFinite, rate >= 0, rate < 1 else {
                throw NNError.badHyperparameter("layer \(index): dropout rate must be in [0, 1), got \(rate)")
            }
        }
    }

    static func validate(_ initializer: Initializer) throws {
        switch initializer {
        case .normal(let v), .uniform(let v):
            guard v.isFinite, v >= 0 else { throw NNError.badHyperparameter("initializer scale must be finite and ≥ 0, got \(v)") }
        default: break
        }
    }

    /// Copies the storage before a change if another `Model` value shares it, and moves its
    /// revision on. Every mutating method calls this before it changes anything.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        storage.revision &+= 1
    }
}

/// Where one parameter tensor lives in the model's flat parameter block.
public struct ParameterTensor: Equatable, Hashable, Sendable {
    /// Weights or biases.
    public enum Kind: String, Sendable { case weight, bias }
    /// The index of the layer it belongs to.
    public let layer: Int
    /// Weights (rows = layer inputs) or biases (one row).
    public let kind: Kind
    /// Its first element's index in the flat parameter block.
    public let offset: Int
    /// Rows of the tensor.
    public let rows: Int
    /// Columns of the tensor.
    public let cols: Int
    /// Number of elements.
    public var count: Int { rows * cols }
}

extension Model {
    /// The shared state behind a `Model` value. Parameters and gradients live in two flat,
    /// manually allocated blocks so that graphs, optimisers and the file codec all see one array.
    final class Storage: @unchecked Sendable {
        var inputWidth: Int
        var layers: [Layer] = []
        var loss: Loss
        var seed: UInt64
        var initializer: Initializer
        var layout: [ParameterTensor] = []
        /// All parameters, laid out as `layout` says.
        var parameters: UnsafeMutableBufferPointer<Float>
        /// Gradients for the parameters, same layout (written by backward, read by optimisers);
        /// empty until the first training step needs it.
        var gradients: UnsafeMutableBufferPointer<Float>
        /// A copy of the parameters to go back to if an update overflows (start of the epoch in
        /// fit, before the step in trainStep); allocated with the gradients.
        var restorePoint: UnsafeMutableBufferPointer<Float>
        var random: RandomGenerator
        var standardization: Standardization?
        var featureNames: [String] = []
        var classLabels: [String] = []
        var metadata: [String: String] = [:]
        var history: [EpochStats] = []
        var training = TrainingState()
        /// The options of the last training call (nil before any).
        var trainingOptions: TrainingOptions?
        /// Who wrote the file this model was loaded from (nil for a model built in memory).
        var provenance: Provenance?
        /// Graphs bound to this storage's parameter memory (never copied with the storage).
        var trainingGraph: ModelGraph?
        let inferenceGraphs = Mutex(InferenceGraphPool())
        /// Moves on with every mutating access (`makeUnique`), before the change. Mutations
        /// have the model to themselves (Swift's exclusivity, the C ABI's busy flag), so a
        /// prediction that sees the revision it saw last time sees the same parameters: inference
        /// graphs keep the weights packed for the panel loops until it changes.
        var revision: UInt64 = 0
        /// Runs each training step's norm and update over the parameter block in parts.
        let parameterStep = ParameterStep()

        var parameterCount: Int { parameters.count }

        init(inputWidth: Int, loss: Loss, seed: UInt64, initializer: Initializer) {
            self.inputWidth = inputWidth
            self.loss = loss
            self.seed = seed
            self.initializer = initializer
            self.random = RandomGenerator(seed: seed)
            parameters = .allocate(capacity: 0)
            gradients = .allocate(capacity: 0)
            restorePoint = .allocate(capacity: 0)
        }

        deinit {
            trainingGraph = nil
            inferenceGraphs.withLock { $0 = InferenceGraphPool() }
            parameters.deallocate()
            gradients.deallocate()
            restorePoint.deallocate()
        }

        /// A deep copy without the cached graphs.
        func copy() -> Storage {
            let other = Storage(inputWidth: inputWidth, loss: loss, seed: seed, initializer: initializer)
            other.layers = layers
            other.layout = layout
            other.resize(parameterCount: parameterCount)
            _ = other.parameters.update(fromContentsOf: parameters)
            other.random = random
            other.standardization = standardization
            other.featureNames = featureNames
            other.classLabels = classLabels
            other.metadata = metadata
            other.history = history
            other.training = training
            other.trainingOptions = trainingOptions
            other.provenance = provenance
            return other
        }

        /// Grows the parameter and gradient blocks, keeping existing values.
        func resize(parameterCount count: Int) {
            guard count != parameters.count else { return }
            invalidateGraphs()
            let newParameters = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            newParameters.initialize(repeating: 0)
            for i in 0 ..< min(count, parameters.count) { newParameters[i] = parameters[i] }
            parameters.deallocate()
            parameters = newParameters
            gradients.deallocate()
            gradients = .allocate(capacity: 0)
            restorePoint.deallocate()
            restorePoint = .allocate(capacity: 0)
        }

        /// Allocates the gradient block and the restore point on first need: a model that is only
        /// loaded and run never pays for them.
        func ensureGradients() {
            guard gradients.count != parameters.count else { return }
            gradients.deallocate()
            gradients = .allocate(capacity: parameters.count)
            gradients.initialize(repeating: 0)
            restorePoint.deallocate()
            restorePoint = .allocate(capacity: parameters.count)
            restorePoint.initialize(repeating: 0)
        }

        /// Drops graphs bound to the current parameter memory or architecture.
        func invalidateGraphs() {
            trainingGraph = nil
            inferenceGraphs.withLock { $0 = InferenceGraphPool() }
        }

        /// Forgets optimiser slots, counters and early-stopping bookkeeping.
        func resetTraining() {
            invalidateGraphs()
            training = TrainingState()
        }
    }
}

/// Who wrote a model file, and when.
public struct Provenance: Equatable, Sendable {
    /// The writing library's name ("nncore").
    public var library: String
    /// The writing library's version, "MAJOR.MINOR.PATCH".
    public var libraryVersion: String
    /// Seconds since 1970-01-01 UTC when the file was written (0: not recorded).
    public var createdUnixSeconds: Int64
    /// The file's format version.
    public var formatVersion: Int

    public init(library: String, libraryVersion: String, createdUnixSeconds: Int64, formatVersion: Int) {
        self.library = library
        self.libraryVersion = libraryVersion
        self.createdUnixSeconds = createdUnixSeconds
        self.formatVersion = formatVersion
    }
}
