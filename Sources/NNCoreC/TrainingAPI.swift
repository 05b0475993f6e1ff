// Training and evaluation: C data sets and options → the engine's DataView and TrainingOptions.
import CNNCore
import NNCore

/// Borrows a C data set as a DataView for the duration of the call (no copy).
func dataView(_ pointer: UnsafePointer<nn_dataset>?, _ name: String) throws -> DataView {
    let d = try readStruct(try required(pointer, name), defaults: initialized(nn_dataset.self), name)
    guard d.rows != 0 else { throw NNError(.emptyData, "\(name) has no rows") }
    // A size_t above Int.max arrives negative; product() refuses it as too large, not as empty.
    let inputCount = try product(d.rows, d.cols, "\(name) inputs")
    let inputs = try buffer(d.inputs, inputCount, "\(name)->inputs")
    guard (d.labels == nil) != (d.targets == nil) else {
        throw NNError.invalidArgument("\(name) must set exactly one of labels and targets")
    }
    let labels = d.labels == nil ? nil : try buffer(d.labels, d.rows, "\(name)->labels")
    var targets: UnsafeBufferPointer<Float>? = nil
    if d.targets != nil {
        guard d.target_cols != 0 else { throw NNError.invalidArgument("\(name)->target_cols is 0") }
        targets = try buffer(d.targets, try product(d.rows, d.target_cols, "\(name) targets"), "\(name)->targets")
    }
    let weights = d.sample_weights == nil ? nil : try buffer(d.sample_weights, d.rows, "\(name)->sample_weights")
    return DataView(inputs: inputs, rows: d.rows, cols: d.cols, labels: labels, targets: targets,
                    targetWidth: d.targets == nil ? 0 : d.target_cols, weights: weights)
}

/// The defaults of nn_train_options (the engine's TrainingOptions defaults).
func defaultTrainOptions() -> nn_train_options {
    let defaults = TrainingOptions()
    var o = initialized(nn_train_options.self)
    o.epochs = UInt32(defaults.epochs)
    o.batch_size = UInt32(defaults.batchSize)
    o.optimizer = nn_optimizer(NN_OPTIMIZER_SGD)
    o.learning_rate = defaults.learningRate
    o.momentum = 0.9
    o.beta1 = 0.9
    o.beta2 = 0.999
    o.epsilon = 1e-8
    o.rho = 0.9
    o.weight_decay = 0.01
    o.schedule = nn_schedule(NN_SCHEDULE_CONSTANT)
    o.step_factor = 0.1
    o.exponential_gamma = 0.95
    o.cosine_period = 100
    o.shuffle = 1
    return o
}

/// Reads C options (NULL: defaults) into the engine's options.
func trainingOptions(_ pointer: UnsafePointer<nn_train_options>?) throws -> (TrainingOptions, nn_train_options) {
    let o = try pointer.map { try readStruct($0, defaults: defaultTrainOptions(), "options") } ?? defaultTrainOptions()
    var options = TrainingOptions()
    options.epochs = Int(o.epochs)
    options.batchSize = Int(o.batch_size)
    options.optimizer = try optimizer(o)
    options.learningRate = o.learning_rate
    options.schedule = try schedule(o)
    options.l2 = o.l2
    options.l1 = o.l1
    options.gradientClipNorm = o.gradient_clip_norm == 0 ? nil : o.gradient_clip_norm
    options.validationFraction = o.validation_fraction
    options.earlyStoppingPatience = o.early_stopping_patience == 0 ? nil : Int(o.early_stopping_patience)
    options.earlyStoppingMinDelta = o.early_stopping_min_delta
    options.shuffle = o.shuffle != 0
    options.standardize = o.standardize != 0
    return (options, o)
}

@c @implementation
public func nn_dataset_init(_ data: UnsafeMutablePointer<nn_dataset>!) -> nn_status {
    initialize(data, with: initialized(nn_dataset.self), "data")
}

@c @implementation
public func nn_train_options_init(_ options: UnsafeMutablePointer<nn_train_options>!) -> nn_status {
    initialize(options, with: defaultTrainOptions(), "options")
}

@c @implementation
public func nn_train_result_init(_ result: UnsafeMutablePointer<nn_train_result>!) -> nn_status {
    var value = initialized(nn_train_result.self)
    value.final = initialized(nn_epoch_stats.self)
    return initialize(result, with: value, "result")
}

@c @implementation
public func nn_model_fit(_ model: OpaquePointer!, _ data: UnsafePointer<nn_dataset>!, _ validation: UnsafePointer<nn_dataset>!,
                         _ options: UnsafePointer<nn_train_options>!, _ outResult: UnsafeMutablePointer<nn_train_result>!) -> nn_status {
    status {
        let train = try dataView(data, "data")
        let held = validation == nil ? nil : try dataView(validation, "validation")
        let (engineOptions, raw) = try trainingOptions(options)
        if let outResult { try requireStructSize(outResult, "out_result") } // refused before training, not after
        let callback = raw.callback, userData = raw.user_data
        let summary = try writing(model) { m in
            try m.fit(view: train, validation: held, options: engineOptions) { stats in
                guard let callback else { return .continue }
                var c = cStats(stats)
                return callback(&c, userData) == 0 ? .continue : .stop
            }
        }
        if summary.stopReason == .cancelled {
            throw NNError(.cancelled, "training was cancelled by the callback after epoch \(summary.epochs.last?.epoch ?? 0)")
        }
        if let outResult {
            var result = initialized(nn_train_result.self)
            result.epochs_run = UInt32(clamping: summary.epochs.count)
            result.stop_reason = nn_stop_reason(summary.stopReason == .earlyStopped ? NN_STOP_EARLY_STOPPED : NN_STOP_COMPLETED)
            result.best_epoch = UInt32(clamping: summary.bestEpoch ?? 0)
            result.final = summary.epochs.last.map(cStats) ?? initialized(nn_epoch_stats.self)
            try writeStruct(result, to: outResult, "out_result")
        }
    }
}

@c @implementation
public func nn_step_stats_init(_ stats: UnsafeMutablePointer<nn_step_stats>!) -> nn_status {
    initialize(stats, with: initialized(nn_step_stats.self), "stats")
}

@c @implementation
public func nn_model_train_step(_ model: OpaquePointer!, _ batch: UnsafePointer<nn_dataset>!, _ options: UnsafePointer<nn_train_options>!,
                                _ outStats: UnsafeMutablePointer<nn_step_stats>!) -> nn_status {
    status {
        let view = try dataView(batch, "batch")
        let (engineOptions, _) = try trainingOptions(options)
        if let outStats { try requireStructSize(outStats, "out_stats") } // refused before the step, not after
        let stats = try writing(model) { try $0.trainStep(view: view, options: engineOptions) }
        if let outStats {
            var c = initialized(nn_step_stats.self)
            c.data_loss = stats.dataLoss
            c.regularization_loss = stats.regularizationLoss
            c.accuracy = stats.accuracy ?? .nan
            c.learning_rate = stats.learningRate
            c.gradient_norm = stats.gradientNorm
            try writeStruct(c, to: outStats, "out_stats")
        }
    }
}

@c @implementation
public func nn_model_advance_epoch(_ model: OpaquePointer!) -> nn_status {
    status { try writing(model) { $0.advanceEpoch() } }
}

@c @implementation
public func nn_model_reset_training(_ model: OpaquePointer!) -> nn_status {
    status { try writing(model) { $0.resetTrainingState() } }
}

@c @implementation
public func nn_evaluation_init(_ evaluation: UnsafeMutablePointer<nn_evaluation>!) -> nn_status {
    initialize(evaluation, with: initialized(nn_evaluation.self), "evaluation")
}

@c @implementation
public func nn_model_evaluate(_ model: OpaquePointer!, _ data: UnsafePointer<nn_dataset>!,
                              _ outEvaluation: UnsafeMutablePointer<nn_evaluation>!) -> nn_status {
    status {
        let out = try required(outEvaluation, "out_evaluation")
        let view = try dataView(data, "data")
        let result = try reading(model) { try $0.evaluate(view: view) }
        var c = initialized(nn_evaluation.self)
        c.loss = result.loss
        c.accuracy = result.accuracy ?? .nan
        c.count = UInt64(result.count)
        try writeStruct(c, to: out, "out_evaluation")
    }
}
