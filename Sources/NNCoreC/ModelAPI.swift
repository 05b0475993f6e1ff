// Building and inspecting models.
import CNNCore
import NNCore

@c @implementation
public func nn_model_create(_ inputWidth: UInt32, _ lossValue: nn_loss, _ seed: UInt64,
                            _ outModel: UnsafeMutablePointer<OpaquePointer?>!) -> nn_status {
    status {
        let out = try required(outModel, "out_model")
        let model = try Model(inputs: Int(inputWidth), layers: [], loss: try loss(lossValue), seed: seed)
        out.pointee = register(ModelBox(model))
    }
}

@c @implementation
public func nn_model_add_dense(_ model: OpaquePointer!, _ units: UInt32, _ activationValue: nn_activation, _ alpha: Float) -> nn_status {
    status {
        let f = try activation(activationValue, alpha: alpha)
        try writing(model) { try $0.append(.dense(units: Int(units), activation: f)) }
    }
}

@c @implementation
public func nn_model_add_maxout(_ model: OpaquePointer!, _ units: UInt32, _ pieces: UInt32) -> nn_status {
    status { try writing(model) { try $0.append(.maxout(units: Int(units), pieces: Int(pieces))) } }
}

@c @implementation
public func nn_model_add_dropout(_ model: OpaquePointer!, _ rate: Float) -> nn_status {
    status { try writing(model) { try $0.append(.dropout(rate: rate)) } }
}

@c @implementation
public func nn_model_set_loss(_ model: OpaquePointer!, _ lossValue: nn_loss) -> nn_status {
    status {
        let value = try loss(lossValue)
        try writing(model) { $0.loss = value }
    }
}

@c @implementation
public func nn_model_reinitialize(_ model: OpaquePointer!, _ seed: UInt64) -> nn_status {
    status { try writing(model) { $0.reinitialize(seed: seed) } }
}

@c @implementation
public func nn_model_clone(_ model: OpaquePointer!, _ outModel: UnsafeMutablePointer<OpaquePointer?>!) -> nn_status {
    status {
        let out = try required(outModel, "out_model")
        let copy = try reading(model) { $0 }
        out.pointee = register(ModelBox(copy))
    }
}

@c @implementation
public func nn_model_free(_ model: OpaquePointer!) {
    // The box lives on while a call on another thread still holds it; the handle dies now.
    guard let model else { return }
    _ = handles.withLock { $0.remove(model, kind: .model) }
}

@c @implementation
public func nn_model_info_init(_ info: UnsafeMutablePointer<nn_model_info>!) -> nn_status {
    initialize(info, with: initialized(nn_model_info.self), "info")
}

@c @implementation
public func nn_model_get_info(_ model: OpaquePointer!, _ outInfo: UnsafeMutablePointer<nn_model_info>!) -> nn_status {
    status {
        let out = try required(outInfo, "out_info")
        let info = try reading(model) { m -> nn_model_info in
            var info = initialized(nn_model_info.self)
            info.input_width = UInt32(m.inputWidth)
            info.output_width = UInt32(m.outputWidth)
            info.layer_count = UInt32(m.layers.count)
            info.class_count = UInt32(m.classCount)
            info.loss = code(m.loss)
            info.parameter_count = UInt64(m.parameterCount)
            info.epochs_trained = UInt64(m.trainingState.epoch)
            info.steps_trained = UInt64(m.trainingState.step)
            info.history_count = UInt64(m.history.count)
            info.has_standardization = m.standardization == nil ? 0 : 1
            info.metadata_count = UInt32(m.metadata.count)
            info.feature_name_count = UInt32(m.featureNames.count)
            info.class_label_count = UInt32(m.classLabels.count)
            info.seed = m.seed
            return info
        }
        try writeStruct(info, to: out, "out_info")
    }
}

@c @implementation
public func nn_layer_info_init(_ info: UnsafeMutablePointer<nn_layer_info>!) -> nn_status {
    initialize(info, with: initialized(nn_layer_info.self), "info")
}

@c @implementation
public func nn_model_get_layer(_ model: OpaquePointer!, _ index: UInt32, _ outInfo: UnsafeMutablePointer<nn_layer_info>!) -> nn_status {
    status {
        let out = try required(outInfo, "out_info")
        let info = try reading(model) { m -> nn_layer_info in
            let i = Int(index)
            guard i < m.layers.count else {
                throw NNError.invalidArgument("layer \(index) does not exist; the model has \(m.layers.count) layers")
            }
            let inputWidth = m.layers[..<i].reduce(m.inputWidth) { $1.outputWidth(inputWidth: $0) }
            var info = initialized(nn_layer_info.self)
            info.input_width = UInt32(inputWidth)
            info.output_width = UInt32(m.layers[i].outputWidth(inputWidth: inputWidth))
            switch m.layers[i] {
            case .dense(let units, let f):
                info.kind = nn_layer_kind(NN_LAYER_DENSE)
                info.units = UInt32(units)
                (info.activation, info.alpha) = code(f)
                info.weight_rows = UInt32(inputWidth)
                info.weight_cols = UInt32(units)
            case .maxout(let units, let pieces):
                info.kind = nn_layer_kind(NN_LAYER_MAXOUT)
                info.units = UInt32(units)
                info.pieces = UInt32(pieces)
                info.weight_rows = UInt32(inputWidth)
                info.weight_cols = UInt32(units * pieces)
            case .dropout(let rate):
                info.kind = nn_layer_kind(NN_LAYER_DROPOUT)
                info.rate = rate
            }
            return info
        }
        try writeStruct(info, to: out, "out_info")
    }
}

@c @implementation
public func nn_model_get_weights(_ model: OpaquePointer!, _ index: UInt32, _ outValues: UnsafeMutablePointer<Float>!,
                                 _ capacity: Int, _ outCount: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let weights = try reading(model) { try $0.weights(ofLayer: Int(index)) }
        try copyFloats(weights.values, outValues, capacity, outCount)
    }
}

@c @implementation
public func nn_model_set_weights(_ model: OpaquePointer!, _ index: UInt32, _ values: UnsafePointer<Float>!, _ count: Int) -> nn_status {
    status {
        let input = try buffer(values, count, "values")
        try writing(model) { m in
            let current = try m.weights(ofLayer: Int(index))
            // Check the count before reading (and copying) the caller's floats.
            guard input.count == current.values.count else {
                throw NNError.shapeMismatch("layer \(index) weights are \(current.rows) × \(current.cols) = \(current.values.count) floats, got \(input.count)")
            }
            try m.setWeights(Matrix(rows: current.rows, cols: current.cols, values: Array(input)), ofLayer: Int(index))
        }
    }
}

@c @implementation
public func nn_model_get_biases(_ model: OpaquePointer!, _ index: UInt32, _ outValues: UnsafeMutablePointer<Float>!,
                                _ capacity: Int, _ outCount: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let biases = try reading(model) { try $0.biases(ofLayer: Int(index)) }
        try copyFloats(biases, outValues, capacity, outCount)
    }
}

@c @implementation
public func nn_model_set_biases(_ model: OpaquePointer!, _ index: UInt32, _ values: UnsafePointer<Float>!, _ count: Int) -> nn_status {
    status {
        let input = try buffer(values, count, "values")
        try writing(model) { m in
            // Check the count before reading (and copying) the caller's floats.
            let current = try m.biases(ofLayer: Int(index))
            guard input.count == current.count else {
                throw NNError.shapeMismatch("layer \(index) has \(current.count) biases, got \(input.count)")
            }
            try m.setBiases(Array(input), ofLayer: Int(index))
        }
    }
}

@c @implementation
public func nn_model_set_metadata(_ model: OpaquePointer!, _ key: UnsafePointer<CChar>!, _ value: UnsafePointer<CChar>!) -> nn_status {
    status {
        let k = try string(key, "key")
        guard !k.isEmpty else { throw NNError.invalidArgument("the metadata key is empty") }
        let v = value == nil ? nil : try string(value, "value")
        try writing(model) { $0.metadata[k] = v }
    }
}

@c @implementation
public func nn_model_get_metadata(_ model: OpaquePointer!, _ key: UnsafePointer<CChar>!, _ outText: UnsafeMutablePointer<CChar>!,
                                  _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let k = try string(key, "key")
        guard let value = try reading(model, { $0.metadata[k] }) else {
            throw NNError(.notFound, "the model has no metadata key '\(k)'")
        }
        try copyText(value, outText, capacity, outLength)
    }
}

@c @implementation
public func nn_model_get_metadata_key(_ model: OpaquePointer!, _ index: UInt32, _ outText: UnsafeMutablePointer<CChar>!,
                                      _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    copyEntry(model, index, what: "metadata key", { $0.metadata.keys.sorted() }, outText, capacity, outLength)
}

/// Copies entry `index` of a list of strings read from the model (keys, labels, names).
private func copyEntry(_ model: OpaquePointer?, _ index: UInt32, what: String, _ list: (Model) -> [String],
                       _ outText: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>?) -> nn_status {
    status {
        let entries = try reading(model, list)
        guard Int(index) < entries.count else {
            throw NNError.invalidArgument("\(what) \(index) does not exist; the model has \(entries.count)")
        }
        try copyText(entries[Int(index)], outText, capacity, outLength)
    }
}

/// `count` C strings as Swift strings.
private func strings(_ list: UnsafeBufferPointer<UnsafePointer<CChar>?>, _ name: String) throws -> [String] {
    try list.enumerated().map { try string($1, "\(name)[\($0)]") }
}

@c @implementation
public func nn_model_set_class_labels(_ model: OpaquePointer!, _ labels: UnsafePointer<UnsafePointer<CChar>?>!, _ count: Int) -> nn_status {
    status {
        let list = try buffer(labels, count, "labels")
        try writing(model) { m in
            // Check the count before reading the caller's strings.
            guard count == 0 || count == m.classCount else {
                throw NNError.shapeMismatch("\(count) class labels for a model with \(m.classCount) classes")
            }
            try m.setClassLabels(try strings(list, "labels"))
        }
    }
}

@c @implementation
public func nn_model_get_class_label(_ model: OpaquePointer!, _ index: UInt32, _ outText: UnsafeMutablePointer<CChar>!,
                                     _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    copyEntry(model, index, what: "class label", { $0.classLabels }, outText, capacity, outLength)
}

@c @implementation
public func nn_model_set_feature_names(_ model: OpaquePointer!, _ names: UnsafePointer<UnsafePointer<CChar>?>!, _ count: Int) -> nn_status {
    status {
        let list = try buffer(names, count, "names")
        try writing(model) { m in
            // Check the count before reading the caller's strings.
            guard count == 0 || count == m.inputWidth else {
                throw NNError.shapeMismatch("\(count) feature names for \(m.inputWidth) inputs")
            }
            try m.setFeatureNames(try strings(list, "names"))
        }
    }
}

@c @implementation
public func nn_model_get_feature_name(_ model: OpaquePointer!, _ index: UInt32, _ outText: UnsafeMutablePointer<CChar>!,
                                      _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    copyEntry(model, index, what: "feature name", { $0.featureNames }, outText, capacity, outLength)
}

@c @implementation
public func nn_model_set_standardization(_ model: OpaquePointer!, _ mean: UnsafePointer<Float>!, _ scale: UnsafePointer<Float>!,
                                         _ count: Int) -> nn_status {
    status {
        let m = try buffer(mean, count, "mean"), s = try buffer(scale, count, "scale")
        try writing(model) { model in
            // Check the count before reading (and copying) the caller's floats.
            guard count == 0 || count == model.inputWidth else {
                throw NNError.shapeMismatch("standardisation covers \(count) features, the model has \(model.inputWidth) inputs")
            }
            try model.setStandardization(count == 0 ? nil : Standardization(mean: Array(m), scale: Array(s)))
        }
    }
}

@c @implementation
public func nn_model_get_standardization(_ model: OpaquePointer!, _ outMean: UnsafeMutablePointer<Float>!,
                                         _ outScale: UnsafeMutablePointer<Float>!, _ capacity: Int,
                                         _ outCount: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let count = try required(outCount, "out_count")
        let value = try reading(model) { $0.standardization }
        let n = value?.mean.count ?? 0
        guard clampedCapacity(capacity) >= n else {
            count.pointee = n
            throw NNError(.bufferTooSmall, "the standardisation has \(n) features, the buffers hold \(capacity)")
        }
        if let value, n > 0 {
            let mean = try required(outMean, "out_mean"), scale = try required(outScale, "out_scale")
            for j in 0 ..< n { mean[j] = value.mean[j]; scale[j] = value.scale[j] }
        }
        count.pointee = n
    }
}

@c @implementation
public func nn_epoch_stats_init(_ stats: UnsafeMutablePointer<nn_epoch_stats>!) -> nn_status {
    initialize(stats, with: initialized(nn_epoch_stats.self), "stats")
}

/// An epoch's statistics as the C struct (absent values are NaN).
func cStats(_ s: EpochStats) -> nn_epoch_stats {
    var c = initialized(nn_epoch_stats.self)
    c.epoch = UInt32(clamping: s.epoch)
    c.data_loss = s.dataLoss
    c.regularization_loss = s.regularizationLoss
    c.accuracy = s.accuracy ?? .nan
    c.validation_loss = s.validationLoss ?? .nan
    c.validation_accuracy = s.validationAccuracy ?? .nan
    c.learning_rate = s.learningRate
    c.seconds = s.seconds
    return c
}

@c @implementation
public func nn_model_get_epoch(_ model: OpaquePointer!, _ index: UInt64, _ outStats: UnsafeMutablePointer<nn_epoch_stats>!) -> nn_status {
    status {
        let out = try required(outStats, "out_stats")
        let stats = try reading(model) { m -> EpochStats in
            guard index < UInt64(m.history.count) else {
                throw NNError.invalidArgument("history record \(index) does not exist; the model has \(m.history.count)")
            }
            return m.history[Int(index)]
        }
        try writeStruct(cStats(stats), to: out, "out_stats")
    }
}
