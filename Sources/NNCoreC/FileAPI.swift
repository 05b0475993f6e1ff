// Saving and loading, to files and to memory.
import CNNCore
import NNCore

private func saveOptions(_ pointer: UnsafePointer<nn_save_options>?) throws -> Model.SaveOptions {
    guard let pointer else { return Model.SaveOptions() }
    var defaults = initialized(nn_save_options.self)
    defaults.include_training_state = 1
    let o = try readStruct(pointer, defaults: defaults, "options")
    return Model.SaveOptions(includeTrainingState: o.include_training_state != 0,
                             creationTime: o.pin_creation_time != 0 ? o.creation_time : nil)
}

@c @implementation
public func nn_save_options_init(_ options: UnsafeMutablePointer<nn_save_options>!) -> nn_status {
    var value = initialized(nn_save_options.self)
    value.include_training_state = 1
    return initialize(options, with: value, "options")
}

@c @implementation
public func nn_model_save(_ model: OpaquePointer!, _ path: UnsafePointer<CChar>!, _ options: UnsafePointer<nn_save_options>!) -> nn_status {
    status {
        let destination = try string(path, "path")
        let settings = try saveOptions(options)
        try reading(model) { try $0.save(to: destination, options: settings) }
    }
}

@c @implementation
public func nn_model_load(_ path: UnsafePointer<CChar>!, _ outModel: UnsafeMutablePointer<OpaquePointer?>!) -> nn_status {
    status {
        let out = try required(outModel, "out_model")
        let model = try Model(contentsOf: try string(path, "path"))
        out.pointee = register(ModelBox(model))
    }
}

@c @implementation
public func nn_model_serialized_size(_ model: OpaquePointer!, _ options: UnsafePointer<nn_save_options>!,
                                     _ outSize: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let out = try required(outSize, "out_size")
        let settings = try saveOptions(options)
        out.pointee = try reading(model) { $0.serialized(options: settings).count }
    }
}

@c @implementation
public func nn_model_save_to_buffer(_ model: OpaquePointer!, _ options: UnsafePointer<nn_save_options>!,
                                    _ outBuffer: UnsafeMutableRawPointer!, _ capacity: Int,
                                    _ outSize: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let size = try required(outSize, "out_size")
        let settings = try saveOptions(options)
        let bytes = try reading(model) { $0.serialized(options: settings) }
        guard clampedCapacity(capacity) >= bytes.count else {
            size.pointee = bytes.count
            throw NNError(.bufferTooSmall, "the model needs \(bytes.count) bytes, the buffer holds \(capacity)")
        }
        let out = try required(outBuffer, "out_buffer")
        bytes.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        size.pointee = bytes.count
    }
}

@c @implementation
public func nn_model_load_from_buffer(_ bytes: UnsafeRawPointer!, _ size: Int, _ outModel: UnsafeMutablePointer<OpaquePointer?>!) -> nn_status {
    status {
        let out = try required(outModel, "out_model")
        // A size_t above Int.max arrives negative: never form a buffer of negative size.
        guard size >= 0 else { throw NNError(.limitExceeded, "a buffer of \(UInt(bitPattern: size)) bytes exceeds the model file limit") }
        if size > 0 { _ = try required(bytes, "buffer") }
        let model = try Model(serialized: UnsafeRawBufferPointer(start: bytes, count: size))
        out.pointee = register(ModelBox(model))
    }
}

@c @implementation
public func nn_model_to_dot(_ model: OpaquePointer!, _ outText: UnsafeMutablePointer<CChar>!, _ capacity: Int,
                            _ outLength: UnsafeMutablePointer<Int>!) -> nn_status {
    status {
        let text = try reading(model) { try $0.dot() }
        try copyText(text, outText, capacity, outLength)
    }
}
