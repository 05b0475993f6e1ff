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
        let input = Array(try buffer(values, count, "values"))
        try writing(model) { m in
            let current = try m.weights(ofLayer: Int(index))
            guard input.count == current.values.count else {
                throw NNError.shapeMismatch("layer \(index) weights are \(current.rows) × \(current.cols) = \(current.values.count) floats, got \(input.count)")
            }
            try m.setWeights(Matrix(rows: current.rows, cols: current.cols, values: input), ofLayer: Int(index))
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
        let input = Array(try buffer(values, count, "values"))
        try writing(model) { try $0.setBiases(input, ofLayer: Int(index)) }
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
    status {
        let keys = try reading(model) { $0.metadata.keys.sorted() }
        guard Int(index) < keys.count else {
            throw NNError.invalidArgument("metadata key \(index) does not exist; the model has \(keys.count)")
        }
        try copyText(keys[Int(index)], outText, capacity, outLength)
    }
}

/// `count` C strings as Swift strings.
private func strings(_ pointers: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ name: String) throws -> [String] {
    let list = try buffer(pointers, count, name)
    return try list.enumerated().map { try string($1, "\(name)[\($0)]") }
}

@c @implementation
public func nn_model_set_class_labels(_ model: OpaquePointer!, _ labels: UnsafePointer<UnsafePointer<CChar>?>!, _ count: Int) -> nn_status {
    status {
        let values = try strings(labels, count, "labels")
        try writing(model) { try $0.setClassLabels(values) }
    }
}

@c @implementation
public func nn_model_get_class_label(_ model: OpaquePointer!, _ index: UInt32, _ outText: UnsafeMutablePointer<CChar>!,
                                     _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let labels = try reading(model) { $0.classLabels }
        guard Int(index) < labels.count else {
            throw NNError.invalidArgument("class label \(index) does not exist; the model has \(labels.count)")
        }
        try copyText(labels[Int(index)], outText, capacity, outLength)
    }
}

@c @implementation
public func nn_model_set_feature_names(_ model: OpaquePointer!, _ names: UnsafePointer<UnsafePointer<CChar>?>!, _ count: Int) -> nn_status {
    status {
        let values = try strings(names, count, "names")
        try writing(model) { try $0.setFeatureNames(values) }
    }
}

@c @implementation
public func nn_model_get_feature_name(_ model: OpaquePointer!, _ index: UInt32, _ outText: UnsafeMutablePointer<CChar>!,
                                      _ capacity: Int, _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let names = try reading(model) { $0.featureNames }
        guard Int(index) < names.count else {
            throw NNError.invalidArgument("feature name \(index) does not exist; the model has \(names.count)")
        }
        try copyText(names[Int(index)], outText, capacity, outLength)
    }
}

@c @implementation
public func nn_model_set_standardization(_ model: OpaquePointer!, _ mean: UnsafePointer<Float>!, _ scale: UnsafePointer<Float>!,
                                         _ count: Int) -> nn_status {
    status {
        let m = Array(try buffer(mean, count, "mean")), s = Array(try buffer(scale, count, "scale"))
        try writing(model) { try $0.setStandardization(count == 0 ? nil : Standardization(mean: m, scale: s)) }
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
        guard capacity >= n else {
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
