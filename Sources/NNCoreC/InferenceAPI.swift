// Inference into caller-owned buffers.
import CNNCore
import NNCore

/// The `rows` × `cols` input buffer, after checking `cols` against the model.
private func inputRows(_ m: Model, _ inputs: UnsafePointer<Float>?, _ rows: Int, _ cols: Int) throws -> UnsafeBufferPointer<Float> {
    guard cols == m.inputWidth else {
        throw NNError.shapeMismatch("the model expects \(m.inputWidth) inputs per row, got \(cols)")
    }
    return try buffer(inputs, try product(rows, cols, "inputs"), "inputs")
}

private func predict(_ model: OpaquePointer?, _ inputs: UnsafePointer<Float>?, _ rows: Int, _ cols: Int,
                     _ out: UnsafeMutablePointer<Float>?, _ capacity: Int, _ kind: OutputKind) -> nn_status {
    status {
        try reading(model) { m in
            let x = try inputRows(m, inputs, rows, cols)
            let y = try mutableBuffer(out, capacity, "out_values")
            try m.predict(inputs: x, rows: rows, into: y, kind: kind)
        }
    }
}

@c @implementation
public func nn_model_predict(_ model: OpaquePointer!, _ inputs: UnsafePointer<Float>!, _ rows: Int, _ cols: Int,
                             _ outValues: UnsafeMutablePointer<Float>!, _ capacity: Int) -> nn_status {
    predict(model, inputs, rows, cols, outValues, capacity, .raw)
}

@c @implementation
public func nn_model_predict_proba(_ model: OpaquePointer!, _ inputs: UnsafePointer<Float>!, _ rows: Int, _ cols: Int,
                                   _ outValues: UnsafeMutablePointer<Float>!, _ capacity: Int) -> nn_status {
    predict(model, inputs, rows, cols, outValues, capacity, .probabilities)
}

@c @implementation
public func nn_model_classify(_ model: OpaquePointer!, _ inputs: UnsafePointer<Float>!, _ rows: Int, _ cols: Int,
                              _ outClasses: UnsafeMutablePointer<Int32>!, _ capacity: Int) -> nn_status {
    status {
        try reading(model) { m in
            let x = try inputRows(m, inputs, rows, cols)
            let y = try mutableBuffer(outClasses, capacity, "out_classes")
            try m.classify(inputs: x, rows: rows, into: y)
        }
    }
}
