// What every C entry point shares: the handle table, the busy flag, the thread-local error
// message, and conversions between C buffers and Swift values. No engine logic lives here.
import CNNCore
import NNCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// MARK: Handles

/// A model behind an `nn_model *` handle, with its use counter: > 0 while const calls read it,
/// −1 while a mutating call has it alone.
final class ModelBox: @unchecked Sendable {
    var model: Model
    let use = Atomic<Int>(0)
    init(_ model: Model) { self.model = model }
}

/// A graph behind an `nn_graph *` handle, with a flag that stops two threads using it at once.
final class GraphBox: @unchecked Sendable {
    let graph: Graph
    var nodes: [Node] = []
    let inUse = Atomic<Bool>(false)
    init(_ graph: Graph) { self.graph = graph }
}

/// Live handles. A handle's bits are (generation << 32) | (slot + 1) << 1 | kind: never a real
/// address, so a freed handle (its slot's generation has moved on), a forged one (no such slot
/// or generation) or one of the wrong kind is recognised and refused instead of dereferenced.
struct HandleTable {
    enum Kind: UInt { case model = 0, graph = 1 }
    private var objects: [(any AnyObject & Sendable)?] = []
    private var generations: [UInt32] = []
    private var free: [Int] = []

    mutating func insert(_ object: any AnyObject & Sendable, kind: Kind) -> OpaquePointer {
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            objects[slot] = object
        } else {
            slot = objects.count
            objects.append(object)
            generations.append(1)
        }
        let bits = UInt(generations[slot]) << 32 | UInt(slot + 1) << 1 | kind.rawValue
        return OpaquePointer(bitPattern: bits)!
    }

    func lookup(_ handle: OpaquePointer, kind: Kind) -> (any AnyObject & Sendable)? {
        guard let (slot, generation) = decode(handle, kind: kind), generations[slot] == generation else { return nil }
        return objects[slot]
    }

    mutating func remove(_ handle: OpaquePointer, kind: Kind) -> (any AnyObject & Sendable)? {
        guard let (slot, generation) = decode(handle, kind: kind), generations[slot] == generation,
              let object = objects[slot] else { return nil }
        objects[slot] = nil
        generations[slot] = generations[slot] == UInt32.max ? 1 : generations[slot] + 1
        free.append(slot)
        return object
    }

    private func decode(_ handle: OpaquePointer, kind: Kind) -> (Int, UInt32)? {
        let bits = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        guard bits & 1 == kind.rawValue else { return nil }
        let slot = Int((bits >> 1) & 0x7FFF_FFFF) - 1
        let generation = UInt32(truncatingIfNeeded: bits >> 32)
        guard slot >= 0, slot < objects.count else { return nil }
        return (slot, generation)
    }
}

let handles = Mutex(HandleTable())

func register(_ box: ModelBox) -> OpaquePointer { handles.withLock { $0.insert(box, kind: .model) } }
func register(_ box: GraphBox) -> OpaquePointer { handles.withLock { $0.insert(box, kind: .graph) } }

func modelBox(_ handle: OpaquePointer?, _ name: String = "model") throws -> ModelBox {
    guard let handle else { throw NNError(.nullPointer, "\(name) is NULL") }
    guard let box = handles.withLock({ $0.lookup(handle, kind: .model) }) as? ModelBox else {
        throw NNError(.invalidHandle, "\(name) is not a live nn_model (freed, forged or another kind of handle)")
    }
    return box
}

func graphBox(_ handle: OpaquePointer?, _ name: String = "graph") throws -> GraphBox {
    guard let handle else { throw NNError(.nullPointer, "\(name) is NULL") }
    guard let box = handles.withLock({ $0.lookup(handle, kind: .graph) }) as? GraphBox else {
        throw NNError(.invalidHandle, "\(name) is not a live nn_graph (freed, forged or another kind of handle)")
    }
    return box
}

/// Runs a const call: any number at once, never while a mutating call holds the model.
func reading<R>(_ handle: OpaquePointer?, _ body: (Model) throws -> R) throws -> R {
    let box = try modelBox(handle)
    var current = box.use.load(ordering: .relaxed)
    while true {
        guard current >= 0 else { throw NNError(.busy, "the model is being trained or changed by another thread") }
        let (exchanged, original) = box.use.compareExchange(expected: current, desired: current + 1, ordering: .acquiring)
        if exchanged { break }
        current = original
    }
    defer { box.use.subtract(1, ordering: .releasing) }
    return try body(box.model)
}

/// Runs a mutating call with the model alone.
func writing<R>(_ handle: OpaquePointer?, _ body: (inout Model) throws -> R) throws -> R {
    let box = try modelBox(handle)
    guard box.use.compareExchange(expected: 0, desired: -1, ordering: .acquiring).exchanged else {
        throw NNError(.busy, "another thread is using the model")
    }
    defer { box.use.store(0, ordering: .releasing) }
    return try body(&box.model)
}

/// Runs a call on a graph, refusing a second thread.
func usingGraph<R>(_ handle: OpaquePointer?, _ body: (GraphBox) throws -> R) throws -> R {
    let box = try graphBox(handle)
    guard box.inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
        throw NNError(.busy, "another thread is using the graph")
    }
    defer { box.inUse.store(false, ordering: .releasing) }
    return try body(box)
}

// MARK: Errors

/// The calling thread's last error message (a malloc'd C string), freed with the thread.
private let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

nonisolated(unsafe) private let emptyMessage: UnsafeMutablePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    p.pointee = 0
    return p
}()

func setLastError(_ message: String) {
    let old = pthread_getspecific(errorKey)
    pthread_setspecific(errorKey, strdup(message))
    free(old)
}

func clearLastError() {
    if let old = pthread_getspecific(errorKey) {
        pthread_setspecific(errorKey, nil)
        free(old)
    }
}

func lastErrorMessage() -> UnsafePointer<CChar> {
    if let text = pthread_getspecific(errorKey) { return UnsafePointer(text.assumingMemoryBound(to: CChar.self)) }
    return UnsafePointer(emptyMessage)
}

/// Runs an entry point: NN_OK and a cleared message, or the error's code and message.
@inline(__always)
func status(_ body: () throws -> Void) -> nn_status {
    do {
        try body()
        clearLastError()
        return nn_status(NN_OK)
    } catch let error as NNError {
        setLastError(error.message)
        return error.code.rawValue
    } catch {
        setLastError("internal error: \(error)")
        return nn_status(NN_ERR_INTERNAL)
    }
}

// MARK: Conversions

func required<T>(_ pointer: T?, _ name: String) throws -> T {
    guard let pointer else { throw NNError(.nullPointer, "\(name) is NULL") }
    return pointer
}

/// A caller's buffer capacity: a size_t above Int.max arrives as a negative Int and means "more
/// than any result needs", not "too small".
func clampedCapacity(_ value: Int) -> Int { value < 0 ? Int.max : value }

/// A `count`-element buffer from a C pointer that may be NULL only when count is 0.
func buffer<T>(_ pointer: UnsafePointer<T>?, _ count: Int, _ name: String) throws -> UnsafeBufferPointer<T> {
    if count == 0 { return UnsafeBufferPointer(start: pointer, count: 0) }
    // A size_t above Int.max arrives negative: no count that large can agree with any shape
    // (and a negative-count buffer must never be formed).
    guard count > 0 else { throw NNError.shapeMismatch("\(name): a count of \(UInt(bitPattern: count)) elements exceeds any buffer") }
    guard let pointer else { throw NNError(.nullPointer, "\(name) is NULL but \(count) elements were promised") }
    return UnsafeBufferPointer(start: pointer, count: count)
}

func mutableBuffer<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int, _ name: String) throws -> UnsafeMutableBufferPointer<T> {
    let count = clampedCapacity(count)
    if count == 0 { return UnsafeMutableBufferPointer(start: pointer, count: 0) }
    guard let pointer else { throw NNError(.nullPointer, "\(name) is NULL but its capacity is \(count)") }
    return UnsafeMutableBufferPointer(start: pointer, count: count)
}

func product(_ a: Int, _ b: Int, _ what: String) throws -> Int {
    let (p, overflow) = a.multipliedReportingOverflow(by: b)
    guard !overflow, a >= 0, b >= 0 else { throw NNError(.limitExceeded, "\(what): \(a) × \(b) overflows") }
    return p
}

/// A NUL-terminated UTF-8 C string as a Swift string.
func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw NNError(.nullPointer, "\(name) is NULL") }
    guard let value = String(validatingCString: pointer) else { throw NNError.invalidArgument("\(name) is not valid UTF-8") }
    return value
}

/// Copies `text` and a NUL into a caller buffer; `length` always receives its byte length.
func copyText(_ text: String, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ length: UnsafeMutablePointer<Int>?) throws {
    let length = try required(length, "out_length")
    let capacity = clampedCapacity(capacity)
    let bytes = Array(text.utf8)
    guard capacity > bytes.count else {
        length.pointee = bytes.count
        throw NNError(.bufferTooSmall, "the text needs \(bytes.count + 1) bytes with its NUL, the buffer holds \(capacity)")
    }
    let out = try required(out, "out_text")
    for (i, byte) in bytes.enumerated() { out[i] = CChar(bitPattern: byte) }
    out[bytes.count] = 0
    length.pointee = bytes.count
}

/// Copies floats into a caller buffer; `count` always receives how many there are.
func copyFloats(_ values: [Float], _ out: UnsafeMutablePointer<Float>?, _ capacity: Int, _ count: UnsafeMutablePointer<Int>?) throws {
    let count = try required(count, "out_count")
    let capacity = clampedCapacity(capacity)
    guard capacity >= values.count else {
        count.pointee = values.count
        throw NNError(.bufferTooSmall, "the result has \(values.count) values, the buffer holds \(capacity)")
    }
    if !values.isEmpty {
        let out = try required(out, "out_values")
        values.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: values.count) }
    }
    count.pointee = values.count
}

/// Reads a versioned input struct: its fields up to struct_size over the defaults.
func readStruct<T>(_ pointer: UnsafePointer<T>, defaults: T, _ name: String) throws -> T {
    let declared = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
    guard declared >= MemoryLayout<UInt32>.size else {
        throw NNError.invalidArgument("\(name)->struct_size is \(declared); initialise the struct with its _init function")
    }
    var value = defaults
    withUnsafeMutableBytes(of: &value) { target in
        target.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(declared, MemoryLayout<T>.size)))
    }
    return value
}

/// Checks an output struct's struct_size before a call changes anything (writeStruct checks it again).
func requireStructSize<T>(_ pointer: UnsafeMutablePointer<T>, _ name: String) throws {
    let declared = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
    guard declared >= MemoryLayout<UInt32>.size else {
        throw NNError.invalidArgument("\(name)->struct_size is \(declared); initialise the struct with its _init function")
    }
}

/// Writes a versioned output struct: as many bytes as both sides know, keeping the caller's struct_size.
func writeStruct<T>(_ value: T, to pointer: UnsafeMutablePointer<T>, _ name: String) throws {
    try requireStructSize(pointer, name)
    let declared = Int(UnsafeRawPointer(pointer).load(as: UInt32.self))
    var copy = value
    withUnsafeMutableBytes(of: &copy) { source in
        source.storeBytes(of: UInt32(declared), as: UInt32.self)
        UnsafeMutableRawPointer(pointer).copyMemory(from: source.baseAddress!, byteCount: min(declared, MemoryLayout<T>.size))
    }
}

/// A zeroed struct whose first field, struct_size, holds its size.
func initialized<T>(_ type: T.Type) -> T {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
    defer { raw.deallocate() }
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
    raw.storeBytes(of: UInt32(MemoryLayout<T>.size), as: UInt32.self)
    return raw.load(as: T.self)
}

/// Fills a caller's struct with `value` (an _init function).
func initialize<T>(_ pointer: UnsafeMutablePointer<T>?, with value: T, _ name: String) -> nn_status {
    status {
        let pointer = try required(pointer, name)
        pointer.pointee = value
    }
}
