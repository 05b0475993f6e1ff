/// What a person wants to know about a model at a glance: a layer table in the manner of Keras'
/// `model.summary()`, weight statistics per tensor and a digest of the training history.
public struct ModelSummary: Equatable, Sendable {
    /// One row of the layer table.
    public struct LayerRow: Equatable, Sendable {
        /// Position in the model, from 0.
        public var index: Int
        /// "dense", "maxout" or "dropout".
        public var kind: String
        /// The activation ("relu", "leaky_relu(0.2)", …) of a dense layer, "maxout(k)" or "dropout(p)".
        public var function: String
        /// The layer's output width (rows are the batch).
        public var outputWidth: Int
        /// Weights plus biases.
        public var parameters: Int
    }

    /// Statistics of one weight or bias tensor.
    public struct TensorStatistics: Equatable, Sendable {
        public var layer: Int
        public var kind: ParameterTensor.Kind
        public var rows: Int
        public var cols: Int
        public var mean: Double
        public var standardDeviation: Double
        public var minimum: Float
        public var maximum: Float
        /// Share of elements exactly 0.
        public var zeroShare: Double
        /// Elements that are NaN (a loaded or trained model has none; kept for audits).
        public var nanCount: Int
    }

    /// A digest of `Model.history`.
    public struct HistoryDigest: Equatable, Sendable {
        /// Epochs recorded.
        public var epochs: Int
        /// The epoch with the lowest monitored loss (validation loss when recorded, else the full loss).
        public var bestEpoch: Int
        public var bestLoss: Float
        public var finalLoss: Float
        public var finalAccuracy: Float?
        public var bestAccuracy: Float?
        public var finalValidationLoss: Float?
        public var finalValidationAccuracy: Float?
        /// The full loss per epoch (for a sparkline or a plot).
        public var lossCurve: [Float]
    }

    public var layers: [LayerRow]
    public var totalParameters: Int
    /// Memory the parameters take as float32.
    public var parameterBytes: Int
    public var tensors: [TensorStatistics]
    /// nil before any training.
    public var history: HistoryDigest?
}

extension Model {
    /// The model's summary (see `ModelSummary`).
    public func summary() -> ModelSummary {
        var rows: [ModelSummary.LayerRow] = []
        var width = inputWidth
        for (index, layer) in layers.enumerated() {
            let output = layer.outputWidth(inputWidth: width)
            let parameters = layer.isTrainable ? width * layer.weightColumns + layer.weightColumns : 0
            let kind: String, function: String
            switch layer {
            case .dense(_, let activation): kind = "dense"; function = activation.description
            case .maxout(_, let pieces): kind = "maxout"; function = "maxout(\(pieces))"
            case .dropout(let rate): kind = "dropout"; function = "dropout(\(rate))"
            }
            rows.append(.init(index: index, kind: kind, function: function, outputWidth: output, parameters: parameters))
            width = output
        }
        let values = storage.parameters
        let tensors = storage.layout.map { t -> ModelSummary.TensorStatistics in
            var sum = 0.0, squares = 0.0, zeros = 0, nans = 0
            var low = Float.infinity, high = -Float.infinity
            for i in t.offset ..< t.offset + t.count {
                let v = values[i]
                if v.isNaN { nans += 1; continue }
                sum += Double(v); squares += Double(v) * Double(v)
                if v == 0 { zeros += 1 }
                low = min(low, v); high = max(high, v)
            }
            let n = Double(max(t.count - nans, 1))
            let mean = sum / n
            return .init(layer: t.layer, kind: t.kind, rows: t.rows, cols: t.cols, mean: mean,
                         standardDeviation: max(squares / n - mean * mean, 0).squareRoot(),
                         minimum: low, maximum: high, zeroShare: Double(zeros) / Double(max(t.count, 1)), nanCount: nans)
        }
        var digest: ModelSummary.HistoryDigest? = nil
        if let last = history.last {
            let monitored = history.map { $0.validationLoss ?? $0.loss }
            var best = 0
            for (i, v) in monitored.enumerated() where v < monitored[best] { best = i }
            digest = .init(epochs: history.count, bestEpoch: history[best].epoch, bestLoss: monitored[best],
                           finalLoss: last.loss, finalAccuracy: last.accuracy,
                           bestAccuracy: history.compactMap(\.accuracy).max(),
                           finalValidationLoss: last.validationLoss, finalValidationAccuracy: last.validationAccuracy,
                           lossCurve: history.map(\.loss))
        }
        return ModelSummary(layers: rows, totalParameters: parameterCount, parameterBytes: parameterCount * 4,
                            tensors: tensors, history: digest)
    }
}
