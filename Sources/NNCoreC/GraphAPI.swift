// Computational graphs through the C ABI: nodes are int32 ids in creation order.
import CNNCore
import NNCore

private func node(_ box: GraphBox, _ id: Int32) throws -> Node {
    guard id >= 0, Int(id) < box.nodes.count else {
        throw NNError.invalidArgument("\(id) is not a node of this graph (it has \(box.nodes.count))")
    }
    return box.nodes[Int(id)]
}

private func add(_ box: GraphBox, _ node: Node, _ out: UnsafeMutablePointer<Int32>) {
    box.nodes.append(node)
    out.pointee = Int32(node.id)
}

private func name(_ pointer: UnsafePointer<CChar>?, default fallback: String) throws -> String {
    pointer == nil ? fallback : try string(pointer, "name")
}

@c @implementation
public func nn_graph_create(_ batchCapacity: UInt32, _ seed: UInt64, _ outGraph: UnsafeMutablePointer<OpaquePointer?>!) -> nn_status {
    status {
        let out = try required(outGraph, "out_graph")
        guard batchCapacity >= 1, batchCapacity <= 1 << 24 else {
            throw NNError.invalidArgument("batch capacity must be in 1...\(1 << 24), got \(batchCapacity)")
        }
        out.pointee = register(GraphBox(Graph(batchCapacity: Int(batchCapacity), seed: seed)))
    }
}

@c @implementation
public func nn_graph_free(_ graph: OpaquePointer!) {
    guard let graph else { return }
    _ = handles.withLock { $0.remove(graph, kind: .graph) }
}

@c @implementation
public func nn_graph_input(_ graph: OpaquePointer!, _ nameText: UnsafePointer<CChar>!, _ rows: UInt32, _ cols: UInt32,
                           _ outNode: UnsafeMutablePointer<Int32>!) -> nn_status {
    status {
        let out = try required(outNode, "out_node")
        try usingGraph(graph) { box in
            let label = try name(nameText, default: "input\(box.nodes.count)")
            add(box, try box.graph.input(label, rows: Int(rows), cols: Int(cols)), out)
        }
    }
}

@c @implementation
public func nn_graph_batch_input(_ graph: OpaquePointer!, _ nameText: UnsafePointer<CChar>!, _ cols: UInt32,
                                 _ outNode: UnsafeMutablePointer<Int32>!) -> nn_status {
    status {
        let out = try required(outNode, "out_node")
        try usingGraph(graph) { box in
            let label = try name(nameText, default: "batch\(box.nodes.count)")
            add(box, try box.graph.batchInput(label, cols: Int(cols)), out)
        }
    }
}

@c @implementation
public func nn_graph_parameter(_ graph: OpaquePointer!, _ nameText: UnsafePointer<CChar>!, _ rows: UInt32, _ cols: UInt32,
                               _ values: UnsafePointer<Float>!, _ count: Int, _ outNode: UnsafeMutablePointer<Int32>!) -> nn_status {
    status {
        let out = try required(outNode, "out_node")
        let input = try buffer(values, count, "values")
        // Check the count before reading (and copying) the caller's floats.
        guard count == Int(rows) * Int(cols) else {
            throw NNError.shapeMismatch("a \(rows) × \(cols) parameter needs \(Int(rows) * Int(cols)) values, got \(count)")
        }
        try usingGraph(graph) { box in
            let label = try name(nameText, default: "parameter\(box.nodes.count)")
            add(box, try box.graph.parameter(label, rows: Int(rows), cols: Int(cols), values: Array(input)), out)
        }
    }
}

@c @implementation
public func nn_graph_op(_ graph: OpaquePointer!, _ op: nn_op, _ inputs: UnsafePointer<Int32>!, _ inputCount: Int,
                        _ parameter: Float, _ outNode: UnsafeMutablePointer<Int32>!) -> nn_status {
    status {
        let out = try required(outNode, "out_node")
        guard (1 ... 3).contains(inputCount) else {
            throw NNError.invalidArgument("an op takes 1 to 3 inputs, got \(inputCount)")
        }
        let ids = try buffer(inputs, inputCount, "inputs")
        try usingGraph(graph) { box in
            let x = try ids.map { try node(box, $0) }
            let g = box.graph
            func arity(_ n: ClosedRange<Int>) throws {
                guard n.contains(x.count) else {
                    throw NNError.invalidArgument("op \(op) takes \(n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound)–\(n.upperBound)") inputs, got \(x.count)")
                }
            }
            let result: Node
            switch Int(op) {
            case Int(NN_OP_MATMUL): try arity(2 ... 2); result = try g.matmul(x[0], x[1])
            case Int(NN_OP_AFFINE): try arity(3 ... 3); result = try g.affine(x[0], x[1], x[2])
            case Int(NN_OP_BIAS_ADD): try arity(2 ... 2); result = try g.biasAdd(x[0], x[1])
            case Int(NN_OP_ADD): try arity(2 ... 2); result = try g.add(x[0], x[1])
            case Int(NN_OP_SUB): try arity(2 ... 2); result = try g.sub(x[0], x[1])
            case Int(NN_OP_MUL): try arity(2 ... 2); result = try g.mul(x[0], x[1])
            case Int(NN_OP_SCALE): try arity(1 ... 1); result = try g.scale(x[0], by: parameter)
            case Int(NN_OP_SUM): try arity(1 ... 1); result = try g.sum(x[0])
            case Int(NN_OP_MEAN): try arity(1 ... 1); result = try g.mean(x[0])
            case Int(NN_OP_EXP): try arity(1 ... 1); result = try g.exp(x[0])
            case Int(NN_OP_LOG): try arity(1 ... 1); result = try g.log(x[0])
            case Int(NN_OP_RELU): try arity(1 ... 1); result = try g.relu(x[0])
            case Int(NN_OP_LEAKY_RELU): try arity(1 ... 1); result = try g.leakyReLU(x[0], alpha: parameter)
            case Int(NN_OP_SIGMOID): try arity(1 ... 1); result = try g.sigmoid(x[0])
            case Int(NN_OP_TANH): try arity(1 ... 1); result = try g.tanh(x[0])
            case Int(NN_OP_ELU): try arity(1 ... 1); result = try g.elu(x[0], alpha: parameter)
            case Int(NN_OP_GELU): try arity(1 ... 1); result = try g.gelu(x[0])
            case Int(NN_OP_SOFTPLUS): try arity(1 ... 1); result = try g.softplus(x[0])
            case Int(NN_OP_MAXOUT):
                try arity(1 ... 1)
                guard parameter.isFinite, parameter >= 1, parameter <= 64, parameter == parameter.rounded() else {
                    throw NNError.badHyperparameter("maxout pieces must be an integer in 1...64, got \(parameter)")
                }
                result = try g.maxout(x[0], pieces: Int(parameter))
            case Int(NN_OP_DROPOUT): try arity(1 ... 1); result = try g.dropout(x[0], rate: parameter)
            case Int(NN_OP_SOFTMAX): try arity(1 ... 1); result = try g.softmax(x[0])
            case Int(NN_OP_SOFTMAX_CROSS_ENTROPY):
                try arity(2 ... 3); result = try g.softmaxCrossEntropy(x[0], labels: x[1], weights: x.count == 3 ? x[2] : nil)
            case Int(NN_OP_MULTICLASS_HINGE):
                try arity(2 ... 3); result = try g.multiclassHinge(x[0], labels: x[1], weights: x.count == 3 ? x[2] : nil)
            case Int(NN_OP_MEAN_SQUARED_ERROR):
                try arity(2 ... 3); result = try g.meanSquaredError(x[0], targets: x[1], weights: x.count == 3 ? x[2] : nil)
            case Int(NN_OP_BINARY_CROSS_ENTROPY):
                try arity(2 ... 3); result = try g.binaryCrossEntropyWithLogits(x[0], targets: x[1], weights: x.count == 3 ? x[2] : nil)
            case Int(NN_OP_L2_PENALTY): try arity(1 ... 1); result = try g.l2Penalty(x[0], lambda: parameter)
            case Int(NN_OP_L1_PENALTY): try arity(1 ... 1); result = try g.l1Penalty(x[0], lambda: parameter)
            default: throw NNError.invalidArgument("\(op) is not an nn_op value")
            }
            add(box, result, out)
        }
    }
}

@c @implementation
public func nn_graph_set_value(_ graph: OpaquePointer!, _ id: Int32, _ values: UnsafePointer<Float>!, _ count: Int) -> nn_status {
    status {
        let input = try buffer(values, count, "values")
        try usingGraph(graph) { box in try box.graph.setValue(input, for: try node(box, id)) }
    }
}

@c @implementation
public func nn_graph_set_batch_size(_ graph: OpaquePointer!, _ batchSize: UInt32) -> nn_status {
    status { try usingGraph(graph) { try $0.graph.setBatchSize(Int(batchSize)) } }
}

@c @implementation
public func nn_graph_set_training(_ graph: OpaquePointer!, _ training: Int32) -> nn_status {
    status { try usingGraph(graph) { $0.graph.isTraining = training != 0 } }
}

@c @implementation
public func nn_graph_forward(_ graph: OpaquePointer!) -> nn_status {
    status { try usingGraph(graph) { try $0.graph.forward() } }
}

@c @implementation
public func nn_graph_backward(_ graph: OpaquePointer!, _ id: Int32) -> nn_status {
    status { try usingGraph(graph) { box in try box.graph.backward(from: try node(box, id)) } }
}

@c @implementation
public func nn_graph_value(_ graph: OpaquePointer!, _ id: Int32, _ outValues: UnsafeMutablePointer<Float>!, _ capacity: Int,
                           _ outCount: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let values = try usingGraph(graph) { box in box.graph.value(try node(box, id)) }
        try copyFloats(values, outValues, capacity, outCount)
    }
}

@c @implementation
public func nn_graph_gradient(_ graph: OpaquePointer!, _ id: Int32, _ outValues: UnsafeMutablePointer<Float>!, _ capacity: Int,
                              _ outCount: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let values = try usingGraph(graph) { box in box.graph.gradient(try node(box, id)) }
        try copyFloats(values, outValues, capacity, outCount)
    }
}

@c @implementation
public func nn_graph_node_shape(_ graph: OpaquePointer!, _ id: Int32, _ outRows: UnsafeMutablePointer<UInt32>!,
                                _ outCols: UnsafeMutablePointer<UInt32>!) -> nn_status {
    status {
        let rows = try required(outRows, "out_rows"), cols = try required(outCols, "out_cols")
        let shape = try usingGraph(graph) { box in box.graph.shape(try node(box, id)) }
        rows.pointee = UInt32(shape.rows)
        cols.pointee = UInt32(shape.cols)
    }
}

@c @implementation
public func nn_graph_to_dot(_ graph: OpaquePointer!, _ outText: UnsafeMutablePointer<CChar>!, _ capacity: Int,
                            _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let text = try usingGraph(graph) { $0.graph.dot() }
        try copyText(text, outText, capacity, outLength)
    }
}
