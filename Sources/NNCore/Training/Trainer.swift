// Mini-batch training: fit (epochs, shuffling, validation, early stopping, progress) and the
// single-step API, both driving the model's compiled training graph.

extension Model {
    /// Trains the model on `data`.
    ///
    /// Each epoch shuffles the training rows with the model's generator (unless
    /// `options.shuffle` is false or there is a single full batch), runs one step per
    /// mini-batch (forward, backward, optional gradient clipping, optimiser update) and reports
    /// an `EpochStats` to `progress`, which may stop training. The learning rate follows
    /// `options.schedule` over the model's whole life (its epoch counter carries over between
    /// calls, as do the optimiser's slots while the optimiser stays the same), so two calls of
    /// 10 epochs give the same weights as one of 20.
    ///
    /// - Parameters:
    ///   - data: the training data (labels for classifiers, targets for regression).
    ///   - validation: data to monitor after each epoch; or use `options.validationFraction`.
    ///   - options: hyper-parameters; see `TrainingOptions`.
    ///   - progress: called after every epoch on the calling thread; return `.stop` to stop.
    ///   - interrupt: checked after every step (e.g. a Ctrl-C flag); returning true stops training
    ///     right there with `stopReason == .cancelled`. The model keeps the weights of that step;
    ///     the unfinished epoch is not recorded in `history` and the epoch counter does not move.
    /// - Returns: this call's epochs and why it ended. The epochs are also appended to `history`.
    /// - Throws: `.invalidState` for a model without trainable layers; `.badHyperparameter`;
    ///   `.emptyData`, `.shapeMismatch`, `.nonFiniteValue`, `.labelOutOfRange`, `.invalidArgument`
    ///   for bad data (before any change to the model); `.diverged` when the loss or the gradient
    ///   becomes NaN or infinite — the model then keeps the weights of the last good step and the
    ///   epochs completed so far stay in `history`.
    /// - Complexity: O(epochs × samples × parameters); no allocation per step.
    @discardableResult
    public mutating func fit(_ data: Dataset, validation: Dataset? = nil, options: TrainingOptions = TrainingOptions(),
                             progress: ((EpochStats) -> TrainingControl)? = nil,
                             interrupt: (() -> Bool)? = nil) throws -> TrainingSummary {
        try data.withView { train in
            if let validation {
                return try validation.withView { held in
                    try fit(view: train, validation: held, options: options, progress: progress, interrupt: interrupt)
                }
            }
            return try fit(view: train, validation: nil, options: options, progress: progress, interrupt: interrupt)
        }
    }

    /// `fit` on borrowed data (the C ABI's entry point).
    package mutating func fit(view data: DataView, validation: DataView?, options: TrainingOptions,
                              progress: ((EpochStats) -> TrainingControl)?,
                              interrupt: (() -> Bool)? = nil) throws -> TrainingSummary {
        guard layers.contains(where: \.isTrainable) else {
            throw NNError.invalidState("the model has no trainable layers; add a dense or maxout layer first")
        }
        try options.validate()
        try data.validate(for: self, role: "training data")
        if let validation { try validation.validate(for: self, role: "validation data") }
        if validation != nil && options.validationFraction > 0 {
            throw NNError.invalidArgument("give validation data or a validation fraction, not both")
        }

        // Which rows train and which validate. The split uses its own generator, seeded from the
        // model's seed, so that every call (and a resumed run) holds out the same rows.
        var trainRows = (0 ..< Int32(data.rows)).map { $0 }
        var heldOutRows: [Int32] = []
        if options.validationFraction > 0 {
            guard data.rows >= 2 else { throw NNError(.emptyData, "a validation split needs at least 2 samples, got \(data.rows)") }
            var splitRandom = RandomGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_5EED)
            trainRows.withUnsafeMutableBufferPointer { splitRandom.shuffle($0) }
            let held = min(max(Int((Double(options.validationFraction) * Double(data.rows)).rounded()), 1), data.rows - 1)
            heldOutRows = Array(trainRows[..<held]).sorted()
            trainRows = Array(trainRows[held...]).sorted()
        }

        makeUnique()
        let s = storage
        if options.standardize && s.standardization == nil {
            s.standardization = trainRows.withUnsafeBufferPointer { Standardization.fit(data, rows: $0) }
        }
        s.prepareSlots(for: options.optimizer)
        s.trainingOptions = options

        let trainCount = trainRows.count
        let batch = options.batchSize == 0 ? trainCount : min(options.batchSize, trainCount)
        let graph = try s.trainingGraph(capacity: batch, options: options, weighted: data.weights != nil)

        // Validation: explicit data (all rows) or the held-out rows of `data`.
        let monitor: (view: DataView, rows: [Int32])?
        if let validation { monitor = (validation, (0 ..< Int32(validation.rows)).map { $0 }) }
        else if !heldOutRows.isEmpty { monitor = (data, heldOutRows) }
        else { monitor = nil }
        let evaluator = try monitor.map {
            try ModelGraph(model: s, capacity: batchCapacity(limit: min($0.rows.count, 1024)),
                           purpose: .evaluation(weighted: $0.view.weights != nil))
        }

        let order = UnsafeMutableBufferPointer<Int32>.allocate(capacity: trainCount)
        defer { order.deallocate() }
        let epochStart = s.restorePoint
        let best = options.earlyStoppingPatience == nil ? nil : UnsafeMutableBufferPointer<Float>.allocate(capacity: s.parameterCount)
        defer { best?.deallocate() }

        var summary = TrainingSummary(epochs: [], stopReason: .completed, bestEpoch: nil)
        summary.epochs.reserveCapacity(options.epochs)
        var bestLoss = Float.infinity
        var epochsWithoutImprovement = 0
        let singleBatch = batch == trainCount
        var batchLoaded = false

        epochs: for _ in 0 ..< options.epochs {
            let started = monotonicSeconds()
            let learningRate = options.learningRate * options.schedule.factor(epoch: s.training.epoch)
            _ = trainRows.withUnsafeBufferPointer { order.update(fromContentsOf: $0) }
            if options.shuffle && !singleBatch { s.random.shuffle(order) }
            _ = epochStart.update(fromContentsOf: s.parameters)

            var lossSum = 0.0, regularizationSum = 0.0, weightSum = 0.0, correctSum = 0.0
            var steps = 0
            var first = 0
            while first < trainCount {
                let n = min(batch, trainCount - first)
                if !(singleBatch && batchLoaded) {
                    try graph.load(data, rows: UnsafeBufferPointer(rebasing: order[first ..< first + n]),
                                   standardization: s.standardization)
                    batchLoaded = true
                }
                let result = try s.step(graph, options: options, learningRate: learningRate, epochStart: epochStart)
                let w = graph.batchWeight
                lossSum += Double(result.dataLoss) * w
                regularizationSum += Double(result.regularization)
                weightSum += w
                if let hits = result.correct { correctSum += hits }
                steps += 1
                first += n
                if interrupt?() == true {
                    summary.stopReason = .cancelled
                    break epochs
                }
            }

            var stats = EpochStats(
                epoch: s.training.epoch + 1,
                dataLoss: Float(lossSum / weightSum),
                regularizationLoss: Float(regularizationSum / Double(steps)),
                accuracy: loss.isClassification ? Float(correctSum / weightSum) : nil,
                validationLoss: nil, validationAccuracy: nil,
                learningRate: learningRate, seconds: 0)
            if let monitor, let evaluator {
                let result = try monitor.rows.withUnsafeBufferPointer { try s.evaluate(evaluator, monitor.view, rows: $0) }
                stats.validationLoss = result.loss
                stats.validationAccuracy = result.accuracy
            }
            s.training.epoch += 1
            stats.seconds = monotonicSeconds() - started
            s.history.append(stats)
            summary.epochs.append(stats)

            if let patience = options.earlyStoppingPatience, let best {
                let watched = stats.validationLoss ?? stats.loss
                if watched < bestLoss - options.earlyStoppingMinDelta {
                    bestLoss = watched
                    summary.bestEpoch = stats.epoch
                    epochsWithoutImprovement = 0
                    _ = best.update(fromContentsOf: s.parameters)
                } else {
                    epochsWithoutImprovement += 1
                    if epochsWithoutImprovement >= patience {
                        summary.stopReason = .earlyStopped
                        break
                    }
                }
            }
            if progress?(stats) == .stop {
                summary.stopReason = .cancelled
                break
            }
        }

        // Early stopping leaves the best epoch's weights in the model; a cancelled run keeps the
        // weights of the epoch just finished, as the progress closure was promised.
        if summary.stopReason != .cancelled, let best, let bestEpoch = summary.bestEpoch, bestEpoch != s.training.epoch {
            _ = s.parameters.update(fromContentsOf: best)
        }
        return summary
    }

    /// One optimisation step on a batch the caller supplies (for callers that stream their own
    /// data). The learning rate is `options.learningRate × options.schedule.factor(epoch:)` at the
    /// model's epoch counter, which `advanceEpoch()` moves on.
    /// - Throws: as `fit`.
    public mutating func trainStep(_ batch: Dataset, options: TrainingOptions = TrainingOptions()) throws -> StepStats {
        try batch.withView { try trainStep(view: $0, options: options) }
    }

    /// `trainStep` on borrowed data (the C ABI's entry point).
    package mutating func trainStep(view batch: DataView, options: TrainingOptions) throws -> StepStats {
        guard layers.contains(where: \.isTrainable) else {
            throw NNError.invalidState("the model has no trainable layers; add a dense or maxout layer first")
        }
        try options.validate()
        try batch.validate(for: self, role: "batch")
        makeUnique()
        let s = storage
        s.prepareSlots(for: options.optimizer)
        s.trainingOptions = options
        let graph = try s.trainingGraph(capacity: batch.rows, options: options, weighted: batch.weights != nil)
        try graph.loadAll(batch, standardization: s.standardization)
        let learningRate = options.learningRate * options.schedule.factor(epoch: s.training.epoch)
        // The weights to put back if the update overflows, so the model keeps its last good step
        // (a block kept on the model: no allocation per step).
        _ = s.restorePoint.update(fromContentsOf: s.parameters)
        let result = try s.step(graph, options: options, learningRate: learningRate, epochStart: s.restorePoint)
        return StepStats(dataLoss: result.dataLoss, regularizationLoss: result.regularization,
                         accuracy: result.correct.map { Float($0 / graph.batchWeight) },
                         learningRate: learningRate, gradientNorm: result.gradientNorm)
    }

    /// Moves the epoch counter (the schedule's position) on by one, for `trainStep` callers.
    public mutating func advanceEpoch() {
        makeUnique()
        storage.training.epoch += 1
    }

    /// The optimiser state (slots, step and epoch counters).
    public var trainingState: TrainingState { storage.training }

    /// Forgets the optimiser state and counters (the weights and history stay).
    public mutating func resetTrainingState() {
        makeUnique()
        storage.resetTraining()
    }
}

extension Model.Storage {
    /// Allocates (or keeps) the optimiser's slot blocks; a different optimiser starts afresh.
    func prepareSlots(for optimizer: Optimizer) {
        let count = parameterCount
        let wanted1 = optimizer.slotCount >= 1 ? count : 0, wanted2 = optimizer.slotCount >= 2 ? count : 0
        if training.optimizer != optimizer || training.firstMoment.count != wanted1 || training.secondMoment.count != wanted2 {
            training.optimizer = optimizer
            training.firstMoment = [Float](repeating: 0, count: wanted1)
            training.secondMoment = [Float](repeating: 0, count: wanted2)
        }
    }

    /// The cached training graph when it fits, else a new one.
    func trainingGraph(capacity: Int, options: TrainingOptions, weighted: Bool) throws -> ModelGraph {
        let purpose = ModelGraph.Purpose.training(l2: options.l2, l1: options.l1, weighted: weighted)
        if let cached = trainingGraph, cached.purpose == purpose, cached.graph.batchCapacity == capacity {
            return cached
        }
        let graph = try ModelGraph(model: self, capacity: capacity, purpose: purpose)
        trainingGraph = graph
        return graph
    }

    /// Forward, backward, clipping and update on the batch loaded in `mg`.
    /// `epochStart` (parameters at the start of the epoch, or before a lone step) is restored if an
    /// update overflows, and the optimiser's slots are reset.
    func step(_ mg: ModelGraph, options: TrainingOptions, learningRate: Float,
              epochStart: UnsafeMutableBufferPointer<Float>?) throws
        -> (dataLoss: Float, regularization: Float, gradientNorm: Float, correct: Double?) {
        let g = mg.graph
        g.isTraining = true
        g.random = random
        try g.forward()
        random = g.random
        let dataLoss = g.valuePointer(mg.dataLoss!.id)[0]
        let regularization = mg.regularization.map { g.valuePointer($0.id)[0] } ?? 0
        guard dataLoss.isFinite, regularization.isFinite else {
            throw NNError(.diverged, "the training loss became \(dataLoss + regularization) at epoch \(training.epoch + 1), step \(training.step + 1); the model keeps the weights of the last good step (try a smaller learning rate or gradient clipping)")
        }
        let correct = mg.weightedCorrect(loss: loss)
        try g.backward(from: mg.total!)

        let count = parameterCount
        let grad = gradients.baseAddress!
        let norm = parameterStep.gradientNorm(grad, count: count)
        guard norm.isFinite else {
            throw NNError(.diverged, "the gradient became non-finite at epoch \(training.epoch + 1), step \(training.step + 1); the model keeps the weights of the last good step")
        }
        var scale: Float = 1
        if let clip = options.gradientClipNorm, norm > clip { scale = clip / norm }

        // Move the slot arrays out of `training` while the optimiser writes them (exclusive access).
        var m: [Float] = [], v: [Float] = []
        swap(&m, &training.firstMoment)
        swap(&v, &training.secondMoment)
        let finite = m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
                parameterStep.update(p: parameters.baseAddress!, g: grad, m: mp.baseAddress, v: vp.baseAddress,
                                     count: count, optimizer: options.optimizer, learningRate: learningRate,
                                     step: training.step + 1, tensors: layout, scale: scale)
            }
        }
        swap(&m, &training.firstMoment)
        swap(&v, &training.secondMoment)
        guard finite else {
            if let epochStart { _ = parameters.update(fromContentsOf: epochStart) }
            // The failed update also wrote the optimiser's slots (possibly ±∞): start them afresh,
            // or every later step would inherit the overflow.
            training.firstMoment.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            training.secondMoment.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            throw NNError(.diverged, "the update at epoch \(training.epoch + 1), step \(training.step + 1) overflowed; the weights were restored (to the start of the epoch in fit, to before the step in trainStep) and the optimiser's slots reset (try a smaller learning rate or gradient clipping)")
        }
        training.step += 1
        return (dataLoss, regularization, norm, correct)
    }

    /// Mean data loss and accuracy of `rows` of `data`, in batches of the evaluator's capacity.
    func evaluate(_ mg: ModelGraph, _ data: DataView, rows: UnsafeBufferPointer<Int32>) throws -> (loss: Float, accuracy: Float?) {
        mg.graph.isTraining = false
        var lossSum = 0.0, weightSum = 0.0, correctSum = 0.0
        var first = 0
        while first < rows.count {
            let n = min(mg.graph.batchCapacity, rows.count - first)
            try mg.load(data, rows: UnsafeBufferPointer(rebasing: rows[first ..< first + n]), standardization: standardization)
            try mg.graph.forward()
            let w = mg.batchWeight
            if w > 0 { lossSum += Double(mg.graph.valuePointer(mg.dataLoss!.id)[0]) * w }
            weightSum += w
            correctSum += mg.weightedCorrect(loss: loss) ?? 0
            first += n
        }
        return (Float(lossSum / weightSum), loss.isClassification ? Float(correctSum / weightSum) : nil)
    }
}
